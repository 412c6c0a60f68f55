"""Reading task data: ``GET /api/tasks/{id}/data/`` and ``GET /api/jobs/{id}/data`` (chunks and
frames), ``GET|PATCH /api/{tasks,jobs}/{id}/data/meta`` and ``GET /api/{tasks,jobs,projects}/{id}/preview``.

Big bodies (chunks, large frames) answer 302 with a presigned GET on the storage's own origin:
cvat-sdk follows it and, the origin being another one, drops its ``Authorization`` and cookies
(reference/cvat-api/sdk-wire-facts.md); small ones (frames, previews) come inline. Data reads
come in bursts, so whether the caller may read a task's (a job's) data is kept a few seconds
(``api.read_grants``). The media API function (template.yaml: MediaApiFunction) serves these
routes."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ...domain.data_reads import DataMeta, parse_data_query
from ...domain.errors import NotFoundError
from ...domain.jobs import Job
from ...domain.tasks import Task
from .. import http
from ..params import LastValue
from ..read_grants import ReadGrants, grant_key
from ..schemas import task_media as sm
from ._common import Call, ObjectId

if TYPE_CHECKING:
    from ...services.task_media import Download

router = Router()
F = TypeVar("F", bound=Callable[..., Any])
_TASKS: ReadGrants[Task] = ReadGrants()
_JOBS: ReadGrants[tuple[Job, Task]] = ReadGrants()
id_of = id  # in the keys: decisions made with one set of services are never another's (tests)
TASKS, JOBS, PROJECTS = ["tasks"], ["jobs"], ["projects"]
BINARY: dict[int, OpenAPIResponse] = {
    200: {"description": "The bytes (a chunk: a zip of images, or an MP4; a frame: an image)"},
    302: {"description": "The bytes are at Location (a presigned URL of the storage)"},
}
PREVIEW: dict[int, OpenAPIResponse] = {
    200: {"description": "A JPEG of the first frame, at most 256x256"},
    204: {"description": "No preview yet (with Prefer: handling=empty)"},
    404: {"description": "No preview yet"},
}

TypeParam = Annotated[str | None, LastValue, Query(alias="type", description="chunk, frame or context_image")]
NumberParam = Annotated[str | None, LastValue, Query(alias="number", description="A frame, or a task chunk")]
QualityParam = Annotated[str | None, LastValue, Query(alias="quality", description="compressed (default), original")]
IndexParam = Annotated[str | None, LastValue, Query(alias="index", description="A job's chunk, from 0 in each job")]


def raw_body(func: F) -> F:
    """Let a route's bytes (images, zips) through as they are: powertools validates and
    JSON-serializes whatever a route returns by its return annotation, so the signature it reads
    has none (as ``params.list_params`` rewrites parameters)."""
    func.__signature__ = inspect.signature(func).replace(  # type: ignore[attr-defined]
        return_annotation=inspect.Signature.empty)
    return func


def _answer(download: Download) -> Response[Any]:
    if download.url is not None:
        # no-store: the URL expires; a cached redirect would outlive it
        return Response(status_code=302, content_type=download.content_type, body="",
                        headers={"Location": download.url, "Cache-Control": "no-store", **download.headers})
    return Response(status_code=200, content_type=download.content_type, body=download.body or b"",
                    headers={"Cache-Control": "private, max-age=60", **download.headers})


def _preview(call: Call, download: Download | None, what: str) -> Response[Any]:
    if download is not None:
        return _answer(download)
    if "handling=empty" in (http.header(call.event, "Prefer") or "").replace(" ", "").lower():
        return Response(status_code=204, content_type="application/json", body="")
    raise NotFoundError(f"{what} image preview not found")


def _meta(meta: DataMeta) -> sm.DataMetaRead:
    return sm.DataMetaRead(
        chunks_updated_date=meta.chunks_updated_date, chunk_size=meta.chunk_size, size=meta.size,
        image_quality=meta.image_quality, start_frame=meta.start_frame, stop_frame=meta.stop_frame,
        frame_filter=meta.frame_filter,
        frames=[sm.FrameMeta(width=f.width, height=f.height, name=f.name, related_files=f.related_files,
                             has_related_context=f.related_files > 0) for f in meta.frames],
        deleted_frames=list(meta.deleted_frames),
        included_frames=list(meta.included_frames) if meta.included_frames is not None else None,
        chapters=list(meta.chapters) if meta.chapters is not None else None,
        storage=meta.storage, cloud_storage_id=meta.cloud_storage_id, frame_rate=meta.frame_rate,
    )


# --- tasks ---------------------------------------------------------------------------------------


@router.get("/api/tasks/<id>/data", tags=TASKS, summary="A chunk or a frame of a task", responses=BINARY)
@raw_body
def task_data(id: ObjectId, kind: TypeParam = None, number: NumberParam = None,
              quality: QualityParam = None) -> Response[Any]:
    # the parameters are declared for the OpenAPI document; CVAT's checks read them from the query
    call = Call(router)
    query = parse_data_query(call.query)
    media = call.services.task_media
    key = grant_key(call.event, "task", id, id_of(media))
    task = _TASKS.get(key)
    if task is None:
        task = media.readable_task(call.ctx, id)
        if task.has_data:  # a task's data never changes once it has some
            _TASKS.put(key, task)
    return _answer(media.task_data_of(task, query))


@router.get("/api/tasks/<id>/data/meta", tags=TASKS, summary="Meta information of a task's frames")
def task_meta(id: ObjectId) -> sm.DataMetaRead:
    call = Call(router)
    return _meta(call.services.task_media.task_meta(call.ctx, id))


@router.patch("/api/tasks/<id>/data/meta", tags=TASKS, summary="Set a task's deleted frames")
def update_task_meta(id: ObjectId, body: sm.DataMetaWriteRequest) -> sm.DataMetaRead:
    call = Call(router)
    return _meta(call.services.task_media.update_task_meta(call.ctx, id, body.deleted_frames))


@router.get("/api/tasks/<id>/preview", tags=TASKS, summary="A task's preview image", responses=PREVIEW)
@raw_body
def task_preview(id: ObjectId) -> Response[Any]:
    call = Call(router)
    return _preview(call, call.services.task_media.task_preview(call.ctx, id), "Task")


# --- jobs ----------------------------------------------------------------------------------------


@router.get("/api/jobs/<id>/data", tags=JOBS, summary="A chunk or a frame of a job", responses=BINARY)
@raw_body
def job_data(id: ObjectId, kind: TypeParam = None, number: NumberParam = None,
             quality: QualityParam = None, index: IndexParam = None) -> Response[Any]:
    call = Call(router)
    query = parse_data_query(call.query, job=True)
    media = call.services.task_media
    key = grant_key(call.event, "job", id, id_of(media))
    readable = _JOBS.get(key)
    if readable is None:
        readable = media.readable_job(call.ctx, id)
        _JOBS.put(key, readable)
    return _answer(media.job_data_of(*readable, query))


@router.get("/api/jobs/<id>/data/meta", tags=JOBS, summary="Meta information of a job's frames")
def job_meta(id: ObjectId) -> sm.DataMetaRead:
    call = Call(router)
    return _meta(call.services.task_media.job_meta(call.ctx, id))


@router.patch("/api/jobs/<id>/data/meta", tags=JOBS, summary="Set a job's deleted frames")
def update_job_meta(id: ObjectId, body: sm.DataMetaWriteRequest) -> sm.DataMetaRead:
    call = Call(router)
    return _meta(call.services.task_media.update_job_meta(call.ctx, id, body.deleted_frames))


@router.get("/api/jobs/<id>/preview", tags=JOBS, summary="A job's preview image", responses=PREVIEW)
@raw_body
def job_preview(id: ObjectId) -> Response[Any]:
    call = Call(router)
    return _preview(call, call.services.task_media.job_preview(call.ctx, id), "Job")


# --- projects ------------------------------------------------------------------------------------


@router.get("/api/projects/<id>/preview", tags=PROJECTS, summary="A project's preview image", responses=PREVIEW)
@raw_body
def project_preview(id: ObjectId) -> Response[Any]:
    call = Call(router)
    return _preview(call, call.services.task_media.project_preview(call.ctx, id), "Project")
