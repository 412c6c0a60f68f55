"""Dataset exports and backups as background requests: what is asked, where the pieces and the
result live in the media bucket, and what the result is called.

An export runs as a workflow (services.exports): the formats engine writes the annotations once,
naming each image's member without writing it; workers then copy the images into pieces of the
archive in parallel (one piece per part of the frames), and the last step joins the pieces and
the annotations into one ZIP (formats.zipjoin) with server-side copies. The result is stored
under a key derived from everything it was made of (the fingerprint), so an export of data that
has not changed since is answered from the stored result.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import ValidationError

CACHE_FRESH = timedelta(days=5)
"""A stored result is reused while younger than this: the bucket's lifecycle removes exports/
after 7 days, and a request's result stays downloadable for a day (domain.requests.RESULT_TTL)."""


class ExportTarget(StrEnum):
    PROJECT = "project"
    TASK = "task"
    JOB = "job"

    @property
    def plural(self) -> str:
        return f"{self.value}s"


class ExportKind(StrEnum):
    DATASET = "dataset"  # CVAT's export:dataset (with images) or export:annotations (without)
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """What a request exports: ``format`` is a registry display name (``COCO 1.0``); backups
    have none."""

    kind: ExportKind
    target: ExportTarget
    target_id: int
    format: str = ""
    save_images: bool = False
    filename: str = ""  # the client's name for the result (CVAT's ``filename``), else ours

    @property
    def subresource(self) -> str:
        if self.kind is ExportKind.BACKUP:
            return "backup"
        return "dataset" if self.save_images else "annotations"

    def result_path(self, request_id: str) -> str:
        """CVAT's private download endpoint, the request's ``result_url`` (made absolute by the API)."""
        from urllib.parse import quote

        what = "backup" if self.kind is ExportKind.BACKUP else "dataset"
        return f"/api/{self.target.plural}/{self.target_id}/{what}/download?rq_id={quote(request_id, safe='')}"

    def default_filename(self, now: datetime) -> str:
        """CVAT's pattern, ``task_1_dataset_2026_01_01_10_00_00_coco_1.0.zip``, in the characters
        cvat-sdk accepts from Content-Disposition (letters, digits, ``_-. ``)."""
        stamp = now.strftime("%Y_%m_%d_%H_%M_%S")
        if self.kind is ExportKind.BACKUP:
            return f"{self.target.value}_{self.target_id}_backup_{stamp}.zip"
        fmt = _SAFE.sub("_", self.format.lower()).strip("_") or "export"
        return f"{self.target.value}_{self.target_id}_{self.subresource}_{stamp}_{fmt}.zip"

    def result_filename(self, now: datetime) -> str:
        return safe_filename(self.filename) if self.filename else self.default_filename(now)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_filename(name: str) -> str:
    """A client's name for the result, kept to what cvat-sdk accepts (at most 254 characters, a
    stem and an extension, no leading dot): anything else becomes ``_``; ``.zip`` is added."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE.sub("_", base).lstrip(".") or "export"
    if not cleaned.lower().endswith(".zip"):
        cleaned += ".zip"
    if len(cleaned) > 254:
        raise ValidationError(fields={"filename": ["The file name is longer than 250 characters."]})
    return cleaned


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """CVAT's boolean query values: ``True``/``true``/``1`` and ``False``/``false``/``0``."""
    if value is None or value == "":
        return default
    low = value.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ValidationError(fields={name: [f"Must be a valid boolean, not {value!r}."]})


def export_request_id(spec: ExportSpec, attempt: str) -> str:
    """``export:task-1-dataset-<attempt>``: CVAT-like and unique per request."""
    return f"export:{spec.target.value}-{spec.target_id}-{spec.subresource}-{attempt}"


@dataclass(frozen=True, slots=True)
class ExportKeys:
    """Where one export request's pieces wait (``exports/tmp/``, removed when it ends) and
    where results are kept (``exports/<targets>/<id>/``); the bucket's lifecycle expires both."""

    request_id: str

    @property
    def work(self) -> str:
        digest = hashlib.sha256(self.request_id.encode()).hexdigest()[:32]
        return f"exports/tmp/{digest}/"

    @property
    def annotations(self) -> str:
        return f"{self.work}annotations.zip"

    def part_plan(self, part: int) -> str:
        return f"{self.work}parts/{part:06d}.json"

    def part_piece(self, part: int) -> str:
        return f"{self.work}parts/{part:06d}.bin"

    def part_index(self, part: int) -> str:
        return f"{self.work}parts/{part:06d}.idx.json"

    @staticmethod
    def result(spec: ExportSpec, fingerprint: str) -> str:
        return f"exports/{spec.target.plural}/{spec.target_id}/{spec.subresource}-{fingerprint}.zip"


def fingerprint(parts: list[str]) -> str:
    """A stable digest of what an export is made of (one string per input, in a fixed order)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:40]
