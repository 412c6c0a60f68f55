"""Domain events (``create:task``, ``update:job``...) as CVAT's webhooks and analytics see them."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

E = TypeVar("E")

_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, by type (looked up once)


def to_plain(value: Any) -> Any:
    """Dataclasses, enums and datetimes as JSON-ready values (ISO-8601 datetimes).

    Annotation events carry tens of thousands of objects: field names are looked up once per
    type, and lists of plain values (a shape's points) are copied as they are."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.setdefault(kind, tuple(f.name for f in dataclasses.fields(value)))
    if names is not None:
        return {name: to_plain(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        if kind is list and all(type(v) in _PLAIN_TYPES for v in value):
            return list(value)
        return [to_plain(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _from_plain(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else Any
    origin = get_origin(hint)
    if origin is list:
        return [_from_plain(v, get_args(hint)[0]) for v in value]
    if origin is tuple:
        args = get_args(hint)
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        return tuple(_from_plain(v, h) for v, h in zip(value, items, strict=False))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_plain(hint, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    return value


def from_plain(cls: type[E], data: Mapping[str, Any]) -> E:
    """The dataclass ``to_plain`` made ``data`` of (an event's object, back from its JSON).
    Fields ``data`` lacks take their defaults; keys the class does not know are ignored."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: _from_plain(v, hints[k]) for k, v in data.items() if k in known})


def diff_fields(before: Any, after: Any, names: list[str] | None = None) -> dict[str, Any]:
    """The previous values of the fields that differ between two versions of a dataclass
    (CVAT's ``before_update``); ``version`` and ``updated_date`` are bookkeeping, not changes."""
    skip = {"version", "updated_date"}
    fields = names or [f.name for f in dataclasses.fields(before)]
    return {
        n: getattr(before, n) for n in fields if n not in skip and getattr(before, n) != getattr(after, n)
    }


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One create/update/delete of a resource; ``scope`` is CVAT's event name."""

    scope: str  # e.g. "update:task"
    resource: str  # "task"
    resource_id: int | str
    actor_id: int | None
    request_id: str
    timestamp: datetime
    organization_id: int | None = None
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    obj: Any = None  # the object after the change (before it, for deletes)
    before_update: Mapping[str, Any] = field(default_factory=dict)
    # analytics events about many objects (``create:shapes``...): the shape type and how many
    obj_name: str | None = None
    count: int | None = None
    # where the request reached the API (``RequestContext.origin``) and who made it, as CVAT's
    # BasicUser shows them: webhook payloads need both and the request has them at hand
    origin: str = ""
    actor: Mapping[str, Any] | None = None

    def detail(self) -> dict[str, Any]:
        """The JSON detail put on the event bus."""
        detail = {
            "event": self.scope,
            "resource": self.resource,
            "id": self.resource_id,
            "actor_id": self.actor_id,
            "request_id": self.request_id,
            "timestamp": self.timestamp.isoformat(),
            "organization_id": self.organization_id,
            "project_id": self.project_id,
            "task_id": self.task_id,
            "job_id": self.job_id,
            self.resource: to_plain(self.obj),
            "before_update": to_plain(dict(self.before_update)),
            "changed_fields": ",".join(sorted(self.before_update)),
        }
        if self.origin:
            detail["origin"] = self.origin
        if self.actor is not None:
            detail["actor"] = dict(self.actor)
        if self.count is not None:
            detail["obj_name"] = self.obj_name
            detail["count"] = self.count
        return detail
