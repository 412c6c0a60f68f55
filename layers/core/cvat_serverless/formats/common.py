"""Helpers shared by the format modules: errors, name resolution, flattening, masks, RLE.

* :func:`format_error` builds a ``FormatError`` whose message names the file and line.
* :class:`LabelMap` resolves label / attribute names of a file against the task (a label the
  task does not have is an error, as in CVAT) and checks attribute values against the specs.
* :class:`FrameMap` matches file names / item ids in a file to task frames.
* :func:`group_by_frame` flattens a view's shapes, tracks (interpolated, via
  :mod:`cvat_serverless.domain.interpolation`) and tags into per-frame lists for formats
  without tracks; :func:`shapes_by_frame` is the same without a wrapper per shape (for the
  writers that must scale to 100,000s of shapes).
* Masks: CVAT's mask ``points`` <-> numpy bitmaps <-> COCO RLE (list or compressed string).
  numpy is imported inside the functions (see the package docstring).
"""

from __future__ import annotations

import functools
import math
import operator
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, BinaryIO, NamedTuple

from cvat_serverless.domain.annotations import (
    AttributeVal,
    DatasetView,
    FrameInfo,
    InputType,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
    check_bounds,
    check_geometry,
    check_label_type,
    check_raster_size,
)
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.domain.interpolation import shapes_to_tracks, track_to_shapes
from cvat_serverless.domain.labels import AttributeSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "FlatShape",
    "FrameAnnotations",
    "FrameMap",
    "FrameShapes",
    "ImageProvider",
    "LabelMap",
    "check_label",
    "check_shape",
    "format_error",
    "group_by_frame",
    "shapes_by_frame",
    "track_stop_frame",
]

ImageProvider = Callable[[int], bytes | BinaryIO | IO[bytes] | None]
"""The image callback: frame number -> the image's bytes or a file object (closed after use),
or ``None`` to skip it. The caller decides where bytes come from (S3, a chunk, a local dir)."""


def format_error(file: str, message: str, line: int | None = None) -> FormatError:
    where = f"{file}, line {line}" if line is not None else file
    return FormatError(f"{where}: {message}")


def check_shape(
    type_: ShapeType,
    points: Sequence[float],
    where: str,
    *,
    rotation: float = 0.0,
    frame: FrameInfo | None = None,
) -> None:
    """Raise a :class:`FormatError` at ``where`` when a shape's geometry is invalid or (with
    ``frame``) does not fit the frame: the checks the annotations API applies, before anything
    sized by the points is allocated."""
    why = check_geometry(type_, points, rotation)
    if why is None and frame is not None:
        why = check_bounds(type_, points, frame.width, frame.height)
    if why:
        raise FormatError(f"{where}: {why}")


def check_label(label: LabelSpec, type_: ShapeType | None, where: str) -> None:
    """Raise a :class:`FormatError` when ``label`` cannot carry a ``type_`` shape (``None``: a tag)."""
    why = check_label_type(label, type_)
    if why:
        raise FormatError(f"{where}: {why}")


# --------------------------------------------------------------------------- labels


