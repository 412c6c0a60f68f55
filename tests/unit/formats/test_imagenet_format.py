from __future__ import annotations

import io
from typing import Any

import pytest
from format_helpers import export_bytes, make_view, zip_names, zip_with
from more_format_helpers import bomb_zip, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledImage, validate_annotations
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("ImageNet 1.0")
IMPORT = get_importer("ImageNet 1.0")


def _tags(data: LabeledData) -> list[tuple[int, int]]:
    return sorted((t.frame, t.label_id) for t in data.tags)


def _view() -> DatasetView:
    data = LabeledData(
        tags=[LabeledImage(0, 4), LabeledImage(0, 2), LabeledImage(0, 4, group=3), LabeledImage(3, 1)],
        shapes=make_view().annotations.shapes,
    )
    return make_view(annotations=data)


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("ImageNet 1.0").to_dict()["ext"] == "ZIP"


def test_layout_without_and_with_images(images: Any) -> None:
    view = _view()
    data = export_bytes(EXPORT, view)
    assert zip_names(data) == ["default.txt", "synsets.txt"]
    assert member(data, "synsets.txt") == "car\nperson\nface\nweather\n"
    assert member(data, "default.txt").splitlines() == [
        "img_0.jpg 1 3",
        "img_1.jpg",
        "img_2.jpg",
        "img_3.jpg 0",
        "img_4.jpg",
        "img_5.jpg",
    ]
    with_images = export_bytes(EXPORT, view, images)
    assert zip_names(with_images) == sorted(
        [
            "person/img_0.jpg",
            "weather/img_0.jpg",
            "car/img_3.jpg",
            *(f"no_label/img_{i}.jpg" for i in (1, 2, 4, 5)),
        ]
    )


@pytest.mark.parametrize("with_images", [False, True])
def test_round_trip_keeps_frame_tags(with_images: bool, images: Any) -> None:
    view = _view()
    data = export_bytes(EXPORT, view, images if with_images else None)
    got = IMPORT(io.BytesIO(data), view, "a.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert _tags(got) == [(0, 2), (0, 4), (3, 1)]  # the repeated 'weather' tag is kept once
    assert got.shapes == [] and got.tracks == []


def test_names_with_spaces_and_other_subsets() -> None:
    view = _view()
    view.frames[3].name = "my img 3.jpg"
    view.frames[5].subset = "Validation"
    data = export_bytes(EXPORT, view)
    assert '"my img 3.jpg" 0' in member(data, "default.txt")
    assert member(data, "Validation.txt") == "img_5.jpg\n"
    assert _tags(IMPORT(io.BytesIO(data), view, "a.zip")) == [(0, 2), (0, 4), (3, 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("img_0.jpg 9\n", r"default\.txt, line 1: label index 9 is not in synsets\.txt"),
        ("img_0.jpg\nimg_1.jpg x\n", r"default\.txt, line 2: label index 'x' is not an integer"),
        ("other.jpg 0\n", r"default\.txt, line 1: could not match item 'other\.jpg'"),
        ('"img_0.jpg 0\n', r"default\.txt, line 1: malformed line"),
    ],
)
def test_bad_lists(text: str, message: str) -> None:
    view = _view()
    bad = zip_with({"synsets.txt": "car\nperson\nface\nweather\n", "default.txt": text})
    with pytest.raises(FormatError, match=message):
        IMPORT(io.BytesIO(bad), view, "a.zip")


def test_bad_archives(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, _view())
    renamed = rezip(data, lambda c: c.update({"synsets.txt": b"truck\nperson\nface\nweather\n"}))
    with pytest.raises(FormatError, match=r"default\.txt, line 4: label 'truck' is not in the task"):
        IMPORT(io.BytesIO(renamed), view, "a.zip")
    with pytest.raises(FormatError, match=r"no <subset>\.txt list"):
        IMPORT(io.BytesIO(zip_with({"synsets.txt": "car\n"})), view, "a.zip")
    with pytest.raises(FormatError, match="not an ImageNet archive"):
        IMPORT(io.BytesIO(zip_with({"gt/gt.txt": "1,1,0,0,1,1,1,1,1\n"})), view, "mot.zip")
    folders = export_bytes(EXPORT, _view(), images)
    truck = rezip(folders, lambda c: c.update({"truck/img_1.jpg": c["no_label/img_1.jpg"]}))
    with pytest.raises(FormatError, match=r"truck/img_1\.jpg: label 'truck' is not in the task"):
        IMPORT(io.BytesIO(truck), view, "a.zip")
    with pytest.raises(UnsafeArchiveError):
        IMPORT(io.BytesIO(traversal_zip("car/../../img_0.jpg")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("default.txt")), view, "a.zip")


def test_empty_task() -> None:
    assert len(round_trip(EXPORT, IMPORT, make_view(annotations=LabeledData()))) == 0
