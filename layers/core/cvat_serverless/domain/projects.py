"""Projects in CVAT's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import ValidationError
from .jobs import JobStatus
from .storage import Storage

NAME_MAX = 256
BUG_TRACKER_MAX = 2000


@dataclass(slots=True)
class Project:
    id: int
    name: str
    owner_id: int | None
    organization_id: int | None = None
    assignee_id: int | None = None
    assignee_updated_date: datetime | None = None
    bug_tracker: str = ""
    status: JobStatus = JobStatus.ANNOTATION
    dimension: str | None = None  # set by the first task with data ("2d"/"3d")
    guide_id: int | None = None
    source_storage: Storage | None = None
    target_storage: Storage | None = None
    task_subsets: list[str] = field(default_factory=list)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


def validate_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(fields={"name": ["This field may not be blank."]})
    if len(name) > NAME_MAX:
        raise ValidationError(fields={"name": [f"Ensure this field has no more than {NAME_MAX} characters."]})
    return name


def validate_bug_tracker(url: str) -> str:
    if len(url) > BUG_TRACKER_MAX:
        raise ValidationError(
            fields={"bug_tracker": [f"Ensure this field has no more than {BUG_TRACKER_MAX} characters."]}
        )
    if url and not (url.startswith("http://") or url.startswith("https://")):
        raise ValidationError(fields={"bug_tracker": ["Enter a valid URL."]})
    return url
