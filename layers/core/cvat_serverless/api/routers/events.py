"""/api/events: CVAT's analytics events. ``POST /api/events`` logs the client's events (201, the
events as stored); ``POST /api/events/export`` -> 202 ``{rq_id}`` -> ``GET /api/requests/{id}`` ->
``result_url``, a redirect to the stored CSV on the storage's own origin, named by
``Content-Disposition`` (as the dataset exports); ``GET /api/events`` is CVAT's older form of the
same export (``query_id``, then ``action=download``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ...domain.errors import ValidationError
from ...domain.requests import RequestStatus
from ..schemas import events as se
from ..schemas.requests import RqId
from ._common import Call

router = Router()
TAGS = ["events"]
EXPORT_RESPONSES: dict[int, OpenAPIResponse] = {
    202: {"description": "The export request (poll GET /api/requests/{rq_id})"}}
DOWNLOAD_RESPONSES: dict[int, OpenAPIResponse] = {
    302: {"description": "The CSV is at Location (a presigned URL of the storage)"}}
LEGACY_RESPONSES: dict[int, OpenAPIResponse] = {
    201: {"description": "The CSV is ready (download with action=download)"},
    202: {"description": "The export is running ({query_id})"},
    302: {"description": "action=download: the CSV is at Location"}}


@router.post("/api/events", tags=TAGS, summary="Log client events", status_code=201)
def create_events(body: se.ClientEventsRequest) -> se.ClientEvents:
    call = Call(router)
    stored = call.services.analytics.log_client_events(
        call.ctx, body.timestamp, [e.model_dump() for e in body.events],
        body.previous_event.model_dump() if body.previous_event is not None else None)
    return se.ClientEvents(timestamp=body.timestamp, events=[se.Event.model_validate(r) for r in stored])


@router.post("/api/events/export", tags=TAGS, summary="Export events as CSV", responses=EXPORT_RESPONSES)
def export_events() -> Response[RqId]:
    call = Call(router)
    rq = call.services.analytics.export(call.ctx, call.query)
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=rq.id))


@router.get("/api/events/download", tags=TAGS, summary="Download an events export (its result_url)",
            responses=DOWNLOAD_RESPONSES, include_in_schema=False)
def download_events() -> Response[str]:
    call = Call(router)
    url = call.services.analytics.download_url(call.ctx, call.query.get("rq_id") or "")
    return _redirect(url)


@router.get("/api/events", tags=TAGS, summary="Export events as CSV (deprecated: POST /api/events/export)",
            responses=LEGACY_RESPONSES, deprecated=True)
def list_events() -> Response[se.QueryId | str]:
    call = Call(router)
    query = call.query
    action = query.get("action")
    if action not in (None, "", "download"):
        raise ValidationError(fields={"action": ["Unexpected action specified for the request"]})
    analytics = call.services.analytics
    query_id = query.get("query_id") or ""
    if not query_id:
        rq = analytics.export(call.ctx, query)
        return Response(status_code=202, content_type="application/json", body=se.QueryId(query_id=rq.id))
    if action == "download":
        return _redirect(analytics.download_url(call.ctx, query_id))
    rq = analytics.export_request(call.ctx, query_id)
    if rq.status is RequestStatus.FINISHED:
        return Response(status_code=201, content_type="application/json", body="")
    if rq.status is RequestStatus.FAILED:
        return Response(status_code=500, content_type="application/json", body=rq.message)
    return Response(status_code=202, content_type="application/json", body=se.QueryId(query_id=rq.id))


def _redirect(url: str) -> Response[Any]:
    return Response(status_code=302, content_type="text/csv", body="",
                    headers={"Location": url, "Cache-Control": "no-store"})
