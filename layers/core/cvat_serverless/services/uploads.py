"""The store of files uploaded for imports and backup restores: CVAT-TUS create, append (PATCH)
and offset (HEAD), and, once the upload is finished, the file as one stream or one object.

The callers (services.imports; backup restore) check who may upload what and answer the HTTP
protocol; this service keeps the bytes, scoped by (kind, target, resource id) and owner
(domain.uploads): an upload id names an upload only in its scope and only for its owner.
Nothing here starts work: ``finished`` hands the caller the complete upload, whose parts the
background step reads with ``open``/``download`` (or ``assemble`` into one object) and removes
with ``discard``. Abandoned uploads expire with the bucket's ``staging/`` lifecycle rule.

A direct upload (``start_direct``/``complete_direct``/``abort_direct``, an extension beyond CVAT)
brings a file of any size: its bytes go to S3 through presigned multipart part URLs, sized as
services.direct_uploads sizes a task's files, never through the API. Once complete it is an upload
like the others: the caller finishes it with ``Upload-Finish`` and the reading methods read its
one object.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ..domain.errors import NotFoundError, PayloadTooLargeError, ValidationError
from ..domain.task_data import TusOffsetConflictError, safe_upload_name
from ..domain.uploads import Upload, UploadKeys, UploadScope, check_upload_id, contiguous_end
from ..ports import BlobStore, Clock
from .direct_uploads import MAX_FILE_SIZE, URL_EXPIRES, PartUrl, part_size_for, presign_parts

UPLOAD_PATHS = "put the file in the media bucket's drop folder, or split it"
COPY_BUFFER = 8 * 1024 * 1024
DIRECT_COMMANDS = {"annotations": "cvat-serverless import-annotations", "backup": "cvat-serverless restore"}
"""The admin command that uploads directly, by scope kind (named by the 413 of a TUS upload)."""


@dataclass(frozen=True, slots=True)
class StartedDirectUpload:
    upload: Upload
    part_size: int
    parts: list[PartUrl]
    expires_in: int


class UploadService:
    def __init__(self, blobs: BlobStore, clock: Clock, *, max_request_bytes: int = 0,
                 max_file_bytes: int = 0, url_expires: int = URL_EXPIRES) -> None:
        self.blobs = blobs
        self.clock = clock
        self.url_expires = url_expires  # seconds a direct upload's part URLs stay valid
        # A request body a deployment can receive (0: any). The parts of a TUS upload are sent in
        # 10 MiB PATCHes by cvat-sdk: on AWS (6 MB per Lambda request) such an upload can never
        # arrive, so it is refused when it is created.
        self.max_request_bytes = max_request_bytes
        self.max_file_bytes = max_file_bytes  # the largest file accepted (0: any)

    # --- the protocol ----------------------------------------------------------------------------

    def create(self, scope: UploadScope, owner_id: int, filename: str, length: int) -> Upload:
        """TUS create: a file of ``length`` bytes whose parts follow as ``append`` calls. Its id
        is CVAT's ``<owner>_<uuid4>`` (the ``Upload-Filename`` the client sends back)."""
        return self._new(scope, owner_id, filename, length, in_parts=True)

    def _new(self, scope: UploadScope, owner_id: int, filename: str, length: int, *, in_parts: bool,
             direct: bool = False) -> Upload:
        if length < 0:
            raise ValidationError("Upload-Length must be a non-negative integer.")
        if self.max_file_bytes and length > self.max_file_bytes:
            raise PayloadTooLargeError(f"{filename} ({length} bytes) is larger than the {self.max_file_bytes} "
                                       "bytes an upload may have.")
        if in_parts and self.max_request_bytes and length > self.max_request_bytes:
            command = DIRECT_COMMANDS.get(scope.kind)
            raise PayloadTooLargeError(
                f"{filename} ({length} bytes) cannot be uploaded through this API: a request body may hold at "
                f"most {self.max_request_bytes} bytes here and cvat-sdk sends 10 MiB parts. Upload it straight "
                f"to S3 instead: POST {scope.direct_upload_path} (presigned part URLs), PUT the parts, "
                f"POST {scope.direct_upload_path}/complete, then Upload-Finish with its upload_id as filename"
                + (f"; or run `{command}`." if command else "."))
        upload = Upload(id=f"{owner_id}_{uuid.uuid4()}", scope=scope, owner_id=owner_id,
                        filename=safe_upload_name(filename), length=length, created_date=self.clock.now())
        if direct:
            upload.multipart_id = self.blobs.start_multipart(upload.keys.assembled)
        self.blobs.put(upload.keys.record, json.dumps(upload.to_dict()).encode(), content_type="application/json")
        return upload

    def get(self, scope: UploadScope, owner_id: int, upload_id: str) -> Upload:
        """The upload with its stored parts and offset (TUS HEAD); NotFoundError when the caller
        has no such upload in that scope."""
        try:
            check_upload_id(upload_id)
            record = json.loads(self.blobs.get(UploadKeys(scope, upload_id).record))
        except (NotFoundError, ValidationError, ValueError):
            raise NotFoundError("No such upload.") from None
        upload = Upload.from_dict(record)
        if upload.owner_id != owner_id or upload.scope != scope:
            raise NotFoundError("No such upload.")  # another user's upload does not exist for you
        if upload.direct:  # one object, there once the multipart upload is complete
            sizes = dict(self.blobs.list_keys(upload.keys.assembled))
            size = sizes.get(upload.keys.assembled)
            upload.offset, upload.parts = (0, []) if size is None else (size, [(0, size)])
            return upload
        prefix = upload.keys.parts
        stored = [(int(key[len(prefix):]), size) for key, size in self.blobs.list_keys(prefix)]
        upload.offset, upload.parts = contiguous_end(stored)
        upload.offset = min(upload.offset, upload.length)
        return upload

    def append(self, scope: UploadScope, owner_id: int, upload_id: str, offset: int, data: bytes) -> Upload:
        """TUS PATCH: the part at ``offset``. A TusOffsetConflictError (409 with Upload-Offset)
        when the client is not where the upload is, so it resumes from there."""
        upload = self.get(scope, owner_id, upload_id)
        if upload.direct:
            raise ValidationError("This is a direct upload: its parts go to their presigned S3 URLs, then "
                                  f"POST {scope.direct_upload_path}/complete.")
        if offset != upload.offset:
            raise TusOffsetConflictError(upload.offset)
        if offset + len(data) > upload.length:
            raise ValidationError("The part goes past Upload-Length.")
        if data:
            self.blobs.put(upload.keys.part(offset), data)
            upload.parts.append((offset, len(data)))
            upload.offset = offset + len(data)
        return upload

    def store(self, scope: UploadScope, owner_id: int, filename: str, body: bytes | BinaryIO) -> Upload:
        """A whole file in one request (CVAT's multipart ``annotation_file``/``dataset_file``/
        ``task_file`` forms): a complete upload of one part."""
        data = body if isinstance(body, bytes) else body.read()
        upload = self._new(scope, owner_id, filename, len(data), in_parts=False)  # the body has arrived
        return self.append(scope, owner_id, upload.id, 0, data)

    def finished(self, scope: UploadScope, owner_id: int, upload_id: str) -> Upload:
        """``Upload-Finish``: the complete upload named by the client's ``filename`` (the
        ``Upload-Filename`` it was given). ValidationError when that is no upload id, when the
        upload is unknown to the caller, or when bytes are missing.

        This is what a background step is given (by id, scope and owner): read the file with
        :meth:`open` or :meth:`download`, or :meth:`assemble` it into one object."""
        check_upload_id(upload_id)
        try:
            upload = self.get(scope, owner_id, upload_id)
        except NotFoundError:
            raise ValidationError(f"No uploaded file {upload_id}: upload it first.") from None
        if not upload.complete:
            raise ValidationError(f"The upload of {upload.filename} is not complete "
                                  f"({upload.offset} of {upload.length} bytes).")
        return upload

    # --- direct uploads (an extension beyond CVAT) ----------------------------------------------

    def start_direct(self, scope: UploadScope, owner_id: int, filename: str, length: int) -> StartedDirectUpload:
        """An upload whose bytes go straight to S3: an S3 multipart upload of its one object and a
        presigned URL per part (parts as services.direct_uploads sizes them). MaxRequestBytes does
        not apply. The id is CVAT's, for ``Upload-Finish`` once :meth:`complete_direct` is done."""
        if not 0 < length <= MAX_FILE_SIZE:
            raise ValidationError(f"The size must be 1 to {MAX_FILE_SIZE} bytes, not {length}.")
        upload = self._new(scope, owner_id, filename, length, in_parts=False, direct=True)
        try:
            parts = presign_parts(self.blobs, upload.keys.assembled, upload.multipart_id, length,
                                  expires=self.url_expires)
        except Exception:
            self.discard(upload)
            raise
        return StartedDirectUpload(upload, part_size_for(length), parts, self.url_expires)

    def complete_direct(self, scope: UploadScope, owner_id: int, upload_id: str,
                        parts: Sequence[tuple[int, str]]) -> Upload:
        """Join the parts (number, ETag) of the caller's direct upload: the file is there, whole.
        One S3 refuses to join, or whose size is not the announced one, is discarded (the client
        starts again) and named in the ValidationError. Completing a complete upload is a no-op."""
        upload = self._direct(scope, owner_id, upload_id)
        if upload.complete:
            return upload
        try:
            self.blobs.complete_multipart(upload.keys.assembled, upload.multipart_id, parts)
        except ValidationError as exc:
            self.discard(upload)
            raise ValidationError(f"{upload.filename}: {exc.message} Its upload was aborted; upload the file "
                                  "again.") from None
        done = self.get(scope, owner_id, upload_id)
        if done.offset != done.length:
            self.discard(done)
            raise ValidationError(f"{upload.filename}: {done.offset} bytes arrived, not the {done.length} "
                                  "announced. Its upload was aborted; upload the file again.")
        return done

    def abort_direct(self, scope: UploadScope, owner_id: int, upload_id: str) -> None:
        """Drop a direct upload the client gives up (its parts and its record)."""
        self.discard(self._direct(scope, owner_id, upload_id))

    def _direct(self, scope: UploadScope, owner_id: int, upload_id: str) -> Upload:
        upload = self.get(scope, owner_id, upload_id)
        if not upload.direct:
            raise ValidationError(f"{upload_id} is a TUS upload: send its parts as PATCH requests.")
        return upload

    # --- reading a finished upload ---------------------------------------------------------------

    def part_keys(self, upload: Upload) -> list[str]:
        """The keys of the upload's parts, in file order (a direct upload: its one object)."""
        if upload.direct:
            return [upload.keys.assembled] if upload.parts else []
        return [upload.keys.part(offset) for offset, _ in sorted(upload.parts)]

    def open(self, upload: Upload) -> BinaryIO:
        """The file as one sequential stream over its parts (read a part at a time)."""
        return io.BufferedReader(_PartsReader(self.blobs, self.part_keys(upload)), buffer_size=COPY_BUFFER)

    def download(self, upload: Upload, path: str) -> int:
        """The whole file into the local file ``path`` (importers seek in ZIPs; a part is streamed,
        never held whole); its size."""
        keys = self.part_keys(upload)
        if len(keys) == 1:
            self.blobs.download(keys[0], path)
        else:
            with self.open(upload) as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out, COPY_BUFFER)
        return os.path.getsize(path)

    def assemble(self, upload: Upload) -> str:
        """The file as one object (a single part is copied server-side); its key."""
        key = upload.keys.assembled
        keys = self.part_keys(upload)
        if upload.direct:
            return key  # it arrived as that object
        if len(keys) == 1:
            self.blobs.copy(keys[0], key)
        elif not keys:
            self.blobs.put(key, b"")
        else:
            with self.open(upload) as src:
                self.blobs.put(key, src)
        return key

    def discard(self, upload: Upload) -> None:
        """Remove the upload and its parts (the work that read it is done)."""
        if upload.direct and not upload.complete:
            self.blobs.abort_multipart(upload.keys.assembled, upload.multipart_id)
        self.blobs.delete_prefix(upload.keys.root)


class _PartsReader(io.RawIOBase):
    def __init__(self, blobs: BlobStore, keys: list[str]) -> None:
        self._parts: Iterator[str] = iter(keys)
        self._blobs = blobs
        self._current = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._current):
            key = next(self._parts, None)
            if key is None:
                return 0
            self._current, self._pos = self._blobs.get(key), 0
        n = min(len(buffer), len(self._current) - self._pos)
        buffer[:n] = self._current[self._pos:self._pos + n]
        self._pos += n
        return n
