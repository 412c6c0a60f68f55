"""Analytics events through the core API and the writer/export functions (in-memory adapters):
client events logged as CVAT answers them, domain events written by the analytics writer from
SQS, the CSV export (current and deprecated flows) with CVAT's columns, and who may export what."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest

from cvat_serverless.adapters.memory import InMemoryBlobStore
from cvat_serverless.domain import analytics as an
from tests.functional._api_world import Api, api_fixture, sdk_parse  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler

SENT = "2026-03-01T12:00:00.000Z"


def client_events(*scopes: str, **fields: Any) -> dict[str, Any]:
    return {"timestamp": SENT, "previous_event": None,
            "events": [{"scope": s, "timestamp": SENT, "duration": 0, **fields} for s in scopes]}


def run_exports(api: Api) -> None:
    """Run the started events-export executions as the state machine does (Fail on error)."""
    c = api.container
    for workflow, name, payload in list(c.workflows.started):
        if payload.get("_ran") or workflow != "events-export":
            continue
        payload["_ran"] = True
        try:
            c.analytics.run_export(payload["request_id"], name)
        except Exception as exc:
            c.analytics.fail(payload["request_id"], type(exc).__name__,
                             json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}))


def write_domain_events(api: Api) -> None:
    """Hand the published domain events to the analytics writer as the SQS mapping does."""
    published = api.container.events.events  # type: ignore[attr-defined]
    records = [{"messageId": f"m{i}", "receiptHandle": "r", "body": json.dumps(
        {"source": "cvat-serverless", "detail-type": t, "detail": d}), "attributes": {}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
        "awsRegion": "us-east-1"} for i, (t, d) in enumerate(published)]
    load_handler("analytics_writer")({"Records": records}, Context("analytics_writer"))
    published.clear()


def export_csv(api: Api, user: str, **query: str) -> list[dict[str, str]]:
    started = api.call("POST", "/api/events/export", None, as_user=user, query=query)
    assert started.status == 202, started.body
    rq_id = started.body["rq_id"]
    run_exports(api)
    request = api.get(f"/api/requests/{rq_id}", user).body
    assert request["status"] == "finished", request
    path, _, rest = request["result_url"].split("/api/", 1)[1].partition("?")
    answer = api.get("/api/" + path, user, query=dict(parse_qsl(rest)))
    assert answer.status == 302, answer.body
    blobs = api.container.blobs
    assert isinstance(blobs, InMemoryBlobStore)
    data, headers = blobs.http_get(answer.header("Location") or "")
    assert headers["Content-Disposition"].startswith('attachment; filename="logs_') and "gzip" not in str(headers)
    reader = csv.reader(io.StringIO(data.decode()))
    assert tuple(next(reader)) == an.COLUMNS
    return list(csv.DictReader(io.StringIO(data.decode())))


@pytest.fixture
def people(api: Api) -> Api:
    api.user("admin", superuser=True)
    api.user("alice")
    api.user("bob")
    return api


def test_client_events_are_logged_and_echoed_as_cvat_answers(people: Api) -> None:
    api = people
    answer = api.post("/api/events", client_events("load:job", "draw:object", job_id=3,
                                                    payload='{"x": 1}', user_id=999), "alice")
    assert answer.status == 201, answer.body
    sdk_parse("ClientEvents", answer.body)
    events = answer.body["events"]
    assert [e["scope"] for e in events] == ["load:job", "draw:object"]
    assert events[0]["source"] == "client" and events[0]["user_name"] == "alice" and events[0]["user_id"] != 999
    keys = [k for k, _ in api.container.blobs.list_keys("events/")]
    assert keys and all(k.startswith("events/date=") and "/org=none/" in k and k.endswith(".jsonl") for k in keys)


def test_client_events_are_validated(people: Api) -> None:
    api = people
    bad_scope = api.post("/api/events", client_events("create:task"), "alice")
    assert bad_scope.status == 400
    assert bad_scope.body == {"scope": ["Event scope **create:task** is not allowed from client"]}
    bad_payload = api.post("/api/events", client_events("load:job", payload="nope"), "alice")
    assert bad_payload.status == 400 and "payload" in bad_payload.body
    assert api.post("/api/events", {"events": []}, "alice").status == 400  # timestamp is required
    assert api.post("/api/events", client_events("load:job")).status == 401


def test_the_csv_has_the_client_and_the_server_events(people: Api) -> None:
    api = people
    assert api.post("/api/events", client_events("load:job", "change:frame", task_id=1), "alice").status == 201
    tid = api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}]}, "alice").body["id"]
    assert api.patch(f"/api/tasks/{tid}", {"name": "T2"}, "alice").status == 200
    write_domain_events(api)
    write_domain_events(api)  # nothing new: nothing changes
    rows = export_csv(api, "alice")
    scopes = [r["scope"] for r in rows]
    assert {"load:job", "change:frame", "send:working_time", "create:task", "update:task"} <= set(scopes)
    update = next(r for r in rows if r["scope"] == "update:task")
    assert (update["obj_id"], update["task_id"], update["source"], update["user_name"]) == (str(tid), str(tid),
                                                                                          "server", "alice")
    assert rows == sorted(rows, key=lambda r: r["timestamp"])
    only_task = export_csv(api, "alice", task_id=str(tid))
    assert {r["task_id"] for r in only_task} == {str(tid)}


def test_a_redelivered_batch_is_not_counted_twice(people: Api) -> None:
    api = people
    api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}]}, "alice")
    published = list(api.container.events.events)  # type: ignore[attr-defined]
    write_domain_events(api)
    api.container.events.events.extend(published)  # type: ignore[attr-defined]
    write_domain_events(api)  # the same message ids
    assert [r["scope"] for r in export_csv(api, "alice")].count("create:task") == 1


def test_users_export_only_their_own_events_and_admins_all(people: Api) -> None:
    api = people
    api.post("/api/events", client_events("load:job"), "alice")
    api.post("/api/events", client_events("load:job"), "bob")
    assert {r["user_name"] for r in export_csv(api, "alice")} == {"alice"}
    assert {r["user_name"] for r in export_csv(api, "admin")} == {"alice", "bob"}
    bob_id = str(api.repos.users.find_by_username("bob").id)  # type: ignore[union-attr]
    refused = api.call("POST", "/api/events/export", None, as_user="alice", query={"user_id": bob_id})
    assert refused.status == 403 and f"user_id={bob_id}" in json.dumps(refused.body)
    # the download is the exporter's alone
    rq_id = api.call("POST", "/api/events/export", None, as_user="alice").body["rq_id"]
    run_exports(api)
    assert api.get("/api/events/download", "bob", query={"rq_id": rq_id}).status in (403, 404)
    assert api.call("POST", "/api/events/export", None, as_user="alice", query={"location": "cloud_storage"}
                    ).status == 400


def test_org_maintainers_export_their_organization(people: Api) -> None:
    api = people
    api.post("/api/organizations", {"slug": "acme"}, "alice")
    org = {"X-Organization": "acme"}
    inv = api.post("/api/invitations", {"email": "bob@example.com", "role": "worker"}, "alice", headers=org)
    assert api.post(f"/api/invitations/{inv.body['key']}/accept", None, "bob").status == 200
    api.post("/api/events", client_events("load:job"), "alice", headers=org)
    api.post("/api/events", client_events("zoom:image"), "bob", headers=org)
    api.post("/api/events", client_events("fit:image"), "bob")  # outside the organization
    owner_rows = export_csv(api, "alice", org="acme")
    assert {(r["user_name"], r["org_slug"]) for r in owner_rows} == {("alice", "acme"), ("bob", "acme")}
    worker_rows = export_csv(api, "bob", org="acme")
    assert {r["user_name"] for r in worker_rows} == {"bob"} and {r["org_slug"] for r in worker_rows} == {"acme"}
    assert api.call("POST", "/api/events/export", None, as_user="bob", query={"org": "acme", "user_id": "1"}
                    ).status == 403


def test_the_deprecated_get_flow_answers_too(people: Api) -> None:
    api = people
    api.post("/api/events", client_events("load:job"), "alice")
    started = api.get("/api/events", "alice")
    assert started.status == 202 and started.body["query_id"]
    query_id = started.body["query_id"]
    assert api.get("/api/events", "alice", query={"query_id": query_id}).status == 202
    run_exports(api)
    assert api.get("/api/events", "alice", query={"query_id": query_id}).status == 201
    download = api.get("/api/events", "alice", query={"query_id": query_id, "action": "download"})
    assert download.status == 302 and download.header("Location")
    assert api.get("/api/events", "alice", query={"action": "list"}).status == 400


# --- compaction: fewer, larger objects, never a row lost or doubled ------------------------------


def log_batches(api: Api, count: int, user: str = "alice") -> None:
    """``count`` POST /api/events batches (one stored object each), for tasks 1 and 12 in turn."""
    for i in range(count):
        answer = api.post("/api/events", {"timestamp": SENT, "previous_event": None, "events": [
            {"scope": "click:element", "timestamp": f"2026-03-01T11:{50 + i // 60:02d}:{i % 60:02d}.000Z",
             "task_id": 1 if i % 2 else 12, "obj_val": f"e{i}", "duration": 0}]}, user)
        assert answer.status == 201, answer.body


def stored(api: Api) -> tuple[list[str], list[str]]:
    """The event store's batch objects and compacted objects."""
    keys = [k for k, _ in api.container.blobs.list_keys(an.PREFIX)]
    return [k for k in keys if not an.is_compacted(k)], [k for k in keys if an.is_compacted(k)]


