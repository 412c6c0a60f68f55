"""CVAT's agent-based ("native") functions: a function whose model runs in a user's own process
(``cvat-cli function run-agent``), and the annotation requests (ARs) its agents take from the
function's queue. Standard library only.

The wire shapes are cvat-cli 2.80's (``shared/reference/cvat-api/contract.md`` §10.2). An AR moves
``queued -> assigned -> completed | failed``; ``canceled`` ends a queued or assigned one. Only the
agent holding an AR may report on it (``update``, ``complete``, ``fail``); reporting the same end
twice is a no-op, because the agent retries ``complete`` when an answer is lost. An assigned AR
whose agent has been silent longer than its lease goes back to the queue on the next ``acquire``
(at most ``MAX_ATTEMPTS`` times; then it fails).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import ConflictError, NotFoundError, ThrottledError, ValidationError

PROVIDER = "native"
NAME_MAX = 256
EXC_INFO_MAX = 4096
MAX_ATTEMPTS = 3
AGENT_STOPPED = "The agent stopped answering"
BATCH_LEASE = timedelta(minutes=5)
"""An agent sends ``update`` every 30 s of batch work; five minutes of silence means it is gone."""
SAVING_HOLD = timedelta(seconds=60)
"""How long a ``complete`` that is saving an AR's annotations holds it (two API timeouts): a retry
meanwhile is told to come back later, and one after it (the first died) saves them."""
INTERACTIVE_LEASE = timedelta(seconds=30)
"""An interactive AR takes seconds; the user waiting for it gives up well before this."""
ENDED_KEPT = timedelta(days=7)
"""How long an ended AR stays readable before the table's TTL removes it."""
SHAPE_TYPES = ("rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton")
INPUT_TYPES = ("checkbox", "radio", "number", "text", "select")


class NativeFunctionKind(StrEnum):
    DETECTOR = "detector"
    INTERACTOR = "interactor"
    TRACKER = "tracker"
    REID = "reid"


