"""Webhooks in the domain: event lists, matching, payloads, the signature, retries, permissions."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.events import DomainEvent, from_plain, to_plain
from cvat_serverless.domain.jobs import JobStatus
from cvat_serverless.domain.organizations import Organization, OrgRole
from cvat_serverless.domain.permissions import Actor
from cvat_serverless.domain.storage import Location, Storage
from cvat_serverless.domain.tasks import MediaType, Task
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
    assert set(events_for("all")) == (set(EVENTS[WebhookType.PROJECT]) | set(EVENTS[WebhookType.ORGANIZATION])
                                      | set(EVENTS[WebhookType.SERVER]))
    assert set(events_for("server")) == {"create:user", "update:user", "delete:user", "create:organization",
                                         "delete:organization"}
    assert event_group("completed:request[export:annotations]") == "Dataset export"
    assert event_group("create:membership") == "Membership"
    assert event_group("delete:user") == "User"
    with pytest.raises(ValidationError):
        events_for("nope")
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
    # the object as the API shows it replaces the event's own JSON; before_update stays the event's
    shown = {"url": "https://cvat.example.com/api/tasks/4", "id": 4, "name": "b"}
    rendered = event_payload(detail, 7, sender, shown=shown)
    assert rendered["task"] == shown and rendered["before_update"] == {"name": "a"}


def test_an_event_object_comes_back_from_its_json():
    task = Task(id=4, name="t", owner_id=1, status=JobStatus.VALIDATION, media_type=MediaType.IMAGE,
                source_storage=Storage(2, Location.CLOUD_STORAGE, 5), created_date=datetime(2026, 1, 2, tzinfo=UTC))
    plain = json.loads(json.dumps(to_plain(task)))
    assert from_plain(Task, {**plain, "unknown": 1}) == task
    org = Organization(id=1, slug="o", name="O", owner_id=1, contact={"email": "a@b.c"})
    assert from_plain(Organization, json.loads(json.dumps(to_plain(org)))) == org


def test_a_request_event_carries_its_origin_and_actor():
    event = DomainEvent(scope="update:task", resource="task", resource_id=4, actor_id=1, request_id="r",
                        timestamp=datetime(2026, 1, 2, tzinfo=UTC), origin="https://h",
                        actor={"id": 1, "username": "u", "first_name": "", "last_name": ""})
    detail = event.detail()
    assert detail["origin"] == "https://h" and detail["actor"]["username"] == "u"
    worker = DomainEvent(scope="update:task", resource="task", resource_id=4, actor_id=None, request_id="",
                         timestamp=datetime(2026, 1, 2, tzinfo=UTC)).detail()
    assert "origin" not in worker and "actor" not in worker


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
