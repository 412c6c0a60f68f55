"""Tracks -> per-frame shapes (CVAT's interpolation), and shapes -> tracks.

Semantics (as CVAT's ``TrackManager`` and the annotation UI):

* A track's ``shapes`` are keyframes. On a keyframe the shape is exactly the keyframe.
* Between a visible keyframe A and the next keyframe B the shape is interpolated from A to B
  (even when B is ``outside``: B is where the object leaves); occluded, z_order and attributes
  are A's. Mutable attributes carry over from keyframe to keyframe until a keyframe changes them.
* After an ``outside`` keyframe nothing is visible until the next keyframe.
* After the last visible keyframe the shape stays where it is until ``stop_frame``.
* Nothing exists before the track's first keyframe.
* Geometry: rectangles, ellipses and cuboids interpolate each coordinate linearly; ``rotation``
  takes the shorter way round the circle; ``points`` with equal counts move point by point;
  polygons, polylines (and ``points`` with different counts) are resampled by arc length:
  both outlines are sampled at the union of their vertices' normalised arc-length positions,
  so outlines with different point counts interpolate smoothly (CVAT's approach; the exact
  vertex set of in-between frames may differ from CVAT's, keyframes are always exact).
  Masks do not interpolate: in-between frames repeat A.
* Skeleton tracks interpolate every element track on its own; every per-frame skeleton carries
  one element per sublabel, elements that are not visible on that frame have ``outside=True``.

Standard library only.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from .annotations import (
    AttributeVal,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
)

__all__ = [
    "FrameShape",
    "TrackFrameShape",
    "interpolate_points",
    "interpolate_track",
    "shapes_to_tracks",
    "track_to_shapes",
    "tracks_to_shapes",
]


@dataclass(slots=True)
class FrameShape:
    """A track's state on one frame. ``attributes`` are the mutable ones in effect."""

    frame: int
    type: ShapeType
    points: list[float]
    occluded: bool = False
    outside: bool = False
    z_order: int = 0
    rotation: float = 0.0
    attributes: list[AttributeVal] = field(default_factory=list)
    keyframe: bool = False
    elements: list[FrameShape] = field(default_factory=list)
    element_label_ids: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- geometry


def _lerp(a: Sequence[float], b: Sequence[float], t: float) -> list[float]:
    return [x + (y - x) * t for x, y in zip(a, b, strict=True)]


def _lerp_angle(a: float, b: float, t: float) -> float:
    delta = ((b - a + 180.0) % 360.0) - 180.0
    value = (a + delta * t) % 360.0
    # keep 360 out of the result: CVAT's range is [0, 360]
    return 0.0 if math.isclose(value, 360.0) else value


def _arc_params(xy: Sequence[tuple[float, float]]) -> list[float]:
    """Normalised cumulative arc length at each vertex (0 .. 1)."""
    lengths = [0.0]
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        dx, dy = x1 - x0, y1 - y0
        # not math.hypot: sqrt is correctly rounded in every language, so the web UI's port
        # (frontend/src/annotation/interpolation.ts) gives bit-identical numbers
        lengths.append(lengths[-1] + math.sqrt(dx * dx + dy * dy))
    total = lengths[-1]
    if total <= 0.0:
        n = len(xy) - 1
        return [i / n if n else 0.0 for i in range(len(xy))]
    return [v / total for v in lengths]


def _sample(xy: Sequence[tuple[float, float]], params: Sequence[float], t: float) -> tuple[float, float]:
    if len(xy) == 1:
        return xy[0]
    i = bisect.bisect_right(params, t) - 1
    i = max(0, min(i, len(xy) - 2))
    span = params[i + 1] - params[i]
    u = 0.0 if span <= 0 else (t - params[i]) / span
    u = max(0.0, min(1.0, u))
    (x0, y0), (x1, y1) = xy[i], xy[i + 1]
    return x0 + (x1 - x0) * u, y0 + (y1 - y0) * u


