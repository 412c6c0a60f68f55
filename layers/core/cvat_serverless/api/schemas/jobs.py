"""Jobs (CVAT's JobRead / PatchedJobWriteRequest)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import INT32_MAX, BasicUser, CvatModel, LabelsSummary, Paginated, RequestModel, Storage, omitted


class IssuesSummary(CvatModel):
    url: str
    count: int


class JobStage(StrEnum):
    ANNOTATION = "annotation"
    VALIDATION = "validation"
    ACCEPTANCE = "acceptance"


class OperationStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


class JobRead(CvatModel):
    url: str
    id: int
    task_id: int
    task_name: str | None
    project_id: int | None
    project_name: str | None
    assignee: BasicUser | None
    guide_id: int | None = None
    dimension: str
    mode: str
    media_type: str | None = omitted()
    bug_tracker: str | None
    status: str
    stage: str
    state: str
    frame_count: int
    start_frame: int
    stop_frame: int
    data_chunk_size: int | None
    data_compressed_chunk_type: str | None
    data_original_chunk_type: str | None
    created_date: datetime | None = omitted()
    updated_date: datetime | None = omitted()
    issues: IssuesSummary
    labels: LabelsSummary
    type: str
    organization: int | None
    target_storage: Storage | None
    source_storage: Storage | None
    assignee_updated_date: datetime | None
    parent_job_id: int | None


class PaginatedJobReadList(Paginated[JobRead]):
    pass


class PatchedJobWriteRequest(RequestModel):
    assignee: int | None = Field(default=None, ge=0, le=INT32_MAX)
    stage: JobStage | None = None
    state: OperationStatus | None = None
