from __future__ import annotations

import io
from typing import Any

import pytest
from format_helpers import export_bytes, flat_shapes, make_view, zip_names, zip_with
from more_format_helpers import bomb_zip, carried, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledShape, ShapeType, validate_annotations
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.formats.archive import UnsafeArchiveError
from cvat_serverless.formats.registry import get_exporter, get_importer, list_exporters, list_importers
from cvat_serverless.formats.ultralytics import parse_data_yaml

PREFIX = "Ultralytics YOLO"
DET = (get_exporter(f"{PREFIX} Detection 1.0"), get_importer(f"{PREFIX} Detection 1.0"))
SEG = (get_exporter(f"{PREFIX} Segmentation 1.0"), get_importer(f"{PREFIX} Segmentation 1.0"))
POSE = (get_exporter(f"{PREFIX} Pose 1.0"), get_importer(f"{PREFIX} Pose 1.0"))
OBB = (get_exporter(f"{PREFIX} Oriented Bounding Boxes 1.0"), get_importer(f"{PREFIX} Oriented Bounding Boxes 1.0"))
TRACK_EXPORT = get_exporter(f"{PREFIX} Detection Track 1.0")


def test_registered_names() -> None:
    exporters = {s.display_name for s in list_exporters() if s.name.startswith(PREFIX)}
    importers = {s.display_name for s in list_importers() if s.name.startswith(PREFIX)}
    kinds = {"Detection", "Segmentation", "Pose", "Oriented Bounding Boxes"}
    assert importers == {f"{PREFIX} {k} 1.0" for k in kinds}
    assert exporters == importers | {f"{PREFIX} Detection Track 1.0"}


def test_detection_layout(view: DatasetView, images: Any) -> None:
    data = export_bytes(DET[0], view, images)
    assert zip_names(data) == sorted(
        ["data.yaml", "train.txt"]
        + [f"labels/train/img_{i}.txt" for i in range(6)]
        + [f"images/train/img_{i}.jpg" for i in range(6)]
    )
    assert member(data, "data.yaml") == (
        'path: ./\ntrain: train.txt\nnames:\n  0: "car"\n  1: "person"\n  2: "face"\n  3: "weather"\n'
    )
    assert member(data, "train.txt").splitlines() == [f"images/train/img_{i}.jpg" for i in range(6)]
    assert member(data, "labels/train/img_0.txt").splitlines()[0] == "0 0.173828 0.335938 0.300781 0.578125"
    assert zip_names(export_bytes(DET[0], view)) == sorted(
        ["data.yaml", "train.txt"] + [f"labels/train/img_{i}.txt" for i in range(6)]
    )


def test_detection_round_trip(view: DatasetView) -> None:
    got = round_trip(*DET, view)
    validate_annotations(got, view.labels, frame_count=6)
    box = {ShapeType.RECTANGLE}
    assert carried(got, view, box, flags=False, attrs=False) == carried(
        view.annotations, view, box, flags=False, attrs=False
    )
    assert got.tracks == []


def test_detection_track_ids_rebuild_tracks(view: DatasetView) -> None:
    data = export_bytes(TRACK_EXPORT, view)
    assert member(data, "labels/train/img_1.txt").splitlines() == ["1 0.109375 0.166667 0.156250 0.208333 0"]
    got = DET[1](io.BytesIO(data), view, "a.zip")
    (track,) = got.tracks
    assert track.label_id == 2 and [k.frame for k in track.shapes] == [0, 1, 2, 3, 4] and track.shapes[-1].outside
    box = {ShapeType.RECTANGLE}
    assert carried(got, view, box, flags=False, attrs=False) == carried(
        view.annotations, view, box, flags=False, attrs=False
    )


def test_obb_keeps_rotation(view: DatasetView) -> None:
    data = export_bytes(OBB[0], view)
    rotated = member(data, "labels/train/img_0.txt").splitlines()[1].split()
    assert rotated[0] == "1" and len(rotated) == 9
    got = OBB[1](io.BytesIO(data), view, "a.zip")
    box = {ShapeType.RECTANGLE}

    def key(d: LabeledData) -> list[Any]:
        return [(*k[:4], k[6]) for k in carried(d, view, box, digits=3)]  # geometry + rotation

    assert key(got) == key(view.annotations)
    assert sorted(round(s.rotation, 3) for s in got.shapes) == [0.0, 0.0, 0.0, 0.0, 0.0, 30.0]


def test_segmentation_round_trip(view: DatasetView) -> None:
    got = round_trip(*SEG, view)
    validate_annotations(got, view.labels, frame_count=6)
    poly = {ShapeType.POLYGON}
    assert carried(got, view, poly, flags=False, attrs=False) == carried(
        view.annotations, view, poly, flags=False, attrs=False
    )
    assert len(got.shapes) == 5  # the polygon + four visible frames of the polygon track


def _skeletons(data: LabeledData, view: DatasetView) -> list[Any]:
    out = []
    for s in flat_shapes(data, view.last_frame()):
        if s.type == ShapeType.SKELETON:
            elements = [
                (e.label_id, e.outside, e.occluded, None if e.outside else tuple(round(v, 3) for v in e.points))
                for e in s.elements
            ]
            out.append((s.frame, s.label_id, tuple(sorted(elements, key=lambda t: t[0]))))
    return sorted(out)


