from __future__ import annotations

import io
from typing import Any

import pytest
from format_helpers import export_bytes, make_labels, make_view, zip_names, zip_with
from hypothesis import given, settings
from hypothesis import strategies as st
from more_format_helpers import bomb_zip, carried, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import (
    AttributeVal,
    DatasetView,
    InputType,
    LabeledData,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.domain.interpolation import track_to_shapes
from cvat_serverless.domain.labels import AttributeSpec
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("MOT 1.1")
IMPORT = get_importer("MOT 1.1")
BOX = {ShapeType.RECTANGLE}


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("MOT 1.1").to_dict()["ext"] == "ZIP"


def test_layout(images: Any) -> None:
    view = make_view(video=True)
    data = export_bytes(EXPORT, view, images)
    assert zip_names(data) == ["gt/gt.txt", "gt/labels.txt"] + [f"img1/{i:06d}.PNG" for i in range(1, 7)]
    assert member(data, "gt/labels.txt") == "car\nperson\nface\nweather\n"
    assert member(data, "gt/gt.txt").splitlines() == [
        "1,-1,1.5,2.25,19.25,27.75,1,1,1",
        "1,-1,30,5,20,35,1,2,0",  # occluded -> visibility 0
        "1,1,0,0,10,10,1,2,1",
        "2,1,2,3,10,10,1,2,1",  # interpolated frame of the person track
        "3,1,4,6,10,10,1,2,0",
        "4,1,4,6,10,10,1,2,0",
    ]
    assert zip_names(export_bytes(EXPORT, view)) == ["gt/gt.txt", "gt/labels.txt"]


def test_round_trip_rebuilds_tracks(view: DatasetView) -> None:
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)

    def boxes(data: LabeledData) -> list[Any]:
        return [(*k[:4], k[4]) for k in carried(data, view, BOX)]  # geometry + occluded

    assert boxes(got) == boxes(view.annotations)
    assert len(got.shapes) == 2 and all(s.type == ShapeType.RECTANGLE for s in got.shapes)
    (track,) = got.tracks
    assert track.label_id == 2
    assert [(k.frame, k.outside, k.occluded) for k in track.shapes] == [
        (0, False, False),
        (1, False, False),
        (2, False, True),
        (3, False, True),
        (4, True, True),
    ]


def _attr_view() -> DatasetView:
    labels = [
        LabelSpec(
            1,
            "car",
            attributes=[
                AttributeSpec(10, "visibility", InputType.NUMBER, True, ["0", "1", "0.25"], "1"),
                AttributeSpec(11, "ignored", InputType.CHECKBOX, False, ["false"], "false"),
            ],
        )
    ]
    shapes = [
        LabeledShape(
            ShapeType.RECTANGLE,
            1,
            1,
            [1, 2, 3, 4],
            attributes=[AttributeVal(10, "0.25"), AttributeVal(11, "true")],
        )
    ]
    view = make_view(annotations=LabeledData(shapes=shapes))
    view.labels = labels
    return view


def test_visibility_and_ignored_attributes() -> None:
    view = _attr_view()
    data = export_bytes(EXPORT, view)
    assert member(data, "gt/gt.txt") == "2,-1,1,2,2,2,0,1,0.25\n"
    (shape,) = IMPORT(io.BytesIO(data), view, "a.zip").shapes
    assert sorted((a.spec_id, a.value) for a in shape.attributes) == [(10, "0.25"), (11, "true")]
    assert not shape.occluded


