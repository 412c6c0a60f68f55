"""A task's data, as CVAT's ``Data``: what the client asked for (``DataRequest``), what the media
pipeline made of it (``TaskData``), and where every object of it lives in the media bucket
(``DataKeys``).

Key layout of the media bucket (one prefix per task, so deleting a task deletes one prefix):

    staging/tasks/<task>/files/<name>                  files of a LOCAL upload (Upload-Multiple,
                                                       the one-request multipart form, presigned)
    staging/tasks/<task>/tus/<file id>/<offset>        the parts of a TUS upload, in offset order
    tasks/<task>/data/<data>/request.json              the DataRequest the pipeline runs
    tasks/<task>/data/<data>/source/<name>             the media as processed (archives extracted,
                                                       share and remote files copied in)
    tasks/<task>/data/<data>/manifest.jsonl            media.manifest: one line per task frame
    tasks/<task>/data/<data>/plan.json                 jobs, chunks and work units (services.pipeline)
    tasks/<task>/data/<data>/frames.json               DataMetaRead's ``frames`` (names and sizes)
    tasks/<task>/data/<data>/chunks/<kind>/<n>.<ext>   task chunks: chunk n = frames n*size...
    tasks/<task>/data/<data>/chunks/segment_<s>/<kind>/<n>.<ext>
                                                       a job's own chunks, for segments that do not
                                                       line up with the task chunks
    tasks/<task>/data/<data>/preview.jpeg              the task's (and its first job's) preview
    tasks/<task>/data/<data>/previews/segment_<s>.jpeg a job's preview
    tasks/<task>/data/<data>/frames/<quality>/<n>.<ext> frames read once, kept for the next read
    tasks/<task>/data/<data>/chunks/parts/<kind>/<n>_<a>-<b>.zip
                                                       members a..b of task chunk n: a job's share
                                                       of a chunk it shares with another job
    tasks/<task>/data/<data>/chunks/images/[segment_<s>/]original/<n>.zip
                                                       an MP4 original chunk as the image-set chunk
                                                       it is read as (PNGs), made on its first read

Nothing under ``staging/`` triggers processing (the drop folder is ``uploads/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import ConflictError, ValidationError
from .segments import format_frame_filter, parse_frame_filter
from .tasks import ChunkType, SortingMethod

MAX_FRAME = 2**31 - 1


class ResourceType(StrEnum):
    """Where the media comes from: uploaded files, the server share, or URLs."""

    LOCAL = "local"
    SHARE = "share"
    REMOTE = "remote"


_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _bool(values: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = values.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:  # forms send "True"/"False"
        return _BOOL_TEXT[value.strip().lower()]
    if value is None:
        return default
    raise ValidationError(fields={name: ["Must be a valid boolean."]})


def _int(values: Mapping[str, Any], name: str, *, low: int, high: int, default: int | None) -> int | None:
    value = values.get(name, default)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValidationError(fields={name: ["A valid integer is required."]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(fields={name: ["A valid integer is required."]}) from None
    if number < low:
        raise ValidationError(fields={name: [f"Ensure this value is greater than or equal to {low}."]})
    if number > high:
        raise ValidationError(fields={name: [f"Ensure this value is less than or equal to {high}."]})
    return number


def _names(values: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = values.get(name) or ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValidationError(fields={name: ['Expected a list of items but got type "str".']})
    out = []
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item) <= 1024:
            raise ValidationError(fields={name: ["Ensure every item is a string of 1 to 1024 characters."]})
        out.append(item)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DataRequest:
    """CVAT's ``DataRequest``: the data parameters of ``POST /api/tasks/{id}/data/``."""

    image_quality: int = 70
    chunk_size: int | None = None
    start_frame: int = 0
    stop_frame: int | None = None
    frame_step: int = 1
    sorting_method: SortingMethod = SortingMethod.LEXICOGRAPHICAL
    use_zip_chunks: bool = False
    use_cache: bool = False
    copy_data: bool = False
    client_files: tuple[str, ...] = ()  # names of the uploaded files, in the client's order
    server_files: tuple[str, ...] = ()
    server_files_exclude: tuple[str, ...] = ()
    remote_files: tuple[str, ...] = ()
    job_file_mapping: tuple[tuple[str, ...], ...] = ()
    upload_file_order: tuple[str, ...] = ()
    filename_pattern: str | None = None
    seed: int | None = None  # the random sorting's seed, fixed at the request so a retry sorts alike

    @property
    def resource_type(self) -> ResourceType:
        if self.remote_files:
            return ResourceType.REMOTE
        if self.server_files:
            return ResourceType.SHARE
        return ResourceType.LOCAL

    @property
    def frame_filter(self) -> str:
        return format_frame_filter(self.frame_step)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image_quality": self.image_quality, "chunk_size": self.chunk_size, "start_frame": self.start_frame,
            "stop_frame": self.stop_frame, "frame_filter": self.frame_filter,
            "sorting_method": self.sorting_method.value, "use_zip_chunks": self.use_zip_chunks,
            "use_cache": self.use_cache, "copy_data": self.copy_data, "client_files": list(self.client_files),
            "server_files": list(self.server_files), "server_files_exclude": list(self.server_files_exclude),
            "remote_files": list(self.remote_files), "job_file_mapping": [list(j) for j in self.job_file_mapping],
            "upload_file_order": list(self.upload_file_order), "filename_pattern": self.filename_pattern,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataRequest:
        return parse_data_request(data)