def _normalise_value(spec: AttributeSpec, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.input_type == InputType.CHECKBOX and isinstance(value, str):
        return value.lower()
    if isinstance(value, float) and value.is_integer() and spec.input_type == InputType.NUMBER:
        return str(int(value))
    return str(value)


class LabelMap:
    """Task labels by name, for importers."""

    def __init__(self, labels: Sequence[LabelSpec]) -> None:
        self.labels = list(labels)
        self.by_name = {label.name: label for label in labels}
        self.by_id: dict[int, LabelSpec] = {}
        for label in labels:
            self.by_id[label.id] = label
            for sub in label.sublabels:
                self.by_id[sub.id] = sub

    def resolve(self, name: str, where: str) -> LabelSpec:
        label = self.by_name.get(name)
        if label is None:
            raise FormatError(
                f"{where}: label '{name}' is not in the task (task labels: {', '.join(sorted(self.by_name)) or 'none'})"
            )
        return label

    def sublabel(self, parent: LabelSpec, name: str, where: str) -> LabelSpec:
        sub = parent.sublabel_by_name(name)
        if sub is None:
            raise FormatError(f"{where}: '{name}' is not a point of skeleton '{parent.name}'")
        return sub

    def attributes(
        self, label: LabelSpec, values: Mapping[str, Any], where: str, *, ignore: Iterable[str] = ()
    ) -> list[AttributeVal]:
        """``AttributeVal`` for the names ``label`` declares; other names are ignored (CVAT
        drops attributes the task does not have); bad values are errors."""
        skip = set(ignore)
        out: list[AttributeVal] = []
        for name, raw in values.items():
            if name in skip:
                continue
            spec = label.attribute_by_name(name)
            if spec is None:
                continue
            value = _normalise_value(spec, raw)
            why = spec.check_value(value)
            if why:
                raise FormatError(f"{where}: attribute '{name}' of '{label.name}': {why}")
            out.append(AttributeVal(spec.id, value))
        return out

    def split(self, label: LabelSpec, attrs: Iterable[AttributeVal]) -> tuple[list[AttributeVal], list[AttributeVal]]:
        """(immutable, mutable) by the label's specs."""
        imm: list[AttributeVal] = []
        mut: list[AttributeVal] = []
        for a in attrs:
            spec = label.attribute(a.spec_id)
            (mut if spec is not None and spec.mutable else imm).append(a)
        return imm, mut


def typed_attributes(label: LabelSpec, attrs: Iterable[AttributeVal]) -> dict[str, Any]:
    """``{name: value}`` with JSON types (checkbox -> bool, number -> int/float) for formats
    that store attributes in JSON (COCO, Datumaro); unknown spec ids are dropped."""
    out: dict[str, Any] = {}
    for a in attrs:
        spec = label.attribute(a.spec_id)
        if spec is None:
            continue
        value: Any = a.value
        if spec.input_type == InputType.CHECKBOX:
            value = a.value.lower() == "true"
        elif spec.input_type == InputType.NUMBER:
            try:
                number = float(a.value)
                value = int(number) if number.is_integer() else number
            except ValueError:
                pass
        out[spec.name] = value
    return out


def rebuild_tracks(
    shapes: Iterable[tuple[LabeledShape, Any]], view: DatasetView
) -> tuple[list[LabeledTrack], list[LabeledShape]]:
    """``(shape, track_id or None)`` pairs from a format without tracks -> (tracks, shapes).

    Every frame of a track becomes a keyframe (exact per-frame geometry); gaps and the end are
    closed with outside keyframes (see ``shapes_to_tracks``)."""
    pairs = list(shapes)
    keys = {id(s): t for s, t in pairs if t is not None}
    return shapes_to_tracks(
        [s for s, _ in pairs],
        key=lambda s: keys.get(id(s)),
        labels=view.label_index(),
        stop_frame=view.last_frame(),
    )


# --------------------------------------------------------------------------- frames


def _stem(name: str) -> str:
    base = posixpath.basename(name)
    return base.rsplit(".", 1)[0] if "." in base else base


class FrameMap:
    """Matches names in a file (paths, item ids, stems) to task frame numbers."""

    def __init__(self, frames: Sequence[FrameInfo]) -> None:
        self.frames = {f.frame: f for f in frames}
        self._exact: dict[str, int] = {}
        self._noext: dict[str, int] = {}
        self._base: dict[str, int] = {}
        self._stem: dict[str, int] = {}
        for f in frames:
            name = f.name.replace("\\", "/")
            self._exact.setdefault(name, f.frame)
            self._noext.setdefault(name.rsplit(".", 1)[0] if "." in posixpath.basename(name) else name, f.frame)
            self._base.setdefault(posixpath.basename(name), f.frame)
            self._stem.setdefault(_stem(name), f.frame)

    def get(self, name: str) -> int | None:
        name = name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        for table, key in (
            (self._exact, name),
            (self._noext, name),
            (self._noext, name.rsplit(".", 1)[0]),
            (self._base, posixpath.basename(name)),
            (self._stem, _stem(name)),
        ):
            frame = table.get(key)
            if frame is not None:
                return frame
        return None

    def match(self, name: str, where: str) -> int:
        frame = self.get(name)
        if frame is None:
            raise FormatError(f"{where}: could not match item '{name}' with any task frame")
        return frame

    def info(self, frame: int) -> FrameInfo:
        return self.frames[frame]


# --------------------------------------------------------------------------- flattening


class FlatShape(NamedTuple):
    shape: LabeledShape
    track_id: int | None  # the track's id (or its index when it has none); None for shapes
    keyframe: bool


@dataclass(slots=True)
class FrameAnnotations:
    frame: FrameInfo
    shapes: list[FlatShape] = field(default_factory=list)
    tags: list[LabeledImage] = field(default_factory=list)


@dataclass(slots=True)
class FrameShapes:
    """A frame's annotations without a wrapper per plain shape (see :func:`shapes_by_frame`)."""

    frame: FrameInfo
    shapes: list[LabeledShape] = field(default_factory=list)  # plain shapes
    tracked: list[FlatShape] = field(default_factory=list)  # per-frame shapes of tracks
    tags: list[LabeledImage] = field(default_factory=list)


def track_stop_frame(track: LabeledTrack, stop_frame: int) -> int:
    """The last frame worth walking for ``track``: nothing of a track is visible after an
    ``outside`` last keyframe, so walking on to ``stop_frame`` would only build frames that are
    thrown away (O(task length) per track instead of O(track length)). Skeleton tracks keep
    ``stop_frame``: their element tracks may start later."""
    if track.elements:
        return stop_frame
    last: TrackedShape | None = None
    for key in track.shapes:  # the last of the largest frame, as a stable sort puts it
        if last is None or key.frame >= last.frame:
            last = key
    if last is not None and last.outside:
        return min(stop_frame, last.frame)
    return stop_frame


def shapes_by_frame(view: DatasetView, *, include_outside: bool = False, with_tracks: bool = True) -> list[FrameShapes]:
    """:func:`group_by_frame` for big tasks: the same frames, shapes, order and filtering, but
    plain shapes are listed as they are (no :class:`FlatShape` each) and only the per-frame
    shapes of tracks are wrapped (in ``tracked``). A frame's shapes in ``group_by_frame``
    order are ``shapes`` then ``tracked``. Keeping 100,000 small wrappers alive costs more in
    allocation and garbage-collector passes than writing the shapes does."""
    out = [FrameShapes(f) for f in view.frames]
    index = {fs.frame.frame: fs for fs in out}
    data = view.annotations
    # One dict lookup per shape straight to its frame's list (this loop runs once per shape).
    get = {number: fs.shapes for number, fs in index.items()}.get
    for shape in data.shapes:
        if include_outside or not shape.outside:
            bucket = get(shape.frame)
            if bucket is not None:
                bucket.append(shape)
    if with_tracks:
        stop = view.last_frame()
        for track_index, track in enumerate(data.tracks):
            track_id = track.id if track.id is not None else track_index
            for shape, keyframe in track_to_shapes(
                track, stop_frame=track_stop_frame(track, stop), include_outside=include_outside, frames=index
            ):
                index[shape.frame].tracked.append(FlatShape(shape, track_id, keyframe))
    for tag in data.tags:
        fs = index.get(tag.frame)
        if fs is not None:
            fs.tags.append(tag)
    return out


def group_by_frame(
    view: DatasetView, *, include_outside: bool = False, with_tracks: bool = True
) -> list[FrameAnnotations]:
    """Every frame of the view (empty ones too, in ``view.frames`` order) with its shapes
    (plain shapes, then per-frame shapes of tracks) and tags. Annotations on frames that are
    not in the view are dropped."""
    return [
        FrameAnnotations(fs.frame, [FlatShape(s, None, True) for s in fs.shapes] + fs.tracked, fs.tags)
        for fs in shapes_by_frame(view, include_outside=include_outside, with_tracks=with_tracks)
    ]


# --------------------------------------------------------------------------- geometry


def polygon_area(points: Sequence[float]) -> float:
    """Shoelace area. The terms ``x[i] * y[i+1] - x[i+1] * y[i]`` are summed left to right from
    0.0, exactly as a plain loop would (so results are bit-for-bit stable), but in C."""
    n = len(points) // 2
    xs, ys = list(points[0 : 2 * n : 2]), list(points[1 : 2 * n : 2])
    terms = map(operator.sub, map(operator.mul, xs, ys[1:] + ys[:1]), map(operator.mul, xs[1:] + xs[:1], ys))
    return abs(functools.reduce(operator.add, terms, 0.0)) / 2.0


def points_bbox(points: Sequence[float]) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of a flat point list."""
    xs, ys = points[0::2], points[1::2]
    x0, y0 = min(xs), min(ys)
    return x0, y0, max(xs) - x0, max(ys) - y0


def fmt(value: float) -> str:
    """A short, exact-enough number (``%.2f`` would lose the round trip): ints without '.0'."""
    if value == int(value) and math.isfinite(value):
        return str(int(value))
    return repr(round(value, 6))


# --------------------------------------------------------------------------- masks and RLE


def cvat_mask_to_bitmap(points: Sequence[float], width: int, height: int) -> npt.NDArray[np.bool_]:
    """A full-frame boolean bitmap from CVAT mask ``points`` (RLE + inclusive box)."""
    import numpy as np

    left, top, right, bottom = (round(v) for v in points[-4:])
    w, h = right - left + 1, bottom - top + 1
    # Masks stored before frame bounds were enforced must fail here, not with a MemoryError.
    why = check_raster_size(w, h, width, height)
    if why:
        raise FormatError(why)
    runs = np.asarray([round(v) for v in points[:-4]], dtype=np.int64)
    total = int(runs.sum()) if runs.size else 0
    if total != w * h or (runs < 0).any():
        raise FormatError(f"mask runs cover {total} pixels, the box has {w * h}")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    crop = flat.reshape(h, w)
    full = np.zeros((height, width), dtype=bool)
    y1, x1 = min(bottom + 1, height), min(right + 1, width)
    if top < height and left < width:
        full[top:y1, left:x1] = crop[: y1 - top, : x1 - left]
    return full


def _runs(flat: npt.NDArray[np.bool_]) -> list[int]:
    """Run lengths of a flat bool array, alternating and starting with False."""
    import numpy as np

    if flat.size == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs.insert(0, 0)
    return [int(r) for r in runs]


def bitmap_to_cvat_mask(bitmap: npt.NDArray[Any]) -> list[float] | None:
    """CVAT mask ``points`` cropped to the set pixels, or ``None`` for an empty bitmap."""
    import numpy as np

    mask = np.asarray(bitmap).astype(bool)
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    crop = mask[top : bottom + 1, left : right + 1]
    return [float(r) for r in _runs(crop.reshape(-1))] + [
        float(left),
        float(top),
        float(right),
        float(bottom),
    ]


def bitmap_to_coco_rle(bitmap: npt.NDArray[Any]) -> dict[str, Any]:
    """COCO's uncompressed RLE (column-major counts) of a full-frame bitmap."""
    import numpy as np

    mask = np.asarray(bitmap).astype(bool)
    h, w = mask.shape
    return {"counts": _runs(mask.reshape(-1, order="F")), "size": [int(h), int(w)]}


def coco_rle_to_bitmap(
    rle: Mapping[str, Any], where: str = "", *, frame: FrameInfo | None = None
) -> npt.NDArray[np.bool_]:
    """A bitmap from a COCO RLE (counts as a list or a compressed string).

    The declared ``size`` is checked against ``frame`` and the counts' total against the size
    before anything is allocated: a few bytes of RLE can declare any size."""
    import numpy as np

    try:
        size = rle["size"]
        if not isinstance(size, list | tuple) or len(size) != 2:
            raise ValueError("'size' must be [height, width]")
        h, w = (int(v) for v in size)
        counts = rle["counts"]
        if isinstance(counts, str | bytes):
            runs = rle_string_decode(counts)
        elif isinstance(counts, list):
            runs = [int(c) for c in counts]
        else:
            raise ValueError("'counts' must be a list or a string")
    except (KeyError, TypeError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise FormatError(f"{where}: malformed RLE segmentation ({exc})") from exc
    if h < 0 or w < 0 or any(r < 0 for r in runs):
        raise FormatError(f"{where}: malformed RLE segmentation (negative size or run length)")
    if frame is not None:
        why = check_raster_size(w, h, frame.width, frame.height, "RLE")
        if why:
            raise FormatError(f"{where}: {why}")
    total = sum(runs)
    if total != h * w:
        raise FormatError(f"{where}: RLE covers {total} pixels, size {h}x{w} has {h * w}")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, np.asarray(runs, dtype=np.int64))
    return flat.reshape((h, w), order="F")


def rle_string_encode(counts: Sequence[int]) -> str:
    """COCO's compressed RLE string (as pycocotools ``rleToString``)."""
    out: list[str] = []
    for i, count in enumerate(counts):
        x = int(count)
        if i > 2:
            x -= int(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = not ((c & 0x10) == 0 and x == 0) and not ((c & 0x10) != 0 and x == -1)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


_RLE_MAX_DIGITS = 13  # 13 x 5 bits >= 64 bits


def rle_string_decode(data: str | bytes) -> list[int]:
    """Counts of a COCO compressed RLE string (as pycocotools ``rleFrString``)."""
    text = data.decode("ascii") if isinstance(data, bytes) else data
    counts: list[int] = []
    p = 0
    while p < len(text):
        x = 0
        k = 0
        more = True
        while more:
            if p >= len(text):
                raise ValueError("truncated RLE string")
            if k >= _RLE_MAX_DIGITS:
                # pycocotools reads counts into 64 bits; longer runs of digits are hostile
                # (each digit makes Python's int wider: quadratic time).
                raise ValueError("RLE count too long")
            c = ord(text[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts
