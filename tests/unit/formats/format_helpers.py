"""A small task (6 frames of 64x48, every shape type, tracks, skeletons, tags, attributes) and
helpers to compare annotation models after a round trip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from cvat_serverless.domain.annotations import (
    AttributeVal,
    DatasetView,
    FrameInfo,
    InputType,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    LabelType,
    ShapeType,
    TrackedShape,
)
from cvat_serverless.domain.interpolation import track_to_shapes
from cvat_serverless.domain.labels import AttributeSpec

W, H = 64, 48
FACE_SVG = (
    '<line x1="10" y1="10" x2="30" y2="10" data-type="edge" data-node-from="1" data-node-to="2"></line>'
    '<line x1="30" y1="10" x2="20" y2="20" data-type="edge" data-node-from="2" data-node-to="3"></line>'
    '<circle r="0.75" cx="10" cy="10" data-type="element node" data-element-id="1" data-node-id="1" '
    'data-label-id="31" data-label-name="left_eye"></circle>'
    '<circle r="0.75" cx="30" cy="10" data-type="element node" data-element-id="2" data-node-id="2" '
    'data-label-id="32" data-label-name="right_eye"></circle>'
    '<circle r="0.75" cx="20" cy="20" data-type="element node" data-element-id="3" data-node-id="3" '
    'data-label-id="33" data-label-name="nose"></circle>'
)


def make_labels() -> list[LabelSpec]:
    return [
        LabelSpec(
            id=1,
            name="car",
            type=LabelType.ANY,
            color="#ff0000",
            attributes=[
                AttributeSpec(10, "color", InputType.SELECT, False, ["red", "blue"], "red"),
                AttributeSpec(11, "parked", InputType.CHECKBOX, True, ["false"], "false"),
                AttributeSpec(12, "speed", InputType.NUMBER, True, ["0", "200", "1"], "0"),
            ],
        ),
        LabelSpec(id=2, name="person", type=LabelType.ANY, color="#00ff00"),
        LabelSpec(
            id=3,
            name="face",
            type=LabelType.SKELETON,
            color="#0000ff",
            svg=FACE_SVG,
            sublabels=[
                LabelSpec(id=31, name="left_eye", type=LabelType.POINTS, parent_id=3),
                LabelSpec(id=32, name="right_eye", type=LabelType.POINTS, parent_id=3),
                LabelSpec(id=33, name="nose", type=LabelType.POINTS, parent_id=3),
            ],
        ),
        LabelSpec(id=4, name="weather", type=LabelType.TAG, color="#888888"),
    ]


def make_frames(n: int = 6, *, video: bool = False) -> list[FrameInfo]:
    name = "frame_{:06d}.PNG" if video else "img_{}.jpg"
    return [FrameInfo(i, name.format(i), W, H, "default") for i in range(n)]


def mask_points(rows: list[str], left: int, top: int) -> list[float]:
    """CVAT mask points from an ASCII picture ('#' = set) placed at (left, top)."""
    flat = "".join(rows)
    runs: list[int] = []
    current, count = ".", 0
    for ch in flat:
        if ch == current:
            count += 1
        else:
            runs.append(count)
            current, count = ch, 1
    runs.append(count)
    return [float(r) for r in runs] + [
        float(left),
        float(top),
        float(left + len(rows[0]) - 1),
        float(top + len(rows) - 1),
    ]


def skeleton(
    frame: int, pts: list[tuple[float, float]], outside: tuple[bool, ...] = (False,) * 3, label: int = 3
) -> LabeledShape:
    return LabeledShape(
        ShapeType.SKELETON,
        frame,
        label,
        [],
        elements=[
            LabeledShape(ShapeType.POINTS, frame, 31 + i, [x, y], outside=o)
            for i, ((x, y), o) in enumerate(zip(pts, outside, strict=True))
        ],
    )


def make_annotations() -> LabeledData:
    shapes = [
        LabeledShape(
            ShapeType.RECTANGLE,
            0,
            1,
            [1.5, 2.25, 20.75, 30.0],
            z_order=1,
            group=1,
            attributes=[AttributeVal(10, "blue"), AttributeVal(11, "true"), AttributeVal(12, "42")],
        ),
        LabeledShape(
            ShapeType.RECTANGLE,
            0,
            2,
            [30, 5, 50, 40],
            rotation=30.0,
            occluded=True,
            source="auto",
            group=1,
            score=0.5,
        ),
        LabeledShape(ShapeType.POLYGON, 1, 1, [5, 5, 25, 5, 25, 25, 5, 25], attributes=[AttributeVal(10, "red")]),
        LabeledShape(ShapeType.POLYLINE, 1, 2, [0, 0, 10, 10, 20, 5]),
        LabeledShape(ShapeType.POINTS, 1, 2, [3, 4, 5, 6]),
        LabeledShape(ShapeType.ELLIPSE, 2, 2, [32, 24, 40, 20], rotation=15.5),
        LabeledShape(
            ShapeType.CUBOID,
            2,
            1,
            [float(v) for v in (10, 10, 10, 30, 30, 10, 30, 30, 15, 8, 15, 28, 35, 8, 35, 28)],
        ),
        LabeledShape(ShapeType.MASK, 3, 1, mask_points(["..##..", ".####.", "######", ".####."], 10, 12)),
        skeleton(4, [(10, 10), (30, 10), (20, 20)], (False, False, True)),
    ]
    tracks = [
        LabeledTrack(
            frame=0,
            label_id=2,
            group=0,
            shapes=[
                TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 10, 10]),
                TrackedShape(ShapeType.RECTANGLE, 2, [4, 6, 14, 16], occluded=True),
                TrackedShape(ShapeType.RECTANGLE, 4, [4, 6, 14, 16], outside=True),
            ],
        ),
        LabeledTrack(
            frame=1,
            label_id=1,
            attributes=[AttributeVal(10, "red")],
            shapes=[
                TrackedShape(ShapeType.POLYGON, 1, [10, 10, 20, 10, 20, 20], attributes=[AttributeVal(12, "5")]),
                TrackedShape(ShapeType.POLYGON, 3, [12, 10, 22, 10, 22, 20], attributes=[AttributeVal(12, "7")]),
                TrackedShape(ShapeType.POLYGON, 5, [12, 10, 22, 10, 22, 20], outside=True),
            ],
        ),
        LabeledTrack(
            frame=2,
            label_id=3,
            shapes=[
                TrackedShape(ShapeType.SKELETON, 2, []),
                TrackedShape(ShapeType.SKELETON, 4, [], outside=True),
            ],
            elements=[
                LabeledTrack(
                    frame=2,
                    label_id=31,
                    shapes=[
                        TrackedShape(ShapeType.POINTS, 2, [10, 10]),
                        TrackedShape(ShapeType.POINTS, 4, [10, 10], outside=True),
                    ],
                ),
                LabeledTrack(
                    frame=2,
                    label_id=32,
                    shapes=[
                        TrackedShape(ShapeType.POINTS, 2, [30, 10]),
                        TrackedShape(ShapeType.POINTS, 4, [30, 10], outside=True),
                    ],
                ),
                LabeledTrack(
                    frame=2,
                    label_id=33,
                    shapes=[
                        TrackedShape(ShapeType.POINTS, 2, [20, 20]),
                        TrackedShape(ShapeType.POINTS, 4, [20, 20], outside=True),
                    ],
                ),
            ],
        ),
    ]
    tags = [LabeledImage(0, 4), LabeledImage(5, 4, group=2)]
    return LabeledData(shapes=shapes, tracks=tracks, tags=tags)


def make_view(*, video: bool = False, annotations: LabeledData | None = None) -> DatasetView:
    return DatasetView(
        labels=make_labels(),
        frames=make_frames(video=video),
        annotations=annotations if annotations is not None else make_annotations(),
        task_id=7,
        name="round trip",
        mode="interpolation" if video else "annotation",
    )


def image_bytes(frame: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (W, H), (frame * 40 % 256, 80, 120)).save(buf, format="JPEG")
    return buf.getvalue()


def export_bytes(exporter: Callable[..., None], view: DatasetView, images: Any = None) -> bytes:
    out = io.BytesIO()
    exporter(view, out, images)
    return out.getvalue()


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sorted(z.namelist())


def zip_with(members: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- comparison


def _r(values: list[float], digits: int) -> tuple[float, ...]:
    return tuple(round(v, digits) + 0.0 for v in values)


def canon_shape(s: LabeledShape, digits: int = 2, *, attrs: bool = True, flags: bool = True) -> tuple[Any, ...]:
    key: tuple[Any, ...] = (s.frame, s.label_id, str(s.type), _r(s.points, digits))
    if flags:
        key += (s.occluded, s.z_order, round(s.rotation, digits), s.group or 0, s.source)
    if attrs:
        key += (tuple(sorted((a.spec_id, a.value) for a in s.attributes)),)
    key += (tuple(sorted((*canon_shape(e, digits, attrs=attrs, flags=flags), e.outside) for e in s.elements)),)
    return key


def flat_shapes(data: LabeledData, stop_frame: int) -> list[LabeledShape]:
    """Plain shapes + visible per-frame shapes of tracks (what formats without tracks carry)."""
    out = [s for s in data.shapes if not s.outside]
    for track in data.tracks:
        out.extend(s for s, _ in track_to_shapes(track, stop_frame=stop_frame))
    return out


def canon_shapes(shapes: list[LabeledShape], digits: int = 2, **kw: bool) -> list[tuple[Any, ...]]:
    return sorted(canon_shape(s, digits, **kw) for s in shapes)


def _effective(t: LabeledTrack) -> list[tuple[tuple[int, str], ...]]:
    """Mutable attributes in effect on each keyframe (they carry over between keyframes)."""
    running: dict[int, str] = {}
    out = []
    for k in t.shapes:
        running.update((a.spec_id, a.value) for a in k.attributes)
        out.append(tuple(sorted(running.items())))
    return out


def canon_track(t: LabeledTrack, digits: int = 2) -> tuple[Any, ...]:
    return (
        t.frame,
        t.label_id,
        t.group or 0,
        t.source,
        tuple(sorted((a.spec_id, a.value) for a in t.attributes)),
        tuple(
            (
                k.frame,
                str(k.type),
                _r(k.points, digits),
                k.outside,
                k.occluded,
                k.z_order,
                round(k.rotation, digits),
                attrs,
            )
            for k, attrs in zip(t.shapes, _effective(t), strict=True)
        ),
        tuple(sorted(canon_track(e, digits) for e in t.elements)),
    )


def canon_tags(data: LabeledData) -> list[tuple[Any, ...]]:
    return sorted(
        (
            t.frame,
            t.label_id,
            t.group or 0,
            t.source,
            tuple(sorted((a.spec_id, a.value) for a in t.attributes)),
        )
        for t in data.tags
    )
