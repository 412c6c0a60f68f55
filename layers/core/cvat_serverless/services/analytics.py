"""Analytics events (CVAT's ``/api/events``): logging the client's events, writing the server's
domain events, and exporting both as CVAT's CSV (domain.analytics says how they are stored).

- ``POST /api/events`` writes its batch (and the working time derived from it) directly: one
  object, no queue hop, and the client learns at once when the store refuses it.
- Domain events reach the writer through their own SQS queue, subscribed to the event bus by an
  EventBridge rule; one SQS batch is one object per partition, named after the batch's message
  ids, so a redelivered batch overwrites itself instead of counting twice.
- ``POST /api/events/export`` answers ``202 {rq_id}``; the events-export workflow reads the
  selected partitions, writes the CSV, and the request's ``result_url`` redirects to it. Each
  GET of the store is a round trip, so the objects are read in parallel, only the lines that may
  match are parsed, and the export then compacts the partitions it found in many small batches
  (domain.analytics, "compaction"): the next export reads a few large objects.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import orjson

from ..domain import analytics as an
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus, failure_message
from ..ports import BlobStore, Clock, OrganizationRepository, RequestRepository, UserRepository, WorkflowStarter
from .requests import RequestService
from .task_media import PRESIGNED_SECONDS

log = logging.getLogger(__name__)

WORKFLOW = "events-export"
RESULT_PREFIX = "exports/events/"
READERS = 16  # objects of the store read at once by a query
READ_ATTEMPTS = 3
COMPACT_AT = 8  # an export compacts a partition with this many batches
COMPACT_BYTES = 256 << 20  # the most of a partition's batches one compaction writes back


@dataclass(frozen=True, slots=True)
class _Compaction:
    partition: str
    manifest: an.Manifest
    batches: Mapping[str, bytes]
    garbage: Sequence[str]


class AnalyticsService:
    def __init__(self, blobs: BlobStore, workflows: WorkflowStarter, clock: Clock, *, users: UserRepository,
                 organizations: OrganizationRepository, requests: RequestRepository,
                 request_service: RequestService) -> None:
        self.blobs = blobs
        self.users = users
        self.organizations = organizations
        self.requests = requests
        self.request_service = request_service
        self.workflows = workflows
        self.clock = clock

    # --- writing ---------------------------------------------------------------------------------

    def log_client_events(self, ctx: RequestContext, sent_at: datetime, events: Sequence[Mapping[str, Any]],
                          previous_event: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Store the client's events (CVAT's ``POST /api/events``) and the working time they
        show; the stored rows as the answer echoes them (``user:activity`` is not stored)."""
        org_slug = None
        if ctx.org_id is not None:
            org_slug = self.organizations.get(ctx.org_id).slug
        who = an.Who(ctx.user.id, ctx.user.username, ctx.user.email or None, ctx.org_id, org_slug)
        rows = an.client_rows(events, sent_at, self.clock.now(), who)
        previous = None
        if previous_event is not None:
            previous = an.client_rows([previous_event], sent_at, self.clock.now(), who)[0]
        stored = [r for r in rows if r["scope"] != an.USER_ACTIVITY_SCOPE]
        working = an.working_time_rows(rows, previous, who) if rows else []
        self._write(stored + working, uuid.uuid4().hex)
        return stored

    def write_domain_events(self, details: Sequence[Mapping[str, Any]], message_ids: Sequence[str]) -> int:
        """Store a batch of domain events (``DomainEvent.detail()``); the batch's objects are
        named after its message ids (a redelivery overwrites them). How many rows."""
        actor_ids = sorted({int(d["actor_id"]) for d in details if d.get("actor_id") is not None})
        org_ids = sorted({int(d["organization_id"]) for d in details if d.get("organization_id") is not None})
        users = {u.id: (u.username, u.email or None) for u in self.users.get_many(actor_ids).values()}
        slugs = {o.id: o.slug for o in self.organizations.get_many(org_ids).values()} if org_ids else {}
        rows = [an.domain_row(d, users, slugs) for d in details if d.get("event")]
        batch = hashlib.sha256("\n".join(sorted(message_ids)).encode()).hexdigest()[:32]
        self._write(rows, batch)
        return len(rows)

    def _write(self, rows: Sequence[Mapping[str, Any]], batch_id: str) -> None:
        for key, items in an.group_by_partition(rows, batch_id).items():
            self.blobs.put(key, an.to_jsonl(items), content_type="application/x-ndjson")

    # --- reading ---------------------------------------------------------------------------------

    def query(self, selected: an.EventFilter) -> list[dict[str, Any]]:
        """The rows the filter selects, oldest first; only the partitions of its days (and of its
        organization, when it names one) are read, their objects in parallel (each GET is a
        round trip), and only the lines that may match are parsed (``EventFilter.line_filter``)."""
        return self._read(selected, compact=False)[0]

    def _read(self, selected: an.EventFilter, *, compact: bool) -> tuple[list[dict[str, Any]], list[_Compaction]]:
        """``query``, and (``compact``) the compactions of the partitions with many batches."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return self._read_once(selected, compact)
            except NotFoundError:  # a compaction deleted an object between its listing and its GET
                if attempt == READ_ATTEMPTS:
                    raise
                log.info("events query: an object was compacted away while it was read; reading again")
        raise AssertionError("unreachable")

    def _read_once(self, selected: an.EventFilter, compact: bool) -> tuple[list[dict[str, Any]], list[_Compaction]]:
        org = selected.org_partition()
        folders, _ = self.blobs.list_dir(an.PREFIX)
        days = [f"{day}/" + (f"org={org}/" if org is not None else "") for day in selected.day_partitions(folders)]
        listed: dict[str, dict[str, int]] = {}
        for day in days:
            for key, size in self.blobs.list_keys(f"{an.PREFIX}{day}"):
                listed.setdefault(an.partition_of(key), {})[key] = size
        # The manifests only after the objects: a compaction that ends in between is then seen
        # by its manifest (its object was written before it), never by its batches' absence.
        newest: dict[str, tuple[int, str]] = {}
        for day in days:
            for key, _size in self.blobs.list_keys(f"{an.INDEX_PREFIX}{day}"):
                seq, partition = an.manifest_seq(key), key.removeprefix(an.INDEX_PREFIX).rsplit("/", 1)[0]
                if seq is not None and seq > newest.get(partition, (0, ""))[0]:
                    newest[partition] = (seq, key)
        may_match = selected.line_filter()
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            manifests = dict(zip(newest, pool.map(lambda k: an.Manifest.from_bytes(self.blobs.get(k)),
                                                  [k for _, k in newest.values()]), strict=True))
            keys: list[str] = []
            kept: set[str] = set()  # the batches whose bytes a compaction writes back
            plans = []
            for partition in sorted(listed.keys() | manifests.keys()):
                manifest = manifests.get(partition, an.Manifest())
                sizes = listed.get(partition, {})
                objects, batches = manifest.to_read(sizes)
                keys += objects + batches
                if compact and len(batches) >= COMPACT_AT:
                    chosen: list[str] = []
                    total = 0
                    for key in batches:
                        if total + sizes[key] > COMPACT_BYTES and chosen:
                            break
                        chosen.append(key)
                        total += sizes[key]
                    kept.update(chosen)
                    plans.append((partition, manifest, chosen, manifest.garbage(sizes)))

            def read(key: str) -> tuple[list[tuple[datetime, dict[str, Any]]], bytes | None]:
                data = self.blobs.get(key)
                rows = (_parse(line) for line in data.splitlines() if may_match(line) and line.strip())
                found = [(an.parse_time(str(r["timestamp"])), r) for r in rows if selected.matches(r)]
                return found, data if key in kept else None

            found: list[tuple[datetime, dict[str, Any]]] = []
            data: dict[str, bytes] = {}
            for key, (items, raw) in zip(keys, pool.map(read, keys), strict=True):
                found += items
                if raw is not None:
                    data[key] = raw
        found.sort(key=lambda item: item[0])
        compactions = [_Compaction(p, m, {k: data[k] for k in chosen}, garbage) for p, m, chosen, garbage in plans]
        return [r for _, r in found], compactions

    def _compact(self, job: _Compaction) -> None:
        """Write a partition's batches back as one object, then delete them (see
        domain.analytics): the manifest is created only if its sequence number is free, so a
        concurrent compaction of the same batches loses and deletes its copy unread."""
        manifest = job.manifest.compacted(an.compacted_key(job.partition, job.manifest.seq + 1, uuid.uuid4().hex[:12]),
                                          job.batches)
        key = manifest.objects[-1]
        self.blobs.put(key, an.joined_lines(job.batches[k] for k in sorted(job.batches)),
                       content_type="application/x-ndjson")
        try:
            self.blobs.create(an.manifest_key(job.partition, manifest.seq), manifest.to_bytes(),
                              content_type="application/json")
        except ConflictError:
            self.blobs.delete(key)
            log.info("events partition %s: compacted concurrently by another export", job.partition)
            return
        self.blobs.delete_many([*job.batches, *job.garbage])

    def working_time(self, start: datetime, end: datetime) -> list[an.WorkingTime]:
        """Everyone's working time per job between ``start`` and ``end`` (an admin's summary)."""
        return an.working_time_summary(self.query(an.EventFilter(start, end)))

    # --- exports ---------------------------------------------------------------------------------

    def export(self, ctx: RequestContext, query: Mapping[str, str]) -> BackgroundRequest:
        """Start a CSV export of the events the caller may see (202 ``{rq_id}``)."""
        if (query.get("location") or "local") != "local" or query.get("cloud_storage_id"):
            raise ValidationError(fields={"location": [
                "Only 'local' is supported: download the result from result_url (no cloud storages here)."]})
        selected = an.export_filter(ctx.actor, ctx.org_id, query, self.clock.now())
        now = self.clock.now()
        attempt = uuid.uuid4().hex[:12]
        filename = query.get("filename") or f"logs_{now.strftime('%Y_%m_%d_%H_%M_%S')}.csv"
        rq = BackgroundRequest(
            id=f"export:events-{attempt}", action=RequestAction.EXPORT,  # as the dataset exports' ids
            target="events", owner_id=ctx.user_id, organization_id=ctx.org_id, format="CSV", created_date=now,
            workflow=WORKFLOW, result_filename=filename,
            workflow_input={"request_id": "", "filter": selected.to_json()},
        )
        rq.execution_name = f"export-events-{attempt}"
        rq.workflow_input["request_id"] = rq.id
        rq = self.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The export could not be started; try again."
            rq.finished_date = self.clock.now()
            self.requests.save(rq)
            raise
        return rq

    def run_export(self, request_id: str, execution_name: str = "") -> dict[str, Any]:
        """The workflow's step: the CSV of the request's filter, stored; the request finished."""
        rq = self.request_service.started(request_id, "Exporting events", execution_name=execution_name or None)
        if rq.status.ended:
            return {"key": rq.result_key}
        selected = an.EventFilter.from_json(rq.workflow_input["filter"])
        key = f"{RESULT_PREFIX}{uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex}.csv"
        rows, compactions = self._read(selected, compact=True)
        self.blobs.put(key, csv_bytes(rows), content_type="text/csv")

        def done(r: BackgroundRequest) -> None:
            r.result_key = key
            r.finish(self.clock.now(), result_url=f"/api/events/download?rq_id={quote(request_id)}")
        self.request_service.update(request_id, done)
        for job in compactions:  # after the request is finished: nobody waits for it
            try:
                self._compact(job)
            except Exception:  # the next export compacts; this one's CSV is stored
                log.warning("events partition %s: compaction failed", job.partition, exc_info=True)
        return {"key": key}

    def fail(self, request_id: str, error: str, cause: str) -> dict[str, Any]:
        self.request_service.fail(request_id, failure_message(error, cause, "export"))
        return {"failed": True}

    def export_request(self, ctx: RequestContext, request_id: str) -> BackgroundRequest:
        """The caller's own events export (another's does not exist for them)."""
        if not request_id:
            raise ValidationError(fields={"rq_id": ["This query parameter is required."]})
        try:
            rq = self.request_service.get(ctx, request_id).value
        except NotFoundError:
            raise NotFoundError("No such export request.") from None
        if rq.target != "events" or rq.action is not RequestAction.EXPORT:
            raise NotFoundError("No such export request.")
        if rq.owner_id != ctx.user_id:
            raise PermissionDeniedError("Only the user who exported the events may download them.")
        return rq

    def download_url(self, ctx: RequestContext, request_id: str) -> str:
        """Where the finished export is read: a presigned GET that names the file."""
        rq = self.export_request(ctx, request_id)
        if rq.status is not RequestStatus.FINISHED or not rq.result_key:
            raise ValidationError(f"The export is {rq.status.value}: its result is not ready.")
        if rq.expiry_date is not None and rq.expiry_date <= self.clock.now():
            raise NotFoundError("The export has expired; export again.")
        return self.blobs.presigned_get(rq.result_key, expires=PRESIGNED_SECONDS, filename=rq.result_filename,
                                        content_type="text/csv")


def _parse(line: bytes) -> dict[str, Any]:
    try:
        return dict(orjson.loads(line))
    except orjson.JSONDecodeError:  # what only json reads (NaN, huge integers), as to_jsonl may write
        return dict(json.loads(line))


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """CVAT's CSV: the columns' names, then one line per row in the same order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(an.COLUMNS)
    for r in rows:
        writer.writerow([an.csv_value(r.get(name)) for name in an.COLUMNS])
    return out.getvalue().encode()
