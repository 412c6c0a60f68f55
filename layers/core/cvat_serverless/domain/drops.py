"""The drop folder: objects written under the media bucket's upload prefix that become tasks
(services.ingest runs them; README "Upload paths" is the user's guide).

Layout under the upload prefix (``uploads/`` by default):

    projects/<project id>/<name>.<video or archive>   one task named <name>.<ext>, from that file
    projects/<project id>/<folder>/<media files>      waiting: nothing happens yet...
    projects/<project id>/<folder>/.done              ...until one of these closes the folder: one
    projects/<project id>/<folder>/task.json          task from the folder's files (named <folder>,
                                                      or task.json's ``name``)

``task.json`` is a small JSON object (at most TASK_JSON_MAX bytes) with the task's
TASK_JSON_TASK_FIELDS and CVAT's data parameters (TASK_JSON_DATA_FIELDS, as
``POST /api/tasks/{id}/data/`` takes them); ``image_quality`` defaults to 70. A folder holds
media files only (many images, or one video, or one archive) and no sub-folders.

``task.json`` closes a folder by itself: a ``.done`` beside one is ignored (upload one of the two,
last). The files are read where they are (nothing is copied to the task's staging area) and are
left there: delete them once the task is made.

A ``DropMarker`` per dropped object version (bucket, key and ETag) makes a redelivered S3
notification a no-op. A drop that cannot make a task (a key outside a project's folder, a missing
project, a bad ``task.json``, no media) gets a failure record, a small JSON object at
``failure_key(key)`` (outside the upload prefix, so it triggers nothing) that says what to fix.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import ValidationError
from .projects import validate_bug_tracker, validate_name
from .task_data import parse_data_request, safe_upload_name
from .tasks import validate_segmentation, validate_subset

PROJECTS_FOLDER = "projects/"
DONE_MARKER = ".done"
TASK_JSON = "task.json"
TASK_JSON_MAX = 64 * 1024
DEFAULT_IMAGE_QUALITY = 70
TASK_JSON_TASK_FIELDS = frozenset({"name", "segment_size", "overlap", "subset", "bug_tracker"})
TASK_JSON_DATA_FIELDS = frozenset({
    "image_quality", "chunk_size", "start_frame", "stop_frame", "frame_filter", "sorting_method",
    "use_zip_chunks", "use_cache", "copy_data", "job_file_mapping", "seed",
})
FAILURES_PREFIX = "drop-failures/"
CLAIM_LEASE = timedelta(seconds=90)
"""How long a claim protects a drop that is being made: longer than the ingest function runs
(30 s), shorter than the upload queue's visibility timeout (180 s), so the retry of a delivery
that crashed takes the drop over and a concurrent duplicate waits for the first."""
MARKER_RETENTION = timedelta(days=30)
"""How long a marker outlives its claim: longer than the upload queue and its dead-letter queue
keep a message (4 and 14 days), so every redelivery still finds it."""

# The media the pipeline takes, by name (media.probe decides by content later; this only keeps
# notes, spreadsheets and the like from becoming tasks). The ingest function has no media layer.
VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv",
    ".flv", ".3gp", ".ogv", ".asf", ".vob", ".h264", ".264", ".hevc", ".h265",
})
IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
    ".pbm", ".pnm", ".tga", ".ico", ".jp2", ".j2k",
})
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


class DropKind(StrEnum):
    FILE = "file"  # a video or an archive: a task of its own
    FOLDER = "folder"  # a folder closed by .done or task.json
    CONTENT = "content"  # a file inside a folder that is not closed yet: nothing to do


@dataclass(frozen=True, slots=True)
class DropTarget:
    """What one dropped key asks for."""

    kind: DropKind
    project_id: int
    name: str  # the file's or the folder's name
    folder: str = ""  # FOLDER: the folder's key prefix (ending with "/")
    trigger: str = ""  # FOLDER: the name that closed it (.done or task.json)


class DropLayoutError(ValidationError):
    """The key is not a place in the drop folder that makes a task."""


def parse_drop_key(key: str, upload_prefix: str) -> DropTarget | None:
    """Where ``key`` sits in the drop folder; None for keys that ask for nothing (folder
    placeholders, files of a folder not closed yet); DropLayoutError for any other key."""
    if key.endswith("/"):
        return None  # a "folder" object some consoles create
    rest = key[len(upload_prefix):] if key.startswith(upload_prefix) else None
    if rest is None or not rest.startswith(PROJECTS_FOLDER):
        raise DropLayoutError(
            f"{key} is not in a project's drop folder: put media under "
            f"{upload_prefix}{PROJECTS_FOLDER}<project id>/.")
    project, _, inside = rest[len(PROJECTS_FOLDER):].partition("/")
    if not project.isdigit() or not inside or int(project) > 2**31 - 1:
        raise DropLayoutError(
            f"{key}: the folder after {upload_prefix}{PROJECTS_FOLDER} must be a project id (a number).")
    parts = inside.split("/")
    project_id = int(project)
    if len(parts) == 1:
        return DropTarget(DropKind.FILE, project_id, parts[0])
    if parts[-1] in (DONE_MARKER, TASK_JSON):
        if len(parts) != 2:
            raise DropLayoutError(f"{key}: a task folder is one level deep, "
                                  f"{upload_prefix}{PROJECTS_FOLDER}{project_id}/<folder>/{parts[-1]}.")
        return DropTarget(DropKind.FOLDER, project_id, parts[0], folder=key[: -len(parts[-1])], trigger=parts[-1])
    return DropTarget(DropKind.CONTENT, project_id, parts[0])


def check_single_file(name: str) -> None:
    """A file dropped straight into a project's folder: a video or an archive."""
    lower = name.lower()
    if lower.endswith(ARCHIVE_SUFFIXES) or posixpath.splitext(lower)[1] in VIDEO_SUFFIXES:
        return
    if posixpath.splitext(lower)[1] in IMAGE_SUFFIXES:
        raise ValidationError(f"{name}: single images do not make tasks; put the images in a folder "
                              f"<folder>/ of the project's drop folder and close it with <folder>/{DONE_MARKER}.")
    raise ValidationError(f"{name} is not a video or an archive of images.")


