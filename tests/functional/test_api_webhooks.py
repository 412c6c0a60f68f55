"""/api/webhooks through the webhooks API function's handler, over in-memory adapters: CRUD as
cvat-sdk 2.80 reads it, CVAT's permissions, the SSRF guard at save time, ping, deliveries and
redelivery, and the fan-out of a domain event into delivery jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cvat_serverless import bootstrap
from cvat_serverless.domain.webhooks import signature
from tests.functional._api_world import Api, sdk_parse
from tests.functional.conftest import load_handler
from tests.functional.test_api_tasks import attach
from tests.memory_world import TEST_SETTINGS, memory_container


@pytest.fixture(name="world")
def world_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Api]]:
    """The same container behind the core API (projects, organizations) and the webhooks API."""
    for key, value in TEST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    bootstrap.reset()
    container = memory_container()
    monkeypatch.setattr(bootstrap, "container", lambda: container)
    core = Api(container, load_handler("core_api"))
    hooks = Api(container, load_handler("webhooks_api"), keys=core.keys)
    yield core, hooks
    bootstrap.reset()


def _hook(**kw: Any) -> dict[str, Any]:
    return {"target_url": "https://hooks.example.com/in", "type": "project", "events": ["update:task"],
            "secret": "mykey", **kw}


def test_project_webhook_crud_as_the_sdk_reads_it(world):
    core, api = world
    core.user("alice"), core.user("bob")
    pid = core.post("/api/projects", {"name": "P"}, "alice").body["id"]
    created = api.post("/api/webhooks", _hook(project_id=pid, events=["update:task", "create:task"],
                                              description="mine"), "alice")
    assert created.status == 201, created.body
    body = created.body
    sdk_parse("WebhookRead", body)
    assert "secret" not in body and "last_status" not in body and "last_delivery_date" not in body
    assert body["events"] == ["create:task", "update:task"] and body["project_id"] == pid
    assert body["owner"]["username"] == "alice" and body["url"].endswith(f"/api/webhooks/{body['id']}")
    wid = body["id"]
    # others neither see nor change it
    assert api.get(f"/api/webhooks/{wid}", "bob").status == 403
    assert api.get("/api/webhooks", "bob").body["count"] == 0
    assert api.post("/api/webhooks", _hook(project_id=pid), "bob").status == 403
    listed = api.get("/api/webhooks", "alice", query={"type": "project", "sort": "id"})
    sdk_parse("PaginatedWebhookReadList", listed.body)
    assert [w["id"] for w in listed.body["results"]] == [wid]
    patched = api.patch(f"/api/webhooks/{wid}", {"is_active": False, "events": ["delete:task"]}, "alice")
    assert patched.status == 200 and patched.body["is_active"] is False and patched.body["events"] == ["delete:task"]
    assert api.patch(f"/api/webhooks/{wid}", {"events": ["create:project"]}, "alice").status == 400
    put = api.call("PUT", f"/api/webhooks/{wid}", _hook(project_id=pid + 1, target_url="https://new.example.com/"),
                   as_user="alice")
    assert put.status == 200 and put.body["target_url"] == "https://new.example.com/"
    assert put.body["is_active"] is True and put.body["project_id"] == pid  # defaults again; project write-once
    assert api.delete(f"/api/webhooks/{wid}", "bob").status == 403
    assert api.delete(f"/api/webhooks/{wid}", "alice").status == 204
    assert api.get(f"/api/webhooks/{wid}", "alice").status == 404


def test_organization_webhooks_are_for_maintainers(world):
    core, api = world
    core.user("alice"), core.user("bob"), core.user("carol")
    core.post("/api/organizations", {"slug": "acme"}, "alice")
    org = {"X-Organization": "acme"}
    for who, role in (("bob", "worker"), ("carol", "maintainer")):
        key = core.post("/api/invitations", {"email": f"{who}@example.com", "role": role}, "alice",
                        headers=org).body["key"]
        assert core.post(f"/api/invitations/{key}/accept", None, who).status == 200
    hook = _hook(type="organization", events=["create:project", "update:organization"])
    assert api.post("/api/webhooks", hook, "bob", headers=org).status == 403
    assert api.post("/api/webhooks", hook, "alice").status == 400  # no organization context
    made = api.post("/api/webhooks", hook, "carol", headers=org)
    assert made.status == 201 and made.body["organization"] is not None
    assert api.get(f"/api/webhooks/{made.body['id']}", "alice").status == 200
    assert api.get(f"/api/webhooks/{made.body['id']}", "bob").status == 403
    assert api.get("/api/webhooks", "alice", headers=org).body["count"] == 1
    assert api.get("/api/webhooks", "bob", headers=org).body["count"] == 0
    invalid = api.post("/api/webhooks", _hook(type="organization", events=["create:user"]), "carol", headers=org)
    assert invalid.status == 400 and invalid.body == {"events": ["Invalid events list for organization webhook"]}


def test_event_lists_per_type(world):
    core, api = world
    core.user("alice")
    project = api.get("/api/webhooks/events", "alice", query={"type": "project"})
    assert project.status == 200
    sdk_parse("Events", project.body)
    keys = [e["key"] for e in project.body["events"]]
    assert "create:task" in keys and "create:project" not in keys and "update:project" in keys
    org = api.get("/api/webhooks/events", "alice", query={"type": "organization"}).body
    assert {"key": "create:invitation", "group": {"display_name": "Invitation"}} in org["events"]
    assert api.get("/api/webhooks/events", "alice", query={"type": "nope"}).status == 400


@pytest.mark.parametrize("target", [
    "http://10.0.0.5/hook", "http://192.168.1.1/", "http://[fd12::1]/", "http://169.254.169.254/latest",
    "http://[fd00:ec2::254]/", "http://169.254.10.1/", "http://[fe80::1]/", "http://224.0.0.1/",
    "http://[ff02::1]/", "http://127.0.0.1:8080/", "http://[::1]/", "ftp://example.com/",
    "http://internal.example.com/",
])
def test_targets_outside_public_space_are_refused_at_save_time(world, target):
    core, api = world
    core.user("alice")
    api.container.webhook_sender.dns["internal.example.com"] = ["10.1.2.3"]
    pid = core.post("/api/projects", {"name": "P"}, "alice").body["id"]
    answer = api.post("/api/webhooks", _hook(project_id=pid, target_url=target), "alice")
    assert answer.status == 400 and "target_url" in answer.body, answer.body


def test_ping_deliveries_and_redelivery(world):
    core, api = world
    core.user("alice"), core.user("bob")
    pid = core.post("/api/projects", {"name": "P"}, "alice").body["id"]
    wid = api.post("/api/webhooks", _hook(project_id=pid), "alice").body["id"]
    sender = api.container.webhook_sender
    ping = api.post(f"/api/webhooks/{wid}/ping", None, "alice")
    assert ping.status == 200, ping.body
    sdk_parse("WebhookDeliveryRead", ping.body)
    assert ping.body["event"] == "ping" and ping.body["status_code"] == 200
    _url, body, headers = sender.posts[-1]
    assert headers["X-Signature-256"] == signature("mykey", body) and headers["Content-Type"] == "application/json"
    assert json.loads(body)["webhook"]["id"] == wid and json.loads(body)["sender"]["username"] == "alice"
    assert api.post(f"/api/webhooks/{wid}/ping", None, "bob").status == 403
    shown = api.get(f"/api/webhooks/{wid}", "alice").body
    assert shown["last_status"] == 200 and "last_delivery_date" in shown
    deliveries = api.get(f"/api/webhooks/{wid}/deliveries", "alice")
    sdk_parse("PaginatedWebhookDeliveryReadList", deliveries.body)
    did = deliveries.body["results"][0]["id"]
    assert api.get(f"/api/webhooks/{wid}/deliveries/{did}", "alice").body["request"] == json.loads(body)
    assert api.get(f"/api/webhooks/{wid}/deliveries/999", "alice").status == 404
    again = api.post(f"/api/webhooks/{wid}/deliveries/{did}/redelivery", None, "alice")
    assert again.status == 200 and again.body == {}
    [(job, delay)] = api.container.webhook_queue.take()
    assert job["redelivery"] is True and job["payload"] == json.loads(body) and delay == 0


def test_a_task_change_is_fanned_out_signed_and_retried(world):
    core, api = world
    core.user("alice")
    c = api.container
    pid = core.post("/api/projects", {"name": "P", "labels": [{"name": "car"}]}, "alice").body["id"]
    wid = api.post("/api/webhooks", _hook(project_id=pid), "alice").body["id"]
    other = api.post("/api/webhooks", _hook(project_id=pid, events=["delete:task"]), "alice").body["id"]
    tid = core.post("/api/tasks", {"name": "T", "project_id": pid}, "alice").body["id"]
    assert core.patch(f"/api/tasks/{tid}", {"name": "T2"}, "alice").status == 200
    [detail] = c.events.of("update:task")
    assert c.webhook_dispatcher.fan_out(detail) == 1
    [(job, _)] = c.webhook_queue.take()
    assert job["webhook_id"] == wid != other
    payload = job["payload"]
    assert payload["event"] == "update:task" and payload["task"]["name"] == "T2"
    assert payload["before_update"] == {"name": "T"} and payload["webhook_id"] == wid
    # a failing receiver: recorded, retried later with a delay; a success ends it
    c.webhook_sender.answers = [503, 200]
    first = c.webhook_dispatcher.deliver(job)
    assert first is not None and first.status_code == 503 and first.changed_fields == "name"
    [(retry, delay)] = c.webhook_queue.take()
    assert retry["attempt"] == 2 and delay == 5
    second = c.webhook_dispatcher.deliver(retry)
    assert second is not None and second.status_code == 200 and second.attempt == 2
    assert c.webhook_queue.take() == []
    _, body, headers = c.webhook_sender.posts[-1]
    assert headers["X-Signature-256"] == signature("mykey", body) and json.loads(body) == payload
    assert api.get(f"/api/webhooks/{wid}", "alice").body["last_status"] == 200


def _sent(c: Any, event: str) -> dict[str, Any]:
    """The payload the last ``event`` sends to the one webhook subscribed to it."""
    detail = c.events.of(event)[-1]
    assert c.webhook_dispatcher.fan_out(detail) == 1
    [(job, _)] = c.webhook_queue.take()
    return job["payload"]


def test_payloads_show_the_object_as_its_get_endpoint_does(world):
    core, api = world
    alice = core.user("alice")
    c = api.container
    acme = {"headers": {"X-Organization": "acme"}}
    assert core.post("/api/organizations", {"slug": "acme", "name": "Acme"}, "alice").status == 201
    events = ["create:project", "update:task", "update:job", "create:issue"]
    assert api.post("/api/webhooks", _hook(type="organization", events=events), "alice", **acme).status == 201

    pid = core.post("/api/projects", {"name": "P", "labels": [{"name": "car"}]}, "alice", **acme).body["id"]
    sent = _sent(c, "create:project")
    project = core.get(f"/api/projects/{pid}", "alice").body
    assert sent["project"] == project and project["url"].startswith("http")
    # the sender is the actor as a BasicUser, with an absolute url (the same as the owner's)
    assert sent["sender"] == project["owner"] and sent["sender"]["url"].endswith(f"/api/users/{alice.id}")
    assert sent["sender"]["url"].startswith("http")

    tid = core.post("/api/tasks", {"name": "T", "project_id": pid, "segment_size": 4}, "alice", **acme).body["id"]
    attach(core, tid, frames=8)
    assert core.patch(f"/api/tasks/{tid}", {"name": "T2", "assignee_id": alice.id}, "alice").status == 200
    sent = _sent(c, "update:task")
    task = core.get(f"/api/tasks/{tid}", "alice").body
    assert sent["task"] == task and task["jobs"]["count"] == 2 and task["assignee"]["username"] == "alice"
    assert sent["before_update"] == {"name": "T", "assignee_id": None, "assignee_updated_date": None}

    job_id = core.get("/api/jobs", "alice", query={"task_id": str(tid)}).body["results"][0]["id"]
    assert core.patch(f"/api/jobs/{job_id}", {"stage": "validation"}, "alice").status == 200
    sent = _sent(c, "update:job")
    job = core.get(f"/api/jobs/{job_id}", "alice").body
    assert sent["job"] == job and job["stage"] == "validation" and job["project_name"] == "P"
    assert sent["before_update"]["stage"] == "annotation"

    created = core.post("/api/issues", {"job": job_id, "frame": job["start_frame"], "position": [1.0, 2.0, 3.0, 4.0],
                                        "message": "m"}, "alice")
    assert created.status == 201, created.body
    issue = created.body
    sent = _sent(c, "create:issue")
    assert sent["issue"] == core.get(f"/api/issues/{issue['id']}", "alice").body
    assert sent["sender"] == project["owner"]


def test_events_made_without_a_request_use_the_public_url(world):
    core, api = world
    alice = core.user("alice")
    c = api.container
    pid = core.post("/api/projects", {"name": "P"}, "alice").body["id"]
    api.post("/api/webhooks", _hook(project_id=pid, events=["update:task"]), "alice")
    tid = core.post("/api/tasks", {"name": "T", "project_id": pid}, "alice").body["id"]
    attach(core, tid, frames=4)  # the media pipeline's update: no request, no actor
    c.webhook_dispatcher.public_url = "https://cvat.example.com"
    sent = _sent(c, "update:task")
    assert sent["task"]["url"] == f"https://cvat.example.com/api/tasks/{tid}" and sent["sender"] is None
    assert sent["task"]["owner"]["url"] == f"https://cvat.example.com/api/users/{alice.id}"
    # an event queued before events carried the actor: the sender is read by id
    assert core.patch(f"/api/tasks/{tid}", {"name": "T2"}, "alice").status == 200
    detail = {k: v for k, v in c.events.of("update:task")[-1].items() if k not in ("actor", "origin")}
    assert c.webhook_dispatcher.fan_out(detail) == 1
    [(job, _)] = c.webhook_queue.take()
    assert job["payload"]["sender"] == {"url": f"https://cvat.example.com/api/users/{alice.id}", "id": alice.id,
                                        "username": "alice", "first_name": alice.first_name,
                                        "last_name": alice.last_name}


def test_server_webhooks_are_for_admins_and_hear_of_new_users(world):
    core, api = world
    core.user("root", superuser=True), core.user("alice")
    c = api.container
    hook = _hook(type="server", events=["create:user", "update:user", "delete:organization"])
    assert api.post("/api/webhooks", hook, "alice").status == 403
    assert api.post("/api/webhooks", {**hook, "events": ["update:task"]}, "root").status == 400
    created = api.post("/api/webhooks", hook, "root")
    assert created.status == 201 and created.body["type"] == "server" and created.body["project_id"] is None
    wid = created.body["id"]
    assert api.get(f"/api/webhooks/{wid}", "alice").status == 403
    # cvat-sdk 2.80 cannot read a list holding a server webhook: only ?type=server lists them
    assert wid not in [w["id"] for w in api.get("/api/webhooks", "root").body["results"]]
    sdk_parse("PaginatedWebhookReadList", api.get("/api/webhooks", "root").body)
    assert [w["id"] for w in api.get("/api/webhooks", "root", query={"type": "server"}).body["results"]] == [wid]
    assert api.get("/api/webhooks", "alice", query={"type": "server"}).body["count"] == 0
    server_events = api.get("/api/webhooks/events", "root", query={"type": "server"}).body["events"]
    assert {e["key"] for e in server_events} == {"create:user", "update:user", "delete:user",
                                                 "create:organization", "delete:organization"}

    registered = core.post("/api/auth/register", {"username": "newbie", "email": "newbie@example.com",
                                                  "password1": "Strong-pass-123", "password2": "Strong-pass-123"},
                           None)
    assert registered.status == 201, registered.body
    payload = _sent(c, "create:user")
    assert payload["event"] == "create:user" and payload["user"]["username"] == "newbie"
    assert "password_hash" not in payload["user"] and payload["sender"]["username"] == "newbie"
    # a project's event does not reach it
    pid = core.post("/api/projects", {"name": "P"}, "alice").body["id"]
    assert c.webhook_dispatcher.fan_out(c.events.of("create:project")[-1]) == 0 and pid


def test_a_deleted_projects_and_organizations_webhooks_go_with_them(world):
    core, api = world
    core.user("alice")
    c = api.container
    acme = {"headers": {"X-Organization": "acme"}}
    assert core.post("/api/organizations", {"slug": "acme"}, "alice").status == 201
    org_hook = api.post("/api/webhooks", _hook(type="organization", events=["delete:project"]), "alice",
                        **acme).body["id"]
    pid = core.post("/api/projects", {"name": "P"}, "alice", **acme).body["id"]
    project_hook = api.post("/api/webhooks", _hook(project_id=pid, events=["delete:project"]), "alice",
                            **acme).body["id"]
    keep_pid = core.post("/api/projects", {"name": "Q"}, "alice", **acme).body["id"]
    kept = api.post("/api/webhooks", _hook(project_id=keep_pid), "alice", **acme).body["id"]
    assert core.delete(f"/api/projects/{pid}", "alice", **acme).status == 204
    envelope = {"detail-type": "delete:project", "detail": c.events.of("delete:project")[-1]}
    assert "1 webhook(s) of a deleted owner deleted" in c.webhook_dispatcher.handle(envelope)
    jobs = [job for job, _ in c.webhook_queue.take()]
    assert sorted(j["webhook_id"] for j in jobs) == [org_hook, project_hook]  # both heard of it
    assert api.get(f"/api/webhooks/{project_hook}", "alice", **acme).status == 404
    assert [c.webhook_dispatcher.deliver(j) is None for j in sorted(jobs, key=lambda j: j["webhook_id"])] == [
        False, True]  # the project's own job finds its webhook gone
    assert api.get(f"/api/webhooks/{kept}", "alice", **acme).status == 200
    assert core.delete("/api/organizations/1", "alice").status == 204
    envelope = {"detail-type": "delete:organization", "detail": c.events.of("delete:organization")[-1]}
    c.webhook_dispatcher.handle(envelope)
    assert api.get(f"/api/webhooks/{org_hook}", "alice").status == 404
