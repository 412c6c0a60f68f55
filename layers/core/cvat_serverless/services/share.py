"""CVAT's server share: files an admin placed under the media bucket's share prefix, listed one
folder at a time so users can create tasks from them (GET /api/server/share)."""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass

from ..domain.errors import NotFoundError, ValidationError
from ..ports import BlobStore

ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


@dataclass(frozen=True, slots=True)
class ShareEntry:
    name: str
    type: str  # CVAT's FileInfoTypeEnum: "REG" or "DIR"
    mime_type: str  # "DIR", "image", "video", "archive", "pdf" or "unknown", as CVAT reports


def mime_of(name: str) -> str:
    lower = name.lower()
    if lower.endswith(ARCHIVES):
        return "archive"
    guessed = mimetypes.guess_type(lower)[0] or ""
    if guessed == "application/pdf":
        return "pdf"
    kind = guessed.split("/", 1)[0]
    return kind if kind in ("image", "video") else "unknown"


class ShareService:
    def __init__(self, blobs: BlobStore, share_prefix: str) -> None:
        self._blobs = blobs
        self._prefix = share_prefix

    def list(self, directory: str = "/", search: str = "") -> list[ShareEntry]:
        """Folders first, then files, each sorted by name; ``search`` keeps names that contain it
        (case-insensitive). A directory that escapes the share is invalid; an empty one is 404."""
        if ".." in (directory or "").replace("\\", "/").split("/"):
            raise ValidationError(fields={"directory": ["The directory is outside the share."]})
        clean = posixpath.normpath("/" + (directory or "/")).lstrip("/")
        prefix = self._prefix + (clean + "/" if clean and clean != "." else "")
        folders, files = self._blobs.list_dir(prefix)
        if not folders and not files and prefix != self._prefix:
            raise NotFoundError(f"{directory} is not a directory of the share.")
        needle = search.lower()
        entries = [ShareEntry(f, "DIR", "DIR") for f in sorted(folders)]
        entries += [ShareEntry(f, "REG", mime_of(f)) for f in sorted(files)]
        return [e for e in entries if needle in e.name.lower()]