def _pairs(points: Sequence[float]) -> list[tuple[float, float]]:
    return [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]


def _polyshape(a: Sequence[float], b: Sequence[float], t: float, closed: bool) -> list[float]:
    xa, xb = _pairs(a), _pairs(b)
    if closed:
        xa, xb = [*xa, xa[0]], [*xb, xb[0]]
    pa, pb = _arc_params(xa), _arc_params(xb)
    union = sorted(set(pa) | set(pb))
    merged: list[float] = []
    for u in union:  # drop near-duplicate positions so no vertex is emitted twice
        if not merged or u - merged[-1] > 1e-9:
            merged.append(u)
    if closed and len(merged) > 1:
        merged.pop()  # 1.0 is the start again
    needed = max(len(a), len(b)) // 2
    if len(merged) < needed:  # repeated vertices collapsed: sample evenly instead
        step = needed if closed else max(needed - 1, 1)
        merged = [i / step for i in range(needed)]
    out: list[float] = []
    for u in merged:
        ax, ay = _sample(xa, pa, u)
        bx, by = _sample(xb, pb, u)
        out.append(ax + (bx - ax) * t)
        out.append(ay + (by - ay) * t)
    return out


def interpolate_points(type_: ShapeType, a: Sequence[float], b: Sequence[float], t: float) -> list[float]:
    """The geometry of a shape of ``type_`` a fraction ``t`` (0..1) of the way from ``a`` to ``b``."""
    if type_ in (ShapeType.RECTANGLE, ShapeType.ELLIPSE, ShapeType.CUBOID):
        return _lerp(a, b, t)
    if type_ == ShapeType.POINTS and len(a) == len(b):
        return _lerp(a, b, t)
    if type_ in (ShapeType.POLYGON, ShapeType.POLYLINE, ShapeType.POINTS):
        return _polyshape(a, b, t, closed=type_ == ShapeType.POLYGON)
    return list(a)  # masks and skeletons (whose geometry is in the elements) do not move


# --------------------------------------------------------------------------- tracks -> frames


def _walk(shapes: Sequence[TrackedShape], stop_frame: int) -> Iterator[FrameShape]:
    """Every frame from the first keyframe to ``stop_frame`` (inclusive), outside ones too."""
    keys = sorted(shapes, key=lambda s: s.frame)
    attrs: dict[int, str] = {}
    for i, a in enumerate(keys):
        if a.frame > stop_frame:
            return
        for attr in a.attributes:
            attrs[attr.spec_id] = attr.value
        current = [AttributeVal(k, v) for k, v in attrs.items()]
        yield FrameShape(
            a.frame,
            a.type,
            list(a.points),
            a.occluded,
            a.outside,
            a.z_order,
            a.rotation,
            current,
            keyframe=True,
        )
        b = keys[i + 1] if i + 1 < len(keys) else None
        end = min(b.frame if b is not None else stop_frame + 1, stop_frame + 1)
        span = (b.frame - a.frame) if b is not None else 0
        moving = b is not None and not a.outside
        for frame in range(a.frame + 1, end):
            if moving and b is not None:
                t = (frame - a.frame) / span
                points = interpolate_points(a.type, a.points, b.points, t)
                rotation = _lerp_angle(a.rotation, b.rotation, t)
            else:
                points, rotation = list(a.points), a.rotation
            yield FrameShape(
                frame,
                a.type,
                points,
                a.occluded,
                a.outside,
                a.z_order,
                rotation,
                current,
                keyframe=False,
            )


