"""CVAT's webhooks: what a webhook is, which events each type may subscribe to, who may manage
it, which webhooks an event goes to, the payload and its signature, and when a delivery is
retried. Standard library only.

The wire values (event keys, group names, payload keys, ``X-Signature-256``) are CVAT 2.80's
(``shared/reference/cvat-api/webhooks-events.md``), with the ``server`` type of CVAT's later
``event_type.py`` (admins only: users, organizations created and deleted). cvat-sdk 2.80's
``WebhookType`` knows only ``organization`` and ``project`` and refuses a list holding another,
so a server webhook is listed only when asked for with ``?type=server``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import ValidationError
from .organizations import OrgRole, role_at_least
from .permissions import Actor
from .query import ListSpec

CONTENT_TYPE = "application/json"
USER_AGENT = "CVAT/2.80.0 python-requests/2.32.3"
"""What CVAT's sender says it is (``CVAT/<version> python-requests/<version>``)."""
RESPONSE_LIMIT = 64 * 1024
"""How much of a receiver's answer a delivery keeps (CVAT keeps 1 MiB; a DynamoDB item holds 400 KB)."""
RETRY_DELAYS_S = (5, 30, 120, 300, 900, 900, 900, 900)
"""Seconds before each retry of a failed delivery: 9 attempts over about an hour. SQS delays a
message at most 15 minutes, so CVAT's longer intervals (up to a day) are not copied."""
PING = "ping"

_LIST_FIELDS = ("target_url", "owner", "type", "description", "id", "project_id", "updated_date")
WEBHOOK_LIST = ListSpec(_LIST_FIELDS, ("target_url", "owner", "type", "description"), _LIST_FIELDS,
                        ("target_url", "owner", "type", "project_id"))
"""CVAT's WebhookViewSet filters, search, ordering and simple filters."""
DELIVERY_LIST = ListSpec(("id",), (), ("id",), ())
"""Deliveries: pages only, newest first (ids grow with time)."""


class WebhookType(StrEnum):
    ORGANIZATION = "organization"
    PROJECT = "project"
    SERVER = "server"


_CRUD = ("create", "update", "delete")
_REQUESTS = ("export:annotations", "export:dataset", "export:backup", "create:task", "merge:task", "merge:job",
             "calculate:quality")
_REQUEST_GROUPS = {
    "export:annotations": "Dataset export", "export:dataset": "Dataset export", "export:backup": "Backup export",
    "create:task": "Task data creation", "merge:task": "Consensus merge", "merge:job": "Consensus merge",
    "calculate:quality": "Quality report creation",
}
_COMPLETED = tuple(f"completed:request[{r}]" for r in _REQUESTS)
_PROJECT_EVENTS = (
    *(f"{a}:{r}" for r in ("task", "job", "issue", "comment") for a in _CRUD),
    "update:project", "delete:project", *_COMPLETED,
)
_ORGANIZATION_EVENTS = (
    *(f"{a}:{r}" for r in ("project", "task", "job", "issue", "comment", "membership") for a in _CRUD),
    "update:organization", "create:invitation", "delete:invitation", *_COMPLETED,
)
_SERVER_EVENTS = (*(f"{a}:user" for a in _CRUD), "create:organization", "delete:organization")
EVENTS: dict[WebhookType, tuple[str, ...]] = {
    WebhookType.PROJECT: tuple(sorted(_PROJECT_EVENTS)),
    WebhookType.ORGANIZATION: tuple(sorted(_ORGANIZATION_EVENTS)),
    WebhookType.SERVER: tuple(sorted(_SERVER_EVENTS)),
}
"""The event keys each webhook type may subscribe to (CVAT's ``event_type.py``)."""


def event_group(key: str) -> str:
    """CVAT's display group of an event key ("Task", "Dataset export"...)."""
    if key.startswith("completed:request["):
        return _REQUEST_GROUPS[key[len("completed:request["):-1]]
    return key.split(":", 1)[1].capitalize()


def events_for(kind: str) -> tuple[str, ...]:
    """Every key for ``kind`` (``all``: the union), for ``GET /api/webhooks/events``."""
    if kind == "all":
        return tuple(sorted({e for events in EVENTS.values() for e in events}))
    try:
        return EVENTS[WebhookType(kind)]
    except ValueError:
        raise ValidationError("Incorrect value of type parameter") from None


def validate_events(kind: WebhookType, events: list[str]) -> list[str]:
    """The subscribed keys, sorted and unique, or CVAT's 400 when one is not for ``kind``."""
    allowed = set(EVENTS[kind])
    if not events or any(e not in allowed for e in events):
        raise ValidationError(fields={"events": [f"Invalid events list for {kind.value} webhook"]})
    return sorted(set(events))


def validate_text(target_url: str, description: str, secret: str) -> None:
    problems: dict[str, list[str]] = {}
    if not target_url or len(target_url) > 8192:
        problems["target_url"] = ["Ensure this field has 1 to 8192 characters."]
    if len(description) > 128:
        problems["description"] = ["Ensure this field has no more than 128 characters."]
    if len(secret) > 64:
        problems["secret"] = ["Ensure this field has no more than 64 characters."]
    if problems:
        raise ValidationError(fields=problems)