def test_pose_round_trip(view: DatasetView) -> None:
    data = export_bytes(POSE[0], view)
    assert member(data, "data.yaml").endswith("kpt_shape: [3, 3]\n")
    assert member(data, "labels/train/img_4.txt").splitlines()[0] == (
        "2 0.312500 0.208333 0.312500 0.000000 0.156250 0.208333 2 0.468750 0.208333 2 0 0 0"
    )
    got = POSE[1](io.BytesIO(data), view, "a.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert _skeletons(got, view) == _skeletons(view.annotations, view)
    assert len(_skeletons(got, view)) == 3


def test_inverted_layout_and_yaml_variants(view: DatasetView) -> None:
    data = export_bytes(DET[0], view)

    def invert(content: dict[str, bytes]) -> None:
        for name in [n for n in content if n.startswith("labels/train/")]:
            content["train/labels/" + name.split("/", 2)[2]] = content.pop(name)
        content["data.yaml"] = b"train: train/images\nval: val/images\nnc: 4\nnames: ['car', 'person', face, weather]\n"

    got = DET[1](io.BytesIO(rezip(data, invert)), view, "roboflow.zip")
    assert len(got.shapes) == 6
    assert parse_data_yaml("names: {0: a, 1: 'b c'}\n", "d.yaml") == (["a", "b c"], None)
    assert parse_data_yaml('# x\nnames:\n  - a\n  - "b\\u00e9"\nkpt_shape: [17, 2]\n', "d.yaml") == (
        ["a", "bé"],
        [17, 2],
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path: .\n", r"d\.yaml: 'names' is missing"),
        ("names:\n  0: a\n  x: b\n", r"d\.yaml, line 3: expected '<class id>: <name>'"),
        ("names:\n  0: a\n  2: b\n", r"class ids under 'names' must be 0\.\.1"),
        ("names: a\n", r"line 1: 'names' must be a list or a map"),
        ("names: [a]\nkpt_shape: [3, 4]\n", r"line 2: kpt_shape '\[3, 4\]' is not"),
        ("names: [a]\njunk\n", r"line 2: expected 'key: value'"),
    ],
)
def test_bad_yaml(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_data_yaml(text, "d.yaml")


@pytest.mark.parametrize(
    ("importer", "content", "message"),
    [
        (DET[1], "0 0.5 0.5 0.1\n", r"line 1: expected 'class cx cy w h \[track\]'"),
        (DET[1], "0 0.5 0.5 0.1 0.1 x\n", r"line 1: expected 'class cx cy w h \[track\]'"),
        (DET[1], "\n9 0.5 0.5 0.1 0.1\n", r"line 2: class id 9 is not in the label list"),
        (OBB[1], "0 0 0 1 0 1 1\n", r"line 1: expected 'class x1 y1 \.\.\. x4 y4"),
        (SEG[1], "0 0.1 0.1 0.2 0.2\n", r"line 1: a polygon needs"),
        (SEG[1], "0 0.1 0.1 0.2 0.2 0.3 zz\n", r"line 1: .* not a number"),
        (POSE[1], "0 0.5 0.5 0.1 0.1 " + "0.1 0.1 2 " * 3 + "\n", r"line 1: label 'car' is not a skeleton"),
        (POSE[1], "2 0.5 0.5 0.1 0.1 0.1 0.1 2\n", r"line 1: expected 14 values"),
    ],
)
def test_bad_lines_name_file_and_line(view: DatasetView, importer: Any, content: str, message: str) -> None:
    data = export_bytes(POSE[0], view)  # has kpt_shape, which every importer ignores but Pose
    bad = rezip(data, lambda c: c.update({"labels/train/img_2.txt": content.encode()}))
    with pytest.raises(FormatError, match=r"labels/train/img_2\.txt, " + message):
        importer(io.BytesIO(bad), view, "a.zip")


def test_bad_archives(view: DatasetView) -> None:
    with pytest.raises(FormatError, match=r"data\.yaml is missing"):
        DET[1](io.BytesIO(zip_with({"obj.names": "car\n"})), view, "yolo.zip")
    with pytest.raises(FormatError, match=r"'kpt_shape' is missing"):
        POSE[1](io.BytesIO(export_bytes(DET[0], view)), view, "a.zip")
    extra = rezip(export_bytes(DET[0], view), lambda c: c.update({"labels/train/nope.txt": b""}))
    with pytest.raises(FormatError, match=r"labels/train/nope\.txt: could not match 'nope'"):
        DET[1](io.BytesIO(extra), view, "a.zip")
    truck = rezip(
        export_bytes(DET[0], view), lambda c: c.update({"data.yaml": b"names: [truck, person, face, weather]\n"})
    )
    with pytest.raises(FormatError, match=r"img_0\.txt, line 1: label 'truck' is not in the task"):
        DET[1](io.BytesIO(truck), view, "a.zip")
    with pytest.raises(UnsafeArchiveError):
        DET[1](io.BytesIO(traversal_zip("../data.yaml")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        DET[1](io.BytesIO(bomb_zip("labels/train/img_0.txt")), view, "a.zip")


def test_empty_task_and_reserved_subset() -> None:
    empty = make_view(annotations=LabeledData())
    for exp, imp in (DET, SEG, POSE, OBB):
        assert len(round_trip(exp, imp, empty)) == 0
    no_skeletons = make_view(annotations=LabeledData())
    no_skeletons.labels = no_skeletons.labels[:2]
    data = export_bytes(POSE[0], no_skeletons)
    assert member(data, "data.yaml").endswith("kpt_shape: [0, 3]\n")
    assert len(POSE[1](io.BytesIO(data), no_skeletons, "a.zip")) == 0
    view = make_view(annotations=LabeledData(shapes=[LabeledShape(ShapeType.RECTANGLE, 0, 1, [0, 0, 1, 1])]))
    view.frames[0].subset = "names"
    with pytest.raises(FormatError, match="subset name 'names'"):
        export_bytes(DET[0], view)
