"""Entity dataclasses <-> the plain values a DynamoDB ``data`` map holds, driven by type hints.

What is stored, per field type:
- ``int``/``str``/``bool``/``None``: as is (PynamoDB's raw maps give back ``int`` for ``N``);
- ``float``: a number (finite only; DynamoDB turns ``1.0`` into ``1``, so it is read back as float);
- ``datetime``: ISO 8601 with its offset (microseconds and the zone round-trip exactly);
- ``StrEnum``: its wire value;
- nested dataclasses (``Storage``, ``AttributeSpec``) and lists of them: maps and lists;
- ``tuple[X, ...]`` and ``tuple[X, Y]``: lists, read back as tuples;
- ``dict[str, Any]`` (free-form JSON such as an organization's ``contact``): a JSON string.
  DynamoDB normalises numbers (``1.0`` comes back as ``1``) and rejects NaN and empty sets, so
  free-form values are kept as text to come back exactly as they were given.

``version`` is not part of the map: it lives in the item's own ``version`` attribute.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

E = TypeVar("E")

NOT_STORED = frozenset({"version"})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def _optional_inner(hint: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"Only X | None unions can be stored, not {hint}")
        return args[0]
    return hint


def _tuple_hints(hint: Any, length: int) -> tuple[Any, ...]:
    """The item hints of ``tuple[X, ...]`` (any length) or ``tuple[X, Y]`` (that length)."""
    args = get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return (args[0],) * length
    if len(args) != length:
        raise ValueError(f"A {hint} cannot hold {length} items")
    return args


def _encode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    hint = _optional_inner(hint)
    origin = get_origin(hint)
    if hint is Any or origin is dict or hint is dict:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    if origin is list:
        (item_hint,) = get_args(hint)
        return [_encode(v, item_hint) for v in value]
    if origin is tuple:
        return [_encode(v, h) for v, h in zip(value, _tuple_hints(hint, len(value)), strict=True)]
    if is_dataclass(hint):
        return encode(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value).value
    if hint is datetime:
        return value.isoformat()
    if hint is bool:
        return bool(value)
    if hint is int:
        return int(value)
    if hint is float:
        if not math.isfinite(value):
            raise ValueError(f"Cannot store {value} (DynamoDB numbers are finite)")
        return float(value)
    if hint is str:
        return str(value)
    raise TypeError(f"Cannot store a value of type {hint}")


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    hint = _optional_inner(hint)
    origin = get_origin(hint)
    if hint is Any or origin is dict or hint is dict:
        return json.loads(value) if isinstance(value, str) else dict(value)
    if origin is list:
        (item_hint,) = get_args(hint)
        return [_decode(v, item_hint) for v in value]
    if origin is tuple:
        return tuple(_decode(v, h) for v, h in zip(value, _tuple_hints(hint, len(value)), strict=True))
    if is_dataclass(hint):
        return decode(hint, value)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is bool:
        return bool(value)
    if hint is int:
        return int(value)
    if hint is float:
        return float(value)
    if hint is str:
        return str(value)
    raise TypeError(f"Cannot load a value of type {hint}")


def encode(entity: Any) -> dict[str, Any]:
    """The entity's fields (all but ``version``) as plain, storable values."""
    hints = _hints(type(entity))
    return {
        f.name: _encode(getattr(entity, f.name), hints[f.name]) for f in fields(entity) if f.name not in NOT_STORED
    }


def decode(cls: type[E], data: dict[str, Any], **extra: Any) -> E:
    """Rebuild a ``cls`` from ``encode``'s output. Fields missing from ``data`` (items written
    before a field existed) take their defaults; keys the class does not know are ignored."""
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in NOT_STORED:
            continue
        if f.name in data:
            kwargs[f.name] = _decode(data[f.name], hints[f.name])
        elif f.default is MISSING and f.default_factory is MISSING:
            raise KeyError(f"Stored {cls.__name__} has no {f.name!r}")
    kwargs.update(extra)
    return cls(**kwargs)
