"""Projects (CVAT's ProjectRead / ProjectWriteRequest / PatchedProjectWriteRequest)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import (
    INT32_MAX,
    BasicUser,
    CvatModel,
    LabelsSummary,
    Paginated,
    RequestModel,
    Storage,
    StorageRequest,
    omitted,
)
from .labels import PatchedLabelRequest


class TasksSummary(CvatModel):
    count: int
    url: str


class ProjectRead(CvatModel):
    url: str
    id: int
    name: str
    owner: BasicUser | None
    assignee: BasicUser | None
    guide_id: int | None = None
    bug_tracker: str
    task_subsets: list[str]
    created_date: datetime | None = omitted()
    updated_date: datetime | None = omitted()
    status: str
    dimension: str | None
    organization: int | None
    organization_id: int | None
    target_storage: Storage | None
    source_storage: Storage | None
    tasks: TasksSummary
    labels: LabelsSummary
    assignee_updated_date: datetime | None


class PaginatedProjectReadList(Paginated[ProjectRead]):
    pass


class ProjectWriteRequest(RequestModel):
    name: str = Field(min_length=1, max_length=256)
    labels: list[PatchedLabelRequest] = Field(default_factory=list)
    owner_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    assignee_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    bug_tracker: str = Field(default="", max_length=2000)
    target_storage: StorageRequest | None = None
    source_storage: StorageRequest | None = None


class PatchedProjectWriteRequest(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    labels: list[PatchedLabelRequest] = Field(default_factory=list)
    owner_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    assignee_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    bug_tracker: str | None = Field(default=None, max_length=2000)
    target_storage: StorageRequest | None = None
    source_storage: StorageRequest | None = None
    organization_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
