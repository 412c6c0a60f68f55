"""Review issues and their comments (CVAT's ``Issue`` and ``Comment``).

An issue marks a region (``position``: x1, y1, x2, y2... as floats) on one frame of a job; its
comments are the discussion. The job, frame and task of an issue never change after creation
(CVAT's write-once fields), so comments carry them too: a comment list filters by job or frame
without reading the issues.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .errors import ValidationError
from .jobs import Job


@dataclass(slots=True)
class Issue:
    id: int
    job_id: int
    task_id: int  # the job's task (write-once, as the job)
    frame: int
    position: list[float] = field(default_factory=list)
    owner_id: int | None = None
    assignee_id: int | None = None
    resolved: bool = False
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


@dataclass(slots=True)
class Comment:
    id: int
    issue_id: int
    job_id: int  # the issue's (write-once)
    task_id: int
    frame: int
    message: str
    owner_id: int | None = None
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


def validate_position(value: Sequence[object]) -> list[float]:
    """An issue's region: a non-empty, even-length list of finite numbers (point pairs)."""
    if not value:
        raise ValidationError(fields={"position": ["This list may not be empty."]})
    points: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ValidationError(fields={"position": ["A valid number is required."]})
        points.append(float(item))
    if len(points) % 2:
        raise ValidationError(fields={"position": ["Position must hold pairs of coordinates (an even count)."]})
    return points


def validate_frame(job: Job, frame: int) -> int:
    """The frame must be one of the job's (CVAT: "The frame number doesn't belong to the job")."""
    if not job.start_frame <= frame <= job.stop_frame:
        raise ValidationError(fields={"frame": [f"The frame number doesn't belong to the job #{job.id}"]})
    return frame


MAX_MESSAGE_LENGTH = 65536
"""Characters of one comment: its items stay far below DynamoDB's 400 KB (CVAT sets no limit)."""


def validate_message(value: str, *, required: bool = True) -> str:
    if required and not value:
        raise ValidationError(fields={"message": ["This field may not be blank."]})
    if len(value) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            fields={"message": [f"Ensure this field has no more than {MAX_MESSAGE_LENGTH} characters."]})
    return value
