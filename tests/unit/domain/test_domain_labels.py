from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import NotFoundError, ValidationError
from cvat_serverless.domain.labels import (
    AttributeInput,
    AttributeSpec,
    InputType,
    LabelInput,
    LabelSet,
    LabelType,
    inherit_check,
    label_color,
    normalize_attribute,
    validate_attribute_value,
)


def ids():
    counter = itertools.count(1)
    return lambda kind: next(counter)


def attr(name, input_type, values, default=None, mutable=False, **kw):
    return AttributeInput(
        name=name, input_type=input_type, mutable=mutable, values=values, default_value=default, **kw
    )


@pytest.mark.parametrize(
    ("input_type", "values", "default", "expected"),
    [
        ("checkbox", ["false"], None, (["false"], "false")),
        ("checkbox", ["TRUE"], "false", (["true"], "false")),
        ("checkbox", ["true", "false"], None, (["true", "false"], "false")),  # FiftyOne, CVAT >= 2.5
        ("checkbox", ["True", "False"], "true", (["true", "false"], "true")),
        ("radio", ["a", "b"], None, (["a", "b"], "a")),
        ("select", ["a", "b"], "b", (["a", "b"], "b")),
        ("number", ["0", "10", "2"], None, (["0", "10", "2"], "0")),
        ("number", ["0", "10", "0.5"], "2.5", (["0", "10", "0.5"], "2.5")),
        ("text", [], None, ([], "")),
        ("text", ["hello"], None, (["hello"], "hello")),
    ],
)
def test_valid_attribute_specs(input_type, values, default, expected):
    assert normalize_attribute("a", InputType(input_type), values, default) == expected


@pytest.mark.parametrize(
    ("input_type", "values", "default"),
    [
        ("checkbox", ["maybe"], None),
        ("checkbox", ["true", "true"], None),
        ("checkbox", ["true", "false", "maybe"], None),
        ("checkbox", [], None),
        ("checkbox", ["true"], "yes"),
        ("radio", [], None),
        ("select", ["a", "a"], None),
        ("select", ["a", "b"], "c"),
        ("number", ["0", "10"], None),
        ("number", ["10", "0", "1"], None),
        ("number", ["0", "10", "0"], None),
        ("number", ["0", "10", "1"], "11"),
        ("number", ["0", "x", "1"], None),
        ("text", ["a", "b"], None),
        ("select", ["x" * 201], None),
    ],
)
def test_invalid_attribute_specs(input_type, values, default):
    with pytest.raises(ValidationError):
        normalize_attribute("a", InputType(input_type), values, default)


def test_attribute_values_of_annotations():
    num = AttributeSpec(1, "n", InputType.NUMBER, False, ["0", "10", "2"], "0")
    assert validate_attribute_value(num, "4") == "4"
    for bad in ("3", "12", "x"):
        with pytest.raises(ValidationError):
            validate_attribute_value(num, bad)
    sel = AttributeSpec(2, "s", InputType.SELECT, False, ["a", "b"], "a")
    with pytest.raises(ValidationError):
        validate_attribute_value(sel, "c")
    chk = AttributeSpec(3, "c", InputType.CHECKBOX, True, ["false"], "false")
    assert validate_attribute_value(chk, "True") == "true"


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40, unique=True))
def test_auto_colors_are_valid_and_distinct(names):
    used: list[str] = []
    for name in names:
        color = label_color(name, used)
        assert color.startswith("#") and len(color) == 7
        assert color not in used
        used.append(color)


def test_color_is_stable_per_name():
    assert label_color("car") == label_color("car")
    assert label_color("car") != label_color("person")