def test_files_from_other_tools() -> None:
    view = make_view(annotations=LabeledData())
    # 10 fields (MOT17 has an extra column), spaces, a folder above gt/, a detection without track
    text = "1, 3, 10, 20, 30, 40, 1, 2, 0.0, -1\n2,3,12,20,30,40,1,2,1\n\n3,-1,0,0,5,5,1,1\n"
    got = IMPORT(io.BytesIO(zip_with({"seq/gt/gt.txt": text, "seq/gt/labels.txt": "car\nperson\n"})), view, "a.zip")
    (track,) = got.tracks
    assert [(k.frame, k.points, k.occluded, k.outside) for k in track.shapes] == [
        (0, [10.0, 20.0, 40.0, 60.0], True, False),
        (1, [12.0, 20.0, 42.0, 60.0], False, False),
        (2, [12.0, 20.0, 42.0, 60.0], False, True),
    ]
    assert [(s.frame, s.label_id) for s in got.shapes] == [(2, 1)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("7,1,0,0,5,5,1,1,1", r"line 2: frame 7 is not in the task \(frames are 1-based\)"),
        ("0,1,0,0,5,5,1,1,1", r"line 2: frame 0 is not in the task"),
        ("1,1,0,0,5,5,1,9,1", r"line 2: class id 9 is not in the label list \(4 names\)"),
        ("1,1,0,0,5,5,1", r"line 2: expected at least 8 fields"),
        ("1,x,0,0,5,5,1,1,1", r"line 2: frame, track and class ids must be integers"),
        ("1,1,0,zz,5,5,1,1,1", r"line 2: .* not a number"),
        ("1,1,0,0,-5,5,1,1,1", r"line 2: box width and height must not be negative"),
    ],
)
def test_bad_rows_name_file_and_line(view: DatasetView, row: str, message: str) -> None:
    data = zip_with({"gt/gt.txt": f"1,1,0,0,5,5,1,1,1\n{row}\n", "gt/labels.txt": "car\nperson\nface\nweather\n"})
    with pytest.raises(FormatError, match=r"gt/gt\.txt, " + message):
        IMPORT(io.BytesIO(data), view, "a.zip")


def test_labels_must_be_in_the_task(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    renamed = rezip(data, lambda c: c.update({"gt/labels.txt": b"car\ntruck\n"}))
    with pytest.raises(FormatError, match=r"gt/gt\.txt, line 2: label 'truck' is not in the task"):
        IMPORT(io.BytesIO(renamed), view, "a.zip")
    # without labels.txt the ids are MOT's standard classes: 1 = pedestrian, not a task label
    no_labels = rezip(data, lambda c: c.pop("gt/labels.txt"))
    with pytest.raises(FormatError, match=r"line 1: label 'pedestrian' is not in the task"):
        IMPORT(io.BytesIO(no_labels), view, "a.zip")


def test_bad_archives(view: DatasetView) -> None:
    with pytest.raises(FormatError, match=r"gt/gt\.txt is missing \(not a MOT archive\)"):
        IMPORT(io.BytesIO(zip_with({"obj.names": "car"})), view, "yolo.zip")
    with pytest.raises(UnsafeArchiveError):
        IMPORT(io.BytesIO(traversal_zip("gt/../../gt/gt.txt")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("gt/gt.txt")), view, "a.zip")


def test_empty_task() -> None:
    assert len(round_trip(EXPORT, IMPORT, make_view(annotations=LabeledData()))) == 0


def _visible(track: LabeledTrack, stop: int) -> dict[int, list[float]]:
    return {s.frame: s.points for s, _ in track_to_shapes(track, stop_frame=stop)}


box = st.tuples(st.integers(0, 50), st.integers(0, 40), st.integers(1, 20), st.integers(1, 20))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2]),
            st.lists(
                st.tuples(st.integers(0, 11), box, st.booleans()), min_size=1, max_size=5, unique_by=lambda k: k[0]
            ),
        ),
        max_size=4,
    )
)
def test_tracks_keep_their_per_frame_boxes(specs: list[tuple[int, list[tuple[int, Any, bool]]]]) -> None:
    tracks = []
    for label, raw_keys in specs:
        keys = sorted(raw_keys)
        if all(outside for _, _, outside in keys):
            continue
        shapes = [TrackedShape(ShapeType.RECTANGLE, f, [x, y, x + w, y + h], outside=o) for f, (x, y, w, h), o in keys]
        tracks.append(LabeledTrack(shapes[0].frame, label, shapes))
    view = make_view(annotations=LabeledData(tracks=tracks))
    view.frames = [type(view.frames[0])(i, f"img_{i}.jpg", 64, 48) for i in range(12)]
    view.labels = make_labels()
    got = IMPORT(io.BytesIO(export_bytes(EXPORT, view)), view, "a.zip")
    assert got.shapes == []
    want = [v for v in (_visible(t, 11) for t in tracks) if v]
    have = [_visible(t, 11) for t in got.tracks]
    assert len(have) == len(want)
    for visible in have:  # every rebuilt track is one of the originals, frame by frame
        match = next(
            w
            for w in want
            if w.keys() == visible.keys()
            and all(abs(a - b) < 1e-5 for f in w for a, b in zip(w[f], visible[f], strict=True))
        )
        want.remove(match)
