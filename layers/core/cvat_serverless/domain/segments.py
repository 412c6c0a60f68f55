"""How a task's frames are split into segments (one job each), in CVAT's rules.

Frame numbers here are *task* frame numbers: ``0 .. size-1`` after ``start_frame``,
``stop_frame`` and the frame step have been applied to the media. ``data_frame`` maps them back
to the frame numbers of the source media (what the media pipeline decodes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ValidationError

# CVAT's default overlap when the task does not set one: consecutive video jobs share 5 frames so
# that tracks can be continued across jobs; image jobs do not overlap.
DEFAULT_VIDEO_OVERLAP = 5
DEFAULT_IMAGE_OVERLAP = 0

_FRAME_FILTER_RE = re.compile(r"^step\s*=\s*(\d+)$")


@dataclass(frozen=True, slots=True)
class SegmentParams:
    """An inclusive range of task frames that becomes one segment and its job."""

    start_frame: int
    stop_frame: int

    @property
    def frame_count(self) -> int:
        return self.stop_frame - self.start_frame + 1

    def frames(self) -> range:
        return range(self.start_frame, self.stop_frame + 1)


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """The result of a split, with the values CVAT writes back to the task."""

    segments: tuple[SegmentParams, ...]
    segment_size: int  # the effective size: CVAT stores it on the task after the split
    overlap: int  # the effective overlap: CVAT stores it on the task after the split


def default_overlap(mode: str) -> int:
    """CVAT's overlap when the task leaves it unset: 5 for video ('interpolation'), else 0."""
    return DEFAULT_VIDEO_OVERLAP if mode == "interpolation" else DEFAULT_IMAGE_OVERLAP


def split_frames(
    size: int,
    *,
    segment_size: int = 0,
    overlap: int | None = None,
    mode: str = "annotation",
) -> SegmentPlan:
    """Split ``size`` task frames into segments as CVAT does.

    - ``segment_size`` 0, or larger than the task, means one segment with every frame.
    - ``overlap`` None means the default for the mode; it is capped at ``segment_size // 2``.
    - Segments start every ``segment_size - overlap`` frames while a start leaves at least one
      frame not covered by the previous segment; the last one is cut at the last frame.
    """
    if size < 0:
        raise ValidationError(fields={"size": ["Ensure this value is greater than or equal to 0."]})
    if segment_size < 0:
        raise ValidationError(fields={"segment_size": ["Ensure this value is greater than or equal to 0."]})
    if overlap is not None and overlap < 0:
        raise ValidationError(fields={"overlap": ["Ensure this value is greater than or equal to 0."]})

    effective_size = size if segment_size == 0 or segment_size > size else segment_size
    wanted_overlap = default_overlap(mode) if overlap is None else overlap
    effective_overlap = min(wanted_overlap, effective_size // 2)
    if size == 0:
        return SegmentPlan((), effective_size, effective_overlap)

    stride = effective_size - effective_overlap
    segments = tuple(
        SegmentParams(start, min(start + effective_size - 1, size - 1))
        for start in range(0, size - effective_overlap, stride)
    )
    return SegmentPlan(segments, effective_size, effective_overlap)


def split_by_job_sizes(job_sizes: Sequence[int]) -> SegmentPlan:
    """Consecutive segments of the given sizes (CVAT's ``job_file_mapping``); no overlap.

    CVAT reports ``segment_size`` 0 and ``overlap`` 0 for such tasks.
    """
    if not job_sizes or any(n <= 0 for n in job_sizes):
        raise ValidationError(fields={"job_file_mapping": ["job_file_mapping cannot be empty"]})
    segments = []
    start = 0
    for n in job_sizes:
        segments.append(SegmentParams(start, start + n - 1))
        start += n
    return SegmentPlan(tuple(segments), 0, 0)


def parse_frame_filter(frame_filter: str) -> int:
    """The frame step of CVAT's ``frame_filter`` (``""`` or ``"step=N"``, N >= 1)."""
    if not frame_filter:
        return 1
    match = _FRAME_FILTER_RE.match(frame_filter.strip())
    if not match or int(match.group(1)) < 1:
        raise ValidationError(fields={"frame_filter": ["Invalid frame filter: expected 'step=N', N >= 1."]})
    return int(match.group(1))


def format_frame_filter(step: int) -> str:
    """The inverse of ``parse_frame_filter``: CVAT stores ``""`` for step 1."""
    return "" if step == 1 else f"step={step}"


@dataclass(frozen=True, slots=True)
class FrameRange:
    """Which source-media frames a task uses: CVAT's Data.start_frame/stop_frame/frame_filter."""

    start_frame: int
    stop_frame: int  # inclusive, a source-media frame number
    step: int = 1

    @property
    def size(self) -> int:
        """The number of task frames (CVAT's ``Data.size``)."""
        if self.stop_frame < self.start_frame:
            return 0
        return (self.stop_frame - self.start_frame) // self.step + 1

    @property
    def last_frame(self) -> int:
        """The last source frame actually used (``stop_frame`` rounded down to the step)."""
        return self.start_frame + (self.size - 1) * self.step

    def data_frame(self, task_frame: int) -> int:
        """The source-media frame number of a task frame."""
        if not 0 <= task_frame < self.size:
            raise ValidationError(
                fields={"frame": [f"The frame number should be in the [0, {self.size - 1}] range"]}
            )
        return self.start_frame + task_frame * self.step

    def task_frame(self, data_frame: int) -> int | None:
        """The task frame that shows a source-media frame; None when the step skips it."""
        offset = data_frame - self.start_frame
        if offset < 0 or offset % self.step or data_frame > self.stop_frame:
            return None
        return offset // self.step


def resolve_frame_range(
    media_frames: int, *, start_frame: int = 0, stop_frame: int | None = None, frame_filter: str = ""
) -> FrameRange:
    """Validate the data parameters of ``POST /tasks/{id}/data`` against the media length.

    ``stop_frame`` None (or past the end) means the last frame of the media, as in CVAT.
    """
    step = parse_frame_filter(frame_filter)
    if media_frames <= 0:
        raise ValidationError("No media data found")
    if start_frame < 0 or start_frame >= media_frames:
        raise ValidationError(
            fields={"start_frame": [f"The start frame should be in the [0, {media_frames - 1}] range"]}
        )
    last = media_frames - 1
    stop = last if stop_frame is None or stop_frame > last or stop_frame == 0 else stop_frame
    if stop < start_frame:
        raise ValidationError(
            fields={"stop_frame": ["The stop frame should not be less than the start frame"]}
        )
    return FrameRange(start_frame, stop, step)
