"""Dataset exports and backups: ``POST /api/{projects,tasks,jobs}/{id}/dataset/export`` and
``POST /api/{projects,tasks}/{id}/backup/export`` -> 202 ``{rq_id}``
(the request then says how it goes, ``GET /api/requests/{id}``), and the result's download, the
request's ``result_url``: a redirect to the stored archive on the storage's own origin, named by
``Content-Disposition`` (sdk-wire-facts.md §0: never gzip-encoded, never on the API's origin)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ...domain.errors import ValidationError
from ...domain.exports import ExportKind, ExportSpec, ExportTarget, parse_bool
from ..schemas.requests import RqId
from ._common import Call, ObjectId

router = Router()
EXPORT_RESPONSES: dict[int, OpenAPIResponse] = {
    202: {"description": "The export request (poll GET /api/requests/{rq_id})"}}
DOWNLOAD_RESPONSES: dict[int, OpenAPIResponse] = {
    302: {"description": "The archive is at Location (a presigned URL of the storage)"}}


def _export(target: ExportTarget, target_id: int) -> Response[RqId]:
    call = Call(router)
    query = call.query
    format_name = query.get("format") or ""
    if not format_name:
        raise ValidationError(fields={"format": ["This query parameter is required."]})
    location = query.get("location") or "local"
    if location != "local":
        raise ValidationError(fields={"location": [
            "Only 'local' is supported: download the result from result_url (no cloud storages here)."]})
    spec = ExportSpec(ExportKind.DATASET, target, target_id, format_name,
                      parse_bool(query.get("save_images"), "save_images"), query.get("filename") or "")
    rq = call.services.exports.export_dataset(call.ctx, spec)
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=rq.id))


def _backup(target: ExportTarget, target_id: int) -> Response[RqId]:
    call = Call(router)
    query = call.query
    if (query.get("location") or "local") != "local":
        raise ValidationError(fields={"location": [
            "Only 'local' is supported: download the result from result_url (no cloud storages here)."]})
    if parse_bool(query.get("lightweight"), "lightweight"):
        raise ValidationError(fields={"lightweight": [
            "Lightweight backups (media left in a cloud storage) need cloud storages, which this server has not."]})
    spec = ExportSpec(ExportKind.BACKUP, target, target_id, filename=query.get("filename") or "")
    rq = call.services.exports.export_backup(call.ctx, spec)
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=rq.id))


def _download(target: ExportTarget, target_id: int, kind: ExportKind = ExportKind.DATASET) -> Response[str]:
    call = Call(router)
    url = call.services.exports.download_url(call.ctx, target, target_id, call.query.get("rq_id") or "", kind)
    return Response(status_code=302, content_type="application/zip", body="",
                    headers={"Location": url, "Cache-Control": "no-store"})


@router.post("/api/tasks/<id>/dataset/export", tags=["tasks"], summary="Export a task's dataset or annotations",
             responses=EXPORT_RESPONSES)
def export_task_dataset(id: ObjectId) -> Response[RqId]:
    return _export(ExportTarget.TASK, id)


@router.post("/api/jobs/<id>/dataset/export", tags=["jobs"], summary="Export a job's dataset or annotations",
             responses=EXPORT_RESPONSES)
def export_job_dataset(id: ObjectId) -> Response[RqId]:
    return _export(ExportTarget.JOB, id)


@router.post("/api/projects/<id>/dataset/export", tags=["projects"],
             summary="Export a project's dataset or annotations", responses=EXPORT_RESPONSES)
def export_project_dataset(id: ObjectId) -> Response[RqId]:
    return _export(ExportTarget.PROJECT, id)


@router.get("/api/tasks/<id>/dataset/download", tags=["tasks"], summary="Download an export (its result_url)",
            responses=DOWNLOAD_RESPONSES)
def download_task_dataset(id: ObjectId) -> Response[str]:
    return _download(ExportTarget.TASK, id)


@router.get("/api/jobs/<id>/dataset/download", tags=["jobs"], summary="Download an export (its result_url)",
            responses=DOWNLOAD_RESPONSES)
def download_job_dataset(id: ObjectId) -> Response[str]:
    return _download(ExportTarget.JOB, id)


@router.get("/api/projects/<id>/dataset/download", tags=["projects"], summary="Download an export (its result_url)",
            responses=DOWNLOAD_RESPONSES)
def download_project_dataset(id: ObjectId) -> Response[str]:
    return _download(ExportTarget.PROJECT, id)


@router.post("/api/tasks/<id>/backup/export", tags=["tasks"], summary="Back up a task (CVAT's backup layout)",
             responses=EXPORT_RESPONSES)
def export_task_backup(id: ObjectId) -> Response[RqId]:
    return _backup(ExportTarget.TASK, id)


@router.post("/api/projects/<id>/backup/export", tags=["projects"],
             summary="Back up a project (CVAT's backup layout)", responses=EXPORT_RESPONSES)
def export_project_backup(id: ObjectId) -> Response[RqId]:
    return _backup(ExportTarget.PROJECT, id)


@router.get("/api/tasks/<id>/backup/download", tags=["tasks"], summary="Download a backup (its result_url)",
            responses=DOWNLOAD_RESPONSES)
def download_task_backup(id: ObjectId) -> Response[str]:
    return _download(ExportTarget.TASK, id, ExportKind.BACKUP)


@router.get("/api/projects/<id>/backup/download", tags=["projects"], summary="Download a backup (its result_url)",
            responses=DOWNLOAD_RESPONSES)
def download_project_backup(id: ObjectId) -> Response[str]:
    return _download(ExportTarget.PROJECT, id, ExportKind.BACKUP)