def test_create_update_delete_labels_with_cvat_patch_semantics():
    new_id = ids()
    labels = LabelSet([], task_id=7)
    changes = labels.apply(
        [
            LabelInput(name="car", attributes=[attr("color", "select", ["red", "blue"])]),
            LabelInput(name="person", color="#FF0000"),
        ],
        new_id,
    )
    assert [lb.name for lb in changes.added] == ["car", "person"]
    car, person = changes.added
    assert car.task_id == 7 and car.project_id is None and car.type == LabelType.ANY
    assert car.attributes[0].default_value == "red"
    assert person.color == "#ff0000" and car.color != person.color

    labels = LabelSet(changes.added, task_id=7)
    changes = labels.apply(
        [
            LabelInput(
                id=car.id,
                name="vehicle",
                attributes=[
                    attr("color", "select", ["red", "green"], id=car.attributes[0].id),
                    attr("parked", "checkbox", ["false"], mutable=True),
                ],
            ),
            LabelInput(id=person.id, deleted=True),
        ],
        new_id,
    )
    assert [lb.id for lb in changes.deleted] == [person.id]
    (updated,) = changes.updated
    assert updated.name == "vehicle" and [a.name for a in updated.attributes] == ["color", "parked"]
    assert changes.before_update[car.id]["name"] == "car"

    labels = LabelSet([updated], task_id=7)
    changes = labels.apply(
        [LabelInput(id=car.id, attributes=[AttributeInput(id=car.attributes[0].id, deleted=True)])], new_id
    )
    assert [a.name for a in changes.updated[0].attributes] == ["parked"]


def test_label_errors():
    new_id = ids()
    labels = LabelSet([], project_id=1)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(name="a"), LabelInput(name="a")], new_id)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(deleted=True, name="a")], new_id)
    with pytest.raises(NotFoundError):
        labels.apply([LabelInput(id=999, name="x")], new_id)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(name="")], new_id)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(name="a", type="blob")], new_id)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(name="a", sublabels=[LabelInput(name="b")])], new_id)
    with pytest.raises(ValidationError):
        labels.apply([LabelInput(name="a", color="red")], new_id)


SVG = (
    '<line x1="1" y1="2" x2="3" y2="4" data-node-from="1" data-node-to="2"></line>'
    '<circle r="0.75" cx="1" cy="2" data-label-name="head"></circle>'
    '<circle r="0.75" cx="3" cy="4" data-label-name="neck"></circle>'
)


def test_skeleton_with_sublabels_and_svg():
    new_id = ids()
    labels = LabelSet([], task_id=3)
    changes = labels.apply(
        [
            LabelInput(
                name="body",
                type="skeleton",
                svg=SVG,
                sublabels=[LabelInput(name="head", type="points"), LabelInput(name="neck", type="points")],
            )
        ],
        new_id,
    )
    skeleton = next(lb for lb in changes.added if lb.type == LabelType.SKELETON)
    subs = [lb for lb in changes.added if lb.parent_id == skeleton.id]
    assert [s.name for s in subs] == ["head", "neck"] and all(s.has_parent for s in subs)
    assert f'data-label-id="{subs[0].id}"' in skeleton.svg and "data-label-name" not in skeleton.svg
    # deleting the skeleton deletes its sublabels
    labels = LabelSet(changes.added, task_id=3)
    deleted = labels.apply([LabelInput(id=skeleton.id, deleted=True)], new_id).deleted
    assert sorted(lb.id for lb in deleted) == sorted([skeleton.id] + [s.id for s in subs])
    for bad in (
        LabelInput(name="s", type="skeleton", svg=SVG),
        LabelInput(name="s", type="skeleton", sublabels=[LabelInput(name="head")]),
        LabelInput(name="s", type="skeleton", svg=SVG, sublabels=[LabelInput(name="head")]),  # unknown 'neck'
    ):
        with pytest.raises(ValidationError):
            LabelSet([], task_id=3).apply([bad], new_id)
    with pytest.raises(ValidationError):
        LabelSet(changes.added, task_id=3).apply([LabelInput(id=skeleton.id, type="rectangle")], new_id)


def test_inherit_check():
    new_id = ids()
    project = LabelSet([], project_id=1).apply([LabelInput(name="car"), LabelInput(name="dog")], new_id).added
    assert set(inherit_check(["car"], project)) == {"car", "dog"}
    with pytest.raises(ValidationError):
        inherit_check(["car", "cat"], project)
