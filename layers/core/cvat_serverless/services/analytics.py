"""Analytics events (CVAT's ``/api/events``): logging the client's events, writing the server's
domain events, and exporting both as CVAT's CSV (domain.analytics says how they are stored).

- ``POST /api/events`` writes its batch (and the working time derived from it) directly: one
  object, no queue hop, and the client learns at once when the store refuses it.
- Domain events reach the writer through their own SQS queue, subscribed to the event bus by an
  EventBridge rule; one SQS batch is one object per partition, named after the batch's message
  ids, so a redelivered batch overwrites itself instead of counting twice.
- ``POST /api/events/export`` answers ``202 {rq_id}``; the events-export workflow reads the
  selected partitions, writes the CSV, and the request's ``result_url`` redirects to it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..domain import analytics as an
from ..domain.context import RequestContext
from ..domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus, failure_message
from ..ports import BlobStore, Clock, OrganizationRepository, RequestRepository, UserRepository, WorkflowStarter
from .requests import RequestService
from .task_media import PRESIGNED_SECONDS

log = logging.getLogger(__name__)

WORKFLOW = "events-export"
RESULT_PREFIX = "exports/events/"


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
        organization, when it names one) are read."""
        org = selected.org_partition()
        out: list[dict[str, Any]] = []
        folders, _ = self.blobs.list_dir(an.PREFIX)
        for day in selected.day_partitions(folders):
            prefix = f"{an.PREFIX}{day}/" + (f"org={org}/" if org is not None else "")
            for key, _size in self.blobs.list_keys(prefix):
                if key.endswith(".jsonl"):
                    out.extend(r for r in an.from_jsonl(self.blobs.get(key)) if selected.matches(r))
        out.sort(key=lambda r: an.parse_time(str(r["timestamp"])))
        return out

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
        self.blobs.put(key, csv_bytes(self.query(selected)), content_type="text/csv")

        def done(r: BackgroundRequest) -> None:
            r.result_key = key
            r.finish(self.clock.now(), result_url=f"/api/events/download?rq_id={quote(request_id)}")
        self.request_service.update(request_id, done)
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


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """CVAT's CSV: the columns' names, then one line per row in the same order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(an.COLUMNS)
    for r in rows:
        writer.writerow([an.csv_value(r.get(name)) for name in an.COLUMNS])
    return out.getvalue().encode()
