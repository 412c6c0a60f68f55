"""CVAT's server events for an annotation change, cut to fit the event bus.

CVAT (``cvat/apps/events/handlers.py::handle_annotations_change``) records, per job save, one
``<action>:tags`` event and one ``<action>:shapes`` / ``<action>:tracks`` event per shape type
(``obj_name``), each with ``count`` and its objects reduced to ``id``, ``frame``, ``label_id`` and
``attributes`` (a track also with its keyframes, reduced the same way). A PUT (and a DELETE of all
annotations) is ``delete:`` of what was there, then ``create:`` of what is stored now; PATCH is
its action's event.

An EventBridge entry (and the SQS message the consumers read) holds at most 256 KB, so the objects
of one event are split into chunks of at most ``OBJECTS_BUDGET`` bytes of JSON, each chunk its own
event with its own ``count``; one object larger than that (a track with thousands of keyframes, a
huge text attribute) goes without its lists, which are replaced by their lengths
(``shapes_count``, ``attributes_count``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..domain.annotations import AttributeVal, LabeledData, LabeledImage, LabeledShape, LabeledTrack, TrackedShape

OBJECTS_BUDGET: Final = 64 * 1024
"""Bytes of object JSON (UTF-8) in one event. The bus adapter escapes non-ASCII text, which makes
it at most 3 times longer (2 UTF-8 bytes become 6), so a chunk stays under 192 KB there; the rest
of the 256 KB entry is ample for the envelope."""


@dataclass(frozen=True, slots=True)
class AnnotationEvent:
    scope: str  # "create:shapes"
    obj_name: str | None  # the shape type of shapes and tracks; None for tags
    objects: list[dict[str, Any]]

    @property
    def kind(self) -> str:
        return self.scope.split(":", 1)[1]


def _attributes(attributes: Sequence[AttributeVal]) -> list[dict[str, Any]]:
    return [{"spec_id": a.spec_id, "value": a.value} for a in attributes]


def _summary(obj: LabeledImage | LabeledShape | LabeledTrack | TrackedShape) -> dict[str, Any]:
    out: dict[str, Any] = {"id": obj.id, "frame": obj.frame, "attributes": _attributes(obj.attributes)}
    if label_id := getattr(obj, "label_id", None):
        out["label_id"] = label_id
    return out


def _track_summary(track: LabeledTrack) -> dict[str, Any]:
    out = _summary(track)
    out["shapes"] = [_summary(s) for s in track.shapes]
    return out


try:  # measuring with orjson is ~10x faster than json, which matters for a 20,000-shape PUT
    import orjson

    def _size(obj: dict[str, Any]) -> int:
        return len(orjson.dumps(obj))
except ImportError:  # pragma: no cover - orjson is a runtime dependency
    def _size(obj: dict[str, Any]) -> int:
        return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


def _trimmed(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, list):
            out[f"{key}_count"] = len(value)
        else:
            out[key] = value
    return out


def _chunks(objects: Sequence[dict[str, Any]], budget: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    used = 0
    for whole in objects:
        obj, size = whole, _size(whole) + 1
        if size > budget:
            obj = _trimmed(whole)
            size = _size(obj) + 1
        if chunk and used + size > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(obj)
        used += size
    if chunk:
        yield chunk


def annotation_events(action: str, data: LabeledData, *, budget: int = OBJECTS_BUDGET) -> list[AnnotationEvent]:
    """The events of ``action`` (create, update, delete) over ``data``, in CVAT's order: tags,
    shapes by type, tracks by type; none for an empty kind."""
    groups: list[tuple[str, str | None, list[dict[str, Any]]]] = []
    if data.tags:
        groups.append(("tags", None, [_summary(t) for t in data.tags]))
    shapes: dict[str, list[dict[str, Any]]] = {}
    for shape in data.shapes:
        shapes.setdefault(str(shape.type), []).append(_summary(shape))
    groups += [("shapes", name, items) for name, items in shapes.items()]
    tracks: dict[str | None, list[dict[str, Any]]] = {}
    for track in data.tracks:
        tracks.setdefault(str(track.shapes[0].type) if track.shapes else None, []).append(_track_summary(track))
    groups += [("tracks", name, items) for name, items in tracks.items()]
    return [AnnotationEvent(f"{action}:{kind}", name, chunk)
            for kind, name, items in groups for chunk in _chunks(items, budget)]


def removed_objects(current: LabeledData, change: LabeledData) -> LabeledData:
    """The objects of ``current`` whose ids ``change`` names (what a PATCH delete removes)."""
    def kept(old: Sequence[Any], named: Sequence[Any]) -> list[Any]:
        ids = {o.id for o in named}
        return [o for o in old if o.id in ids]

    return LabeledData(tags=kept(current.tags, change.tags), shapes=kept(current.shapes, change.shapes),
                       tracks=kept(current.tracks, change.tracks))
