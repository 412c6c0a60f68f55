from __future__ import annotations

import json
import math
from typing import Any

import pytest

from cvat_serverless.domain.annotations import (
    AnnotationValidationError,
    AttributeVal,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
    validate_annotations,
)
from cvat_serverless.domain.errors import ValidationError

# The example of contract.md §8.6 (validated against cvat-sdk 2.80 there).
CONTRACT_EXAMPLE: dict[str, Any] = {
    "version": 3,
    "tags": [{"id": 10, "frame": 0, "label_id": 2, "group": 0, "source": "manual", "attributes": []}],
    "shapes": [
        {
            "id": 11,
            "type": "rectangle",
            "frame": 0,
            "label_id": 2,
            "group": 0,
            "source": "auto",
            "occluded": False,
            "outside": False,
            "z_order": 0,
            "rotation": 0.0,
            "points": [1.0, 2.0, 10.0, 12.0],
            "attributes": [{"spec_id": 5, "value": "red"}],
            "elements": [],
        }
    ],
    "tracks": [
        {
            "id": 12,
            "frame": 0,
            "label_id": 2,
            "group": 0,
            "source": "manual",
            "attributes": [],
            "shapes": [
                {
                    "id": 13,
                    "type": "rectangle",
                    "frame": 0,
                    "occluded": False,
                    "outside": False,
                    "z_order": 0,
                    "rotation": 0.0,
                    "points": [1.0, 1.0, 5.0, 5.0],
                    "attributes": [],
                },
                {
                    "id": 14,
                    "type": "rectangle",
                    "frame": 1,
                    "occluded": False,
                    "outside": True,
                    "z_order": 0,
                    "rotation": 0.0,
                    "points": [2.0, 2.0, 6.0, 6.0],
                    "attributes": [],
                },
            ],
            "elements": [],
        }
    ],
}


def test_contract_example_round_trips_through_the_model() -> None:
    data = LabeledData.from_dict(CONTRACT_EXAMPLE)
    assert data.shapes[0].type is ShapeType.RECTANGLE
    assert data.tracks[0].shapes[1].outside is True
    out = data.to_dict()
    for key in ("tags", "shapes", "tracks"):
        for produced, given in zip(out[key], CONTRACT_EXAMPLE[key], strict=True):
            for field_name, value in given.items():
                assert produced[field_name] == value, (key, field_name)
    assert out["intervals"] == []
    json.dumps(out)  # JSON-ready


def test_from_dict_reports_the_path_of_a_bad_field() -> None:
    bad = {"shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2, 3, "x"]}]}
    with pytest.raises(ValidationError) as exc:
        LabeledData.from_dict(bad)
    assert "shapes[0].points" in exc.value.fields
    with pytest.raises(ValidationError, match=r"shapes\[0\]\.type"):
        LabeledData.from_dict({"shapes": [{"type": "circle", "frame": 0, "label_id": 1}]})
    with pytest.raises(ValidationError, match=r"tracks\[0\]\.shapes"):
        LabeledData.from_dict({"tracks": [{"frame": 0, "label_id": 1}]})
    with pytest.raises(ValidationError, match="frame"):
        LabeledData.from_dict({"tags": [{"frame": True, "label_id": 1}]})


def _rect(points: list[float], frame: int = 0, label_id: int = 1, **kw: Any) -> LabeledShape:
    return LabeledShape(type=ShapeType.RECTANGLE, frame=frame, label_id=label_id, points=points, **kw)


def test_valid_annotations_pass(labels: list[LabelSpec]) -> None:
    data = LabeledData(
        tags=[LabeledImage(frame=0, label_id=4)],
        shapes=[
            _rect([0, 0, 10, 10], attributes=[AttributeVal(10, "blue"), AttributeVal(12, "55")]),
            LabeledShape(ShapeType.POLYGON, 1, 1, [0, 0, 5, 0, 5, 5]),
            LabeledShape(ShapeType.POLYLINE, 1, 1, [0, 0, 5, 0]),
            LabeledShape(ShapeType.POINTS, 1, 1, [3, 3]),
            LabeledShape(ShapeType.ELLIPSE, 1, 1, [10, 10, 15, 7], rotation=359.5),
            LabeledShape(ShapeType.CUBOID, 1, 1, [float(i) for i in range(16)]),
            LabeledShape(ShapeType.MASK, 1, 1, [2, 3, 1, 5, 6, 7, 7]),  # 3x2 box, 6 pixels
            LabeledShape(
                ShapeType.SKELETON,
                2,
                3,
                [],
                elements=[
                    LabeledShape(ShapeType.POINTS, 2, 31, [1, 1]),
                    LabeledShape(ShapeType.POINTS, 2, 32, [3, 1]),
                    LabeledShape(
                        ShapeType.POINTS, 2, 33, [2, 2], outside=True, attributes=[AttributeVal(330, "false")]
                    ),
                ],
            ),
        ],
        tracks=[
            LabeledTrack(
                frame=0,
                label_id=2,
                shapes=[
                    TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1]),
                    TrackedShape(ShapeType.RECTANGLE, 3, [0, 0, 1, 1], outside=True),
                ],
            )
        ],
    )
    validate_annotations(data, labels, frame_count=5)


