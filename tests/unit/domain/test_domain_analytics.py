"""Analytics events: client rows (clock skew, refusals), domain rows, partitions, working time,
the export's filter and who may export what."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cvat_serverless.domain import analytics as an
from cvat_serverless.domain.errors import PermissionDeniedError, ValidationError
from cvat_serverless.domain.organizations import OrgRole
from cvat_serverless.domain.permissions import Actor
from cvat_serverless.domain.users import SystemRole

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
WHO = an.Who(7, "alice", "alice@example.com", 3, "acme")


def event(scope: str = "load:job", at: datetime = T0, **extra: object) -> dict[str, object]:
    return {"scope": scope, "timestamp": at, **extra}


def test_client_rows_correct_the_clock_and_fill_the_server_fields() -> None:
    rows = an.client_rows([event(job_id=4, payload='{"a": 1}', user_id=99, source="x", org_id=1)],
                          sent_at=T0, received_at=T0 + timedelta(seconds=5), who=WHO)
    assert list(rows[0]) == list(an.COLUMNS)
    r = rows[0]
    assert r["timestamp"] == "2026-03-01T12:00:05.000Z"
    assert (r["source"], r["user_id"], r["user_name"], r["user_email"], r["org_id"], r["org_slug"]) == \
        ("client", 7, "alice", "alice@example.com", 3, "acme")
    assert r["job_id"] == 4 and r["duration"] == 0 and json.loads(r["payload"]) == {"a": 1}


def test_client_rows_refuse_server_scopes_and_bad_payloads() -> None:
    with pytest.raises(ValidationError) as refused:
        an.client_rows([event("create:task")], T0, T0, WHO)
    assert refused.value.fields == {"scope": ["Event scope **create:task** is not allowed from client"]}
    with pytest.raises(ValidationError) as bad:
        an.client_rows([event(payload="{not json")], T0, T0, WHO)
    assert bad.value.fields == {"payload": ["JSON payload is not valid in passed event"]}


def test_rows_are_partitioned_by_day_and_organization() -> None:
    rows = [an.row(scope="a", timestamp="2026-03-01T23:59:59.999Z", org_id=3),
            an.row(scope="b", timestamp="2026-03-02T00:00:00.000Z", org_id=None),
            an.row(scope="c", timestamp="2026-03-01T01:00:00.000Z", org_id=3)]
    groups = an.group_by_partition(rows, "b1")
    assert {k: [r["scope"] for r in v] for k, v in groups.items()} == {
        "events/date=2026-03-01/org=3/b1.jsonl": ["a", "c"],
        "events/date=2026-03-02/org=none/b1.jsonl": ["b"],
    }
    assert an.from_jsonl(an.to_jsonl(rows)) == rows


def test_working_time_counts_short_gaps_and_frame_changes() -> None:
    rows = an.client_rows([
        event("load:job", T0, job_id=1, task_id=2),
        event("change:frame", T0 + timedelta(seconds=10), job_id=1, task_id=2, duration=5000),
        event("draw:object", T0 + timedelta(seconds=20), job_id=1, task_id=2),  # 5 s after the frame change
        event("draw:object", T0 + timedelta(seconds=200), job_id=1, task_id=2),  # a pause: not work
        event("load:job", T0, job_id=9, task_id=2),
    ], T0, T0, WHO)
    previous = an.row(scope="click:element", timestamp=an.iso(T0 - timedelta(seconds=30)))
    worked = {r["job_id"]: r for r in an.working_time_rows(rows, previous, WHO)}
    assert worked[1]["duration"] == 30_000 + 10_000 + 5_000
    assert json.loads(worked[1]["payload"]) == {"working_time": 45_000}
    assert worked[1]["scope"] == "send:working_time" and worked[1]["count"] == 1 and worked[1]["user_id"] == 7
    assert worked[9]["duration"] == 30_000


def test_domain_rows_name_the_object_and_the_actor() -> None:
    detail = {"event": "update:task", "resource": "task", "id": 5, "actor_id": 7, "request_id": "r1",
              "timestamp": "2026-03-01T12:00:00.123456+00:00", "organization_id": 3, "project_id": 2,
              "task_id": 5, "job_id": None, "task": {"name": "cats"}, "changed_fields": "name"}
    r = an.domain_row(detail, {7: ("alice", "a@x")}, {3: "acme"})
    assert (r["scope"], r["obj_id"], r["obj_name"], r["source"], r["timestamp"]) == \
        ("update:task", 5, "name", "server", "2026-03-01T12:00:00.123Z")
    assert (r["user_name"], r["user_email"], r["org_slug"], r["task_id"]) == ("alice", "a@x", "acme", 5)
    assert json.loads(r["payload"]) == {"request": {"id": "r1"}, "changed_fields": "name"}


def test_the_filter_selects_by_ids_and_time() -> None:
    f = an.EventFilter(T0, T0 + timedelta(days=1), task_id=5)
    assert f.matches(an.row(timestamp=an.iso(T0), task_id=5))
    assert f.matches(an.row(timestamp=an.iso(T0 + timedelta(days=1)), task_id=5))
    assert not f.matches(an.row(timestamp=an.iso(T0 + timedelta(days=1, milliseconds=1)), task_id=5))
    assert not f.matches(an.row(timestamp=an.iso(T0), task_id=6))
    folders = ["date=2026-03-03", "date=2026-03-02", "date=2026-02-28", "date=2026-03-01", "tmp", "date=bad"]
    assert f.day_partitions(folders) == ["date=2026-03-01", "date=2026-03-02"]
    assert an.EventFilter.from_json(f.to_json()) == f


USER = Actor(7, SystemRole.USER, {3: OrgRole.WORKER, 4: OrgRole.MAINTAINER})
ADMIN = Actor(1, SystemRole.ADMIN)


@pytest.mark.parametrize(("actor", "org", "query", "expected"), [
    (ADMIN, None, {}, {}),
    (ADMIN, 3, {}, {"org_id": 3}),
    (USER, None, {}, {"user_id": 7}),
    (USER, None, {"org_id": "4"}, {"org_id": 4}),
    (USER, 4, {"task_id": "9"}, {"org_id": 4, "task_id": 9}),
    (USER, 3, {}, {"org_id": 3, "user_id": 7}),
])
def test_who_may_export_what(actor: Actor, org: int | None, query: dict[str, str], expected: dict[str, int]) -> None:
    f = an.export_filter(actor, org, query, T0)
    assert {k: v for k, v in f.to_json().items() if k in an.FILTER_FIELDS and v is not None} == expected
    assert f.end == T0


@pytest.mark.parametrize(("org", "query", "message"), [
    (None, {"user_id": "8"}, "user_id=8"),
    (3, {"user_id": "8"}, "user_id=8"),
    (None, {"org_id": "5"}, "org_id=5"),
    (4, {"org_id": "3"}, "org_id=3"),
])
def test_a_filter_beyond_the_callers_rights_is_refused(org: int | None, query: dict[str, str], message: str) -> None:
    with pytest.raises(PermissionDeniedError, match=message):
        an.export_filter(USER, org, query, T0)


def test_bad_filters_are_invalid_input() -> None:
    with pytest.raises(ValidationError):
        an.export_filter(ADMIN, None, {"task_id": "x"}, T0)
    with pytest.raises(ValidationError):
        an.export_filter(ADMIN, None, {"from": "2026-03-02", "to": "2026-03-01"}, T0)


def test_working_time_is_summed_per_user_and_job() -> None:
    rows = [an.row(scope="send:working_time", user_id=7, user_name="alice", task_id=2, job_id=1, duration=1000,
                   timestamp="t"),
            an.row(scope="send:working_time", user_id=7, user_name="alice", task_id=2, job_id=1, duration=500,
                   timestamp="t"),
            an.row(scope="send:working_time", user_id=8, user_name="bob", task_id=2, job_id=1, duration=7,
                   timestamp="t"),
            an.row(scope="load:job", user_id=7, user_name="alice", task_id=2, job_id=1, duration=99, timestamp="t")]
    assert an.working_time_summary(rows) == [an.WorkingTime(7, "alice", None, 2, 1, 1500),
                                             an.WorkingTime(8, "bob", None, 2, 1, 7)]


# --- the raw-line prefilter and compaction manifests ------------------------------------------------


def stored_line(**values: object) -> bytes:
    return an.to_jsonl([an.row(scope="click:element", timestamp="2026-03-01T12:00:00.000Z", **values)]).strip()


@pytest.mark.parametrize("stored", [None, 1, 12, 21, 112, 2])
@pytest.mark.parametrize("wanted", [1, 12, 2])
def test_the_line_filter_never_drops_a_line_that_matches(stored: int | None, wanted: int) -> None:
    f = an.EventFilter(T0 - timedelta(days=1), T0 + timedelta(days=1), task_id=wanted)
    line = stored_line(task_id=stored, job_id=wanted, project_id=wanted, obj_val=f'"task_id":{wanted},',
                       payload=json.dumps({"task_id": wanted}))
    row = json.loads(line)
    assert f.matches(row) == (stored == wanted)
    assert f.line_filter()(line) == (stored == wanted)  # 1 is neither 12 nor 21, whatever else says 1


def test_the_line_filter_leaves_lines_it_cannot_read_to_matches() -> None:
    f = an.EventFilter(T0 - timedelta(days=1), T0 + timedelta(days=1), task_id=1, user_id=7)
    may_match = f.line_filter()
    assert may_match(b'{"task_id": 1, "user_id": 7}')  # not as to_jsonl writes: left to matches
    assert may_match(b'{"task_id":12,"task_id":1,"user_id":7}')  # a key twice (json takes the last)
    assert may_match(b'{"user_id":7,"task_id":1}')  # the last column
    assert may_match(stored_line(task_id=1.0, user_id=7))  # 1.0 == 1 for matches
    assert not may_match(stored_line(task_id=1, user_id=70))
    assert an.EventFilter(T0, T0).line_filter()(b"anything")


def test_a_manifest_says_which_objects_hold_the_partition() -> None:
    partition = "date=2026-03-01/org=none"
    batches = [f"events/{partition}/b{i}.jsonl" for i in range(3)]
    first = an.Manifest().compacted(an.compacted_key(partition, 1, "t1"), batches[:2])
    assert first.objects == ("events/date=2026-03-01/org=none/compacted-0000000001-t1.jsonl",)
    assert an.Manifest.from_bytes(first.to_bytes()) == first
    assert an.partition_of(batches[0]) == partition and an.is_compacted(first.objects[0])
    assert an.manifest_key(partition, 1) == "events-index/date=2026-03-01/org=none/0000000001.json"
    assert an.manifest_seq(an.manifest_key(partition, 12)) == 12 and an.manifest_seq("x/other.txt") is None
    lost_race = an.compacted_key(partition, 1, "t2")
    in_flight = an.compacted_key(partition, 2, "t3")
    listed = [*batches, *first.objects, lost_race, in_flight]
    assert first.to_read(listed) == (list(first.objects), [batches[2]])  # neither other copy is read
    assert first.garbage(listed) == [batches[0], batches[1], lost_race]  # the next may still win
    assert an.joined_lines([b'{"a":1}\n\n{"a":2}', b'{"a":3}\n']) == b'{"a":1}\n{"a":2}\n{"a":3}\n'
