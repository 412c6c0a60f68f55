"""domain.function_calls: CVAT's FunctionCallRequest / OnlineFunctionCallRequest bodies, the label
mapping resolved against a task's labels, and the signed tracker states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.function_calls import (
    MappingEntry,
    label_names,
    parse_function_call,
    parse_online_call,
    resolve_mapping,
    sign_state,
    types_compatible,
    unsign_state,
)
from cvat_serverless.domain.labels import AttributeSpec, Label, LabelType

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = b"k" * 32

MODEL = [
    {"name": "person", "type": "rectangle", "attributes": [{"name": "age", "input_type": "number", "values": []},
                                                           {"name": "pose", "input_type": "select", "values": []}]},
    {"name": "car", "type": "mask", "attributes": []},
    {"name": "dog", "type": "unknown", "attributes": []},
    {"name": "body", "type": "skeleton", "attributes": [],
     "sublabels": [{"name": "head", "type": "points", "attributes": []},
                   {"name": "tail", "type": "points", "attributes": []}]},
]


def task_labels() -> list[Label]:
    return [
        Label(id=1, name="person", color="#f00", type=LabelType.RECTANGLE,
              attributes=[AttributeSpec(id=11, name="age"), AttributeSpec(id=12, name="gender")]),
        Label(id=2, name="car", color="#0f0", type=LabelType.POLYGON),
        Label(id=3, name="dog", color="#00f", type=LabelType.ELLIPSE),
        Label(id=4, name="vehicle", color="#0ff", type=LabelType.ANY),
        Label(id=5, name="tagged", color="#ff0", type=LabelType.TAG),
        Label(id=6, name="body", color="#fff", type=LabelType.SKELETON),
        Label(id=7, name="head", color="#fff", type=LabelType.POINTS, parent_id=6),
        Label(id=8, name="nose", color="#fff", type=LabelType.POINTS, parent_id=6),
    ]


def errors_of(call) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value


# --- FunctionCallRequest --------------------------------------------------------------------------


def test_a_minimal_call_gets_cvats_defaults():
    params = parse_function_call({"function": "yolox-nano", "task": 7})
    assert (params.function_id, params.task_id, params.job_id, params.threshold) == ("yolox-nano", 7, None, None)
    assert params.effective_threshold == 0.5
    assert (params.cleanup, params.conv_mask_to_poly, params.mapping, params.roi) == (False, False, None, None)


def test_every_field_is_read_and_the_deprecated_alias_works():
    params = parse_function_call({
        "function": "f", "task": 1, "job": 2, "threshold": 0.25, "cleanup": True, "convMaskToPoly": True,
        "mapping": {"person": {"name": "human", "attributes": {"age": "years"},
                               "sublabels": {"head": {"name": "skull"}}}},
        "max_distance": 30, "roi": [1, 2, 30, 40], "unknown": "ignored"})
    assert (params.job_id, params.threshold, params.cleanup, params.conv_mask_to_poly) == (2, 0.25, True, True)
    assert params.mapping == {"person": MappingEntry("human", {"age": "years"}, {"head": MappingEntry("skull")})}
    assert (params.max_distance, params.roi) == (30, (1, 2, 30, 40))
    assert parse_function_call({"function": "f", "task": 1, "conv_mask_to_poly": False,
                                "convMaskToPoly": True}).conv_mask_to_poly is False


@pytest.mark.parametrize(("body", "field", "text"), [
    ({"task": 1}, "function", "This field is required."),
    ({"function": "f"}, "task", "This field is required."),
    ({"function": "f", "task": "x"}, "task", "A valid integer is required."),
    ({"function": "f", "task": -1}, "task", "greater than or equal to 0"),
    ({"function": "f", "task": 1, "threshold": 1.5}, "threshold", "between 0 and 1"),
    ({"function": "f", "task": 1, "threshold": -0.1}, "threshold", "between 0 and 1"),
    ({"function": "f", "task": 1, "threshold": "high"}, "threshold", "A valid number is required."),
    ({"function": "f", "task": 1, "cleanup": "maybe"}, "cleanup", "Must be a valid boolean."),
    ({"function": "f", "task": 1, "roi": [1, 2, 3]}, "roi", "4 integers"),
    ({"function": "f", "task": 1, "roi": [1, 2, 3, 4.5]}, "roi", "4 integers"),
    ({"function": "f", "task": 1, "roi": [10, 2, 3, 40]}, "roi", "top left corner"),
    ({"function": "f", "task": 1, "mapping": []}, "mapping", "Expected a dictionary"),
    ({"function": "f", "task": 1, "mapping": {"person": {}}}, "mapping.person.name", "This field is required."),
    ({"function": "f", "task": 1, "mapping": {"person": {"name": "a", "attributes": {"x": 1}}}},
     "mapping.person.attributes", "attribute names"),
])
def test_bad_calls_name_the_field(body, field, text):
    error = errors_of(lambda: parse_function_call(body))
    assert field in error.fields and text in " ".join(error.fields[field]), error.fields


def test_a_body_that_is_not_an_object_is_refused():
    assert "Expected a dictionary" in errors_of(lambda: parse_function_call([1])).message


# --- OnlineFunctionCallRequest ---------------------------------------------------------------------


def test_online_calls_read_their_kinds_fields():
    detector = parse_online_call("detector", {"task": 1, "frame": 3, "threshold": 0.3,
                                              "mapping": {"person": {"name": "person"}}})
    assert (detector.task_id, detector.frame, detector.threshold) == (1, 3, 0.3)
    interactor = parse_online_call("interactor", {"job": 2, "frame": 0, "pos_points": [[1, 2]], "neg_points": [],
                                                  "obj_bbox": [[0, 0], [5, 5]]})
    assert (interactor.job_id, interactor.pos_points, interactor.obj_bbox) == (2, [[1.0, 2.0]], [[0.0, 0.0],
                                                                                                [5.0, 5.0]])
    tracker = parse_online_call("tracker", {"task": 1, "frame": 1, "shapes": [[0, 0, 1, 1]], "states": ["s"]})
    assert (tracker.shapes, tracker.states) == ([[0, 0, 1, 1]], ["s"])
    assert "task" in errors_of(lambda: parse_online_call("detector", {"frame": 0})).fields
    assert "frame" in errors_of(lambda: parse_online_call("detector", {"task": 1})).fields
    assert "pos_points" in errors_of(lambda: parse_online_call("interactor", {"task": 1, "frame": 0,
                                                                                "pos_points": [[1]]})).fields


# --- mapping ----------------------------------------------------------------------------------------


def test_types_fit_as_cvat_says():
    assert types_compatible("rectangle", "rectangle") and types_compatible("rectangle", "any")
    assert types_compatible("mask", "polygon") and types_compatible("polygon", "mask")
    assert types_compatible("unknown", "ellipse") and types_compatible(None, "tag")
    assert not types_compatible("rectangle", "polygon") and not types_compatible("mask", "tag")


def test_the_default_maps_same_names_of_fitting_types_and_same_named_attributes():
    resolved = resolve_mapping(MODEL, task_labels(), None)
    assert resolved == {
        "person": {"label_id": 1, "type": "rectangle", "attributes": {"age": 11}, "sublabels": {}},
        "car": {"label_id": 2, "type": "mask", "attributes": {}, "sublabels": {}},  # mask fits a polygon label
        "dog": {"label_id": 3, "type": "ellipse", "attributes": {}, "sublabels": {}},  # the model does not say
        "body": {"label_id": 6, "type": "skeleton", "attributes": {},
                 "sublabels": {"head": {"label_id": 7, "type": "points", "attributes": {}}}},
    }


def test_a_given_mapping_is_followed_and_drops_what_it_leaves_out():
    mapping = {"person": MappingEntry("vehicle"), "body": MappingEntry(
        "body", sublabels={"tail": MappingEntry("nose")})}
    resolved = resolve_mapping(MODEL, task_labels(), mapping)
    assert resolved == {
        "person": {"label_id": 4, "type": "rectangle", "attributes": {}, "sublabels": {}},  # "any" takes boxes
        "body": {"label_id": 6, "type": "skeleton", "attributes": {},
                 "sublabels": {"tail": {"label_id": 8, "type": "points", "attributes": {}}}},
    }
    mapping = {"person": MappingEntry("person", {"pose": "gender"})}
    assert resolve_mapping(MODEL, task_labels(), mapping)["person"]["attributes"] == {"pose": 12}


@pytest.mark.parametrize(("mapping", "text"), [
    ({"cat": MappingEntry("person")}, 'The function has no label "cat"'),
    ({"person": MappingEntry("human")}, 'The task has no label "human"'),
    ({"person": MappingEntry("car")}, "cannot take"),
    ({"car": MappingEntry("tagged")}, "cannot take"),
    ({"person": MappingEntry("person", {"height": "age"})}, 'has no attribute "height"'),
    ({"person": MappingEntry("person", {"age": "weight"})}, 'has no attribute "weight"'),
    ({"body": MappingEntry("body", sublabels={"wing": MappingEntry("head")})}, 'no label "body.wing"'),
    ({"body": MappingEntry("body", sublabels={"head": MappingEntry("eye")})}, 'The task has no label "eye"'),
])
def test_a_mapping_naming_what_does_not_exist_or_does_not_fit_is_refused(mapping, text):
    assert text in errors_of(lambda: resolve_mapping(MODEL, task_labels(), mapping)).message


def test_a_task_with_no_fitting_label_is_refused():
    labels = [Label(id=1, name="tree", color="#000", type=LabelType.POLYGON)]
    assert "No label of the function fits" in errors_of(lambda: resolve_mapping(MODEL, labels, None)).message


def test_label_names_turn_ids_back_into_names():
    labels = task_labels()
    resolved = resolve_mapping(MODEL, labels, {"person": MappingEntry("person", {"pose": "gender"})})
    assert label_names(resolved, labels) == {"person": {"name": "person", "attributes": {"pose": "gender"},
                                                        "sublabels": {}}}


# --- tracker states -------------------------------------------------------------------------------


def test_tracker_states_round_trip_and_refuse_tampering_other_keys_and_age():
    state = {"box": [1, 2, 3, 4], "memory": "abc"}
    token = sign_state(KEY, state, NOW)
    assert unsign_state(KEY, token, NOW + timedelta(hours=7)) == state
    value, stamp, signature = token.split(":")
    other = sign_state(KEY, {"box": [0, 0, 0, 0]}, NOW).split(":")[0]
    for bad in (f"{other}:{stamp}:{signature}", f"{value}:{int(stamp) + 1}:{signature}", "garbage", 5):
        with pytest.raises(ValidationError):
            unsign_state(KEY, bad, NOW)
    with pytest.raises(ValidationError, match="signature"):
        unsign_state(b"x" * 32, token, NOW)
    with pytest.raises(ValidationError, match="expired"):
        unsign_state(KEY, token, NOW + timedelta(hours=8, seconds=1))
