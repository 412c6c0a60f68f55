from __future__ import annotations

import io
from typing import Any

import pytest
import yaml
from format_helpers import export_bytes, flat_shapes, make_view, zip_names, zip_with
from hypothesis import given, settings
from hypothesis import strategies as st
from more_format_helpers import bomb_zip, carried, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
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
        ("", r"d\.yaml: 'names' is missing"),
        ("- names\n", r"d\.yaml: expected 'key: value' lines, got a YAML list"),
        ("names:\n  0: a\n  x: b\n", r"d\.yaml: class id 'x' under 'names' is not an integer"),
        ("names:\n  0: a\n  2: b\n", r"class ids under 'names' must be 0\.\.1"),
        ("names: a\n", r"d\.yaml: 'names' must be a list or a map"),
        ("names: [a, [b]]\n", r"d\.yaml: the name of class 1 is not a string"),
        ("names: [a, ~]\n", r"d\.yaml: the name of class 1 is not a string"),
        ("names: [a]\nkpt_shape: [3, 4]\n", r"d\.yaml: kpt_shape '\[3, 4\]' is not"),
        ("names: [a]\nkpt_shape: 17\n", r"d\.yaml: kpt_shape '17' is not"),
        ("names: [a]\njunk\n", r"d\.yaml, line 2: malformed YAML \(could not find expected ':'"),
        ("names: [a, b\n", r"d\.yaml, line 1: malformed YAML"),
        ('names: ["a]\n', r"d\.yaml, line 1: malformed YAML"),
        ("names: " + "[" * 5000 + "\n", r"d\.yaml(, line \d+)?: malformed YAML"),
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


def test_class_names_with_commas_and_yaml_quoting_are_read() -> None:
    # Bug: the hand-written parser split flow lists on every comma, so "b, c" was refused.
    assert parse_data_yaml('names: [a, "b, c", \'d, e\']\n', "d.yaml") == (["a", "b, c", "d, e"], None)
    assert parse_data_yaml('names: {0: "x, y", 1: z}\n', "d.yaml") == (["x, y", "z"], None)
    # Bug: double-quoted strings were parsed as JSON: YAML's own escapes were refused, and so
    # was a comment after the closing quote.
    assert parse_data_yaml('names:\n  0: "\\x41\\N"\n  1: "car" # the red one\n', "d.yaml") == (
        ["A\x85", "car"],
        None,
    )
    # What Ultralytics (safe_load, then str()) makes of unquoted scalars.
    assert parse_data_yaml("names: [1, 2.5, yes]\n", "d.yaml") == (["1", "2.5", "True"], None)


AWKWARD_NAMES = [
    "big, red car",
    "key: value",
    "a:b",
    'say "hi"',
    "it's",
    "# not a comment",
    "a #b",
    "- dash",
    "[list]",
    "{map}",
    "&anchor",
    "*alias",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "yes",
    "null",
    "~",
    "123",
    "0x1F",
    "",
    "  padded  ",
    "back\\slash",
    "tab\there",
    "new\nline",
    "caf\u00e9 \u6f22\u5b57 \U0001f697",
    "\x7fdel",
    "nel\x85",
    "line\u2028sep\u2029",
    "\ufeffbom",
    "nul\x00",
    "lone\ud800",
]


def _named_view(names: list[str], subset: str = "default") -> DatasetView:
    view = make_view(annotations=LabeledData())
    view.labels = [LabelSpec(id=100 + i, name=name) for i, name in enumerate(names)]
    view.frames = view.frames[:1]
    view.frames[0].subset = subset
    if names:
        box = LabeledShape(ShapeType.RECTANGLE, 0, 100 + len(names) - 1, [1, 2, 9, 8])
        view.annotations = LabeledData(shapes=[box])
    return view


def test_written_data_yaml_is_valid_yaml_that_round_trips_awkward_names() -> None:
    view = _named_view(AWKWARD_NAMES)
    data = export_bytes(DET[0], view)
    text = member(data, "data.yaml")
    assert yaml.safe_load(text)["names"] == dict(enumerate(AWKWARD_NAMES))
    assert parse_data_yaml(text, "data.yaml") == (AWKWARD_NAMES, None)
    # ... and the importer resolves the box's label by its name
    (shape,) = DET[1](io.BytesIO(data), view, "a.zip").shapes
    assert shape.label_id == 100 + len(AWKWARD_NAMES) - 1


def test_awkward_subset_names_are_valid_yaml_keys() -> None:
    view = _named_view(["car"], subset="my: set #1")
    data = export_bytes(DET[0], view)
    assert yaml.safe_load(member(data, "data.yaml")) == {
        "path": "./",
        "my: set #1": "my: set #1.txt",
        "names": {0: "car"},
    }
    assert len(DET[1](io.BytesIO(data), view, "a.zip").shapes) == 1
    # plain where YAML reads the same string back, quoted where it would read a number
    assert member(export_bytes(DET[0], _named_view(["car"], subset="1")), "data.yaml").startswith(
        'path: ./\n"1": 1.txt\n'
    )
    assert member(export_bytes(DET[0], _named_view([])), "data.yaml").endswith("names: {}\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=())), max_size=4))
def test_any_class_names_round_trip_through_data_yaml(names: list[str]) -> None:
    text = member(export_bytes(DET[0], _named_view(names)), "data.yaml")
    assert parse_data_yaml(text, "data.yaml") == (names, None)
