"""Calls of auto-annotation functions as CVAT's lambda API takes them: the body of
``POST /api/lambda/requests`` (``FunctionCallRequest``) and of the interactive
``POST /api/lambda/functions/{id}`` (``OnlineFunctionCallRequest``), checked with CVAT-like 400
messages, and the label mapping resolved against a task's labels into the form the auto-annotate
workflow takes (``{model label: {"label_id", "type", "attributes": {model attr: attribute id},
"sublabels": {...}}}``).

Mapping rules (CVAT's lambda manager): with no mapping, every model label maps to the task label of
the same name, when their types are compatible, and its attributes to the label's attributes of the
same names; model labels without a match are dropped. A mapping given by the client must name model
labels, task labels and attributes that exist, and types that fit: a task label of type ``any``
takes every shape, a model label of type ``unknown`` fits every task label, masks and polygons fit
each other. Model labels left out of a given mapping are dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import ValidationError
from .labels import Label, LabelType

DEFAULT_THRESHOLD = 0.5
TRACKER_STATE_MAX_AGE = timedelta(hours=8)  # CVAT's TimestampSigner max_age
_COMPATIBLE = ({"mask", "polygon"},)
_UNTYPED = ("", "unknown", "any")
_INT32_MAX = 2**31 - 1

Errors = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class MappingEntry:
    """One entry of a client's mapping: the task label ``name`` a model label goes to."""

    name: str
    attributes: dict[str, str] | None = None  # model attribute -> task attribute
    sublabels: dict[str, MappingEntry] | None = None


@dataclass(frozen=True, slots=True)
class FunctionCallParams:
    """A checked ``FunctionCallRequest``."""

    function_id: str
    task_id: int
    job_id: int | None = None
    threshold: float | None = None
    cleanup: bool = False
    conv_mask_to_poly: bool = False
    mapping: dict[str, MappingEntry] | None = None
    max_distance: int | None = None
    roi: tuple[int, int, int, int] | None = None

    @property
    def effective_threshold(self) -> float:
        return DEFAULT_THRESHOLD if self.threshold is None else self.threshold


@dataclass(frozen=True, slots=True)
class OnlineCallParams:
    """A checked ``OnlineFunctionCallRequest``: the common fields and the kind's own ones."""

    task_id: int | None = None
    job_id: int | None = None
    frame: int = 0
    threshold: float | None = None
    mapping: dict[str, MappingEntry] | None = None
    pos_points: list[list[float]] = field(default_factory=list)
    neg_points: list[list[float]] = field(default_factory=list)
    obj_bbox: list[list[float]] | None = None
    shapes: list[Any] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)


# --- reading a body ----------------------------------------------------------------------------


