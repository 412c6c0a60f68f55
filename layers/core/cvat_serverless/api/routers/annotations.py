"""/api/jobs/{id}/annotations and /api/tasks/{id}/annotations: CVAT's GET, PUT (replace),
PATCH ``?action=create|update|delete`` and DELETE; and a job's save history with restore
(``GET /api/jobs/{id}/annotations/history``, ``POST .../history/{version}/restore``: this
service's extension, not CVAT's). The task routes split writes into the task's jobs (see
``services.annotations``). Answers carrying annotations are gzip-encoded for clients that accept
it: Lambda's 6 MB answer limit would otherwise cap a task's annotations."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ..schemas import annotations as sa
from ._common import Call, ObjectId

router = Router()
JOB_TAGS = ["jobs"]
TASK_TAGS = ["tasks"]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
ActionParam = Annotated[str | None, Query(description="create, update or delete")]


def _body(body: sa.LabeledDataRequest | None) -> dict[str, Any]:
    """The request as the domain parser reads it (only the keys sent, as CVAT's serializer)."""
    return body.model_dump(exclude_unset=True) if body is not None else {}


def _answer(data: Any) -> sa.LabeledData:
    return sa.LabeledData.model_validate(data.to_dict())


# --- jobs ------------------------------------------------------------------------------------------


@router.get("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True, summary="A job's annotations")
def get_job_annotations(id: ObjectId) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.get_job(call.ctx, id))


@router.put("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True, summary="Replace a job's annotations")
def put_job_annotations(id: ObjectId, body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.put_job(call.ctx, id, _body(body)))


@router.patch("/api/jobs/<id>/annotations", tags=JOB_TAGS, compress=True,
              summary="Create, update or delete some of a job's annotations (action=...)")
def patch_job_annotations(id: ObjectId, action: ActionParam = None,
                          body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.patch_job(call.ctx, id, action, _body(body)))


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
             summary="Save an earlier version of a job's annotations again as the newest (extension)")
def restore_job_annotations(id: ObjectId, version: Version) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.restore(call.ctx, id, version))


# --- tasks -----------------------------------------------------------------------------------------


@router.get("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True, summary="A task's annotations (all its jobs)")
def get_task_annotations(id: ObjectId) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.get_task(call.ctx, id))


@router.put("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True, summary="Replace a task's annotations")
def put_task_annotations(id: ObjectId, body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.put_task(call.ctx, id, _body(body)))


@router.patch("/api/tasks/<id>/annotations", tags=TASK_TAGS, compress=True,
              summary="Create, update or delete some of a task's annotations (action=...)")
def patch_task_annotations(id: ObjectId, action: ActionParam = None,
                           body: sa.LabeledDataRequest | None = None) -> sa.LabeledData:
    call = Call(router)
    return _answer(call.services.annotations.patch_task(call.ctx, id, action, _body(body)))


@router.delete("/api/tasks/<id>/annotations", tags=TASK_TAGS, summary="Remove every annotation of a task",
               responses={204: {"description": "Removed"}})
def delete_task_annotations(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.annotations.delete_task(call.ctx, id)
    return Response(status_code=204)