@pytest.mark.parametrize(
    ("shape", "path"),
    [
        (_rect([0, 0, 10]), "shapes[0].points"),
        (_rect([0, 0, 10, math.nan]), "shapes[0].points"),
        (_rect([0, 0, 10, math.inf]), "shapes[0].points"),
        (_rect([0, 0, 10, 10], rotation=361.0), "shapes[0].points"),
        (_rect([0, 0, 10, 10], score=1.5), "shapes[0].score"),
        (_rect([0, 0, 10, 10], frame=9), "shapes[0].frame"),
        (_rect([0, 0, 10, 10], label_id=99), "shapes[0].label_id"),
        (_rect([0, 0, 10, 10], label_id=31), "shapes[0].label_id"),
        (_rect([0, 0, 10, 10], label_id=4), "shapes[0].type"),
        (LabeledShape(ShapeType.POLYGON, 0, 2, [0, 0, 1, 1, 2, 0]), "shapes[0].type"),
        (LabeledShape(ShapeType.POLYGON, 0, 1, [0, 0, 1, 1]), "shapes[0].points"),
        (LabeledShape(ShapeType.POLYLINE, 0, 1, [0, 0, 1]), "shapes[0].points"),
        (LabeledShape(ShapeType.CUBOID, 0, 1, [0.0] * 14), "shapes[0].points"),
        (LabeledShape(ShapeType.MASK, 0, 1, [2, 3, 1, 5, 6, 7, 8]), "shapes[0].points"),
        (LabeledShape(ShapeType.MASK, 0, 1, [5, 1, 5, 1]), "shapes[0].points"),
        (LabeledShape(ShapeType.ELLIPSE, 0, 1, [10, 10, 5, 7]), "shapes[0].points"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(10, "green")]), "shapes[0].attributes[0]"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(11, "yes")]), "shapes[0].attributes[0]"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(12, "201")]), "shapes[0].attributes[0]"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(12, "fast")]), "shapes[0].attributes[0]"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(330, "true")]), "shapes[0].attributes[0]"),
        (_rect([0, 0, 1, 1], attributes=[AttributeVal(13, "x" * 5000)]), "shapes[0].attributes[0]"),
        (
            LabeledShape(ShapeType.SKELETON, 0, 3, [], elements=[LabeledShape(ShapeType.POINTS, 0, 31, [1, 1])]),
            "shapes[0].elements",
        ),
        (
            LabeledShape(
                ShapeType.SKELETON,
                0,
                3,
                [],
                elements=[
                    LabeledShape(ShapeType.POINTS, 0, 31, [1, 1]),
                    LabeledShape(ShapeType.POINTS, 0, 32, [1, 1]),
                    LabeledShape(ShapeType.POINTS, 0, 2, [1, 1]),
                ],
            ),
            "shapes[0].elements[2].label_id",
        ),
        (LabeledShape(ShapeType.POINTS, 0, 3, [1, 1]), "shapes[0].type"),
    ],
)
def test_invalid_shapes_are_rejected_with_their_path(labels: list[LabelSpec], shape: LabeledShape, path: str) -> None:
    with pytest.raises(AnnotationValidationError) as exc:
        validate_annotations(LabeledData(shapes=[shape]), labels, frame_count=5)
    assert path in exc.value.fields, exc.value.fields


def test_invalid_tracks_and_tags(labels: list[LabelSpec]) -> None:
    cases = [
        (LabeledTrack(frame=0, label_id=1, shapes=[]), "tracks[0].shapes"),
        (
            LabeledTrack(frame=1, label_id=1, shapes=[TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1])]),
            "tracks[0].frame",
        ),
        (
            LabeledTrack(
                frame=0,
                label_id=1,
                shapes=[
                    TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1]),
                    TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1]),
                ],
            ),
            "tracks[0].shapes[1].frame",
        ),
        (
            LabeledTrack(
                frame=0,
                label_id=1,
                shapes=[
                    TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1]),
                    TrackedShape(ShapeType.POLYGON, 2, [0, 0, 1, 1, 2, 2]),
                ],
            ),
            "tracks[0].shapes[1].type",
        ),
    ]
    for track, path in cases:
        with pytest.raises(AnnotationValidationError) as exc:
            validate_annotations(LabeledData(tracks=[track]), labels)
        assert path in exc.value.fields
    with pytest.raises(AnnotationValidationError) as exc:
        validate_annotations(LabeledData(tags=[LabeledImage(0, 2)]), labels)
    assert "tags[0].label_id" in exc.value.fields


