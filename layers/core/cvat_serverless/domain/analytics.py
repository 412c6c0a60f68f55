"""CVAT's analytics events (``/api/events``): the stored row, where a row is stored, which rows an
export selects, who may see which, and the working time CVAT derives from client events.

The store is JSON lines in S3, one object per written batch, under Hive-style partitions::

    events/date=YYYY-MM-DD/org=<organization id|none>/<batch id>.jsonl

and, once an export has compacted a partition's batches, ``compacted-<seq>-<token>.jsonl`` beside
them, with the partition's manifests under ``events-index/`` (see "compaction" below).

CVAT keeps its events in ClickHouse, an always-on server; here nothing may run while idle, and
events are written far more often than read. Appending objects to S3 costs nothing idle, scales
with writes (each batch is its own object: no read-modify-write, no hot item, no 400 KB limit as
in DynamoDB), and the partitions are the ones an export filters on first (a time range, an
organization). On AWS the same objects are an Athena table (JSON SerDe, partition projection on
``date`` and ``org``), so ad hoc SQL needs no loading step; the export workflow and the embedded
runtime answer their queries by reading the objects of the selected partitions (DuckDB is not a
dependency), so every runtime reads the same bytes the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .errors import PermissionDeniedError, ValidationError
from .organizations import OrgRole
from .permissions import Actor

PREFIX = "events/"
COLUMNS: tuple[str, ...] = (
    "scope", "obj_name", "obj_id", "obj_val", "source", "timestamp", "count", "duration", "project_id", "task_id",
    "job_id", "user_id", "user_name", "user_email", "org_id", "org_slug", "payload",
)
"""The columns of CVAT's ``events`` table, in its order: the CSV export's header row."""

# The union of CVAT 2.x's and the modern UI's client scopes: no CVAT UI version gets a 400.
CLIENT_SCOPES = frozenset({
    "load:cvat", "load:job", "save:job", "restore:job", "upload:annotations", "send:exception", "send:task_info",
    "draw:object", "paste:object", "copy:object", "propagate:object", "drag:object", "resize:object",
    "delete:object", "lock:object", "merge:objects", "split:objects", "group:objects", "slice:object",
    "join:objects", "change:attribute", "change:label", "change:frame", "zoom:image", "fit:image", "rotate:image",
    "action:undo", "action:redo", "debug:info", "run:annotations_action", "click:element", "load:workspace",
    "user:activity", "call:interactor",
})
USER_ACTIVITY_SCOPE = "user:activity"  # counts for working time, is not stored
WORKING_TIME_SCOPE = "send:working_time"
MAX_EVENT_GAP = timedelta(seconds=100)  # CVAT's MAX_EVENT_DURATION: a longer pause is not work
COMPRESSED_SCOPES = frozenset({"change:frame"})  # their end is timestamp + duration


def iso(ts: datetime) -> str:
    """A row's timestamp: UTC, milliseconds (ClickHouse's DateTime64(3))."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str, name: str = "timestamp") -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(fields={name: ["Datetime has wrong format."]}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def row(**values: Any) -> dict[str, Any]:
    """One stored event with every column (absent ones null; ``duration`` 0 as in CVAT)."""
    out = {name: values.get(name) for name in COLUMNS}
    out["duration"] = int(out["duration"] or 0)
    return out


def partition_key(event: Mapping[str, Any], batch_id: str) -> str:
    """Where a row is stored: its day and organization (``none`` outside organizations)."""
    day = str(event["timestamp"])[:10]
    org = event.get("org_id")
    return f"{PREFIX}date={day}/org={'none' if org is None else int(org)}/{batch_id}.jsonl"


def group_by_partition(rows: Iterable[Mapping[str, Any]], batch_id: str) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(partition_key(r, batch_id), []).append(r)
    return groups


# --- compaction ---------------------------------------------------------------------------------
# Every written batch is its own small object, and a query pays a GET for each. A reader that has
# read a partition's small objects writes them back as one compacted object in the same
# partition (Athena reads it like any other) and then deletes them. Which objects hold the
# partition's rows is said by the partition's manifest, outside the table's location (Athena
# reads every file under ``events/``): ``events-index/date=D/org=O/<seq>.json``, one per
# compaction, each created only if absent, so compactions of a partition form one sequence and
# none claims a batch that an earlier one claimed. The newest manifest lists the live compacted
# objects and every batch key they hold ("claimed"); a reader lists the partition's objects,
# then reads the newest manifest: its objects, and the listed batches it does not claim. A
# compacted object that no manifest names yet (or any more) is never read: its batches are.

INDEX_PREFIX = "events-index/"
COMPACTED = "compacted-"


