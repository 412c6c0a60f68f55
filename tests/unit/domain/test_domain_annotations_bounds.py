"""Frame bounds and label types of annotations: the checks the annotations API and every
importer share (``check_bounds``, ``check_raster_size``, ``check_label_type``), and
``validate_annotations(frame_sizes=...)``.

The finding behind them: a 100000x100000 mask accepted on an 800x120 frame made every later mask
export of the task fail with MemoryError."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.annotations import (
    AnnotationValidationError,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    LabelType,
    ShapeType,
    TrackedShape,
    check_bounds,
    check_label_type,
    check_raster_size,
    validate_annotations,
)

FW, FH = 800, 120


def _mask(left: int, top: int, right: int, bottom: int) -> list[float]:
    area = (right - left + 1) * (bottom - top + 1)
    return [0.0, float(area), float(left), float(top), float(right), float(bottom)]


LABELS = [
    LabelSpec(id=1, name="car"),
    LabelSpec(id=2, name="box", type=LabelType.RECTANGLE),
    LabelSpec(id=3, name="weather", type=LabelType.TAG),
    LabelSpec(
        id=4,
        name="face",
        type=LabelType.SKELETON,
        sublabels=[LabelSpec(id=41, name="nose", type=LabelType.POINTS, parent_id=4)],
    ),
]


# --------------------------------------------------------------------------- check_bounds


def test_the_reported_mask_is_refused_on_its_frame() -> None:
    why = check_bounds(ShapeType.MASK, _mask(0, 0, 99_999, 99_999), FW, FH)
    assert why is not None and "outside the frame (800x120)" in why


@pytest.mark.parametrize(
    "box",
    [(0, 0, FW - 1, FH - 1), (10, 5, 20, 6), (FW - 1, FH - 1, FW - 1, FH - 1), (0, 0, FW, FH)],
    ids=["whole frame", "inside", "last pixel", "one pixel of tolerance"],
)
def test_masks_within_the_frame_pass(box: tuple[int, int, int, int]) -> None:
    assert check_bounds(ShapeType.MASK, _mask(*box), FW, FH) is None


@pytest.mark.parametrize(
    "box",
    [(0, 0, FW + 1, 5), (0, 0, 5, FH + 1), (FW + 5, 0, FW + 6, 1), (-1, 0, 3, 3), (0, -3, 3, 3)],
)
def test_masks_beyond_the_frame_are_refused(box: tuple[int, int, int, int]) -> None:
    assert check_bounds(ShapeType.MASK, _mask(*box), FW, FH) is not None


def test_shapes_may_lie_partly_outside_the_frame_as_in_cvat() -> None:
    assert check_bounds(ShapeType.RECTANGLE, [-50, -20, FW + 50, FH + 20], FW, FH) is None
    assert check_bounds(ShapeType.POLYGON, [-100, 0, 10, FH * 5, 30, 40], FW, FH) is None


@pytest.mark.parametrize("value", [1e12, -1e12, math.inf, math.nan, 1e308])
def test_coordinates_far_from_the_frame_are_refused(value: float) -> None:
    assert check_bounds(ShapeType.POLYLINE, [0, 0, value, 1], FW, FH) is not None
    assert check_bounds(ShapeType.POINTS, [1, value], FW, FH) is not None


@given(
    w=st.integers(1, 5000),
    h=st.integers(1, 5000),
    data=st.data(),
)
def test_any_mask_box_inside_the_frame_passes_and_its_size_fits(w: int, h: int, data: st.DataObject) -> None:
    left = data.draw(st.integers(0, w - 1))
    top = data.draw(st.integers(0, h - 1))
    right = data.draw(st.integers(left, w - 1))
    bottom = data.draw(st.integers(top, h - 1))
    assert check_bounds(ShapeType.MASK, _mask(left, top, right, bottom), w, h) is None
    assert check_raster_size(right - left + 1, bottom - top + 1, w, h) is None


def test_raster_sizes_are_bounded_by_the_frame() -> None:
    assert check_raster_size(FW, FH, FW, FH) is None
    assert check_raster_size(200_000, 200_000, FW, FH) == "mask size 200000x200000 exceeds the frame's 800x120"
    assert check_raster_size(-1, 3, FW, FH) is not None


# --------------------------------------------------------------------------- label types


@pytest.mark.parametrize(
    ("label_id", "type_", "ok"),
    [
        (1, ShapeType.MASK, True),
        (1, ShapeType.SKELETON, False),
        (1, None, True),
        (2, ShapeType.RECTANGLE, True),
        (2, ShapeType.POLYGON, False),
        (2, None, False),
        (3, None, True),
        (3, ShapeType.RECTANGLE, False),
        (4, ShapeType.SKELETON, True),
        (4, ShapeType.RECTANGLE, False),
        (4, None, False),
        (41, ShapeType.POINTS, True),
    ],
)
def test_label_types_against_shape_types(label_id: int, type_: ShapeType | None, ok: bool) -> None:
    labels = {label.id: label for top in LABELS for label in (top, *top.sublabels)}
    assert (check_label_type(labels[label_id], type_) is None) is ok


# --------------------------------------------------------------------------- validate_annotations


def _data(points: list[float], *, frame: int = 0) -> LabeledData:
    return LabeledData(shapes=[LabeledShape(ShapeType.MASK, frame, 1, points)])


def test_without_frame_sizes_validation_is_unchanged() -> None:
    validate_annotations(_data(_mask(0, 0, 99_999, 99_999)), LABELS, frame_count=2)


@pytest.mark.parametrize(
    "sizes",
    [lambda frame: (FW, FH), [(FW, FH), (FW, FH)], {0: (FW, FH)}],
    ids=["callable", "sequence", "mapping"],
)
def test_frame_sizes_bound_masks(sizes: object) -> None:
    with pytest.raises(AnnotationValidationError) as caught:
        validate_annotations(_data(_mask(0, 0, 99_999, 99_999)), LABELS, frame_count=2, frame_sizes=sizes)  # type: ignore[arg-type]
    assert list(caught.value.fields) == ["shapes[0].points"]
    validate_annotations(_data(_mask(0, 0, 10, 10)), LABELS, frame_count=2, frame_sizes=sizes)  # type: ignore[arg-type]


def test_each_shape_is_bounded_by_its_own_frame() -> None:
    sizes = [(FW, FH), (20, 20)]
    validate_annotations(_data(_mask(0, 0, 100, 100), frame=0), LABELS, frame_sizes=sizes)
    with pytest.raises(AnnotationValidationError):
        validate_annotations(_data(_mask(0, 0, 100, 100), frame=1), LABELS, frame_sizes=sizes)


def test_track_keyframes_are_bounded_too() -> None:
    track = LabeledTrack(
        frame=0,
        label_id=1,
        shapes=[
            TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 10, 10]),
            TrackedShape(ShapeType.RECTANGLE, 1, [0, 0, 1e15, 10]),
        ],
    )
    with pytest.raises(AnnotationValidationError) as caught:
        validate_annotations(LabeledData(tracks=[track]), LABELS, frame_sizes=lambda f: (FW, FH))
    assert list(caught.value.fields) == ["tracks[0].shapes[1].points"]


def test_tags_of_shape_labels_are_refused() -> None:
    with pytest.raises(AnnotationValidationError) as caught:
        validate_annotations(LabeledData(tags=[LabeledImage(0, 4)]), LABELS)
    assert list(caught.value.fields) == ["tags[0].label_id"]
