"""``POST /api/tasks/{id}/data/``: CVAT's upload protocol, dispatched on the request's headers as
CVAT's UploadMixin does (contract.md §6): ``Upload-Finish`` -> finish; ``Upload-Start`` -> start;
``Upload-Length`` -> TUS create; ``Upload-Multiple`` -> add files; none of them -> one legacy
request (a multipart form with files and parameters, or JSON with server or remote files).
TUS parts: ``PATCH``/``HEAD /api/tasks/{id}/data/{file id}``."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import ValidationError
from .. import http, tus
from ..schemas.requests import RqId
from ._common import Call, ObjectId

router = Router()
TAGS = ["tasks"]
UploadId = tus.UploadId
TUS_HEADERS = tus.TUS_HEADERS


def _json_body(event: http.Event) -> dict[str, Any]:
    raw = http.body_bytes(event)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValidationError("JSON parse error - the body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValidationError("Invalid data. Expected a dictionary of data parameters.")
    return value


def _files_and_fields(event: http.Event) -> tuple[list[Any], dict[str, Any]]:
    from ...services.task_data import UploadedFile
    from ..multipart import parse_form

    content_type = http.header(event, "Content-Type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        return [], _json_body(event)
    form = parse_form(content_type, http.body_bytes(event))
    files = [UploadedFile(name, body, ctype) for name, body, ctype in form.files]
    return files, dict(form.fields)


def _accepted(request_id: str) -> Response[RqId]:
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=request_id))


@router.post("/api/tasks/<id>/data", tags=TAGS, summary="Attach data to a task (CVAT's upload protocol)",
             responses={202: {"description": "Upload-Start; or the background request (rq_id) that processes it"},
                        200: {"description": "Upload-Multiple: files stored"},
                        201: {"description": "TUS: an upload created (Location, Upload-Filename)"}})
def upload_data(id: ObjectId) -> Response[Any]:
    call = Call(router)
    event = call.event
    service = call.services.task_data
    header = lambda name: http.header(event, name)  # noqa: E731 - a short local alias
    if header("Upload-Finish") is not None:
        files, params = _files_and_fields(event)
        return _accepted(service.finish(call.ctx, id, params, files=files).id)
    if header("Upload-Start") is not None:
        service.start_upload(call.ctx, id)
        return Response(status_code=202, content_type="application/json", body="")
    if header("Upload-Length") is not None:
        return _tus_create(call, id)
    if header("Upload-Multiple") is not None:
        files, _params = _files_and_fields(event)
        service.add_files(call.ctx, id, files)
        return Response(status_code=200, content_type="application/json", body="")
    files, params = _files_and_fields(event)
    return _accepted(service.finish(call.ctx, id, params, files=files, fresh=True).id)


def _tus_create(call: Call, task_id: int) -> Response[Any]:
    event = call.event
    try:
        length = int(http.header(event, "Upload-Length") or "")
    except ValueError:
        raise ValidationError("Upload-Length must be an integer.") from None
    filename = tus.metadata(http.header(event, "Upload-Metadata") or "").get("filename")
    if not filename:
        raise ValidationError("Upload-Metadata must name the file (filename <base64>).")
    upload = call.services.task_data.create_tus(call.ctx, task_id, filename, length)
    location = http.absolute(event, f"/api/tasks/{task_id}/data/{upload.id}")
    headers = tus.created_headers(location, upload.filename, upload.offset)
    return Response(status_code=201, content_type="application/json", body="", headers=headers)


@router.patch("/api/tasks/<id>/data/<upload_id>", tags=TAGS, summary="TUS: the next part of an upload")
def upload_part(id: ObjectId, upload_id: UploadId) -> Response[Any]:
    call = Call(router)
    event = call.event
    try:
        offset = int(http.header(event, "Upload-Offset") or "")
    except ValueError:
        raise ValidationError("Upload-Offset must be an integer.") from None
    upload = call.services.task_data.append_tus(call.ctx, id, upload_id, offset, http.body_bytes(event))
    return Response(status_code=204, content_type="application/json", body="",
                    headers={**TUS_HEADERS, "Upload-Offset": str(upload.offset)})


@router.head("/api/tasks/<id>/data/<upload_id>", tags=TAGS, summary="TUS: how much of an upload arrived")
def upload_offset(id: ObjectId, upload_id: UploadId) -> Response[Any]:
    call = Call(router)
    upload = call.services.task_data.tus_offset(call.ctx, id, upload_id)
    return Response(status_code=200, content_type="application/json", body="",
                    headers={**TUS_HEADERS, "Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)})