def parse_data_request(values: Mapping[str, Any], *, client_files: Sequence[str] = ()) -> DataRequest:
    """Validate CVAT's data parameters, from JSON or from a multipart form (every value a string,
    booleans as ``"True"``/``"False"``), with REST framework's field messages."""
    quality = _int(values, "image_quality", low=0, high=100, default=None)
    if quality is None:
        raise ValidationError(fields={"image_quality": ["This field is required."]})
    chunk_size = _int(values, "chunk_size", low=0, high=MAX_FRAME, default=None)
    start = _int(values, "start_frame", low=0, high=MAX_FRAME, default=0) or 0
    stop = _int(values, "stop_frame", low=0, high=MAX_FRAME, default=None)
    if stop is not None and stop < start:
        raise ValidationError(fields={"stop_frame": ["The stop frame must not be before the start frame."]})
    sorting = values.get("sorting_method") or SortingMethod.LEXICOGRAPHICAL.value
    try:
        sorting_method = SortingMethod(str(sorting))
    except ValueError:
        raise ValidationError(fields={"sorting_method": [f'"{sorting}" is not a valid choice.']}) from None
    if values.get("cloud_storage_id") not in (None, ""):
        raise ValidationError(fields={"cloud_storage_id": ["Cloud storages are not supported yet: "
                                                           "use the share, the drop folder or remote files."]})
    mapping_raw = values.get("job_file_mapping") or ()
    if not isinstance(mapping_raw, list | tuple) or not all(isinstance(j, list | tuple) for j in mapping_raw):
        raise ValidationError(fields={"job_file_mapping": ["Expected a list of lists of file names."]})
    job_file_mapping = tuple(_names({"job_file_mapping": list(j)}, "job_file_mapping") for j in mapping_raw)
    if any(not j for j in job_file_mapping):
        raise ValidationError(fields={"job_file_mapping": ["A job cannot be empty."]})
    pattern = values.get("filename_pattern")
    if pattern is not None and (not isinstance(pattern, str) or not pattern):
        raise ValidationError(fields={"filename_pattern": ["This field may not be blank."]})
    request = DataRequest(
        image_quality=quality,
        chunk_size=chunk_size or None,
        start_frame=start,
        stop_frame=stop,
        frame_step=parse_frame_filter(str(values.get("frame_filter") or "")),
        sorting_method=sorting_method,
        use_zip_chunks=_bool(values, "use_zip_chunks"),
        use_cache=_bool(values, "use_cache"),
        copy_data=_bool(values, "copy_data"),
        client_files=tuple(client_files) or _names(values, "client_files"),
        server_files=_names(values, "server_files"),
        server_files_exclude=_names(values, "server_files_exclude"),
        remote_files=_names(values, "remote_files"),
        job_file_mapping=job_file_mapping,
        upload_file_order=_names(values, "upload_file_order"),
        filename_pattern=pattern,
        seed=_int(values, "seed", low=0, high=MAX_FRAME, default=None),
    )
    sources = sum(bool(s) for s in (request.client_files, request.server_files, request.remote_files))
    if sources > 1:
        raise ValidationError("Only one of client_files, server_files and remote_files can be used.")
    if request.filename_pattern and request.server_files_exclude:
        raise ValidationError("The filename_pattern and server_files_exclude cannot be used together.")
    if request.job_file_mapping and request.filename_pattern:
        raise ValidationError("The job_file_mapping and filename_pattern cannot be used together.")
    if request.job_file_mapping and (request.start_frame or request.stop_frame is not None or request.frame_step != 1):
        raise ValidationError("The job_file_mapping cannot be used with start_frame, stop_frame or frame_filter.")
    return request


def ordered_by_upload(names: Sequence[str], order: Sequence[str]) -> list[str]:
    """The ``predefined`` order of uploaded files: ``upload_file_order`` when the client sent one
    (the SDK does, having regrouped the files), else the order the files came in."""
    if not order:
        return list(names)
    missing = set(order) - set(names)
    if missing:
        raise ValidationError(fields={"upload_file_order": [f"These files were not uploaded: {sorted(missing)[:5]}"]})
    rest = [n for n in names if n not in set(order)]
    return [*order, *rest]


