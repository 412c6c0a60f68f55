"""Direct uploads (an extension beyond CVAT): presigned S3 multipart uploads of a task's files
(services.direct_uploads)."""

from __future__ import annotations

from pydantic import Field

from .common import CvatModel, RequestModel

MAX_FILE_SIZE = 5 * 1024**4  # S3's largest object


class UploadFileRequest(RequestModel):
    name: str = Field(min_length=1, max_length=1024, description="the file's name (its basename is kept)")
    size: int = Field(ge=1, le=MAX_FILE_SIZE, description="the file's size in bytes")
    content_type: str = Field(default="", max_length=255, description="the object's Content-Type")


class DirectUploadsRequest(RequestModel):
    files: list[UploadFileRequest] = Field(min_length=1, max_length=1000)


class PartUrl(CvatModel):
    part_number: int = Field(description="S3's part number, from 1")
    url: str = Field(description="PUT the part's bytes here; keep the ETag header of the answer")
    size: int = Field(description="how many bytes of the file this part carries")


class DirectUpload(CvatModel):
    name: str = Field(description="the name the file is staged under")
    upload_id: str
    part_size: int = Field(description="bytes per part (the last part may be shorter)")
    parts: list[PartUrl]


class DirectUploadsRead(CvatModel):
    files: list[DirectUpload]
    expires_in: int = Field(description="seconds the part URLs stay valid")


class UploadedPart(RequestModel):
    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=256, description="the ETag S3 answered the part's PUT with")


class CompletedUpload(RequestModel):
    name: str = Field(min_length=1, max_length=1024)
    upload_id: str = Field(min_length=1, max_length=1024)
    parts: list[UploadedPart] = Field(min_length=1, max_length=10_000)


class CompleteUploadsRequest(RequestModel):
    files: list[CompletedUpload] = Field(min_length=1, max_length=1000)


class CompleteUploadsRead(CvatModel):
    files: list[str] = Field(description="the files now staged for the task's Upload-Finish")


class AbortedUpload(RequestModel):
    name: str = Field(min_length=1, max_length=1024)
    upload_id: str = Field(min_length=1, max_length=1024)


class AbortUploadsRequest(RequestModel):
    files: list[AbortedUpload] = Field(min_length=1, max_length=1000)


# --- one file for an import or a backup restore (services.uploads.start_direct) --------------------


class DirectFileUploadRequest(RequestModel):
    filename: str = Field(min_length=1, max_length=1024, description="the file's name (its basename is kept)")
    size: int = Field(ge=1, le=MAX_FILE_SIZE, description="the file's size in bytes")


class DirectFileUploadRead(CvatModel):
    upload_id: str = Field(description="CVAT's upload id (<user id>_<uuid4>): complete with it, then send it as "
                                       "filename with Upload-Finish")
    filename: str
    part_size: int = Field(description="bytes per part (the last part may be shorter)")
    parts: list[PartUrl]
    expires_in: int = Field(description="seconds the part URLs stay valid")


class CompleteFileUploadRequest(RequestModel):
    upload_id: str = Field(min_length=1, max_length=128)
    parts: list[UploadedPart] = Field(min_length=1, max_length=10_000)


class CompleteFileUploadRead(CvatModel):
    upload_id: str = Field(description="send it as filename with Upload-Finish")
    filename: str
    size: int


class AbortFileUploadRequest(RequestModel):
    upload_id: str = Field(min_length=1, max_length=128)