def interpolate_track(
    track: LabeledTrack,
    *,
    stop_frame: int,
    include_outside: bool = False,
    frames: Container[int] | None = None,
) -> Iterator[FrameShape]:
    """The track's shape on each frame up to ``stop_frame`` (inclusive).

    ``include_outside=False`` (what formats without tracks need) yields visible frames only;
    ``True`` also yields the ``outside`` keyframes (what CVAT for video writes), never the
    frames in between. ``frames`` restricts the output (e.g. to a job's or a filter's frames).
    For skeleton tracks each yielded shape has ``elements`` (one per element track, in the
    order of ``track.elements``) and ``element_label_ids``.
    """
    element_frames: list[dict[int, FrameShape]] = []
    element_first: list[FrameShape | None] = []
    for element in track.elements:
        walked = {s.frame: s for s in _walk(element.shapes, stop_frame)}
        element_frames.append(walked)
        element_first.append(walked[min(walked)] if walked else None)
    element_labels = [e.label_id for e in track.elements]

    for shape in _walk(track.shapes, stop_frame):
        if shape.outside and not (include_outside and shape.keyframe):
            continue
        if frames is not None and shape.frame not in frames:
            continue
        if track.elements:
            elements: list[FrameShape] = []
            for walked, first in zip(element_frames, element_first, strict=True):
                found = walked.get(shape.frame)
                if found is None:
                    base = first or FrameShape(shape.frame, ShapeType.POINTS, [0.0, 0.0])
                    found = replace(base, frame=shape.frame, outside=True, keyframe=False)
                elements.append(found)
            shape.elements = elements
            shape.element_label_ids = element_labels
        yield shape


class TrackFrameShape(NamedTuple):
    """One per-frame shape of a track, flattened for formats that have no tracks."""

    track_index: int
    track_id: int | None
    keyframe: bool
    shape: LabeledShape


def _to_labeled(track: LabeledTrack, fs: FrameShape) -> LabeledShape:
    elements = [
        LabeledShape(
            type=e.type,
            frame=fs.frame,
            label_id=label_id,
            points=e.points,
            occluded=e.occluded,
            outside=e.outside,
            z_order=e.z_order,
            rotation=e.rotation,
            group=track.group,
            source=track.source,
            attributes=[*el_track.attributes, *e.attributes],
        )
        for e, label_id, el_track in zip(fs.elements, fs.element_label_ids, track.elements, strict=True)
    ]
    return LabeledShape(
        type=fs.type,
        frame=fs.frame,
        label_id=track.label_id,
        points=fs.points,
        occluded=fs.occluded,
        outside=fs.outside,
        z_order=fs.z_order,
        rotation=fs.rotation,
        group=track.group,
        source=track.source,
        attributes=[*track.attributes, *fs.attributes],
        elements=elements,
    )


def track_to_shapes(
    track: LabeledTrack,
    *,
    stop_frame: int,
    include_outside: bool = False,
    frames: Container[int] | None = None,
) -> Iterator[tuple[LabeledShape, bool]]:
    """``(shape, keyframe)`` per frame; shapes carry the track's label, group, source and its
    immutable attributes followed by the keyframe's mutable ones. ``id`` is left ``None``."""
    for fs in interpolate_track(track, stop_frame=stop_frame, include_outside=include_outside, frames=frames):
        yield _to_labeled(track, fs), fs.keyframe


def tracks_to_shapes(
    tracks: Sequence[LabeledTrack],
    *,
    stop_frame: int,
    include_outside: bool = False,
    frames: Container[int] | None = None,
) -> Iterator[TrackFrameShape]:
    """All per-frame shapes of ``tracks``, track by track (sort by frame if you need to)."""
    for index, track in enumerate(tracks):
        for shape, keyframe in track_to_shapes(
            track, stop_frame=stop_frame, include_outside=include_outside, frames=frames
        ):
            yield TrackFrameShape(index, track.id, keyframe, shape)


# --------------------------------------------------------------------------- shapes -> tracks


def _split_attributes(
    attrs: Iterable[AttributeVal], label: LabelSpec | None
) -> tuple[list[AttributeVal], list[AttributeVal]]:
    """(immutable, mutable) by the label's specs; unknown or no specs count as mutable."""
    immutable: list[AttributeVal] = []
    mutable: list[AttributeVal] = []
    for attr in attrs:
        spec = label.attribute(attr.spec_id) if label is not None else None
        (immutable if spec is not None and not spec.mutable else mutable).append(attr)
    return immutable, mutable


