from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from format_helpers import export_bytes, make_view, mask_points, zip_names, zip_with
from more_format_helpers import bomb_zip, member, members, rezip, round_trip, traversal_zip
from PIL import Image

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.formats.common import cvat_mask_to_bitmap
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("Segmentation mask 1.1")
IMPORT = get_importer("Segmentation mask 1.1")


def _bitmap(shape: LabeledShape) -> Any:
    return cvat_mask_to_bitmap(shape.points, 64, 48)


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("Segmentation mask 1.1").to_dict()["version"] == "1.1"


def test_layout(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    names = zip_names(data)
    # every frame but 5 has a box, polygon or mask (on frame 4 only the car polygon track)
    assert [n for n in names if n.startswith("SegmentationClass/")] == [
        f"SegmentationClass/img_{i}.png" for i in range(5)
    ]
    assert member(data, "ImageSets/Segmentation/default.txt").split() == [f"img_{i}" for i in range(6)]
    assert member(data, "labelmap.txt").splitlines()[1:3] == ["background:0,0,0::", "car:255,0,0::"]
    assert [n for n in names if n.startswith("JPEGImages/")] == [f"JPEGImages/img_{i}.jpg" for i in range(6)]
    cls = np.asarray(Image.open(io.BytesIO(members(data)["SegmentationClass/img_0.png"])).convert("RGB"))
    colors = {tuple(int(v) for v in c) for c in cls.reshape(-1, 3)}
    assert colors == {(0, 0, 0), (255, 0, 0), (0, 255, 0)}  # background, car, person
    assert "JPEGImages/img_0.jpg" not in zip_names(export_bytes(EXPORT, view))


def test_masks_round_trip_exactly() -> None:
    a = LabeledShape(ShapeType.MASK, 3, 1, mask_points(["..##..", ".####.", "######"], 10, 12))
    b = LabeledShape(ShapeType.MASK, 3, 2, mask_points(["#", "#"], 40, 30))
    view = make_view(annotations=LabeledData(shapes=[a, b]))
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)
    assert sorted((s.frame, s.label_id, s.points) for s in got.shapes) == sorted(
        (s.frame, s.label_id, s.points) for s in (a, b)
    )


def test_shapes_become_masks_painted_in_z_order() -> None:
    box = LabeledShape(ShapeType.RECTANGLE, 0, 1, [0, 0, 9, 9], z_order=1)
    under = LabeledShape(ShapeType.POLYGON, 0, 2, [5, 5, 20, 5, 20, 20, 5, 20], z_order=0)
    rotated = LabeledShape(ShapeType.RECTANGLE, 1, 2, [20, 20, 40, 30], rotation=90)
    view = make_view(annotations=LabeledData(shapes=[box, under, rotated]))
    got = round_trip(EXPORT, IMPORT, view)
    masks = {(s.frame, s.label_id): _bitmap(s) for s in got.shapes}
    assert all(s.type == ShapeType.MASK for s in got.shapes) and len(got.shapes) == 3
    assert masks[(0, 1)][0:10, 0:10].all() and masks[(0, 1)].sum() == 100  # the box is on top
    assert not masks[(0, 2)][5:10, 5:10].any() and masks[(0, 2)][10:21, 10:21].all()
    ys, xs = np.nonzero(masks[(1, 2)])  # turned 90 degrees about (30, 25): 10 wide, 20 high
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (25, 35, 15, 35)


def test_grouped_shapes_are_one_instance() -> None:
    left = LabeledShape(ShapeType.RECTANGLE, 2, 1, [0, 0, 4, 4], group=5)
    right = LabeledShape(ShapeType.POLYGON, 2, 1, [30, 30, 40, 30, 40, 40], group=5)
    other = LabeledShape(ShapeType.RECTANGLE, 2, 1, [50, 0, 60, 5], group=0)
    view = make_view(annotations=LabeledData(shapes=[left, right, other]))
    got = round_trip(EXPORT, IMPORT, view)
    assert sorted(int(_bitmap(s).sum()) for s in got.shapes) == sorted([25 + 66, 66])


def test_full_task_gives_one_mask_per_visible_instance(view: DatasetView) -> None:
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)
    per_frame = sorted((s.frame, s.label_id) for s in got.shapes)
    # frame 0: car box + person box (group 1, different labels) + person track box; 1: polygon,
    # polygon track, person track; 2: polygon track, person track; 3: mask, polygon track, person
    # track; 4: polygon track
    assert per_frame == [
        (0, 1),
        (0, 2),
        (0, 2),
        (1, 1),
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
        (3, 1),
        (3, 1),
        (3, 2),
        (4, 1),
    ]
    assert got.tracks == [] and got.tags == []


def test_bad_inputs(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    with pytest.raises(FormatError, match="not a mask archive"):
        IMPORT(io.BytesIO(zip_with({"Annotations/img_0.xml": "<annotation/>"})), view, "voc.zip")
    with pytest.raises(FormatError, match="needs a ZIP"):
        IMPORT(io.BytesIO(b"\x89PNG"), view, "a.png")

    def recolor(content: dict[str, bytes]) -> None:
        content["labelmap.txt"] = content["labelmap.txt"].replace(b"car:255,0,0", b"car:250,0,0")
        for name in [n for n in content if n.startswith("SegmentationClass/")]:
            buf = io.BytesIO()
            Image.open(io.BytesIO(content[name])).convert("RGB").save(buf, format="PNG")
            content[name] = buf.getvalue()

    with pytest.raises(FormatError, match=r"SegmentationClass/img_0\.png: pixel \(\d+, \d+\) has colour \(255, 0, 0\)"):
        IMPORT(io.BytesIO(rezip(data, recolor)), view, "a.zip")
    renamed = rezip(data, lambda c: c.update({"labelmap.txt": c["labelmap.txt"].replace(b"car:", b"truck:")}))
    with pytest.raises(
        FormatError, match=r"SegmentationObject/img_0\.png, instance \d: label 'truck' is not in the task"
    ):
        IMPORT(io.BytesIO(renamed), view, "a.zip")
    with pytest.raises(UnsafeArchiveError):
        IMPORT(io.BytesIO(traversal_zip("SegmentationClass/../../x.png")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("SegmentationClass/img_0.png")), view, "a.zip")


def test_empty_task() -> None:
    assert len(round_trip(EXPORT, IMPORT, make_view(annotations=LabeledData()))) == 0