def test_an_export_compacts_the_partition_and_the_csv_stays_the_same(people: Api) -> None:
    api = people
    log_batches(api, 12)
    before = export_csv(api, "alice")  # reads 12 batches, then writes them back as one object
    batches, compacted = stored(api)
    assert batches == [] and len(compacted) == 1
    assert export_csv(api, "alice") == before  # column by column, row by row
    assert [r["obj_val"] for r in before if r["scope"] == "click:element"] == [f"e{i}" for i in range(12)]
    for task in ("1", "12"):  # 1 is a prefix of 12: neither export takes the other's rows
        rows = export_csv(api, "alice", task_id=task)
        assert rows == [r for r in before if r["task_id"] == task] and len(rows) == 12


def test_batches_written_while_compacting_and_redelivered_batches_count_once(people: Api) -> None:
    api = people
    service = api.container.analytics
    log_batches(api, 10)
    everything = an.EventFilter(an.EARLIEST, an.EARLIEST + timedelta(days=36500))
    rows, jobs = service._read(everything, compact=True)
    _, racing = service._read(everything, compact=True)  # a second export, from the same manifest
    log_batches(api, 1)  # written after the compaction listed the partition: not in it
    assert len(jobs) == 1 and len(jobs[0].batches) == 10
    service._compact(jobs[0])
    service._compact(racing[0])  # loses the race: its copy is deleted, never read
    assert len(stored(api)[1]) == 1 and len(stored(api)[0]) == 1
    claimed = sorted(jobs[0].batches)[0]
    api.container.blobs.put(claimed, jobs[0].batches[claimed])  # a batch written again (a redelivery)
    assert len(service.query(everything)) == len(rows) + 2  # the late batch: one event and its working time
    log_batches(api, 8)
    _, jobs = service._read(everything, compact=True)
    assert jobs[0].garbage == [claimed]
    service._compact(jobs[0])
    after = service.query(everything)
    assert len(stored(api)[1]) == 2 and stored(api)[0] == []
    assert sorted(r["obj_val"] for r in after if r["obj_val"]) == sorted(f"e{i}" for i in [*range(10), 0, *range(8)])


def test_a_query_reads_again_when_a_compaction_removes_what_it_listed(people: Api,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    api = people
    log_batches(api, 9)
    service = api.container.analytics
    everything = an.EventFilter(an.EARLIEST, an.EARLIEST + timedelta(days=36500))
    expected = service.query(everything)
    _, jobs = service._read(everything, compact=True)
    blobs = api.container.blobs
    get = blobs.get

    def compacted_meanwhile(key: str) -> bytes:
        if jobs:
            service._compact(jobs.pop())  # between this query's listing and its first GET
        return get(key)
    monkeypatch.setattr(blobs, "get", compacted_meanwhile)
    assert service.query(everything) == expected
