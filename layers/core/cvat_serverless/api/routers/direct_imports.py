"""Direct uploads of the file of an import or a backup restore, an extension beyond CVAT for files
no API request can carry (a Lambda receives at most 6 MB; cvat-sdk sends 10 MiB TUS parts):
``POST .../uploads`` starts a presigned S3 multipart upload into the upload store
(services.uploads), the client PUTs the parts to S3, ``.../uploads/complete`` joins them, then
the client finishes as CVAT's protocol does: ``Upload-Finish`` with ``filename=<upload_id>`` on
the usual endpoint (``POST /api/tasks/{id}/annotations``, ``POST /api/tasks/backup``...). Who may
create the TUS upload may start a direct one (services.imports, services.restores)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.uploads import Upload
from ...services.uploads import StartedDirectUpload
from ..schemas import direct_uploads as sd
from ._common import Call, ObjectId

router = Router()
_START = ("Start a presigned S3 multipart upload of the file (extension)",
          "An upload id in CVAT's form and a presigned URL per part (parts sized as the task-data direct "
          "uploads size them; no request-size limit applies). PUT each part, complete, then finish with "
          "Upload-Finish and filename=<upload_id> on {finish}. The same permission as creating a TUS upload there.")
_COMPLETE = ("Complete a direct upload: the file is whole (extension)",
             "Joins the parts (their ETags, in part order). An upload S3 refuses to join is aborted (400).")
_ABORT = "Abort a direct upload (extension)"


def _started(started: StartedDirectUpload) -> sd.DirectFileUploadRead:
    return sd.DirectFileUploadRead(
        upload_id=started.upload.id, filename=started.upload.filename, part_size=started.part_size,
        expires_in=started.expires_in,
        parts=[sd.PartUrl(part_number=p.number, url=p.url, size=p.size) for p in started.parts])


def _completed(upload: Upload) -> sd.CompleteFileUploadRead:
    return sd.CompleteFileUploadRead(upload_id=upload.id, filename=upload.filename, size=upload.length)


def _parts(body: sd.CompleteFileUploadRequest) -> list[tuple[int, str]]:
    return [(p.part_number, p.etag) for p in body.parts]


# --- annotations and datasets (services.imports) ------------------------------------------------------


def _start_import(target: str, resource_id: int, body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    call = Call(router)
    return _started(call.services.imports.start_direct_upload(call.ctx, target, resource_id, body.filename,
                                                              body.size))


def _complete_import(target: str, resource_id: int, body: sd.CompleteFileUploadRequest
                     ) -> sd.CompleteFileUploadRead:
    call = Call(router)
    return _completed(call.services.imports.complete_direct_upload(call.ctx, target, resource_id, body.upload_id,
                                                                   _parts(body)))


def _abort_import(target: str, resource_id: int, body: sd.AbortFileUploadRequest) -> Response[None]:
    call = Call(router)
    call.services.imports.abort_direct_upload(call.ctx, target, resource_id, body.upload_id)
    return Response(status_code=204)


@router.post("/api/tasks/<id>/annotations/uploads", tags=["tasks"], status_code=201, summary=_START[0],
             description=_START[1].format(finish="POST /api/tasks/{id}/annotations"))
def start_task_annotations_upload(id: ObjectId, body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    return _start_import("task", id, body)


@router.post("/api/tasks/<id>/annotations/uploads/complete", tags=["tasks"], summary=_COMPLETE[0],
             description=_COMPLETE[1])
def complete_task_annotations_upload(id: ObjectId, body: sd.CompleteFileUploadRequest
                                     ) -> sd.CompleteFileUploadRead:
    return _complete_import("task", id, body)


@router.post("/api/tasks/<id>/annotations/uploads/abort", tags=["tasks"], summary=_ABORT,
             responses={204: {"description": "aborted"}})
def abort_task_annotations_upload(id: ObjectId, body: sd.AbortFileUploadRequest) -> Response[None]:
    return _abort_import("task", id, body)


@router.post("/api/jobs/<id>/annotations/uploads", tags=["jobs"], status_code=201, summary=_START[0],
             description=_START[1].format(finish="POST /api/jobs/{id}/annotations"))
def start_job_annotations_upload(id: ObjectId, body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    return _start_import("job", id, body)


@router.post("/api/jobs/<id>/annotations/uploads/complete", tags=["jobs"], summary=_COMPLETE[0],
             description=_COMPLETE[1])
def complete_job_annotations_upload(id: ObjectId, body: sd.CompleteFileUploadRequest) -> sd.CompleteFileUploadRead:
    return _complete_import("job", id, body)


@router.post("/api/jobs/<id>/annotations/uploads/abort", tags=["jobs"], summary=_ABORT,
             responses={204: {"description": "aborted"}})
def abort_job_annotations_upload(id: ObjectId, body: sd.AbortFileUploadRequest) -> Response[None]:
    return _abort_import("job", id, body)


@router.post("/api/projects/<id>/dataset/uploads", tags=["projects"], status_code=201, summary=_START[0],
             description=_START[1].format(finish="POST /api/projects/{id}/dataset"))
def start_project_dataset_upload(id: ObjectId, body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    return _start_import("project", id, body)


@router.post("/api/projects/<id>/dataset/uploads/complete", tags=["projects"], summary=_COMPLETE[0],
             description=_COMPLETE[1])
def complete_project_dataset_upload(id: ObjectId, body: sd.CompleteFileUploadRequest
                                    ) -> sd.CompleteFileUploadRead:
    return _complete_import("project", id, body)


@router.post("/api/projects/<id>/dataset/uploads/abort", tags=["projects"], summary=_ABORT,
             responses={204: {"description": "aborted"}})
def abort_project_dataset_upload(id: ObjectId, body: sd.AbortFileUploadRequest) -> Response[None]:
    return _abort_import("project", id, body)


# --- backups (services.restores) -------------------------------------------------------------------


def _start_restore(target: str, body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    call = Call(router)
    return _started(call.services.restores.start_direct_upload(call.ctx, target, body.filename, body.size))


def _complete_restore(target: str, body: sd.CompleteFileUploadRequest) -> sd.CompleteFileUploadRead:
    call = Call(router)
    return _completed(call.services.restores.complete_direct_upload(call.ctx, target, body.upload_id,
                                                                    _parts(body)))


def _abort_restore(target: str, body: sd.AbortFileUploadRequest) -> Response[None]:
    call = Call(router)
    call.services.restores.abort_direct_upload(call.ctx, target, body.upload_id)
    return Response(status_code=204)


@router.post("/api/tasks/backup/uploads", tags=["tasks"], status_code=201, summary=_START[0],
             description=_START[1].format(finish="POST /api/tasks/backup"))
def start_task_backup_upload(body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    return _start_restore("task", body)


@router.post("/api/tasks/backup/uploads/complete", tags=["tasks"], summary=_COMPLETE[0], description=_COMPLETE[1])
def complete_task_backup_upload(body: sd.CompleteFileUploadRequest) -> sd.CompleteFileUploadRead:
    return _complete_restore("task", body)


@router.post("/api/tasks/backup/uploads/abort", tags=["tasks"], summary=_ABORT,
             responses={204: {"description": "aborted"}})
def abort_task_backup_upload(body: sd.AbortFileUploadRequest) -> Response[None]:
    return _abort_restore("task", body)


@router.post("/api/projects/backup/uploads", tags=["projects"], status_code=201, summary=_START[0],
             description=_START[1].format(finish="POST /api/projects/backup"))
def start_project_backup_upload(body: sd.DirectFileUploadRequest) -> sd.DirectFileUploadRead:
    return _start_restore("project", body)


@router.post("/api/projects/backup/uploads/complete", tags=["projects"], summary=_COMPLETE[0],
             description=_COMPLETE[1])
def complete_project_backup_upload(body: sd.CompleteFileUploadRequest) -> sd.CompleteFileUploadRead:
    return _complete_restore("project", body)


@router.post("/api/projects/backup/uploads/abort", tags=["projects"], summary=_ABORT,
             responses={204: {"description": "aborted"}})
def abort_project_backup_upload(body: sd.AbortFileUploadRequest) -> Response[None]:
    return _abort_restore("project", body)
