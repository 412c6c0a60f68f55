from __future__ import annotations

import io
from typing import Any

import pytest
from format_helpers import export_bytes, make_view, zip_names, zip_with
from hypothesis import given, settings
from hypothesis import strategies as st
from more_format_helpers import bomb_zip, carried, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledShape,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("YOLO 1.1")
IMPORT = get_importer("YOLO 1.1")
BOX = {ShapeType.RECTANGLE}


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("YOLO 1.1").to_dict() == {
        "name": "YOLO 1.1",
        "ext": "ZIP",
        "version": "1.1",
        "enabled": True,
        "dimension": "2d",
    }


def test_layout(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    assert zip_names(data) == sorted(
        ["obj.data", "obj.names", "train.txt"]
        + [f"obj_train_data/img_{i}.txt" for i in range(6)]
        + [f"obj_train_data/img_{i}.jpg" for i in range(6)]
    )
    assert member(data, "obj.names") == "car\nperson\nface\nweather\n"
    assert member(data, "obj.data") == "classes = 4\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n"
    assert member(data, "train.txt").splitlines() == [f"data/obj_train_data/img_{i}.jpg" for i in range(6)]
    # frame 0: the car box, the (rotated) person box, the person track's first frame
    assert member(data, "obj_train_data/img_0.txt").splitlines() == [
        "0 0.173828 0.335938 0.300781 0.578125",
        "1 0.625000 0.468750 0.312500 0.729167",
        "1 0.078125 0.104167 0.156250 0.208333",
    ]
    assert member(data, "obj_train_data/img_5.txt") == ""  # empty frames still get a file
    assert set(zip_names(export_bytes(EXPORT, view))) == set(zip_names(data)) - {
        f"obj_train_data/img_{i}.jpg" for i in range(6)
    }


def test_round_trip_keeps_boxes_of_shapes_and_tracks(view: DatasetView) -> None:
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)
    expected = carried(view.annotations, view, BOX, flags=False, attrs=False)
    assert carried(got, view, BOX, flags=False, attrs=False) == expected
    assert len(expected) == 6  # two boxes + four visible frames of the person track
    assert got.tracks == [] and got.tags == []
    assert {s.type for s in got.shapes} == BOX


def test_subsets_and_video_frame_numbers() -> None:
    view = make_view(video=True)
    view.frames[4].subset = "valid"
    view.frames[5].subset = "valid"
    data = export_bytes(EXPORT, view)
    assert "obj_valid_data/frame_000004.txt" in zip_names(data)
    assert member(data, "valid.txt").splitlines() == [
        "data/obj_valid_data/frame_000004.PNG",
        "data/obj_valid_data/frame_000005.PNG",
    ]
    assert "valid = data/valid.txt" in member(data, "obj.data")
    got = IMPORT(io.BytesIO(data), view, "dataset.zip")
    assert carried(got, view, BOX, flags=False, attrs=False) == carried(
        view.annotations, view, BOX, flags=False, attrs=False
    )

    # files named by frame number ("<number>.txt") match video frames too
    def renumber(content: dict[str, bytes]) -> None:
        content["obj_train_data/2.txt"] = content.pop("obj_train_data/frame_000002.txt")

    got = IMPORT(io.BytesIO(rezip(data, renumber)), view, "dataset.zip")
    assert {s.frame for s in got.shapes} == {0, 1, 2, 3}


def test_reserved_subset_is_refused() -> None:
    view = make_view()
    view.frames[0].subset = "backup"
    with pytest.raises(FormatError, match="subset name 'backup'"):
        export_bytes(EXPORT, view)