def _keyframe(shape: LabeledShape, mutable: list[AttributeVal]) -> TrackedShape:
    return TrackedShape(
        type=shape.type,
        frame=shape.frame,
        points=list(shape.points),
        occluded=shape.occluded,
        outside=shape.outside,
        z_order=shape.z_order,
        rotation=shape.rotation,
        attributes=mutable,
    )


def _close(keys: list[TrackedShape], stop_frame: int | None, close_gaps: bool) -> list[TrackedShape]:
    out: list[TrackedShape] = []
    for i, key in enumerate(keys):
        out.append(key)
        following = keys[i + 1].frame if i + 1 < len(keys) else None
        gap_after = following is None or (close_gaps and following > key.frame + 1)
        end_ok = stop_frame is None or key.frame + 1 <= stop_frame
        if gap_after and not key.outside and end_ok:
            out.append(replace(key, frame=key.frame + 1, outside=True, attributes=[], id=None))
    return out


def shapes_to_tracks(
    shapes: Iterable[LabeledShape],
    key: Callable[[LabeledShape], Hashable | None],
    *,
    labels: Mapping[int, LabelSpec] | None = None,
    stop_frame: int | None = None,
    close_gaps: bool = True,
) -> tuple[list[LabeledTrack], list[LabeledShape]]:
    """Group shapes into tracks by ``key(shape)`` (e.g. a MOT track id); ``None`` keeps a shape
    as a plain shape. Returns ``(tracks, plain_shapes)``.

    Every shape becomes a keyframe. When the object is missing on the next frame (a gap, with
    ``close_gaps``) or after its last shape, an ``outside`` keyframe is added on the frame after
    (unless that is past ``stop_frame``), so interpolation never invents boxes the source did
    not have. Attributes that the label declares immutable move to the track (from its first
    shape). Shapes of one key with different labels become different tracks.
    """
    groups: dict[tuple[Hashable, int], list[LabeledShape]] = {}
    plain: list[LabeledShape] = []
    for shape in shapes:
        k = key(shape)
        if k is None:
            plain.append(shape)
        else:
            groups.setdefault((k, shape.label_id), []).append(shape)

    tracks: list[LabeledTrack] = []
    for (_, label_id), members in groups.items():
        members.sort(key=lambda s: s.frame)
        unique: dict[int, LabeledShape] = {}
        for s in members:
            unique.setdefault(s.frame, s)  # one shape per frame and track; the first wins
        ordered = list(unique.values())
        label = labels.get(label_id) if labels else None
        first = ordered[0]
        immutable, _ = _split_attributes(first.attributes, label)
        keys = [_keyframe(s, _split_attributes(s.attributes, label)[1]) for s in ordered]
        elements: list[LabeledTrack] = []
        if first.type == ShapeType.SKELETON:
            per_label: dict[int, list[LabeledShape]] = {}
            for s in ordered:
                for e in s.elements:
                    per_label.setdefault(e.label_id, []).append(replace(e, frame=s.frame))
            for el_label, el_shapes in per_label.items():
                sub = labels.get(el_label) if labels else None
                el_immutable, _ = _split_attributes(el_shapes[0].attributes, sub)
                el_keys = [_keyframe(e, _split_attributes(e.attributes, sub)[1]) for e in el_shapes]
                el_keys = _close(el_keys, stop_frame, close_gaps)
                elements.append(
                    LabeledTrack(
                        frame=el_keys[0].frame,
                        label_id=el_label,
                        shapes=el_keys,
                        group=first.group,
                        source=first.source,
                        attributes=el_immutable,
                    )
                )
        keys = _close(keys, stop_frame, close_gaps)
        tracks.append(
            LabeledTrack(
                frame=keys[0].frame,
                label_id=label_id,
                shapes=keys,
                group=first.group,
                source=first.source,
                attributes=immutable,
                elements=elements,
            )
        )
    tracks.sort(key=lambda t: t.frame)
    return tracks, plain
