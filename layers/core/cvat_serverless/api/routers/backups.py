"""Restoring backups: ``POST /api/tasks/backup`` and ``POST /api/projects/backup`` with CVAT's
upload protocol (contract.md §6), dispatched on the request's headers as CVAT's UploadMixin does:
``Upload-Finish`` -> the restore starts (202 ``{rq_id}``; the finished request's ``result_id`` is
the new task's or project's id); ``Upload-Start`` -> 202; ``Upload-Length`` -> TUS create (201,
``Location``, ``Upload-Filename``); none of them -> the one-request multipart form (``task_file``
/ ``project_file``). TUS parts: ``PATCH``/``HEAD /api/{tasks,projects}/backup/{file id}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import ValidationError
from .. import http, tus
from ..schemas.requests import RqId
from ._common import Call

router = Router()
_RESPONSES: dict[int, Any] = {
    202: {"description": "Upload-Start accepted; or the background request (rq_id) of the restore"},
    201: {"description": "TUS: an upload created (Location, Upload-Filename)"},
}


def _upload(target: str) -> Response[Any]:
    call = Call(router)
    event = call.event
    service = call.services.restores
    path = f"/api/{target}s/backup"
    if http.header(event, "Upload-Finish") is not None:
        return _accepted(service.finish(call.ctx, target, call.query).id)
    if http.header(event, "Upload-Start") is not None:
        service.check(call.ctx, target)
        return Response(status_code=202, content_type="application/json", body="")
    if http.header(event, "Upload-Length") is not None:
        length = tus.int_header(event, "Upload-Length")
        filename = tus.metadata(http.header(event, "Upload-Metadata") or "").get("filename") or "backup.zip"
        upload = service.create_upload(call.ctx, target, filename, length)
        return Response(status_code=201, content_type="application/json", body="",
                        headers=tus.created_headers(http.absolute(event, f"{path}/{upload.id}"), upload.id,
                                                    upload.offset))
    content_type = http.header(event, "Content-Type") or ""
    if content_type.lower().startswith("multipart/form-data"):
        from ..multipart import parse_form

        form = parse_form(content_type, http.body_bytes(event))
        if not form.files:
            raise ValidationError(f"Send the backup as {target}_file.")
        name, body, _ctype = form.files[0]
        return _accepted(service.restore_file(call.ctx, target, name, body).id)
    raise ValidationError("Upload the backup first: Upload-Start, TUS (Upload-Length, PATCH), then Upload-Finish "
                          "with filename=<Upload-Filename>; or send it as multipart/form-data.")


def _accepted(request_id: str) -> Response[RqId]:
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=request_id))


def _part(target: str, upload_id: str) -> Response[Any]:
    call = Call(router)
    upload = call.services.restores.append(call.ctx, target, upload_id, tus.int_header(call.event, "Upload-Offset"),
                                           http.body_bytes(call.event))
    return Response(status_code=204, content_type="application/json", body="",
                    headers={**tus.TUS_HEADERS, "Upload-Offset": str(upload.offset)})


def _offset(target: str, upload_id: str) -> Response[Any]:
    call = Call(router)
    upload = call.services.restores.offset(call.ctx, target, upload_id)
    return Response(status_code=200, content_type="application/json", body="",
                    headers={**tus.TUS_HEADERS, "Upload-Offset": str(upload.offset),
                             "Upload-Length": str(upload.length)})


@router.post("/api/tasks/backup", tags=["tasks"], summary="Restore a task from a backup (CVAT's upload protocol)",
             responses=_RESPONSES)
def restore_task() -> Response[Any]:
    return _upload("task")


@router.post("/api/projects/backup", tags=["projects"],
             summary="Restore a project from a backup (CVAT's upload protocol)", responses=_RESPONSES)
def restore_project() -> Response[Any]:
    return _upload("project")


@router.patch("/api/tasks/backup/<upload_id>", tags=["tasks"], summary="TUS: the next part of a backup")
def task_backup_part(upload_id: tus.UploadId) -> Response[Any]:
    return _part("task", upload_id)


@router.head("/api/tasks/backup/<upload_id>", tags=["tasks"], summary="TUS: how much of a backup arrived")
def task_backup_offset(upload_id: tus.UploadId) -> Response[Any]:
    return _offset("task", upload_id)


@router.patch("/api/projects/backup/<upload_id>", tags=["projects"], summary="TUS: the next part of a backup")
def project_backup_part(upload_id: tus.UploadId) -> Response[Any]:
    return _part("project", upload_id)


@router.head("/api/projects/backup/<upload_id>", tags=["projects"], summary="TUS: how much of a backup arrived")
def project_backup_offset(upload_id: tus.UploadId) -> Response[Any]:
    return _offset("project", upload_id)
