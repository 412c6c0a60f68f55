"""Files uploaded for an import or a backup restore (CVAT's upload protocol, contract.md §6),
kept until the work that reads them starts.

An upload belongs to one scope, ``(kind, resource id)`` (``annotations`` of task 7, ``dataset`` of
project 3, ``backup`` of a task not created yet), and to the user who created it: another user's
upload, or one of another scope, does not exist for the caller. Its id is CVAT's
``<user id>_<uuid4>``, which the client sends back as ``filename`` on ``Upload-Finish``.

Key layout in the media bucket (under ``staging/``, whose lifecycle rule expires what an
abandoned upload leaves):

    staging/uploads/<kind>/<resource>/<upload id>/upload.json      who, what, how long (written once)
    staging/uploads/<kind>/<resource>/<upload id>/parts/<offset>   the parts, 16-digit offsets
    staging/uploads/<kind>/<resource>/<upload id>/file             the whole file (assembled, or
                                                                   a direct upload's S3 object)

The offset of an upload is not stored: it is where the contiguous run of its stored parts ends, so
a PATCH is one object write (no read-modify-write of a record) and a retried PATCH of the same
part writes the same object again.

A direct upload (an extension beyond CVAT, for files no API request can carry) sends its bytes
straight to S3: one presigned multipart upload of ``file``, whose S3 upload id the record keeps.
Its offset is the size of ``file`` once the multipart upload is complete (0 before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ValidationError

_KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_UPLOAD_ID_RE = re.compile(r"^[0-9]+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STAGING = "staging/uploads/"


@dataclass(frozen=True, slots=True)
class UploadScope:
    """What an upload is for: ``kind`` (``annotations``, ``dataset``, ``backup``...) of the
    ``target`` (``task``, ``job``, ``project``) ``resource_id`` (None: a resource the upload will
    create, as a backup restore does)."""

    kind: str
    target: str
    resource_id: int | None = None

    def __post_init__(self) -> None:
        if not _KIND_RE.match(self.kind) or not _KIND_RE.match(self.target):
            raise ValueError(f"bad upload scope {self.kind!r}/{self.target!r}")

    @property
    def prefix(self) -> str:
        resource = "new" if self.resource_id is None else str(self.resource_id)
        return f"{STAGING}{self.kind}/{self.target}-{resource}/"

    @property
    def direct_upload_path(self) -> str:
        """Where the API starts a direct upload in this scope (``/api/tasks/7/annotations/uploads``,
        ``/api/projects/backup/uploads``)."""
        if self.resource_id is None:
            return f"/api/{self.target}s/{self.kind}/uploads"
        return f"/api/{self.target}s/{self.resource_id}/{self.kind}/uploads"


@dataclass(slots=True)
class Upload:
    """One uploaded file: ``length`` bytes announced, ``offset`` of them stored so far."""

    id: str
    scope: UploadScope
    owner_id: int
    filename: str  # the client's basename (Upload-Metadata), e.g. "coco.zip"
    length: int
    created_date: datetime | None = None
    offset: int = 0
    parts: list[tuple[int, int]] = field(default_factory=list)  # (offset, size) of the stored parts
    multipart_id: str = ""  # a direct upload's S3 multipart upload id ("": a TUS upload)

    @property
    def complete(self) -> bool:
        return self.offset >= self.length

    @property
    def direct(self) -> bool:
        """The bytes go straight to S3 as one object (``keys.assembled``), not in TUS parts."""
        return bool(self.multipart_id)

    @property
    def keys(self) -> UploadKeys:
        return UploadKeys(self.scope, self.id)

    def to_dict(self) -> dict[str, Any]:
        """What ``upload.json`` holds (the parts and the offset are read from the parts)."""
        record = {"id": self.id, "kind": self.scope.kind, "target": self.scope.target,
                  "resource_id": self.scope.resource_id, "owner_id": self.owner_id, "filename": self.filename,
                  "length": self.length,
                  "created_date": self.created_date.isoformat() if self.created_date else None}
        if self.multipart_id:
            record["multipart_id"] = self.multipart_id
        return record

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Upload:
        created = data.get("created_date")
        return cls(id=str(data["id"]), scope=UploadScope(data["kind"], data["target"], data.get("resource_id")),
                   owner_id=int(data["owner_id"]), filename=str(data["filename"]), length=int(data["length"]),
                   created_date=datetime.fromisoformat(created) if created else None,
                   multipart_id=str(data.get("multipart_id") or ""))


@dataclass(frozen=True, slots=True)
class UploadKeys:
    scope: UploadScope
    upload_id: str

    @property
    def root(self) -> str:
        return f"{self.scope.prefix}{self.upload_id}/"

    @property
    def record(self) -> str:
        return f"{self.root}upload.json"

    @property
    def parts(self) -> str:
        return f"{self.root}parts/"

    def part(self, offset: int) -> str:
        return f"{self.parts}{offset:016d}"

    @property
    def assembled(self) -> str:
        """The whole file as one object (UploadService.assemble; a direct upload's object)."""
        return f"{self.root}file"


def check_upload_id(value: str) -> str:
    """An upload id as CVAT makes them (``<user id>_<uuid4>``): anything else names no upload
    (and never reaches a key)."""
    if not _UPLOAD_ID_RE.match(value or ""):
        raise ValidationError(f"'{value}' is not an uploaded file: upload the file first (TUS, or a direct "
                              "upload), then send its upload id as filename.")
    return value


def contiguous_end(parts: list[tuple[int, int]]) -> tuple[int, list[tuple[int, int]]]:
    """Where the run of parts that starts at 0 ends, and those parts (a part beyond a gap, left by
    a client that resumed elsewhere, is not counted)."""
    end, run = 0, []
    for offset, size in sorted(parts):
        if offset != end:
            if offset < end:
                continue
            break
        run.append((offset, size))
        end += size
    return end, run
