"""Frame and chunk arithmetic, in CVAT's rules. Standard library only.

Two numberings appear everywhere:
- *source* frames: positions in the media (the n-th image after sorting, the n-th video frame in
  display order);
- *task* frames: ``0 .. size-1`` after ``start_frame``, ``stop_frame`` and ``frame_filter``
  (``"step=N"``) have been applied. Chunks, segments and jobs count task frames.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from cvat_serverless.domain.errors import ValidationError

DEFAULT_VIDEO_CHUNK_SIZE = 36
_FRAME_FILTER = re.compile(r"^\s*step\s*=\s*(\d+)\s*$")


def parse_frame_step(frame_filter: str | None) -> int:
    """The step of CVAT's ``frame_filter``: ``""`` -> 1, ``"step=N"`` -> N (N >= 1)."""
    if not frame_filter:
        return 1
    match = _FRAME_FILTER.match(frame_filter)
    if not match or int(match.group(1)) < 1:
        raise ValidationError(
            f"Invalid frame filter {frame_filter!r}: expected 'step=N' with N >= 1.",
            fields={"frame_filter": ["Invalid frame filter: expected 'step=N', N >= 1."]},
        )
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class FrameSelection:
    """Which source frames a task uses (CVAT's ``start_frame``, ``stop_frame``, frame step)."""

    start_frame: int
    stop_frame: int  # inclusive source frame; the last one used is ``last_frame``
    step: int = 1

    @property
    def size(self) -> int:
        """The number of task frames."""
        return len(self.source_frames())

    @property
    def last_frame(self) -> int:
        return self.start_frame + (self.size - 1) * self.step

    def source_frames(self) -> range:
        return range(self.start_frame, self.stop_frame + 1, self.step)

    def source_frame(self, task_frame: int) -> int:
        if not 0 <= task_frame < self.size:
            raise ValidationError(f"The frame number should be in the [0, {self.size - 1}] range")
        return self.start_frame + task_frame * self.step


def select_frames(
    source_size: int,
    *,
    start_frame: int = 0,
    stop_frame: int | None = None,
    step: int = 1,
) -> FrameSelection:
    """Validate start/stop/step against the media length, as CVAT does.

    ``stop_frame`` None, 0 (CVAT's "unset") or past the end means the last source frame.
    """
    if source_size <= 0:
        raise ValidationError("No media data found")
    if step < 1:
        raise ValidationError("The frame step should be >= 1", fields={"frame_filter": ["step must be >= 1"]})
    if not 0 <= start_frame < source_size:
        raise ValidationError(
            f"The start frame should be in the [0, {source_size - 1}] range",
            fields={"start_frame": [f"The start frame should be in the [0, {source_size - 1}] range"]},
        )
    last = source_size - 1
    stop = last if stop_frame is None or stop_frame == 0 or stop_frame > last else stop_frame
    if stop < start_frame:
        raise ValidationError(
            "The stop frame should not be less than the start frame",
            fields={"stop_frame": ["The stop frame should not be less than the start frame"]},
        )
    return FrameSelection(start_frame, stop, step)


def default_chunk_size(media: str, width: int, height: int) -> int:
    """CVAT's chunk size when the task leaves it unset.

    Video: 36 frames. Images: ``max(2, min(72, 36 * 1920 * 1080 // (w * h)))`` from the first
    image, so that a chunk holds about as many pixels as 36 full-HD frames.
    """
    if media == "video":
        return DEFAULT_VIDEO_CHUNK_SIZE
    pixels = max(1, width * height)
    return max(2, min(72, 36 * 1920 * 1080 // pixels))


class SegmentLike(Protocol):
    """Anything with an inclusive task frame range: the domain's planned
    :class:`~cvat_serverless.domain.segments.SegmentParams` or a stored
    :class:`~cvat_serverless.domain.jobs.Segment`."""

    @property
    def start_frame(self) -> int: ...

    @property
    def stop_frame(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """One chunk: ``number`` counts chunks within its segment (or the task when ``segment`` is None)
    and the chunk holds task frames ``start .. stop`` (inclusive)."""

    number: int
    start: int
    stop: int
    segment: int | None = None

    @property
    def frames(self) -> range:
        return range(self.start, self.stop + 1)

    @property
    def size(self) -> int:
        return self.stop - self.start + 1

    def to_dict(self) -> dict[str, int | None]:
        return {"number": self.number, "start": self.start, "stop": self.stop, "segment": self.segment}

    @classmethod
    def from_dict(cls, data: dict[str, int | None]) -> ChunkSpec:
        number, start, stop = data["number"], data["start"], data["stop"]
        assert number is not None and start is not None and stop is not None
        return cls(number, start, stop, data.get("segment"))


def chunk_number(task_frame: int, chunk_size: int) -> int:
    """The task chunk holding a task frame."""
    return task_frame // chunk_size


def iter_task_chunks(frame_count: int, chunk_size: int) -> Iterator[ChunkSpec]:
    """Task-wide chunks: chunk N holds task frames ``N*size .. (N+1)*size - 1`` (the last is short)."""
    if chunk_size < 1:
        raise ValidationError("chunk_size must be >= 1", fields={"chunk_size": ["must be >= 1"]})
    for number, start in enumerate(range(0, frame_count, chunk_size)):
        yield ChunkSpec(number, start, min(start + chunk_size, frame_count) - 1)


def plan_chunks(frame_count: int, chunk_size: int, segments: Iterable[SegmentLike] | None = None) -> list[ChunkSpec]:
    """The chunks to build.

    Without segments: task-wide chunks. With segments: CVAT's segment chunks, numbered from 0 in
    each segment (chunk i of a segment holds its frames ``start + i*size ..``); overlapping
    segments give chunks that share frames.
    """
    if segments is None:
        return list(iter_task_chunks(frame_count, chunk_size))
    if chunk_size < 1:
        raise ValidationError("chunk_size must be >= 1", fields={"chunk_size": ["must be >= 1"]})
    chunks: list[ChunkSpec] = []
    for index, segment in enumerate(segments):
        if not 0 <= segment.start_frame <= segment.stop_frame < frame_count:
            raise ValidationError(
                f"Segment {index} [{segment.start_frame}, {segment.stop_frame}] is outside the task's "
                f"frames [0, {frame_count - 1}]"
            )
        for number, start in enumerate(range(segment.start_frame, segment.stop_frame + 1, chunk_size)):
            chunks.append(ChunkSpec(number, start, min(start + chunk_size - 1, segment.stop_frame), index))
    return chunks


def group_contiguous(chunks: Sequence[ChunkSpec]) -> list[list[ChunkSpec]]:
    """Split chunks into runs whose frames follow each other (or overlap) without gaps."""
    runs: list[list[ChunkSpec]] = []
    for chunk in chunks:
        if runs and runs[-1][-1].start <= chunk.start <= max(c.stop for c in runs[-1]) + 1:
            runs[-1].append(chunk)
        else:
            runs.append([chunk])
    return runs