def test_error_collection_is_bounded(labels: list[LabelSpec]) -> None:
    data = LabeledData(shapes=[_rect([0, 0, 1]) for _ in range(500)])
    with pytest.raises(AnnotationValidationError) as exc:
        validate_annotations(data, labels, max_errors=10)
    assert len(exc.value.fields) == 10
    assert "and 9 more" in exc.value.message


def test_skeleton_svg_edges_are_read(labels: list[LabelSpec]) -> None:
    face = labels[2]
    face.svg = (
        '<line x1="1" y1="1" x2="2" y2="2" data-type="edge" data-node-from="1" data-node-to="3"></line>'
        '<circle r="1" data-type="element node" data-element-id="1" data-node-id="1" '
        'data-label-name="left_eye"></circle>'
        '<circle r="1" data-type="element node" data-element-id="3" data-node-id="3" '
        'data-label-name="nose"></circle>'
    )
    assert face.skeleton_edges() == [(0, 2)]


# --- the parser's fast path builds what the checked path builds ------------------------------------

_FAST_CASES: list[dict[str, Any]] = [
    {"shapes": [
        {"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2.5, 3, 4]},
        {"type": "polygon", "frame": 2, "label_id": 1, "points": [0, 0, 1, 0, 1, 1], "occluded": True, "outside": False,
         "z_order": 3, "rotation": 10, "id": 5, "group": None, "source": "auto", "score": 0.5,
         "attributes": [{"spec_id": 1, "value": "x"}]},
        {"type": "skeleton", "frame": 1, "label_id": 2, "points": None, "elements": [
            {"type": "points", "frame": 1, "label_id": 3, "points": [1, 1], "elements": "ignored when nested"}]},
    ], "tags": [{"frame": 0, "label_id": 1, "group": 2, "attributes": None}],
     "tracks": [{"frame": 0, "label_id": 1, "id": None, "shapes": [
         {"type": "rectangle", "frame": 0, "points": [0, 0, 1, 1], "attributes": [], "id": 9},
         {"type": "rectangle", "frame": 3, "points": [0, 0, 2, 2], "outside": True, "rotation": 5.5}],
         "elements": [{"frame": 0, "label_id": 3, "shapes": None, "elements": 7}]}]},
    {"shapes": [{"type": "rectangle", "frame": True, "label_id": 1, "points": [1, 2, 3, 4]}]},
    {"shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, "2", 3, 4]}]},
    {"shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2, 3, False]}]},
    {"shapes": [{"type": "oval", "frame": 0, "label_id": 1}]},
    {"shapes": [{"type": ["rectangle"], "frame": 0, "label_id": 1}]},
    {"shapes": [{"type": "points", "frame": 0, "label_id": 1, "source": None}]},
    {"shapes": [{"type": "points", "frame": 0, "label_id": 1, "group": 1.0}]},
    {"shapes": [{"type": "points", "frame": 0, "label_id": 1, "attributes": [{"spec_id": 1}]}]},
    {"shapes": [{"type": "points", "frame": 0, "label_id": 1, "elements": [{"type": "points", "frame": 0}]}]},
    {"tracks": [{"frame": 0, "label_id": 1}]},
    {"tracks": [{"frame": 0, "label_id": 1, "shapes": [{"type": "points", "frame": "0"}]}]},
    {"tags": [{"frame": 0, "label_id": None}]},
    {"tags": [{"frame": 0, "label_id": 1, "id": "3"}]},
]


@pytest.mark.parametrize("body", _FAST_CASES)
def test_the_fast_parse_path_agrees_with_the_checked_one(body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from cvat_serverless.domain import annotations as model

    def outcome() -> Any:
        try:
            return model.LabeledData.from_dict(body).to_dict()
        except model.AnnotationValidationError as exc:
            return exc.fields

    fast = outcome()
    for name in ("_fast_shape", "_fast_tracked_shape", "_fast_track", "_fast_tag"):
        monkeypatch.setattr(model, name, lambda *args: None)
    assert fast == outcome()