def test_unused_unknown_label_is_fine_used_one_is_an_error(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    extra = rezip(data, lambda c: c.update({"obj.names": c["obj.names"] + b"truck\n"}))
    assert len(IMPORT(io.BytesIO(extra), view, "a.zip").shapes) == 6
    used = rezip(extra, lambda c: c.update({"obj_train_data/img_3.txt": b"4 0.5 0.5 0.1 0.1\n"}))
    with pytest.raises(FormatError, match=r"obj_train_data/img_3\.txt, line 1: label 'truck' is not in the task"):
        IMPORT(io.BytesIO(used), view, "a.zip")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0 0.5 0.5 0.1 0.1\n\n7 0.5 0.5 0.1 0.1\n", r"line 3: class id 7 is not in the label list"),
        ("0 0.5 0.5 0.1\n", r"line 1: expected 'class cx cy w h', got 4 values"),
        ("0 0.5 abc 0.1 0.1\n", r"line 1: .* not a number"),
        ("x 0.5 0.5 0.1 0.1\n", r"line 1: class id 'x' is not an integer"),
        ("0 0.5 0.5 -0.1 0.1\n", r"line 1: box width and height must not be negative"),
        ("0 0.5 0.5 nan 0.1\n", r"line 1: coordinates must be finite"),
    ],
)
def test_malformed_lines_name_file_and_line(view: DatasetView, content: str, message: str) -> None:
    data = rezip(export_bytes(EXPORT, view), lambda c: c.update({"obj_train_data/img_2.txt": content.encode()}))
    with pytest.raises(FormatError, match=r"obj_train_data/img_2\.txt, " + message):
        IMPORT(io.BytesIO(data), view, "a.zip")


def test_wrong_or_broken_archives(view: DatasetView) -> None:
    with pytest.raises(FormatError, match=r"obj\.names is missing"):
        IMPORT(io.BytesIO(zip_with({"annotations/instances_default.json": "{}"})), view, "coco.zip")
    with pytest.raises(FormatError, match="no obj_<subset>_data"):
        IMPORT(io.BytesIO(zip_with({"obj.names": "car\n"})), view, "a.zip")
    with pytest.raises(FormatError, match=r"could not match 'other' with any task frame"):
        IMPORT(io.BytesIO(zip_with({"obj.names": "car\n", "obj_train_data/other.txt": ""})), view, "a.zip")
    with pytest.raises(FormatError, match="not a valid ZIP"):
        IMPORT(io.BytesIO(b"PK\x03\x04garbage"), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="unsafe path"):
        IMPORT(io.BytesIO(traversal_zip()), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("obj_train_data/img_0.txt")), view, "a.zip")
    with pytest.raises(FormatError, match="not UTF-8"):
        bad = zip_with({"obj.names": "car\n", "obj_train_data/img_0.txt": b"\xff\xfe0 1"})
        IMPORT(io.BytesIO(bad), view, "a.zip")


def test_files_in_a_top_folder_are_found(view: DatasetView) -> None:
    data = rezip(export_bytes(EXPORT, view), lambda c: c.update({f"ds/{k}": c.pop(k) for k in list(c)}))
    assert len(IMPORT(io.BytesIO(data), view, "a.zip").shapes) == 6


def test_empty_task(view: DatasetView) -> None:
    empty = make_view(annotations=LabeledData())
    got = round_trip(EXPORT, IMPORT, empty)
    assert len(got) == 0


coord = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    boxes=st.lists(st.tuples(st.integers(0, 3), st.sampled_from([1, 2]), coord, coord, coord, coord), max_size=8),
    size=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
)
def test_boxes_survive_within_a_hundredth_of_a_pixel(
    boxes: list[tuple[int, int, float, float, float, float]], size: tuple[int, int]
) -> None:
    w, h = size
    shapes = [
        LabeledShape(ShapeType.RECTANGLE, f, label, [min(a, b), min(c, d), max(a, b), max(c, d)])
        for f, label, a, b, c, d in boxes
    ]
    view = make_view(annotations=LabeledData(shapes=shapes))
    view.frames = [FrameInfo(i, f"img_{i}.jpg", w, h) for i in range(4)]
    got = round_trip(EXPORT, IMPORT, view)
    # the importer keeps the order of lines within a frame: a stable sort by frame aligns both
    want = sorted(((s.frame, s.label_id, *s.points) for s in shapes), key=lambda t: t[0])
    have = sorted(((s.frame, s.label_id, *s.points) for s in got.shapes), key=lambda t: t[0])
    assert len(have) == len(want)
    for a, b in zip(want, have, strict=True):
        assert a[:2] == b[:2]
        # %.6f of a normalised value: at most 5e-7 * size per coordinate (and the centre/size split)
        assert all(abs(x - y) <= 1e-6 * max(w, h) + 1e-9 for x, y in zip(a[2:], b[2:], strict=True))
