"""Imports: ``POST /api/tasks/{id}/annotations``, ``POST /api/jobs/{id}/annotations`` and
``POST /api/projects/{id}/dataset`` with CVAT's upload protocol, dispatched on the request's
headers as CVAT's UploadMixin does (contract.md §6): ``Upload-Finish`` -> the import starts
(202 ``{rq_id}``); ``Upload-Start`` -> 202; ``Upload-Length`` -> TUS create (201, ``Location``,
``Upload-Filename``); none of them -> the one-request multipart form (``annotation_file`` /
``dataset_file``). TUS parts: ``PATCH``/``HEAD <resource>/{file id}``. The query carries
``format``, ``filename`` and, for tasks and jobs, ``conv_mask_to_poly`` and ``import_mode``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import ValidationError
from .. import http, tus
from ..schemas.requests import RqId
from ._common import Call, ObjectId

router = Router()
_RESPONSES: dict[int, Any] = {
    202: {"description": "Upload-Start accepted; or the background request (rq_id) of the import"},
    201: {"description": "TUS: an upload created (Location, Upload-Filename)"},
}
_QUERY = ("Query: format (an importer, GET /api/server/annotation/formats), filename (Upload-Finish: the "
          "Upload-Filename), conv_mask_to_poly, import_mode=replace|append (tasks and jobs).")


def _upload(target: str, resource_id: int, path: str) -> Response[Any]:
    call = Call(router)
    event = call.event
    service = call.services.imports
    query = call.query
    if http.header(event, "Upload-Finish") is not None:
        return _accepted(service.finish(call.ctx, target, resource_id, query).id)
    if http.header(event, "Upload-Start") is not None:
        service.start(call.ctx, target, resource_id, query)
        return Response(status_code=202, content_type="application/json", body="")
    if http.header(event, "Upload-Length") is not None:
        length = tus.int_header(event, "Upload-Length")
        filename = tus.metadata(http.header(event, "Upload-Metadata") or "").get("filename") or "file"
        upload = service.create_upload(call.ctx, target, resource_id, filename, length)
        location = http.absolute(event, f"{path}/{upload.id}")
        return Response(status_code=201, content_type="application/json", body="",
                        headers=tus.created_headers(location, upload.id, upload.offset))
    content_type = http.header(event, "Content-Type") or ""
    if content_type.lower().startswith("multipart/form-data"):
        from ..multipart import parse_form

        form = parse_form(content_type, http.body_bytes(event))
        if not form.files:
            raise ValidationError(f"Send the file as {'dataset_file' if target == 'project' else 'annotation_file'}.")
        name, body, _ctype = form.files[0]
        params = {**{k: v for k, v in form.fields.items() if isinstance(v, str)}, **query}
        return _accepted(service.import_file(call.ctx, target, resource_id, params, filename=name, body=body).id)
    raise ValidationError("Upload the file first: Upload-Start, TUS (Upload-Length, PATCH), then Upload-Finish "
                          "with filename=<Upload-Filename>; or send it as multipart/form-data.")


def _accepted(request_id: str) -> Response[RqId]:
    return Response(status_code=202, content_type="application/json", body=RqId(rq_id=request_id))


def _part(target: str, resource_id: int, upload_id: str) -> Response[Any]:
    call = Call(router)
    offset = tus.int_header(call.event, "Upload-Offset")
    upload = call.services.imports.append(call.ctx, target, resource_id, upload_id, offset=offset,
                                          data=http.body_bytes(call.event))
    return Response(status_code=204, content_type="application/json", body="",
                    headers={**tus.TUS_HEADERS, "Upload-Offset": str(upload.offset)})


def _offset(target: str, resource_id: int, upload_id: str) -> Response[Any]:
    call = Call(router)
    upload = call.services.imports.offset(call.ctx, target, resource_id, upload_id)
    return Response(status_code=200, content_type="application/json", body="",
                    headers={**tus.TUS_HEADERS, "Upload-Offset": str(upload.offset),
                             "Upload-Length": str(upload.length)})


# --- tasks ---------------------------------------------------------------------------------------

@router.post("/api/tasks/<id>/annotations", tags=["tasks"], responses=_RESPONSES,
             summary="Import annotations into a task (CVAT's upload protocol)", description=_QUERY)
def import_task_annotations(id: ObjectId) -> Response[Any]:
    return _upload("task", id, f"/api/tasks/{id}/annotations")


@router.patch("/api/tasks/<id>/annotations/<upload_id>", tags=["tasks"], summary="TUS: the next part of an upload")
def task_annotations_part(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _part("task", id, upload_id)


@router.head("/api/tasks/<id>/annotations/<upload_id>", tags=["tasks"], summary="TUS: how much of an upload arrived")
def task_annotations_offset(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _offset("task", id, upload_id)


# --- jobs ----------------------------------------------------------------------------------------

@router.post("/api/jobs/<id>/annotations", tags=["jobs"], responses=_RESPONSES,
             summary="Import annotations into a job (CVAT's upload protocol)", description=_QUERY)
def import_job_annotations(id: ObjectId) -> Response[Any]:
    return _upload("job", id, f"/api/jobs/{id}/annotations")


@router.patch("/api/jobs/<id>/annotations/<upload_id>", tags=["jobs"], summary="TUS: the next part of an upload")
def job_annotations_part(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _part("job", id, upload_id)


@router.head("/api/jobs/<id>/annotations/<upload_id>", tags=["jobs"], summary="TUS: how much of an upload arrived")
def job_annotations_offset(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _offset("job", id, upload_id)


# --- projects ------------------------------------------------------------------------------------

@router.post("/api/projects/<id>/dataset", tags=["projects"], responses=_RESPONSES,
             summary="Import a dataset's annotations into a project's tasks (CVAT's upload protocol)",
             description="Items are matched to the project's existing tasks by frame name. " + _QUERY)
def import_project_dataset(id: ObjectId) -> Response[Any]:
    return _upload("project", id, f"/api/projects/{id}/dataset")


@router.patch("/api/projects/<id>/dataset/<upload_id>", tags=["projects"], summary="TUS: the next part of an upload")
def project_dataset_part(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _part("project", id, upload_id)


@router.head("/api/projects/<id>/dataset/<upload_id>", tags=["projects"],
             summary="TUS: how much of an upload arrived")
def project_dataset_offset(id: ObjectId, upload_id: tus.UploadId) -> Response[Any]:
    return _offset("project", id, upload_id)