def _int(body: Mapping[str, Any], name: str, errors: Errors, *, required: bool = False,
         minimum: int | None = 0) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            errors.setdefault(name, []).append("This field is required." if name not in body
                                               else "This field may not be null.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.setdefault(name, []).append("A valid integer is required.")
        return None
    try:
        number = int(value)
    except ValueError:
        errors.setdefault(name, []).append("A valid integer is required.")
        return None
    if minimum is not None and number < minimum:
        errors.setdefault(name, []).append(f"Ensure this value is greater than or equal to {minimum}.")
        return None
    if number > _INT32_MAX:
        errors.setdefault(name, []).append(f"Ensure this value is less than or equal to {_INT32_MAX}.")
        return None
    return number


def _bool(body: Mapping[str, Any], name: str, errors: Errors) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    errors.setdefault(name, []).append("Must be a valid boolean.")
    return None


def _threshold(body: Mapping[str, Any], errors: Errors) -> float | None:
    value = body.get("threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.setdefault("threshold", []).append("A valid number is required.")
        return None
    try:
        number = float(value)
    except ValueError:
        errors.setdefault("threshold", []).append("A valid number is required.")
        return None
    if not 0.0 <= number <= 1.0:  # also NaN
        errors.setdefault("threshold", []).append("Ensure this value is between 0 and 1.")
        return None
    return number


def _mapping(value: Any, errors: Errors, path: str = "mapping") -> dict[str, MappingEntry] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.setdefault(path, []).append(f'Expected a dictionary of items but got type "{type(value).__name__}".')
        return None
    out: dict[str, MappingEntry] = {}
    for model_label, entry in value.items():
        where = f"{path}.{model_label}"
        if not isinstance(entry, Mapping):
            errors.setdefault(where, []).append("Expected an object with the task label's name.")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            errors.setdefault(f"{where}.name", []).append("This field is required." if "name" not in entry
                                                          else "Not a valid string.")
            continue
        attributes = entry.get("attributes")
        if attributes is not None and (not isinstance(attributes, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())):
            errors.setdefault(f"{where}.attributes", []).append(
                "Expected a dictionary of model attribute names to task attribute names.")
            continue
        sublabels = _mapping(entry.get("sublabels"), errors, f"{where}.sublabels")
        out[str(model_label)] = MappingEntry(name, dict(attributes) if attributes is not None else None, sublabels)
    return out


def _roi(value: Any, errors: Errors) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    if (not isinstance(value, list | tuple) or len(value) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        errors.setdefault("roi", []).append("Expected a list of 4 integers: [xtl, ytl, xbr, ybr].")
        return None
    xtl, ytl, xbr, ybr = (int(v) for v in value)
    if xtl >= xbr or ytl >= ybr:
        errors.setdefault("roi", []).append("The region's top left corner must be above and left of its bottom "
                                            "right corner.")
        return None
    return xtl, ytl, xbr, ybr


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ValidationError(f"Invalid data. Expected a dictionary, but got {type(body).__name__}.")
    return body


def parse_function_call(body: Any) -> FunctionCallParams:
    """CVAT's ``FunctionCallRequest``: ``function``* (str), ``task``* (int), ``job``, ``threshold``
    in [0, 1], ``cleanup``, ``conv_mask_to_poly`` (or its deprecated alias ``convMaskToPoly``),
    ``mapping``, ``max_distance``, ``roi`` (exactly 4 integers)."""
    body = _object(body)
    errors: Errors = {}
    function = body.get("function")
    if not isinstance(function, str) or not function:
        errors.setdefault("function", []).append("This field is required." if function is None
                                                 else "Not a valid string.")
    task = _int(body, "task", errors, required=True)
    job = _int(body, "job", errors)
    threshold = _threshold(body, errors)
    cleanup = _bool(body, "cleanup", errors)
    conv = _bool(body, "conv_mask_to_poly", errors)
    if conv is None:
        conv = _bool(body, "convMaskToPoly", errors)
    mapping = _mapping(body.get("mapping"), errors)
    max_distance = _int(body, "max_distance", errors)
    roi = _roi(body.get("roi"), errors)
    if errors:
        raise ValidationError(fields=errors)
    assert task is not None
    return FunctionCallParams(function_id=str(function), task_id=task, job_id=job, threshold=threshold,
                              cleanup=bool(cleanup), conv_mask_to_poly=bool(conv), mapping=mapping,
                              max_distance=max_distance, roi=roi)


def _points(value: Any, name: str, errors: Errors) -> list[list[float]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(c, int | float) and not isinstance(c, bool)
                                                               for c in p) for p in value):
        errors.setdefault(name, []).append("Expected a list of [x, y] points.")
        return []
    return [[float(c) for c in p] for p in value]


def parse_online_call(kind: str, body: Any) -> OnlineCallParams:
    """CVAT's ``OnlineFunctionCallRequest`` plus the fields of the function's kind (detector:
    ``frame``, ``threshold``, ``mapping``; interactor: ``frame``, ``pos_points``, ``neg_points``,
    ``obj_bbox``; tracker: ``frame``, ``shapes``, ``states``)."""
    body = _object(body)
    errors: Errors = {}
    task = _int(body, "task", errors)
    job = _int(body, "job", errors)
    if task is None and job is None and "task" not in errors and "job" not in errors:
        errors.setdefault("task", []).append("Either task or job is required.")
    frame = _int(body, "frame", errors, required=True)
    params: dict[str, Any] = {}
    if kind == "detector":
        params["threshold"] = _threshold(body, errors)
        params["mapping"] = _mapping(body.get("mapping"), errors)
    elif kind == "interactor":
        params["pos_points"] = _points(body.get("pos_points"), "pos_points", errors)
        params["neg_points"] = _points(body.get("neg_points"), "neg_points", errors)
        if body.get("obj_bbox") is not None:
            bbox = _points(body.get("obj_bbox"), "obj_bbox", errors)
            if bbox and len(bbox) != 2:
                errors.setdefault("obj_bbox", []).append("Expected two points: [[xtl, ytl], [xbr, ybr]].")
            params["obj_bbox"] = bbox
    elif kind == "tracker":
        shapes, states = body.get("shapes", []), body.get("states", [])
        if not isinstance(shapes, list):
            errors.setdefault("shapes", []).append("Expected a list.")
        if not isinstance(states, list):
            errors.setdefault("states", []).append("Expected a list.")
        params["shapes"], params["states"] = shapes, states
    if errors:
        raise ValidationError(fields=errors)
    assert frame is not None
    return OnlineCallParams(task_id=task, job_id=job, frame=frame, **params)


# --- resolving a mapping -----------------------------------------------------------------------


def types_compatible(model_type: str | None, task_type: str) -> bool:
    """Whether a task label of ``task_type`` can take the shapes of a model label of ``model_type``."""
    if not model_type or model_type in _UNTYPED or task_type == LabelType.ANY.value:
        return True
    if model_type == task_type:
        return True
    return any(model_type in group and task_type in group for group in _COMPATIBLE)


def _resolved_type(model_type: str, task_type: str) -> str:
    if model_type and model_type not in _UNTYPED:
        return model_type
    return task_type if task_type != LabelType.ANY.value else "any"


def resolve_mapping(model_labels: Sequence[Mapping[str, Any]], task_labels: Sequence[Label],
                    mapping: Mapping[str, MappingEntry] | None) -> dict[str, dict[str, Any]]:
    """The mapping the auto-annotate workflow takes (see the module doc), checked: a mapping that
    names what does not exist or types that do not fit is a ValidationError naming it. An empty
    result (nothing of the model fits the task) is one too."""
    top = [label for label in task_labels if label.parent_id is None]
    resolved = _resolve_level(model_labels, top, task_labels, mapping, "")
    if not resolved:
        names = ", ".join(str(m["name"]) for m in model_labels) or "none"
        raise ValidationError(f"No label of the function fits a label of the task (the function's labels: {names}). "
                              "Add a task label of the same name, or give a mapping.")
    return resolved


def _resolve_level(model_labels: Sequence[Mapping[str, Any]], candidates: Sequence[Label],
                   all_labels: Sequence[Label], mapping: Mapping[str, MappingEntry] | None,
                   where: str) -> dict[str, dict[str, Any]]:
    by_model = {str(m["name"]): m for m in model_labels}
    by_task = {label.name: label for label in candidates}
    out: dict[str, dict[str, Any]] = {}
    if mapping is None:
        for name, model in by_model.items():
            task_label = by_task.get(name)
            if task_label is None or not types_compatible(_type_of(model), task_label.type.value):
                continue
            out[name] = _entry(model, task_label, all_labels, None, f"{where}{name}", nested=bool(where))
        return out
    for model_name, entry in mapping.items():
        found = by_model.get(model_name)
        if found is None:
            raise ValidationError(f'The function has no label "{where}{model_name}" '
                                  f"(its labels: {', '.join(by_model) or 'none'}).")
        model = found
        task_label = by_task.get(entry.name)
        if task_label is None:
            raise ValidationError(f'The task has no label "{entry.name}" (mapped from the function\'s label '
                                  f'"{where}{model_name}").')
        if not types_compatible(_type_of(model), task_label.type.value):
            raise ValidationError(f'The function\'s label "{where}{model_name}" gives {_type_of(model)} shapes, '
                                  f'which the task\'s label "{task_label.name}" of type '
                                  f"{task_label.type.value} cannot take.")
        out[model_name] = _entry(model, task_label, all_labels, entry, f"{where}{model_name}", nested=bool(where))
    return out


def _type_of(model: Mapping[str, Any]) -> str:
    return str(model.get("type") or "unknown")


def _entry(model: Mapping[str, Any], task_label: Label, all_labels: Sequence[Label], given: MappingEntry | None,
           where: str, *, nested: bool) -> dict[str, Any]:
    model_attrs = {str(a["name"]) for a in model.get("attributes") or []}
    task_attrs = {a.name: a.id for a in task_label.attributes}
    attributes: dict[str, int] = {}
    if given is not None and given.attributes is not None:
        for model_attr, task_attr in given.attributes.items():
            if model_attr not in model_attrs:
                raise ValidationError(f'The function\'s label "{where}" has no attribute "{model_attr}".')
            if task_attr not in task_attrs:
                raise ValidationError(f'The task\'s label "{task_label.name}" has no attribute "{task_attr}".')
            attributes[model_attr] = task_attrs[task_attr]
    else:
        attributes = {name: task_attrs[name] for name in sorted(model_attrs) if name in task_attrs}
    out: dict[str, Any] = {"label_id": task_label.id,
                           "type": _resolved_type(_type_of(model), task_label.type.value),
                           "attributes": attributes}
    model_subs = model.get("sublabels") or []
    task_subs = [label for label in all_labels if label.parent_id == task_label.id]
    given_subs = given.sublabels if given is not None else None
    if given_subs and not model_subs:
        raise ValidationError(f'The function\'s label "{where}" has no sublabels.')
    subs = (_resolve_level(model_subs, task_subs, all_labels, given_subs, f"{where}.")
            if model_subs and task_subs else {})
    if subs or not nested:  # a top-level entry always has "sublabels"
        out["sublabels"] = subs
    return out


def label_names(resolved: Mapping[str, Mapping[str, Any]], task_labels: Sequence[Label]) -> dict[str, dict[str, Any]]:
    """A resolved mapping by names (for the interactive call's answer, which names task labels):
    ``{model label: {"name", "attributes": {model attr: task attr name}, "sublabels": {...}}}``."""
    by_id = {label.id: label for label in task_labels}
    out: dict[str, dict[str, Any]] = {}
    for model_name, entry in resolved.items():
        label = by_id[int(entry["label_id"])]
        attr_names = {a.id: a.name for a in label.attributes}
        out[model_name] = {"name": label.name,
                           "attributes": {m: attr_names[i] for m, i in entry.get("attributes", {}).items()},
                           "sublabels": label_names(entry.get("sublabels") or {}, task_labels)}
    return out


# --- tracker states ------------------------------------------------------------------------------


def sign_state(key: bytes, state: Any, now: datetime) -> str:
    """A tracker's state as the client holds it between calls: ``<value>:<time>:<signature>``
    (as Django's TimestampSigner), the value being the state's JSON in URL-safe base64."""
    value = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")
    stamp = str(int(now.timestamp()))
    return f"{value}:{stamp}:{_signature(key, value, stamp)}"


def unsign_state(key: bytes, token: Any, now: datetime, max_age: timedelta = TRACKER_STATE_MAX_AGE) -> Any:
    """The state a ``sign_state`` token holds; ValidationError when it was not signed here, was
    changed, or is older than ``max_age``."""
    if not isinstance(token, str) or token.count(":") != 2:
        raise ValidationError("Invalid tracker state: it was not made by this server.")
    value, stamp, signature = token.split(":")
    if not hmac.compare_digest(signature, _signature(key, value, stamp)):
        raise ValidationError("Invalid tracker state: its signature does not match.")
    try:
        age = now.timestamp() - int(stamp)
        state = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        raise ValidationError("Invalid tracker state: it cannot be read.") from None
    if age > max_age.total_seconds():
        raise ValidationError("The tracker state has expired: start tracking again.")
    return state


def _signature(key: bytes, value: str, stamp: str) -> str:
    digest = hmac.new(key, f"tracker-state:{value}:{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
