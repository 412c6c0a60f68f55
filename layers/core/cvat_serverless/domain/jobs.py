"""Segments and jobs, with CVAT's stage/state/status rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .errors import ValidationError


class JobStage(StrEnum):
    ANNOTATION = "annotation"
    VALIDATION = "validation"
    ACCEPTANCE = "acceptance"


class JobState(StrEnum):
    """CVAT's ``OperationStatus`` (the wire name of a job's ``state``)."""

    NEW = "new"
    IN_PROGRESS = "in progress"
    REJECTED = "rejected"
    COMPLETED = "completed"


class JobStatus(StrEnum):
    """CVAT's ``StatusChoice``: a job's legacy ``status``, also a task's and a project's status."""

    ANNOTATION = "annotation"
    VALIDATION = "validation"
    COMPLETED = "completed"


class JobType(StrEnum):
    ANNOTATION = "annotation"
    GROUND_TRUTH = "ground_truth"
    REPLICA = "replica"  # 2.80's name; older servers said consensus_replica


class SegmentType(StrEnum):
    RANGE = "range"
    SPECIFIC_FRAMES = "specific_frames"


@dataclass(slots=True)
class Segment:
    id: int
    task_id: int
    start_frame: int
    stop_frame: int
    type: SegmentType = SegmentType.RANGE
    frames: list[int] = field(default_factory=list)  # only for SPECIFIC_FRAMES
    version: int = 0

    @property
    def frame_count(self) -> int:
        if self.type == SegmentType.SPECIFIC_FRAMES:
            return len(self.frames)
        return self.stop_frame - self.start_frame + 1


@dataclass(slots=True)
class Job:
    id: int
    task_id: int
    segment_id: int
    start_frame: int
    stop_frame: int
    frame_count: int
    # Denormalised from the task so that lists can be filtered without loading every task;
    # the task service keeps them current when a task moves to another project/organization.
    project_id: int | None = None
    organization_id: int | None = None
    assignee_id: int | None = None
    assignee_updated_date: datetime | None = None
    stage: JobStage = JobStage.ANNOTATION
    state: JobState = JobState.NEW
    status: JobStatus = JobStatus.ANNOTATION
    type: JobType = JobType.ANNOTATION
    parent_job_id: int | None = None
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


def job_status(stage: JobStage, state: JobState) -> JobStatus:
    """The legacy status CVAT derives from a job's stage and state."""
    if stage == JobStage.ANNOTATION:
        return JobStatus.ANNOTATION
    if stage == JobStage.ACCEPTANCE and state == JobState.COMPLETED:
        return JobStatus.COMPLETED
    return JobStatus.VALIDATION


def apply_stage_state(
    job: Job, *, stage: JobStage | None = None, state: JobState | None = None
) -> dict[str, object]:
    """Apply a PATCH of ``stage``/``state`` to ``job`` in place; return the changed fields' old
    values.

    CVAT allows every stage -> stage and state -> state move (permissions decide *who* may move
    them); when the stage changes and the request does not set a state, the state goes back to
    ``new``. The status follows from the final stage and state.
    """
    before: dict[str, object] = {}
    new_stage = job.stage if stage is None else JobStage(stage)
    new_state = job.state if state is None else JobState(state)
    if stage is not None and new_stage != job.stage and state is None:
        new_state = JobState.NEW
    new_status = job_status(new_stage, new_state)
    for name, value in (("stage", new_stage), ("state", new_state), ("status", new_status)):
        if getattr(job, name) != value:
            before[name] = getattr(job, name)
            setattr(job, name, value)
    return before


def parse_stage(value: str) -> JobStage:
    try:
        return JobStage(value)
    except ValueError:
        raise ValidationError(fields={"stage": [f'"{value}" is not a valid choice.']}) from None


def parse_state(value: str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        raise ValidationError(fields={"state": [f'"{value}" is not a valid choice.']}) from None


def task_status(job_statuses: Iterable[JobStatus]) -> JobStatus:
    """A task's status from its jobs' statuses (CVAT's post-save job signal): annotation while
    any job is in annotation, else validation while any is in validation, else completed."""
    statuses = set(job_statuses)
    if JobStatus.ANNOTATION in statuses:
        return JobStatus.ANNOTATION
    if JobStatus.VALIDATION in statuses:
        return JobStatus.VALIDATION
    if not statuses:
        return JobStatus.ANNOTATION
    return JobStatus.COMPLETED


@dataclass(frozen=True, slots=True)
class JobsSummary:
    """CVAT's ``jobs`` field of TaskRead: how many jobs, completed ones, ones in validation."""

    count: int = 0
    completed: int = 0
    validation: int = 0


def summarize_jobs(jobs: Iterable[Job]) -> JobsSummary:
    jobs = list(jobs)
    return JobsSummary(
        count=len(jobs),
        completed=sum(1 for j in jobs if j.state == JobState.COMPLETED),
        validation=sum(1 for j in jobs if j.stage == JobStage.VALIDATION),
    )
