"""Auto-annotation functions: the model registry that plays Nuclio's role in CVAT.

A function is a model served by a SageMaker endpoint (or, in the embedded runtime, by the same
handler code answering the SageMaker runtime API locally). ``GET /api/lambda/functions`` lists the
registry in CVAT's shape; admins register and remove entries with ``cvat-serverless function``.
Where an entry runs (``mode``) decides how the auto-annotate workflow calls it:

- ``serverless``: a SageMaker serverless endpoint (CPU, $0 idle, 4 MB payloads);
- ``async``: a SageMaker asynchronous endpoint (GPU, scales to zero; input and output in S3);
- ``realtime``: a real-time endpoint (GPU, always on; opt-in, for interactive models);
- ``local``: the embedded runtime's own SageMaker runtime (the laptop).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import ValidationError

FUNCTION_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
FUNCTION_ID_MAX = 64
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's endpoint name rule
DEFAULT_BATCH_SIZE = 8
BATCH_SIZE_MAX = 64


class FunctionKind(StrEnum):
    DETECTOR = "detector"
    INTERACTOR = "interactor"
    TRACKER = "tracker"
    REID = "reid"


class FunctionMode(StrEnum):
    SERVERLESS = "serverless"
    ASYNC = "async"
    REALTIME = "realtime"
    LOCAL = "local"

    @property
    def default_max_payload(self) -> int:
        """The request size an endpoint of this mode takes (SageMaker's limits, with room for headers)."""
        return _MAX_PAYLOAD[self]

    @property
    def interactive(self) -> bool:
        """Whether a caller may wait on it synchronously (a UI's interactive call)."""
        return self in (FunctionMode.REALTIME, FunctionMode.LOCAL, FunctionMode.SERVERLESS)


_MAX_PAYLOAD = {
    FunctionMode.SERVERLESS: 4_000_000,
    FunctionMode.REALTIME: 6_000_000,
    FunctionMode.LOCAL: 6_000_000,
    FunctionMode.ASYNC: 100_000_000,
}


@dataclass(slots=True)
class FunctionSpec:
    """One registry entry. ``labels_v2`` is kept in CVAT's wire shape (``[{"name", "type",
    "attributes": [{"name", "input_type", "values"}], "sublabels"?, "svg"?}]``)."""

    id: str
    name: str
    kind: FunctionKind
    mode: FunctionMode
    endpoint: str
    labels_v2: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    version: int = 1
    framework: str = ""
    batch_size: int = DEFAULT_BATCH_SIZE
    max_payload_bytes: int = 0  # 0: the mode's default
    # interactors (CVAT's defaults)
    min_pos_points: int = 1
    min_neg_points: int = -1
    startswith_box: bool = False
    startswith_box_optional: bool = False
    help_message: str = ""
    animated_gif: str = ""
    created_date: datetime | None = None
    updated_date: datetime | None = None

    @property
    def payload_limit(self) -> int:
        return self.max_payload_bytes or self.mode.default_max_payload

    def label_names(self) -> list[str]:
        return [str(label["name"]) for label in self.labels_v2]

    def to_cvat(self) -> dict[str, Any]:
        """The function as CVAT's ``GET /api/lambda/functions`` lists it."""
        body: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "labels_v2": [_label_out(label) for label in self.labels_v2],
            "description": self.description,
            "name": self.name,
            "version": self.version,
        }
        if self.kind is FunctionKind.INTERACTOR:
            body.update(min_pos_points=self.min_pos_points, min_neg_points=self.min_neg_points,
                        startswith_box=self.startswith_box, startswith_box_optional=self.startswith_box_optional,
                        help_message=self.help_message, animated_gif=self.animated_gif)
        return body

    def to_dict(self) -> dict[str, Any]:
        """The registry document (``cvat-serverless function add`` takes the same shape)."""
        return {
            "id": self.id, "name": self.name, "kind": self.kind.value, "mode": self.mode.value,
            "endpoint": self.endpoint, "labels_v2": self.labels_v2, "description": self.description,
            "version": self.version, "framework": self.framework, "batch_size": self.batch_size,
            "max_payload_bytes": self.max_payload_bytes, "min_pos_points": self.min_pos_points,
            "min_neg_points": self.min_neg_points, "startswith_box": self.startswith_box,
            "startswith_box_optional": self.startswith_box_optional, "help_message": self.help_message,
            "animated_gif": self.animated_gif,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> FunctionSpec:
        """A registry document, checked: every problem is named in a ValidationError's fields."""
        errors: dict[str, list[str]] = {}

        def fail(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        fid = doc.get("id")
        if not isinstance(fid, str) or not FUNCTION_ID.match(fid) or len(fid) > FUNCTION_ID_MAX:
            fail("id", f"Must match {FUNCTION_ID.pattern} and have at most {FUNCTION_ID_MAX} characters.")
        kind = _enum(FunctionKind, doc.get("kind", "detector"), "kind", fail)
        mode = _enum(FunctionMode, doc.get("mode", "serverless"), "mode", fail)
        endpoint = doc.get("endpoint")
        if not isinstance(endpoint, str) or not ENDPOINT_NAME.match(endpoint):
            fail("endpoint", "A SageMaker endpoint name: letters, digits and hyphens, at most 63 characters.")
        labels = doc.get("labels_v2", [])
        if not isinstance(labels, list) or not all(isinstance(x, dict) and isinstance(x.get("name"), str)
                                                    and x["name"] for x in labels):
            fail("labels_v2", "A list of labels, each with a name.")
            labels = []
        else:
            names = [x["name"] for x in labels]
            if len(set(names)) != len(names):
                fail("labels_v2", "Label names must be unique.")
            for label in labels:
                attrs = label.get("attributes", [])
                if not isinstance(attrs, list) or not all(isinstance(a, dict) and isinstance(a.get("name"), str)
                                                          for a in attrs):
                    fail("labels_v2",
                         f"Label {label['name']!r}: attributes must be a list of {{name, input_type, values}}.")
        batch = doc.get("batch_size", DEFAULT_BATCH_SIZE)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= BATCH_SIZE_MAX:
            fail("batch_size", f"An integer from 1 to {BATCH_SIZE_MAX}.")
        payload = doc.get("max_payload_bytes", 0)
        if not isinstance(payload, int) or isinstance(payload, bool) or payload < 0:
            fail("max_payload_bytes", "A non-negative integer (0: the mode's limit).")
        version = doc.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            fail("version", "An integer.")
        name = doc.get("name", fid)
        if not isinstance(name, str) or not name.strip():
            fail("name", "A non-empty string.")
        for flag in ("startswith_box", "startswith_box_optional"):
            if not isinstance(doc.get(flag, False), bool):
                fail(flag, "true or false.")
        for count in ("min_pos_points", "min_neg_points"):
            value = doc.get(count, 1 if count == "min_pos_points" else -1)
            if not isinstance(value, int) or isinstance(value, bool):
                fail(count, "An integer.")
        unknown = set(doc) - _FIELDS
        for key in sorted(unknown):
            fail(key, "Unknown field.")
        if errors:
            raise ValidationError(fields=errors)
        assert kind is not None and mode is not None
        return cls(
            id=str(fid), name=str(name).strip(), kind=kind, mode=mode, endpoint=str(endpoint),
            labels_v2=[_label_in(x) for x in labels], description=str(doc.get("description", "")),
            version=int(version), framework=str(doc.get("framework", "")), batch_size=int(batch),
            max_payload_bytes=int(payload), min_pos_points=int(doc.get("min_pos_points", 1)),
            min_neg_points=int(doc.get("min_neg_points", -1)),
            startswith_box=bool(doc.get("startswith_box", False)),
            startswith_box_optional=bool(doc.get("startswith_box_optional", False)),
            help_message=str(doc.get("help_message", "")), animated_gif=str(doc.get("animated_gif", "")),
        )


_FIELDS = frozenset({
    "id", "name", "kind", "mode", "endpoint", "labels_v2", "description", "version", "framework", "batch_size",
    "max_payload_bytes", "min_pos_points", "min_neg_points", "startswith_box", "startswith_box_optional",
    "help_message", "animated_gif",
})


def _enum(kind: type[StrEnum], value: Any, name: str, fail: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        fail(name, "One of: " + ", ".join(m.value for m in kind) + ".")
        return None


def _label_in(label: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": label["name"], "type": str(label.get("type") or "unknown"),
                           "attributes": [dict(a) for a in label.get("attributes", [])]}
    if label.get("sublabels"):
        out["sublabels"] = [_label_in(s) for s in label["sublabels"]]
    if label.get("svg"):
        out["svg"] = str(label["svg"])
    return out


def _label_out(label: Mapping[str, Any]) -> dict[str, Any]:
    out = {"name": label["name"], "type": label.get("type") or "unknown",
           "attributes": [{"name": a["name"], "input_type": a.get("input_type", "text"),
                           "values": list(a.get("values", []))} for a in label.get("attributes", [])]}
    if label.get("sublabels"):
        out["sublabels"] = [_label_out(s) for s in label["sublabels"]]
    if label.get("svg"):
        out["svg"] = label["svg"]
    return out