class Visibility(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


class RequestCategory(StrEnum):
    INTERACTIVE = "interactive"
    BATCH = "batch"


class ArStatus(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def ended(self) -> bool:
        return self in (ArStatus.COMPLETED, ArStatus.FAILED, ArStatus.CANCELED)


class ArType(StrEnum):
    ANNOTATE_TASK = "annotate_task"
    ANNOTATE_FRAME = "annotate_frame"
    INTERACT = "interact"
    INIT_TRACKING = "init_tracking"
    TRACK = "track"

    @property
    def category(self) -> RequestCategory:
        return RequestCategory.BATCH if self is ArType.ANNOTATE_TASK else RequestCategory.INTERACTIVE


INTERACTIVE_TYPES: dict[NativeFunctionKind, tuple[ArType, ...]] = {
    NativeFunctionKind.DETECTOR: (ArType.ANNOTATE_FRAME,),
    NativeFunctionKind.INTERACTOR: (ArType.INTERACT,),
    NativeFunctionKind.TRACKER: (ArType.INIT_TRACKING, ArType.TRACK),
    NativeFunctionKind.REID: (),
}
"""The interactive AR types an agent of each kind can serve (cvat-cli's agent drivers)."""


@dataclass(slots=True)
class NativeFunction:
    id: int
    name: str
    kind: NativeFunctionKind
    owner_id: int | None
    organization_id: int | None = None
    visibility: Visibility = Visibility.PRIVATE
    labels_v2: list[dict[str, Any]] = field(default_factory=list)
    min_pos_points: int = 0
    min_neg_points: int = -1  # -1: negative points are not allowed
    startswith_box: bool = False
    startswith_box_optional: bool = False
    supported_shape_types: list[str] = field(default_factory=list)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0

    @property
    def provider(self) -> str:
        return PROVIDER


# --- the create body ------------------------------------------------------------------------------


def _problem(problems: dict[str, list[str]], name: str, message: str) -> None:
    problems.setdefault(name, []).append(message)


def _label(raw: Any, where: str, problems: dict[str, list[str]], *, nested: bool) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        _problem(problems, where, "Expected an object with a name and attributes.")
        return {}
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        _problem(problems, where, "A label needs a non-empty name.")
    label_type = raw.get("type", "any")
    if not isinstance(label_type, str) or label_type not in ("any", "unknown", "tag", *SHAPE_TYPES):
        _problem(problems, where, f'"{label_type}" is not a valid label type.')
    attributes = []
    raw_attributes = raw.get("attributes", [])
    if not isinstance(raw_attributes, list):
        _problem(problems, where, "attributes must be a list.")
        raw_attributes = []
    for attr in raw_attributes:
        if (not isinstance(attr, Mapping) or not isinstance(attr.get("name"), str)
                or attr.get("input_type") not in INPUT_TYPES or not isinstance(attr.get("values", []), list)
                or not all(isinstance(v, str) for v in attr.get("values", []))):
            _problem(problems, where, "Each attribute needs a name, an input_type and a list of string values.")
            continue
        attributes.append({"name": attr["name"], "input_type": attr["input_type"],
                           "values": list(attr.get("values", []))})
    out: dict[str, Any] = {"name": name, "type": label_type, "attributes": attributes}
    if "sublabels" in raw and not nested:
        subs = raw["sublabels"]
        if not isinstance(subs, list):
            _problem(problems, where, "sublabels must be a list.")
        else:
            out["sublabels"] = [_label(s, where, problems, nested=True) for s in subs]
    elif "sublabels" in raw:
        _problem(problems, where, "A sublabel cannot have sublabels.")
    return out


def _int(body: Mapping[str, Any], name: str, default: int | None, minimum: int,
         problems: dict[str, list[str]]) -> int:
    value = body.get(name, default)
    if value is None:
        _problem(problems, name, "This field is required.")
        return minimum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _problem(problems, name, f"Ensure this value is an integer greater than or equal to {minimum}.")
        return minimum
    return value


def _bool(body: Mapping[str, Any], name: str, problems: dict[str, list[str]]) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        _problem(problems, name, "Must be a valid boolean.")
        return False
    return value


def function_from_body(body: Mapping[str, Any], *, owner_id: int, organization_id: int | None) -> NativeFunction:
    """A new function (id 0) from ``POST /api/functions``'s body as ``cvat-cli function
    create-native`` sends it; a ValidationError naming each bad field."""
    problems: dict[str, list[str]] = {}
    if body.get("provider", PROVIDER) != PROVIDER:
        _problem(problems, "provider", f'"{body.get("provider")}" is not a valid choice; only "native" functions '
                                       "can be created.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        _problem(problems, "name", f"Ensure this field has 1 to {NAME_MAX} characters.")
    kind: NativeFunctionKind | None = None
    try:
        kind = NativeFunctionKind(str(body.get("kind")))
    except ValueError:
        _problem(problems, "kind", f'"{body.get("kind")}" is not a valid choice.')
    visibility = Visibility.PRIVATE
    try:
        visibility = Visibility(str(body.get("visibility", "private")))
    except ValueError:
        _problem(problems, "visibility", f'"{body.get("visibility")}" is not a valid choice.')
    fn = NativeFunction(id=0, name=str(name or "").strip(), kind=kind or NativeFunctionKind.DETECTOR,
                        owner_id=owner_id, organization_id=organization_id, visibility=visibility)
    raw_labels = body.get("labels_v2", [])
    if not isinstance(raw_labels, list):
        _problem(problems, "labels_v2", "Expected a list of labels.")
        raw_labels = []
    fn.labels_v2 = [_label(raw, "labels_v2", problems, nested=False) for raw in raw_labels]
    names = [lb.get("name") for lb in fn.labels_v2]
    if len(set(names)) != len(names):
        _problem(problems, "labels_v2", "Label names must be unique.")
    if kind is NativeFunctionKind.DETECTOR and not raw_labels:
        _problem(problems, "labels_v2", "A detector needs at least one label.")
    if kind is NativeFunctionKind.INTERACTOR:
        fn.min_pos_points = _int(body, "min_pos_points", None, 0, problems)
        fn.min_neg_points = _int(body, "min_neg_points", -1, -1, problems)
        fn.startswith_box = _bool(body, "startswith_box", problems)
        fn.startswith_box_optional = _bool(body, "startswith_box_optional", problems)
        if fn.startswith_box and fn.startswith_box_optional:
            _problem(problems, "startswith_box", "startswith_box and startswith_box_optional exclude each other.")
    if kind is NativeFunctionKind.TRACKER:
        types = body.get("supported_shape_types")
        if not isinstance(types, list) or not types or any(t not in SHAPE_TYPES for t in types):
            _problem(problems, "supported_shape_types", f"Expected a non-empty list of {', '.join(SHAPE_TYPES)}.")
        else:
            fn.supported_shape_types = sorted(set(types))
    if problems:
        raise ValidationError(fields=problems)
    return fn


# --- annotation requests --------------------------------------------------------------------------


@dataclass(slots=True)
class AnnotationRequest:
    """One unit of work for a function's agents. ``ar_params`` is what the agent gets
    (``type``, ``task``, ``frame``, ``mapping``...); ``result`` keeps an interactive AR's answer."""

    id: str
    function_id: int
    category: RequestCategory
    owner_id: int
    ar_params: dict[str, Any]
    organization_id: int | None = None
    status: ArStatus = ArStatus.QUEUED
    agent_id: str | None = None
    lease: datetime | None = None  # when its agent was last heard
    saving_since: datetime | None = None  # a complete() is saving its annotations (begin_saving)
    progress: float = 0.0
    attempts: int = 0
    result: dict[str, Any] | None = None
    exc_info: str = ""
    created_date: datetime | None = None
    started_date: datetime | None = None
    finished_date: datetime | None = None
    version: int = 0

    @property
    def type(self) -> ArType:
        return ArType(self.ar_params["type"])

    @property
    def task_id(self) -> int:
        return int(self.ar_params["task"])

    @property
    def lease_duration(self) -> timedelta:
        return BATCH_LEASE if self.category is RequestCategory.BATCH else INTERACTIVE_LEASE

    def expired(self, now: datetime) -> bool:
        """Assigned, and its agent silent for longer than the lease."""
        return (self.status is ArStatus.ASSIGNED and self.lease is not None
                and now - self.lease > self.lease_duration)

    def acquire(self, agent_id: str, now: datetime) -> None:
        if self.status is not ArStatus.QUEUED:
            raise ConflictError(f"Annotation request {self.id} is {self.status.value}, not queued.")
        self.status = ArStatus.ASSIGNED
        self.agent_id = agent_id
        self.lease = now
        self.started_date = now
        self.progress = 0.0
        self.attempts += 1

    def reclaim(self, now: datetime) -> bool:
        """Take an expired AR back from its silent agent: queued again, or failed after
        ``MAX_ATTEMPTS`` assignments. False (nothing changed) when it has not expired."""
        if not self.expired(now):
            return False
        self.agent_id = None
        self.lease = None
        self.progress = 0.0
        if self.attempts >= MAX_ATTEMPTS:
            self._end(ArStatus.FAILED, now)
            self.exc_info = AGENT_STOPPED
        else:
            self.status = ArStatus.QUEUED
        return True

    def _held_by(self, agent_id: str, action: str) -> None:
        if self.status is not ArStatus.ASSIGNED:
            raise ConflictError(f"Cannot {action} annotation request {self.id}: it is {self.status.value}.")
        if self.agent_id != agent_id:
            raise ConflictError(f"Cannot {action} annotation request {self.id}: another agent holds it.")

    def update(self, agent_id: str, progress: float, now: datetime) -> None:
        self._held_by(agent_id, "update")
        self.progress = min(max(float(progress), 0.0), 1.0)
        self.lease = now

    def complete(self, agent_id: str, now: datetime, result: dict[str, Any] | None = None) -> bool:
        """Completed by ``agent_id``; False when it already was (a retried ``complete``)."""
        if self.status is ArStatus.COMPLETED and self.agent_id == agent_id:
            return False
        self._held_by(agent_id, "complete")
        self._end(ArStatus.COMPLETED, now)
        self.progress = 1.0
        self.result = result
        self.saving_since = None
        return True

    def begin_saving(self, agent_id: str, now: datetime) -> bool:
        """Claimed by ``agent_id``'s ``complete`` to save its annotations; it stays assigned (not
        completed) until they are saved. False for a completed AR (a retried ``complete``); a
        ThrottledError while another call of it is saving (``SAVING_HOLD``)."""
        if self.status is ArStatus.COMPLETED and self.agent_id == agent_id:
            return False
        self._held_by(agent_id, "complete")
        if self.saving_since is not None and now - self.saving_since < SAVING_HOLD:
            raise ThrottledError(f"Annotation request {self.id} is being saved; try again shortly.", retry_after=5)
        self.saving_since = now
        self.lease = now
        return True

    def reopen(self, agent_id: str, now: datetime) -> None:
        """Undo a ``begin_saving`` whose annotations could not be saved: the agent's again, so
        that it may retry or fail it."""
        self.status = ArStatus.ASSIGNED
        self.agent_id = agent_id
        self.lease = now
        self.saving_since = None
        self.finished_date = None
        self.result = None

    def fail(self, agent_id: str, exc_info: str, now: datetime) -> bool:
        """Failed by ``agent_id``; False when it already was."""
        if self.status is ArStatus.FAILED and self.agent_id == agent_id:
            return False
        self._held_by(agent_id, "fail")
        self._end(ArStatus.FAILED, now)
        self.exc_info = (exc_info or "Unknown error")[:EXC_INFO_MAX]
        return True

    def cancel(self, now: datetime) -> bool:
        """Canceled (a queued or assigned AR); False when it already was. A finished AR cannot be."""
        if self.status is ArStatus.CANCELED:
            return False
        if self.status.ended:
            raise ConflictError(f"Annotation request {self.id} is already {self.status.value}.")
        self._end(ArStatus.CANCELED, now)
        return True

    def _end(self, status: ArStatus, now: datetime) -> None:
        self.status = status
        self.finished_date = now
        self.lease = None


def check_agent_id(agent_id: Any) -> str:
    """cvat-cli sends ``secrets.token_hex(16)``; accept any short printable id."""
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 128 or not agent_id.isprintable():
        raise ValidationError(fields={"agent_id": ["This field is required: a string of 1 to 128 characters."]})
    return agent_id


def parse_category(value: Any) -> RequestCategory:
    try:
        return RequestCategory(value)
    except ValueError:
        raise ValidationError(fields={"request_category": [f'"{value}" is not a valid choice.']}) from None


def parse_queue_id(queue_id: str) -> int:
    """``function:<id>`` (also percent-encoded, as cvat-cli sends it) -> the function id;
    anything else is a NotFoundError (no such queue)."""
    text = queue_id.replace("%3A", ":").replace("%3a", ":")
    prefix, _, ident = text.partition(":")
    if prefix != "function" or not ident.isdecimal() or len(ident) > 10:
        raise NotFoundError(f"Queue {queue_id} not found.")
    return int(ident)
