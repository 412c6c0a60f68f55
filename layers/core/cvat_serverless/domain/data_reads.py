"""Reading a task's data, in CVAT's words: the query of ``GET /api/{tasks,jobs}/{id}/data``
(``type``, ``number``, ``index``, ``quality``) checked with CVAT's messages, which stored chunk
holds the frames a task or a job asks for, and ``data/meta`` (CVAT's ``DataMetaRead``).

Chunks are stored as the media pipeline writes them (``domain.task_data.DataKeys``): task chunk
``n`` holds task frames ``n*chunk_size ..``; a job whose frames do not line up with the task's
chunks has chunks of its own, numbered from 0 in the job. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import ValidationError

MAX_NUMBER = 2**31 - 1


class DataType(StrEnum):
    CHUNK = "chunk"
    FRAME = "frame"
    CONTEXT_IMAGE = "context_image"


class FrameQuality(StrEnum):
    COMPRESSED = "compressed"
    ORIGINAL = "original"


@dataclass(frozen=True, slots=True)
class DataQuery:
    """One read: a chunk (``number`` a task chunk, or ``index`` a job's own chunk), a frame
    (``number``, a task frame) or a frame's context images."""

    type: DataType
    quality: FrameQuality = FrameQuality.COMPRESSED
    number: int | None = None
    index: int | None = None


def _number(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(fields={name: ["A valid integer is required."]}) from None
    if not 0 <= number <= MAX_NUMBER:
        raise ValidationError(fields={name: [f"Ensure this value is between 0 and {MAX_NUMBER}."]})
    return number


def parse_data_query(params: Mapping[str, str], *, job: bool = False) -> DataQuery:
    """CVAT's ``_TaskDataGetter``/``_JobDataGetter`` checks, in their order and words. ``quality``
    defaults to ``compressed``; ``index`` (a job's own chunk numbering) is for jobs only."""
    kind = params.get("type")
    if not kind or kind not in set(DataType):
        raise ValidationError("Data type not specified or has wrong value")
    number = _number(params, "number")
    index = _number(params, "index") if job else None
    quality = params.get("quality", FrameQuality.COMPRESSED.value)
    if kind == DataType.CHUNK and job:
        if number is None and index is None:
            raise ValidationError("Number or Index is not specified")
        if number is not None and index is not None:
            raise ValidationError("Number and Index cannot be used together")
    elif number is None:
        raise ValidationError("Number is not specified")
    if quality not in set(FrameQuality):
        if kind != DataType.CONTEXT_IMAGE:  # context images come in one quality: CVAT ignores it
            raise ValidationError("Wrong quality value")
        quality = FrameQuality.COMPRESSED.value
    return DataQuery(DataType(kind), FrameQuality(quality), number, index)


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """A stored chunk: a task chunk (``segment`` None) or chunk ``number`` of a job's segment
    (its index among the task's segments); ``positions``: only these members of it (a job that
    asks for a task chunk it shares with another job), None for all of it."""

    number: int
    segment: int | None = None
    positions: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ChunkLayout:
    """How a task's ``size`` frames are cut into chunks of ``chunk_size``."""

    size: int
    chunk_size: int

    @property
    def last_chunk(self) -> int:
        return max(0, -(-self.size // self.chunk_size) - 1)

    def check_frame(self, frame: int) -> int:
        if not 0 <= frame < self.size:
            raise ValidationError(
                f"Invalid frame '{frame}'. The frame number should be in the [0, {self.size - 1}] range")
        return frame

    def frame_position(self, frame: int) -> tuple[int, int]:
        """The task chunk holding a task frame, and the frame's position in it."""
        self.check_frame(frame)
        return frame // self.chunk_size, frame % self.chunk_size

    def task_chunk(self, number: int) -> ChunkRef:
        if not 0 <= number <= self.last_chunk:
            raise ValidationError(
                f"Invalid chunk number '{number}'. The chunk number should be in the [0, {self.last_chunk}] range")
        return ChunkRef(number)

    def aligned(self, start: int, stop: int) -> bool:
        """Whether frames ``start .. stop`` are whole task chunks (a job whose frames are not has
        chunks of its own: services.pipeline plans them by this rule)."""
        return start % self.chunk_size == 0 and ((stop + 1) % self.chunk_size == 0 or stop == self.size - 1)


@dataclass(frozen=True, slots=True)
class JobFrames:
    """The task frames ``start .. stop`` of a job, seen through the task's chunk layout."""

    layout: ChunkLayout
    start: int
    stop: int

    @property
    def count(self) -> int:
        return self.stop - self.start + 1

    @property
    def last_chunk(self) -> int:
        return -(-self.count // self.layout.chunk_size) - 1

    @property
    def aligned(self) -> bool:
        return self.layout.aligned(self.start, self.stop)

    def check_frame(self, frame: int) -> int:
        if not self.start <= frame <= self.stop:
            raise ValidationError(f"Incorrect requested frame number: {frame}")
        return frame

    def chunk_by_index(self, index: int, segment: int | None) -> ChunkRef:
        """The job's own chunk ``index`` (frames ``start + index*chunk_size ..``): a task chunk
        when the job lines up with them, else chunk ``index`` of ``segment`` (the job's segment
        among the task's; needed only then)."""
        if not 0 <= index <= self.last_chunk:
            raise ValidationError(
                f"Invalid chunk number '{index}'. The chunk number should be in the [0, {self.last_chunk}] range")
        if self.aligned:
            return ChunkRef(self.start // self.layout.chunk_size + index)
        if segment is None:
            raise ValueError("a job that does not line up with the task's chunks reads its segment's chunks")
        return ChunkRef(index, segment)

    def chunk_by_number(self, number: int) -> ChunkRef:
        """Task chunk ``number`` as the job sees it (CVAT's deprecated ``number`` for job chunks):
        only the job's frames of it."""
        size = self.layout.chunk_size
        first, last = number * size, min((number + 1) * size, self.layout.size) - 1
        low, high = max(first, self.start), min(last, self.stop)
        if number < 0 or low > high:
            raise ValidationError(f"Invalid chunk number '{number}'. The chunk has no frames of this job")
        if (low, high) == (first, last):
            return ChunkRef(number)
        return ChunkRef(number, positions=tuple(f - first for f in range(low, high + 1)))


# --- data/meta -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """CVAT's ``FrameMeta``: one image (for a video, the video itself)."""

    name: str
    width: int
    height: int
    related_files: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameInfo:
        return cls(str(data["name"]), int(data["width"]), int(data["height"]), int(data.get("related_files") or 0))


@dataclass(frozen=True, slots=True)
class DataMeta:
    """CVAT's ``DataMetaRead`` of a task or of a job."""

    chunk_size: int
    size: int
    image_quality: int
    start_frame: int  # source (data) frame numbers, as CVAT reports them
    stop_frame: int
    frame_filter: str
    frames: tuple[FrameInfo, ...]
    deleted_frames: tuple[int, ...]
    chunks_updated_date: datetime
    storage: str = "local"
    included_frames: tuple[int, ...] | None = None
    cloud_storage_id: int | None = None
    chapters: Sequence[Any] | None = field(default=None)
    frame_rate: float | None = None  # videos (an extension: CVAT's UI plays at a chosen speed)


def frame_step(frame_filter: str) -> int:
    text = frame_filter.strip()
    return int(text.split("=", 1)[1]) if text.startswith("step=") else 1


def job_meta(task_meta: DataMeta, *, start: int, stop: int, video: bool) -> DataMeta:
    """A job's view of its task's meta, as CVAT's ``JobViewSet.metadata``: its frames (a video
    keeps its one entry), the source frames it spans and the deleted frames among its own."""
    step = frame_step(task_meta.frame_filter)
    data_start = task_meta.start_frame + start * step
    data_stop = min(task_meta.stop_frame, task_meta.start_frame + stop * step)
    frames = task_meta.frames if video else task_meta.frames[start:stop + 1]
    return DataMeta(
        chunk_size=task_meta.chunk_size, size=stop - start + 1, image_quality=task_meta.image_quality,
        start_frame=data_start, stop_frame=data_stop, frame_filter=task_meta.frame_filter, frames=frames,
        deleted_frames=tuple(f for f in task_meta.deleted_frames if start <= f <= stop),
        chunks_updated_date=task_meta.chunks_updated_date, storage=task_meta.storage, included_frames=None,
        cloud_storage_id=task_meta.cloud_storage_id, frame_rate=task_meta.frame_rate,
    )


def job_deleted_frames(task_deleted: Iterable[int], wanted: Iterable[int], *, start: int, stop: int) -> list[int]:
    """The task's deleted frames after a job's PATCH: the job's own frames replaced by ``wanted``
    (CVAT: frames outside the job are a 400)."""
    wanted_set = set(wanted)
    outside = sorted(f for f in wanted_set if not start <= f <= stop)
    if outside:
        raise ValidationError(fields={"deleted_frames": [
            f"Frames {', '.join(map(str, outside[:10]))} do not belong to the job"]})
    kept = {f for f in task_deleted if not start <= f <= stop}
    return sorted(kept | wanted_set)