@dataclass(slots=True)
class Webhook:
    id: int
    target_url: str
    type: WebhookType
    events: list[str]
    owner_id: int | None
    organization_id: int | None = None
    project_id: int | None = None
    description: str = ""
    content_type: str = CONTENT_TYPE
    secret: str = ""  # write-only: never shown
    is_active: bool = True
    enable_ssl: bool = True
    last_status: int | None = None
    last_delivery_date: datetime | None = None
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


@dataclass(slots=True)
class WebhookDelivery:
    """One attempt to POST a payload to a webhook's target (CVAT's ``WebhookDelivery``)."""

    id: int
    webhook_id: int
    event: str
    status_code: int | None
    redelivery: bool
    attempt: int
    request_duration: int | None  # milliseconds
    request: dict[str, Any] = field(default_factory=dict)  # the exact payload POSTed
    response: str = ""
    changed_fields: str = ""
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


# --- who may do what (CVAT's webhooks.rego) ---------------------------------------------------


def may_manage(actor: Actor, webhook: Webhook, project_owner_id: int | None) -> bool:
    """View, update, delete, ping, see deliveries: admins; an organization's maintainers and
    owner for its webhooks; the webhook's owner and its project's owner."""
    if actor.is_admin:
        return True
    if webhook.type is WebhookType.SERVER:
        return False
    org_id = webhook.organization_id
    if org_id is not None and role_at_least(actor.role_in(org_id), OrgRole.MAINTAINER):
        return True
    return actor.user_id in (webhook.owner_id, project_owner_id) and (
        webhook.type is WebhookType.PROJECT or webhook.organization_id is None
    )


def may_create(actor: Actor, kind: WebhookType, organization_id: int | None, project_owner_id: int | None) -> bool:
    """Server webhooks: admins; organization webhooks: the organization's maintainers and owner;
    project webhooks: also the project's owner."""
    if actor.is_admin:
        return True
    if kind is WebhookType.SERVER:
        return False
    if organization_id is not None and role_at_least(actor.role_in(organization_id), OrgRole.MAINTAINER):
        return True
    return kind is WebhookType.PROJECT and project_owner_id == actor.user_id


# --- which webhooks an event goes to, and what they receive --------------------------------------


def is_server_event(event: str) -> bool:
    """Whether server webhooks may get ``event`` (only then are they looked up)."""
    return event in _SERVER_EVENTS


def subscribed(webhook: Webhook, event: str, organization_id: int | None, project_id: int | None) -> bool:
    """Whether ``webhook`` gets ``event`` about an object of that organization and project: active,
    subscribed, and a server webhook, an organization webhook of the object's organization or a
    project webhook of its project."""
    if not webhook.is_active or event not in webhook.events:
        return False
    if webhook.type is WebhookType.SERVER:
        return True
    if webhook.type is WebhookType.ORGANIZATION:
        return organization_id is not None and webhook.organization_id == organization_id
    return project_id is not None and webhook.project_id == project_id


_HIDDEN = frozenset({"password_hash", "secret", "key", "token"})


def _scrubbed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _scrubbed(v) for k, v in value.items() if k not in _HIDDEN}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def event_payload(detail: Mapping[str, Any], webhook_id: int, sender: Mapping[str, Any] | None, *,
                  shown: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """CVAT's payload for a domain event's ``detail`` (domain.events): ``event``, the object under
    its resource name (``shown``: as the API's GET shows it; without it, the event's own JSON
    less secrets), ``before_update`` for updates that changed something, ``webhook_id``,
    ``sender``."""
    resource = str(detail["resource"])
    obj = dict(shown) if shown is not None else _scrubbed(detail.get(resource))
    payload: dict[str, Any] = {"event": detail["event"], resource: obj}
    before = detail.get("before_update")
    if str(detail["event"]).startswith("update:") and before:
        payload["before_update"] = _scrubbed(before)
    payload["webhook_id"] = webhook_id
    payload["sender"] = dict(sender) if sender is not None else None
    return payload


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The bytes POSTed and signed: ``json.dumps`` with Python's defaults, as CVAT sends them."""
    return json.dumps(payload).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` header value: ``sha256=`` and the HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def request_headers(secret: str, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    if secret:
        headers["X-Signature-256"] = signature(secret, body)
    return headers


def is_retryable(status_code: int) -> bool:
    """Worth another attempt: 5xx (with the 502/504 that stand for connection failures and
    timeouts), 408 and 429."""
    return status_code >= 500 or status_code in (408, 429)


def retry_delay(attempt: int) -> int | None:
    """Seconds before the attempt after ``attempt`` (1 = the first), or None: no more tries."""
    return RETRY_DELAYS_S[attempt - 1] if 1 <= attempt <= len(RETRY_DELAYS_S) else None