def check_folder_files(names: Sequence[str]) -> list[str]:
    """The media files of a closed folder, in key order: the markers and hidden files (``.*``,
    macOS ``__MACOSX``) are left out; anything else that is not media is refused."""
    media = []
    for name in names:
        if name in (DONE_MARKER, TASK_JSON) or name.startswith(".") or name.startswith("__MACOSX"):
            continue
        if "/" in name:
            raise ValidationError(f"{name}: a task folder holds no sub-folders.")
        lower = name.lower()
        suffix = posixpath.splitext(lower)[1]
        if not (suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES or lower.endswith(ARCHIVE_SUFFIXES)):
            raise ValidationError(f"{name} is not a media file (images, one video or one archive).")
        media.append(safe_upload_name(name))
    if not media:
        raise ValidationError("The folder holds no media files.")
    return media


@dataclass(frozen=True, slots=True)
class DropSpec:
    """The task a drop makes: its fields and CVAT's data parameters (validated)."""

    name: str
    data: Mapping[str, Any]
    segment_size: int = 0
    overlap: int | None = None
    subset: str = ""
    bug_tracker: str = ""


def drop_spec(name: str, files: Sequence[str], task_json: bytes | None = None) -> DropSpec:
    """The task for ``files`` named ``name``, with the settings of a ``task.json`` when there is
    one. Every error is a ValidationError that says what to fix."""
    values: dict[str, Any] = {}
    if task_json is not None:
        if len(task_json) > TASK_JSON_MAX:
            raise ValidationError(f"{TASK_JSON} is larger than {TASK_JSON_MAX} bytes.")
        try:
            loaded = json.loads(task_json.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(f"{TASK_JSON} is not valid JSON: {exc}.") from None
        if not isinstance(loaded, dict):
            raise ValidationError(f"{TASK_JSON} must hold a JSON object.")
        unknown = sorted(set(loaded) - TASK_JSON_TASK_FIELDS - TASK_JSON_DATA_FIELDS)
        if unknown:
            raise ValidationError(f"{TASK_JSON}: unknown fields {', '.join(unknown)}; it takes "
                                  f"{', '.join(sorted(TASK_JSON_TASK_FIELDS | TASK_JSON_DATA_FIELDS))}.")
        values = loaded
    data = {k: v for k, v in values.items() if k in TASK_JSON_DATA_FIELDS}
    data.setdefault("image_quality", DEFAULT_IMAGE_QUALITY)
    parse_data_request(data, client_files=files)  # CVAT's rules and messages, before a task exists
    segment_size, overlap = values.get("segment_size", 0), values.get("overlap")
    for field_name, value in (("segment_size", segment_size), ("overlap", overlap)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationError(fields={field_name: ["A valid integer is required."]})
    validate_segmentation(segment_size, overlap)
    texts = {f: values.get(f, "") for f in ("subset", "bug_tracker")}
    if not all(isinstance(v, str) for v in texts.values()) or not isinstance(values.get("name", name), str):
        raise ValidationError(f"{TASK_JSON}: name, subset and bug_tracker are strings.")
    return DropSpec(
        name=validate_name(values.get("name", name)), data=data, segment_size=segment_size or 0, overlap=overlap,
        subset=validate_subset(texts["subset"]), bug_tracker=validate_bug_tracker(texts["bug_tracker"]),
    )


class DropState(StrEnum):
    CLAIMED = "claimed"  # a delivery is making the task (task_id, once set: the id reserved for it)
    DONE = "done"  # the task exists and its data is being processed (request_id)
    FAILED = "failed"  # the drop was refused; its failure record says why


@dataclass(slots=True)
class DropMarker:
    """One dropped object version, claimed by the first delivery of its notification.

    CLAIMED -> (task id reserved) -> DONE, or CLAIMED -> FAILED. A delivery that finds the marker
    DONE or FAILED does nothing; one that finds it CLAIMED waits while the claim is younger than
    CLAIM_LEASE, and takes it over after (the delivery before it crashed): with the task id
    reserved in the marker, the take-over finds the task made before the crash, or makes it with
    that id, and never makes a second one."""

    id: str  # drop_marker_id(bucket, key, etag)
    bucket: str
    key: str
    etag: str
    state: DropState = DropState.CLAIMED
    claimed_at: datetime | None = None
    project_id: int | None = None
    task_id: int | None = None
    request_id: str = ""
    message: str = ""
    version: int = 0

    def expires_at(self) -> datetime | None:
        return self.claimed_at + MARKER_RETENTION if self.claimed_at is not None else None

    def claim_is_live(self, now: datetime) -> bool:
        """Whether another delivery may still be making this drop."""
        return (self.state is DropState.CLAIMED and self.claimed_at is not None
                and now - self.claimed_at < CLAIM_LEASE)


def failure_key(key: str, upload_prefix: str) -> str:
    """Where the failure record of the drop at ``key`` goes: ``drop-failures/`` and the key's path
    below the upload prefix, ``.json`` added (``drop-failures/projects/7/clip.mp4.json``)."""
    rest = key[len(upload_prefix):] if key.startswith(upload_prefix) else key
    return f"{FAILURES_PREFIX}{rest}.json"


def drop_marker_id(bucket: str, key: str, etag: str) -> str:
    """The same for every delivery of one object version's notification (S3 sends the same bucket,
    key and ETag each time); a new content under the same key is a new drop."""
    return hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
