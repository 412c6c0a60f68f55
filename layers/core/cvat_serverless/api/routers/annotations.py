"""/api/jobs/{id}/annotations and /api/tasks/{id}/annotations: CVAT's GET, PUT (replace),
PATCH ``?action=create|update|delete`` and DELETE; and a job's save history with restore
(``GET /api/jobs/{id}/annotations/history``, ``POST .../history/{version}/restore``: this
service's extension, not CVAT's). The task routes split writes into the task's jobs (see
``services.annotations``). Answers carrying annotations are gzip-encoded for clients that accept
it: Lambda's 6 MB answer limit would otherwise cap a task's annotations.

Those answers are encoded here (orjson, gzip level 1) or served as the store keeps them (a job's
GET answers its stored snapshot's bytes), and leave without powertools' response validation
(``_as_encoded``): it would parse every object of a 20,000-shape answer into pydantic and
serialize it again, and gzip it at level 9 — seconds, where the encoding takes milliseconds. The
return annotations stay, for the OpenAPI document; requests are validated as before."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ..schemas import annotations as sa
from ._common import Call, ObjectId

if TYPE_CHECKING:
    from ...domain.annotations import LabeledData

router = Router()
JOB_TAGS = ["jobs"]
TASK_TAGS = ["tasks"]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
ActionParam = Annotated[str | None, Query(description="create, update or delete")]


GZIP_LEVEL = 1  # a 5 MB answer in ~20 ms; level 9 (powertools' compress) takes ~20 times longer


def _body(body: sa.LabeledDataRequest | None) -> dict[str, Any]:
    """The request as the domain parser reads it (only the keys sent, as CVAT's serializer):
    the validated values themselves, not a copy of every object (``model_dump``)."""
    if body is None:
        return {}
    return {name: getattr(body, name) for name in body.model_fields_set}


def _as_encoded(app: Any, next_middleware: Callable[[Any], Any]) -> Response[Any]:
    """Route middleware: run the route (its request already validated) and answer its Response
    as it is, skipping the response validation that ``next_middleware`` would add. Every route
    that uses it answers ``_answer``/``_gzipped_answer`` built from the domain's LabeledData."""
    route = app.context["_route"]
    return route.func(**app.context.get("_route_args", {}))


def _accepts_gzip(call: Call) -> bool:
    headers = call.event.resolved_headers_field
    encoding = headers.get("accept-encoding", "") if headers else ""
    return "gzip" in (encoding if isinstance(encoding, str) else ",".join(encoding))


def _gzipped_answer(call: Call, gzipped: bytes) -> Any:
    """A gzip-compressed JSON answer, as is for clients that accept gzip, else inflated (a
    Response; typed Any because the routes declare the schema they answer, for the OpenAPI
    document)."""
    if not _accepts_gzip(call):
        return Response(status_code=200, content_type="application/json",
                        body=gzip.decompress(gzipped).decode(), compress=False)
    answer = Response(status_code=200, content_type="application/json", body=base64.b64encode(gzipped).decode(),
                      headers={"Content-Encoding": "gzip"}, compress=False)
    answer.base64_encoded = True  # the body is the base64 text API Gateway decodes
    return answer


def _answer(call: Call, data: LabeledData) -> Any:
    """``data`` as CVAT's LabeledData JSON (orjson writes the domain's dataclasses directly)."""
    raw = orjson.dumps(data)
    if not _accepts_gzip(call):
        return Response(status_code=200, content_type="application/json", body=raw.decode(), compress=False)
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return _gzipped_answer(call, compressor.compress(raw) + compressor.flush())


# --- jobs ------------------------------------------------------------------------------------------


@router.get("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True, summary="A job's annotations",
            middlewares=[_as_encoded])
def get_job_annotations(id: ObjectId) -> sa.LabeledData:
    call = Call(router)
    service = call.services.annotations
    gzipped = service.get_job_encoded(call.ctx, id)
    if gzipped is not None:
        return _gzipped_answer(call, gzipped)
    return _answer(call, service.get_job(call.ctx, id))


@router.put("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True, summary="Replace a job's annotations",
            middlewares=[_as_encoded])
def put_job_annotations(id: ObjectId, body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.put_job(call.ctx, id, _body(body)))


@router.patch("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True,
              summary="Create, update or delete some of a job's annotations (action=...)",
              middlewares=[_as_encoded])
def patch_job_annotations(id: ObjectId, action: ActionParam = None,
                          body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.patch_job(call.ctx, id, action, _body(body)))


@router.delete("/api/jobs/<id>/annotations", tags=JOB_TAGS, summary="Remove every annotation of a job",
               responses={204: {"description": "Removed"}})
def delete_job_annotations(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.annotations.delete_job(call.ctx, id)
    return Response(status_code=204)


@router.get("/api/jobs/<id>/annotations/history", tags=JOB_TAGS,
            summary="Every save of a job's annotations, newest first (extension)")
def job_annotations_history(id: ObjectId) -> sa.AnnotationsHistory:
    call = Call(router)
    entries = call.services.annotations.history(call.ctx, id)
    results = [
        sa.AnnotationsSave(
            version=e.head.version, updated_date=e.head.updated_date, shapes=e.head.shapes,
            tracks=e.head.tracks, tags=e.head.tags,
            updated_by=sa.SavedBy(id=e.head.updated_by, username=e.username) if e.head.updated_by is not None else None,
        )
        for e in entries
    ]
    return sa.AnnotationsHistory(count=len(results), results=results)


@router.post("/api/jobs/<id>/annotations/history/<version>/restore", tags=JOB_TAGS, compress=True,
             summary="Save an earlier version of a job's annotations again as the newest (extension)",
             middlewares=[_as_encoded])
def restore_job_annotations(id: ObjectId, version: Version) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.restore(call.ctx, id, version))


# --- tasks -----------------------------------------------------------------------------------------


@router.get("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True, summary="A task's annotations (all its jobs)",
            middlewares=[_as_encoded])
def get_task_annotations(id: ObjectId) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.get_task(call.ctx, id))


@router.put("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True, summary="Replace a task's annotations",
            middlewares=[_as_encoded])
def put_task_annotations(id: ObjectId, body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.put_task(call.ctx, id, _body(body)))


@router.patch("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True,
              summary="Create, update or delete some of a task's annotations (action=...)",
              middlewares=[_as_encoded])
def patch_task_annotations(id: ObjectId, action: ActionParam = None,
                           body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call, call.services.annotations.patch_task(call.ctx, id, action, _body(body)))


@router.delete("/api/tasks/<id>/annotations", tags=TASK_TAGS, summary="Remove every annotation of a task",
               responses={204: {"description": "Removed"}})
def delete_task_annotations(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.annotations.delete_task(call.ctx, id)
    return Response(status_code=204)