def partition_of(key: str) -> str:
    """``date=D/org=O`` of a stored object's key."""
    return key.removeprefix(PREFIX).rsplit("/", 1)[0]


def is_compacted(key: str) -> bool:
    return key.rsplit("/", 1)[-1].startswith(COMPACTED)


def compacted_key(partition: str, seq: int, token: str) -> str:
    return f"{PREFIX}{partition}/{COMPACTED}{seq:010d}-{token}.jsonl"


def manifest_key(partition: str, seq: int) -> str:
    return f"{INDEX_PREFIX}{partition}/{seq:010d}.json"


def manifest_seq(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1].removesuffix(".json")
    return int(name) if name.isdigit() and key.endswith(".json") else None


def compacted_seq(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1]
    digits = name.removeprefix(COMPACTED).split("-", 1)[0]
    return int(digits) if is_compacted(key) and digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class Manifest:
    """One partition's compaction state: ``objects`` hold the rows of every batch in ``claimed``."""

    seq: int = 0
    objects: tuple[str, ...] = ()
    claimed: frozenset[str] = frozenset()

    def to_bytes(self) -> bytes:
        return json.dumps({"seq": self.seq, "objects": list(self.objects), "claimed": sorted(self.claimed)},
                          separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        doc = json.loads(data)
        return cls(int(doc["seq"]), tuple(doc["objects"]), frozenset(doc["claimed"]))

    def to_read(self, listed: Iterable[str]) -> tuple[list[str], list[str]]:
        """Of a partition's listed keys (listed before this manifest was read): the compacted
        objects to read, and the batches to read (those this manifest does not claim)."""
        batches = [k for k in listed if k.endswith(".jsonl") and not is_compacted(k) and k not in self.claimed]
        return list(self.objects), batches

    def garbage(self, listed: Iterable[str]) -> list[str]:
        """Listed keys no reader of this manifest or a later one reads: batches it claims (a
        redelivered batch written again) and compacted objects of its sequence or earlier that
        it does not name (a compaction that lost the race, or failed before its manifest)."""
        out = []
        for key in listed:
            seq = compacted_seq(key)
            if (key in self.claimed) or (seq is not None and seq <= self.seq and key not in self.objects):
                out.append(key)
        return out

    def compacted(self, key: str, batches: Iterable[str]) -> Manifest:
        """The next manifest: ``key`` holds ``batches`` as well."""
        return Manifest(self.seq + 1, (*self.objects, key), self.claimed | frozenset(batches))


def joined_lines(objects: Iterable[bytes]) -> bytes:
    """Objects' JSON lines as one object, each ending with a newline, blank lines dropped."""
    return b"".join(line + b"\n" for data in objects for line in data.splitlines() if line.strip())


def to_jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return b"".join(json.dumps(dict(r), separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for r in rows)


def from_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


# --- client events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Who:
    """The user and organization context that the server writes into every row."""

    user_id: int
    user_name: str
    user_email: str | None
    org_id: int | None = None
    org_slug: str | None = None


def client_rows(events: Sequence[Mapping[str, Any]], sent_at: datetime, received_at: datetime, who: Who
                ) -> list[dict[str, Any]]:
    """CVAT's ``ClientEventsSerializer``: each event's time corrected by the client's clock skew
    (receive time - send time), ``source`` = client, user and organization from the request.
    Refuses a scope the client may not send, and a payload that is not JSON."""
    correction = received_at - sent_at
    rows = []
    for event in events:
        scope = str(event.get("scope") or "")
        if scope not in CLIENT_SCOPES:
            raise ValidationError(fields={"scope": [f"Event scope **{scope}** is not allowed from client"]})
        payload = event.get("payload")
        if payload is not None:
            try:
                payload = json.dumps(json.loads(payload))
            except (TypeError, ValueError):
                raise ValidationError(fields={"payload": ["JSON payload is not valid in passed event"]}) from None
        ts = event["timestamp"]
        ts = ts if isinstance(ts, datetime) else parse_time(str(ts))
        rows.append(row(
            scope=scope, obj_name=event.get("obj_name"), obj_id=event.get("obj_id"), obj_val=event.get("obj_val"),
            source="client", timestamp=iso(ts + correction), count=event.get("count"),
            duration=event.get("duration") or 0, project_id=event.get("project_id"), task_id=event.get("task_id"),
            job_id=event.get("job_id"), user_id=who.user_id, user_name=who.user_name, user_email=who.user_email,
            org_id=who.org_id, org_slug=who.org_slug, payload=payload,
        ))
    return rows


def working_time_rows(rows: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None, who: Who,
                      ) -> list[dict[str, Any]]:
    """CVAT's ``handle_client_events_push``: per (job, task, project), the sum of the gaps between
    consecutive client events that are at most 100 s (from ``previous`` when given), a
    ``change:frame`` ending at its timestamp + duration; one ``send:working_time`` row each."""
    groups: dict[tuple[Any, Any, Any], list[Mapping[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: r["timestamp"]):
        groups.setdefault((r.get("job_id"), r.get("task_id"), r.get("project_id")), []).append(r)
    out = []
    for (job_id, task_id, project_id), items in groups.items():
        last_end = _end(previous) if previous else None
        total = timedelta()
        for r in items:
            start = parse_time(str(r["timestamp"]))
            if last_end is not None and timedelta() <= start - last_end <= MAX_EVENT_GAP:
                total += start - last_end
            end = _end(r)
            last_end = end if last_end is None else max(last_end, end)
        ms = int(total / timedelta(milliseconds=1))
        out.append(row(
            scope=WORKING_TIME_SCOPE, source="server", timestamp=items[-1]["timestamp"], count=1, duration=ms,
            project_id=project_id, task_id=task_id, job_id=job_id, user_id=who.user_id, user_name=who.user_name,
            user_email=who.user_email, org_id=who.org_id, org_slug=who.org_slug,
            payload=json.dumps({"working_time": ms}),
        ))
    return out


def _end(event: Mapping[str, Any]) -> datetime:
    ts = event["timestamp"]
    start = ts if isinstance(ts, datetime) else parse_time(str(ts))
    if event.get("scope") in COMPRESSED_SCOPES:
        return start + timedelta(milliseconds=int(event.get("duration") or 0))
    return start


# --- server (domain) events ----------------------------------------------------------------------


def domain_row(detail: Mapping[str, Any], users: Mapping[int, tuple[str, str | None]],
               org_slugs: Mapping[int, str]) -> dict[str, Any]:
    """A domain event (``DomainEvent.detail()``) as CVAT's server event row: the object's id and
    name, the changed fields as ``obj_name`` of an update, ``source`` = server, the request in
    the payload (never the object itself: an annotations event carries thousands of shapes)."""
    resource = str(detail.get("resource") or "")
    obj = detail.get(resource) if isinstance(detail.get(resource), Mapping) else {}
    obj_id = detail.get("id")
    actor = detail.get("actor_id")
    name, email = users.get(int(actor), ("", None)) if actor is not None else ("", None)
    org_id = detail.get("organization_id")
    obj_name = detail.get("obj_name") or detail.get("changed_fields") or (obj or {}).get("name") or None
    payload: dict[str, Any] = {"request": {"id": detail.get("request_id") or ""}}
    if detail.get("changed_fields"):
        payload["changed_fields"] = detail["changed_fields"]
    return row(
        scope=detail.get("event"), obj_name=obj_name, obj_id=obj_id if isinstance(obj_id, int) else None,
        obj_val=None if isinstance(obj_id, int) or obj_id is None else str(obj_id), source="server",
        timestamp=iso(parse_time(str(detail["timestamp"]))), count=detail.get("count"), duration=0,
        project_id=detail.get("project_id"), task_id=detail.get("task_id"), job_id=detail.get("job_id"),
        user_id=actor, user_name=name or None, user_email=email, org_id=org_id,
        org_slug=org_slugs.get(int(org_id)) if org_id is not None else None, payload=json.dumps(payload),
    )


# --- exports --------------------------------------------------------------------------------------

FILTER_FIELDS = ("org_id", "project_id", "task_id", "job_id", "user_id")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which rows an export selects (CVAT's query parameters), ``from`` <= timestamp <= ``to``."""

    start: datetime
    end: datetime
    org_id: int | None = None
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    user_id: int | None = None

    def matches(self, r: Mapping[str, Any]) -> bool:
        for name in FILTER_FIELDS:
            wanted = getattr(self, name)
            if wanted is not None and r.get(name) != wanted:
                return False
        ts = parse_time(str(r["timestamp"]))
        return self.start <= ts <= self.end

    def line_filter(self) -> Callable[[bytes], bool]:
        """A test on a stored line's raw bytes, false only for a line that cannot match: an
        export of one task then parses its own rows, not every row of the day. A line as
        ``to_jsonl`` writes it (compact separators, every column, none of the filter's last)
        holds ``"task_id":12,`` exactly when its task is 12, so ``"task_id":1,`` is never
        taken for 12 (a key inside a string value has its quotes escaped); a line written
        otherwise (spaces, another order) is kept, for ``matches`` to decide."""
        checks: list[tuple[bytes, bytes]] = []
        for name in FILTER_FIELDS:
            wanted = getattr(self, name)
            if wanted is not None:
                checks.append((f'"{name}":'.encode(), str(int(wanted)).encode()))

        def may_match(line: bytes) -> bool:
            for key, value in checks:
                at = line.find(key)
                if at < 0 or line.find(key, at + 1) >= 0:
                    continue  # no such key, or twice: not as to_jsonl writes
                at += len(key)
                after = line[at + len(value):at + len(value) + 1]
                if line.startswith(value, at) and after in (b",", b"}", b"."):  # "." keeps 12.0
                    continue
                if line[at:at + 1] not in (b" ", b"\t", b"\n", b"\r"):
                    return False  # another value, as to_jsonl writes it
            return True
        return may_match

    def day_partitions(self, folders: Iterable[str]) -> list[str]:
        """Of the store's ``date=YYYY-MM-DD`` folders, those of the filter's days, in order
        (partition pruning: the folders are listed once, never one request per day)."""
        first, last = self.start.astimezone(UTC).date(), self.end.astimezone(UTC).date()
        out = []
        for folder in folders:
            try:
                day = date.fromisoformat(folder.removeprefix("date="))
            except ValueError:
                continue
            if folder.startswith("date=") and first <= day <= last:
                out.append(folder)
        return sorted(out)

    def org_partition(self) -> str | None:
        """The ``org=`` partition the rows lie in, when the filter names one."""
        return None if self.org_id is None else str(self.org_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": iso(self.start), "to": iso(self.end)}
        out.update({name: getattr(self, name) for name in FILTER_FIELDS})
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventFilter:
        return cls(parse_time(data["from"]), parse_time(data["to"]), **{name: data.get(name) for name in FILTER_FIELDS})


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_EXPORT_DAYS = 3660


def export_filter(actor: Actor, context_org: int | None, query: Mapping[str, str], now: datetime) -> EventFilter:
    """The rows a caller may export with these query parameters (CVAT's ``EventsPermission``):
    admins everything (their organization's in an organization context); org maintainers and
    owners their organization's; workers and supervisors their own in the organization; outside
    organizations a user their own. A parameter that contradicts that is refused (403)."""
    values: dict[str, int | None] = {}
    for name in FILTER_FIELDS:
        raw = query.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        try:
            values[name] = int(str(raw))
        except ValueError:
            raise ValidationError(fields={name: ["A valid integer is required."]}) from None
    end = parse_time(query["to"], "to") if query.get("to") else now
    start = parse_time(query["from"], "from") if query.get("from") else EARLIEST
    if start >= end:
        raise ValidationError(fields={"from": ["'from' must be earlier than 'to'."]})
    if (end - start).days > MAX_EXPORT_DAYS:
        start = end - timedelta(days=MAX_EXPORT_DAYS)
    forced: dict[str, int] = {}
    if context_org is not None:
        forced["org_id"] = context_org
        role = actor.role_in(context_org)
        if not actor.is_admin:
            if role is None:
                raise PermissionDeniedError("You are not a member of this organization.")
            if role not in (OrgRole.OWNER, OrgRole.MAINTAINER):
                forced["user_id"] = actor.user_id
    elif not actor.is_admin:
        forced["user_id"] = actor.user_id
        if values["org_id"] is not None:
            role = actor.role_in(values["org_id"])
            if role in (OrgRole.OWNER, OrgRole.MAINTAINER):
                forced.pop("user_id")
            elif role is None:
                raise PermissionDeniedError(
                    f"You don't have permission to view events with org_id={values['org_id']}")
    for name, value in forced.items():
        if values[name] is not None and values[name] != value:
            raise PermissionDeniedError(f"You don't have permission to view events with {name}={values[name]}")
        values[name] = value
    return EventFilter(start, end, **values)


def csv_value(value: Any) -> str:
    return "" if value is None else str(value)


# --- working time ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """How long one user worked on one job (task, project), from ``send:working_time`` rows."""

    user_id: int | None
    user_name: str | None
    project_id: int | None
    task_id: int | None
    job_id: int | None
    milliseconds: int


def working_time_summary(rows: Iterable[Mapping[str, Any]]) -> list[WorkingTime]:
    """The working time rows summed per user and job, by user name, then task and job."""
    totals: dict[tuple[Any, ...], int] = {}
    for r in rows:
        if r.get("scope") != WORKING_TIME_SCOPE:
            continue
        key = (r.get("user_id"), r.get("user_name"), r.get("project_id"), r.get("task_id"), r.get("job_id"))
        totals[key] = totals.get(key, 0) + int(r.get("duration") or 0)
    out = [WorkingTime(user, name, project, task, job, ms) for (user, name, project, task, job), ms in totals.items()]
    return sorted(out, key=lambda w: (w.user_name or "", w.task_id or 0, w.job_id or 0))
