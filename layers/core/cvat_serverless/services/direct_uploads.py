"""Direct uploads: a task's files sent straight to the media bucket through presigned S3 multipart
uploads, never through the API (whose requests hold at most 6 MB on AWS). An extension beyond
CVAT's API for the web UI and ``cvat-serverless upload``.

1. ``start``: for each file (name and size), an S3 multipart upload of the object the task's
   staging area holds for that name (domain.task_data.DataKeys.staged_file) and a presigned URL
   per part; the part size grows with the file so that no file needs more than MAX_PARTS parts.
2. the client PUTs each part to its URL and keeps the ETag S3 answers.
3. ``complete``: the parts are joined; the file is staged, as an ``Upload-Multiple`` would stage it.
4. the client finishes as CVAT's protocol does (``Upload-Finish`` with the data parameters):
   TaskDataService.finish starts processing the staged files.

Nothing is kept between the calls: the object key follows from the task and the file name, and
S3 knows which upload belongs to which key. A complete that S3 refuses aborts its upload (the
client starts that file again); ``abort`` drops uploads the client gives up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.task_data import DataKeys, safe_upload_name
from ..ports import BlobStore
from .task_data import TaskDataService

MIB = 1024 * 1024
MIN_PART_SIZE = 16 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB  # S3's largest part
MAX_PARTS = 1024
"""Parts of one file, at most (S3 takes 10,000): the answer's URLs stay small, and a file of S3's
largest size (5 TiB) still fits with parts of 5 GiB."""
MAX_FILE_SIZE = 5 * 1024 * 1024 * MIB  # S3's largest object
MAX_FILES = 1000
MAX_URLS = 2000
"""Presigned URLs in one answer, at most (each ~700 bytes; a Lambda answers at most 6 MB)."""
URL_EXPIRES = 6 * 3600


def part_size_for(size: int) -> int:
    """The part size of a file of ``size`` bytes: MIN_PART_SIZE, or whole MiB so that the file
    needs at most MAX_PARTS parts."""
    needed = -(-size // MAX_PARTS)
    return min(MAX_PART_SIZE, max(MIN_PART_SIZE, -(-needed // MIB) * MIB))


@dataclass(frozen=True, slots=True)
class FileToUpload:
    name: str
    size: int
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class PartUrl:
    number: int  # 1-based, as S3 numbers parts
    url: str
    size: int  # the bytes of the file this part carries


def presign_parts(blobs: BlobStore, key: str, upload_id: str, size: int, *, expires: int = URL_EXPIRES
                  ) -> list[PartUrl]:
    """A presigned URL for each part of S3 multipart upload ``upload_id`` of ``key``, a file of
    ``size`` bytes cut in parts of part_size_for(size) (services.uploads uses it too)."""
    part = part_size_for(size)
    return [PartUrl(n, blobs.presigned_part(key, upload_id, n, expires=expires), min(part, size - (n - 1) * part))
            for n in range(1, -(-size // part) + 1)]


@dataclass(frozen=True, slots=True)
class StartedUpload:
    name: str  # the name the file is staged under (its basename)
    upload_id: str
    part_size: int
    parts: list[PartUrl]


@dataclass(frozen=True, slots=True)
class UploadedParts:
    name: str
    upload_id: str
    parts: list[tuple[int, str]]  # (part number, ETag)


class DirectUploadService:
    def __init__(self, blobs: BlobStore, task_data: TaskDataService, *, expires: int = URL_EXPIRES) -> None:
        self.blobs = blobs
        self.task_data = task_data
        self.expires = expires

    def start(self, ctx: RequestContext, task_id: int, files: Sequence[FileToUpload]) -> list[StartedUpload]:
        """Multipart uploads of ``files`` into the task's staging area, with a presigned URL per
        part. Only who may change the task, and only while it takes data (400 once it has data)."""
        self.task_data.check_upload(ctx, task_id)
        if not files:
            raise ValidationError(fields={"files": ["This list may not be empty."]})
        if len(files) > MAX_FILES:
            raise ValidationError(fields={"files": [f"Ensure this field has no more than {MAX_FILES} elements."]})
        taken = self.task_data.taken_names(task_id)
        planned: list[tuple[str, FileToUpload, int]] = []
        for f in files:
            name = safe_upload_name(f.name)
            if name in taken:
                raise ConflictError(f"A file named {name} was uploaded already.")
            if not 0 < f.size <= MAX_FILE_SIZE:
                raise ValidationError(f"{name}: the size must be 1 to {MAX_FILE_SIZE} bytes, not {f.size}.")
            taken.add(name)
            planned.append((name, f, part_size_for(f.size)))
        urls = sum(-(-f.size // part) for _name, f, part in planned)
        if urls > MAX_URLS:
            raise ValidationError(f"These files need {urls} part URLs; ask for at most {MAX_URLS} at once "
                                  "(fewer or smaller files per request).")
        started: list[StartedUpload] = []
        try:
            for name, f, part in planned:
                key = DataKeys(task_id).staged_file(name)
                upload_id = self.blobs.start_multipart(key, content_type=f.content_type)
                started.append(StartedUpload(name, upload_id, part, []))
                started[-1].parts.extend(presign_parts(self.blobs, key, upload_id, f.size, expires=self.expires))
        except Exception:
            self._abort(task_id, [(s.name, s.upload_id) for s in started])
            raise
        return started

    def complete(self, ctx: RequestContext, task_id: int, uploads: Sequence[UploadedParts]) -> list[str]:
        """Join each upload's parts, in order: the files are staged (their names). An upload S3
        refuses to join (a part missing, an ETag that differs) is aborted and named in the 400."""
        self.task_data.check_upload(ctx, task_id)
        if not uploads:
            raise ValidationError(fields={"files": ["This list may not be empty."]})
        names: list[str] = []
        for upload in uploads:
            name = safe_upload_name(upload.name)
            key = DataKeys(task_id).staged_file(name)
            try:
                self.blobs.complete_multipart(key, upload.upload_id, upload.parts)
            except ValidationError as exc:
                self._abort(task_id, [(name, upload.upload_id)])
                staged = f" ({', '.join(names)} staged)" if names else ""
                raise ValidationError(f"{name}: {exc.message} Its upload was aborted; upload the file "
                                      f"again{staged}.") from None
            names.append(name)
        return names

    def abort(self, ctx: RequestContext, task_id: int, uploads: Sequence[tuple[str, str]]) -> None:
        """Drop uploads the client gives up: their parts are deleted."""
        self.task_data.check_upload(ctx, task_id)
        self._abort(task_id, uploads)

    def _abort(self, task_id: int, uploads: Sequence[tuple[str, str]]) -> None:
        for name, upload_id in uploads:
            self.blobs.abort_multipart(DataKeys(task_id).staged_file(safe_upload_name(name)), upload_id)
