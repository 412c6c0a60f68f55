from __future__ import annotations

from cvat_serverless.domain.annotations import InputType, LabelSpec, LabelType
from cvat_serverless.domain.labels import AttributeSpec


def make_labels() -> list[LabelSpec]:
    """car (any, with attributes), person (rectangle), face (skeleton with 3 points), weather (tag)."""
    return [
        LabelSpec(
            id=1,
            name="car",
            type=LabelType.ANY,
            attributes=[
                AttributeSpec(10, "color", InputType.SELECT, False, ["red", "blue"], "red"),
                AttributeSpec(11, "parked", InputType.CHECKBOX, True, ["false"], "false"),
                AttributeSpec(12, "speed", InputType.NUMBER, True, ["0", "200", "1"], "0"),
                AttributeSpec(13, "note", InputType.TEXT, True, [], ""),
            ],
        ),
        LabelSpec(id=2, name="person", type=LabelType.RECTANGLE),
        LabelSpec(
            id=3,
            name="face",
            type=LabelType.SKELETON,
            sublabels=[
                LabelSpec(id=31, name="left_eye", type=LabelType.POINTS, parent_id=3),
                LabelSpec(id=32, name="right_eye", type=LabelType.POINTS, parent_id=3),
                LabelSpec(
                    id=33,
                    name="nose",
                    type=LabelType.POINTS,
                    parent_id=3,
                    attributes=[AttributeSpec(330, "visible", InputType.CHECKBOX, True, [], "true")],
                ),
            ],
        ),
        LabelSpec(id=4, name="weather", type=LabelType.TAG),
    ]