@dataclass(slots=True)
class TaskData:
    """What the media pipeline made of a task's data: enough to serve every frame, chunk and
    preview and CVAT's ``data/meta``."""

    id: int  # CVAT's data id (TaskRead.data)
    task_id: int
    media_type: str  # "images" | "video" (media.manifest)
    size: int  # task frames
    chunk_size: int
    image_quality: int
    compressed_chunk_type: ChunkType
    original_chunk_type: ChunkType  # as stored: a video's MP4 originals are read as image sets
    original_ext: str  # "zip" | "mp4"
    start_frame: int = 0
    stop_frame: int = 0
    frame_filter: str = ""
    segment_chunks: tuple[int, ...] = ()  # segments (by index) that have chunks of their own
    deleted_frames: tuple[int, ...] = ()
    chunks_updated_date: datetime | None = None
    frame_rate: float | None = None  # videos: frames per second (extension: data/meta ``frame_rate``)
    version: int = 0

    def chunk_of(self, frame: int) -> tuple[int, int]:
        """The task chunk holding a task frame, and the frame's position in it."""
        return frame // self.chunk_size, frame % self.chunk_size

    def chunk_count(self) -> int:
        return -(-self.size // self.chunk_size)

    def set_deleted_frames(self, frames: Iterable[int]) -> None:
        wanted = sorted(set(frames))
        bad = [f for f in wanted if not 0 <= f < self.size]
        if bad:
            raise ValidationError(fields={"deleted_frames": [f"Frame {bad[0]} is out of range [0, {self.size - 1}]."]})
        self.deleted_frames = tuple(wanted)


@dataclass(frozen=True, slots=True)
class DataKeys:
    """Where a task's data lives in the media bucket (see the module docstring)."""

    task_id: int
    data_id: int = 0

    @property
    def staging(self) -> str:
        return f"staging/tasks/{self.task_id}/"

    def staged_file(self, name: str) -> str:
        return f"{self.staging}files/{name}"

    def tus_part(self, file_id: str, offset: int) -> str:
        return f"{self.staging}tus/{file_id}/{offset:016d}"

    @property
    def root(self) -> str:
        return f"tasks/{self.task_id}/data/{self.data_id}/"

    @property
    def request(self) -> str:
        return f"{self.root}request.json"

    def source(self, name: str = "") -> str:
        return f"{self.root}source/{name}"

    @property
    def manifest(self) -> str:
        return f"{self.root}manifest.jsonl"

    @property
    def plan(self) -> str:
        return f"{self.root}plan.json"

    def unit_failure(self, unit: int) -> str:
        """What a failed work unit said: a Distributed Map reports only that items failed."""
        return f"{self.root}failures/unit-{unit:06d}.json"

    @property
    def frames_meta(self) -> str:
        return f"{self.root}frames.json"

    def chunk(self, kind: str, number: int, ext: str, segment: int | None = None) -> str:
        where = f"segment_{segment}/" if segment is not None else ""
        return f"{self.root}chunks/{where}{kind}/{number}.{ext}"

    def preview(self, segment: int | None = None) -> str:
        return f"{self.root}preview.jpeg" if segment is None else f"{self.root}previews/segment_{segment}.jpeg"

    def frame(self, quality: str, number: int, ext: str) -> str:
        return f"{self.root}frames/{quality}/{number}.{ext}"

    def chunk_part(self, kind: str, number: int, first: int, last: int) -> str:
        return f"{self.root}chunks/parts/{kind}/{number}_{first}-{last}.zip"

    def chunk_images(self, kind: str, number: int, segment: int | None = None) -> str:
        """Where an MP4 chunk (``chunk(kind, number, "mp4", segment)``) is kept as a zip of its
        frames."""
        where = f"segment_{segment}/" if segment is not None else ""
        return f"{self.root}chunks/images/{where}{kind}/{number}.zip"


@dataclass(slots=True)
class TusUpload:
    """One file of a TUS upload to a task: its parts are objects at ``DataKeys.tus_part``."""

    id: str  # <user id>_<uuid4>, as CVAT names them
    task_id: int
    owner_id: int
    filename: str
    length: int
    offset: int = 0
    created_date: datetime | None = None
    parts: list[int] = field(default_factory=list)  # offsets of the stored parts, ascending
    version: int = 0

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


class TusOffsetConflictError(ConflictError):
    """A TUS part sent for another offset than the server's: the client resumes from ``offset``
    (the API answers 409 with ``Upload-Offset``)."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"The upload is at offset {offset}.")
        self.offset = offset


SAFE_NAME_RE = re.compile(r"^[^/\\\x00]+$")


def safe_upload_name(name: str) -> str:
    """The basename of an uploaded file (the SDK sends absolute client paths): no path, no parent
    references, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", "..") or not SAFE_NAME_RE.match(base) or any(ord(c) < 32 for c in base):
        raise ValidationError(f"Invalid file name: {name!r}.")
    if len(base) > 1024:
        raise ValidationError("A file name is longer than 1024 characters.")
    return base
