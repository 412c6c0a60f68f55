"""Webhooks in the domain: event lists, matching, payloads, the signature, retries, permissions."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.organizations import OrgRole
from cvat_serverless.domain.permissions import Actor
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.domain.webhooks import (
    EVENTS,
    Webhook,
    WebhookType,
    body_of,
    event_group,
    event_payload,
    events_for,
    is_retryable,
    may_create,
    may_manage,
    request_headers,
    retry_delay,
    signature,
    subscribed,
    validate_events,
)


def _hook(**kw) -> Webhook:
    base = {"id": 7, "target_url": "https://h.example.com/", "type": WebhookType.PROJECT,
            "events": ["update:task"], "owner_id": 1, "project_id": 3}
    return Webhook(**{**base, **kw})


def test_signature_is_cvats():
    assert signature("mykey", b"") == "sha256=e1b24265bf2e0b20c81837993b4f1415f7b68c503114d100a40601eca6a2745f"
    body = body_of({"event": "ping", "x": "é"})
    assert body == json.dumps({"event": "ping", "x": "é"}).encode()  # Python's defaults, ASCII escapes
    expected = hmac.new(b"s", body, hashlib.sha256).hexdigest()
    assert request_headers("s", body)["X-Signature-256"] == f"sha256={expected}"
    assert "X-Signature-256" not in request_headers("", body)
    assert request_headers("", body)["User-Agent"].startswith("CVAT/")


def test_event_lists_match_the_sdk_enum():
    assert "create:project" not in EVENTS[WebhookType.PROJECT]
    assert "create:project" in EVENTS[WebhookType.ORGANIZATION]
    assert "completed:request[export:dataset]" in EVENTS[WebhookType.PROJECT]
    assert set(events_for("all")) == set(EVENTS[WebhookType.PROJECT]) | set(EVENTS[WebhookType.ORGANIZATION])
    assert event_group("completed:request[export:annotations]") == "Dataset export"
    assert event_group("create:membership") == "Membership"
    with pytest.raises(ValidationError):
        events_for("server")
    assert validate_events(WebhookType.PROJECT, ["update:task", "create:task", "update:task"]) == [
        "create:task", "update:task"]
    with pytest.raises(ValidationError):
        validate_events(WebhookType.PROJECT, ["create:organization"])
    with pytest.raises(ValidationError):
        validate_events(WebhookType.PROJECT, [])


def test_matching():
    project_hook = _hook()
    org_hook = _hook(id=8, type=WebhookType.ORGANIZATION, project_id=None, organization_id=5,
                     events=["update:task", "create:project"])
    assert subscribed(project_hook, "update:task", None, 3)
    assert not subscribed(project_hook, "update:task", None, 4)  # another project
    assert not subscribed(project_hook, "delete:task", None, 3)  # not subscribed
    assert not subscribed(_hook(is_active=False), "update:task", None, 3)
    assert subscribed(org_hook, "update:task", 5, 3)
    assert not subscribed(org_hook, "update:task", 6, 3)
    assert not subscribed(org_hook, "update:task", None, None)


def test_payload_shapes():
    detail = {"event": "update:task", "resource": "task", "id": 4, "task": {"id": 4, "name": "b"},
              "before_update": {"name": "a"}, "project_id": 3}
    sender = {"url": "/api/users/1", "id": 1, "username": "u", "first_name": "", "last_name": ""}
    payload = event_payload(detail, 7, sender)
    assert payload == {"event": "update:task", "task": {"id": 4, "name": "b"}, "before_update": {"name": "a"},
                       "webhook_id": 7, "sender": sender}
    created = event_payload({**detail, "event": "create:task", "before_update": {}}, 7, None)
    assert "before_update" not in created
    unchanged = event_payload({**detail, "before_update": {}}, 7, None)
    assert "before_update" not in unchanged
    scrubbed = event_payload({"event": "create:membership", "resource": "membership",
                              "membership": {"user": {"password_hash": "x", "id": 2}}}, 1, None)
    assert scrubbed["membership"] == {"user": {"id": 2}}


def test_retries():
    assert all(is_retryable(s) for s in (500, 502, 503, 504, 408, 429))
    assert not any(is_retryable(s) for s in (200, 204, 301, 400, 404))
    assert retry_delay(1) == 5 and retry_delay(8) == 900 and retry_delay(9) is None


def test_permissions():
    admin = Actor(9, SystemRole.ADMIN)
    owner = Actor(1, SystemRole.USER)
    other = Actor(2, SystemRole.USER)
    maintainer = Actor(3, SystemRole.USER, {5: OrgRole.MAINTAINER})
    worker = Actor(4, SystemRole.USER, {5: OrgRole.WORKER})
    org_hook = _hook(type=WebhookType.ORGANIZATION, project_id=None, organization_id=5, owner_id=3)
    assert may_manage(admin, org_hook, None) and may_manage(maintainer, org_hook, None)
    assert not may_manage(worker, org_hook, None) and not may_manage(other, org_hook, None)
    project_hook = _hook(owner_id=1)
    assert may_manage(owner, project_hook, 1) and not may_manage(other, project_hook, 1)
    assert may_manage(other, _hook(owner_id=3), 2)  # the project's owner
    assert may_create(owner, WebhookType.PROJECT, None, 1)
    assert not may_create(other, WebhookType.PROJECT, None, 1)
    assert not may_create(worker, WebhookType.ORGANIZATION, 5, None)
    assert may_create(maintainer, WebhookType.ORGANIZATION, 5, None)
