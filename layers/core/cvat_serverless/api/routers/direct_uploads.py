"""``/api/tasks/{id}/data/uploads``: presigned S3 multipart uploads of a task's files, an
extension beyond CVAT for uploads of any size that never pass through the API (the web UI,
``cvat-serverless upload``). Start the uploads, PUT the parts to S3, complete them, then finish
with CVAT's ``POST /api/tasks/{id}/data/`` and ``Upload-Finish`` (services.direct_uploads)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ..schemas import direct_uploads as sd
from ._common import Call, ObjectId

router = Router()
TAGS = ["tasks"]


@router.post("/api/tasks/<id>/data/uploads", tags=TAGS, status_code=201,
             summary="Start presigned S3 multipart uploads of the task's files (extension)",
             description="One multipart upload per file into the task's staging area and a presigned URL "
                         "per part (at most 1024 parts a file, 2000 URLs an answer). PUT each part, then "
                         "complete the uploads and finish with Upload-Finish. Only who may change the "
                         "task, and only while it has no data.")
def start_uploads(id: ObjectId, body: sd.DirectUploadsRequest) -> sd.DirectUploadsRead:
    from ...services.direct_uploads import FileToUpload

    call = Call(router)
    service = call.services.direct_uploads
    started = service.start(call.ctx, id, [FileToUpload(f.name, f.size, f.content_type) for f in body.files])
    return sd.DirectUploadsRead(expires_in=service.expires, files=[
        sd.DirectUpload(name=s.name, upload_id=s.upload_id, part_size=s.part_size,
                        parts=[sd.PartUrl(part_number=p.number, url=p.url, size=p.size) for p in s.parts])
        for s in started])


@router.post("/api/tasks/<id>/data/uploads/complete", tags=TAGS,
             summary="Complete presigned multipart uploads: the files are staged (extension)",
             description="Joins each upload's parts (their ETags, in part order). An upload S3 refuses "
                         "to join is aborted and named in the 400.")
def complete_uploads(id: ObjectId, body: sd.CompleteUploadsRequest) -> sd.CompleteUploadsRead:
    from ...services.direct_uploads import UploadedParts

    call = Call(router)
    uploads = [UploadedParts(f.name, f.upload_id, [(p.part_number, p.etag) for p in f.parts]) for f in body.files]
    return sd.CompleteUploadsRead(files=call.services.direct_uploads.complete(call.ctx, id, uploads))


@router.post("/api/tasks/<id>/data/uploads/abort", tags=TAGS,
             summary="Abort presigned multipart uploads (extension)", responses={204: {"description": "aborted"}})
def abort_uploads(id: ObjectId, body: sd.AbortUploadsRequest) -> Response[None]:
    call = Call(router)
    call.services.direct_uploads.abort(call.ctx, id, [(f.name, f.upload_id) for f in body.files])
    return Response(status_code=204)
