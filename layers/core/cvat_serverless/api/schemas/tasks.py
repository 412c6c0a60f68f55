"""Tasks (CVAT's TaskRead / TaskWriteRequest / PatchedTaskWriteRequest)."""

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


class JobsSummary(CvatModel):
    count: int
    completed: int | None
    validation: int | None
    url: str


class TaskRead(CvatModel):
    url: str
    id: int
    name: str
    project_id: int | None
    project_name: str | None
    mode: str
    owner: BasicUser | None
    assignee: BasicUser | None
    bug_tracker: str
    created_date: datetime | None = omitted()
    updated_date: datetime | None = omitted()
    overlap: int | None
    segment_size: int
    status: str
    data_chunk_size: int | None
    data_compressed_chunk_type: str | None
    data_original_chunk_type: str | None
    data_cloud_storage_id: int | None
    guide_id: int | None = None
    size: int
    image_quality: int | None = omitted()
    data: int | None
    dimension: str
    media_type: str | None = omitted()
    subset: str
    organization: int | None
    organization_id: int | None
    target_storage: Storage | None
    source_storage: Storage | None
    jobs: JobsSummary
    labels: LabelsSummary
    assignee_updated_date: datetime | None
    validation_mode: str | None
    initial_replicas: int = 0
    consensus_replicas: int = 0


class PaginatedTaskReadList(Paginated[TaskRead]):
    pass


class TaskWriteRequest(RequestModel):
    name: str = Field(min_length=1, max_length=256)
    project_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    owner_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    assignee_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    bug_tracker: str = Field(default="", max_length=2000)
    overlap: int | None = Field(default=None, ge=0, le=INT32_MAX)
    segment_size: int = Field(default=0, ge=0, le=INT32_MAX)
    labels: list[PatchedLabelRequest] = Field(default_factory=list)
    subset: str = Field(default="", max_length=64)
    target_storage: StorageRequest | None = None
    source_storage: StorageRequest | None = None
    initial_replicas: int = Field(default=0, ge=0, le=INT32_MAX)
    consensus_replicas: int = Field(default=0, ge=0, le=INT32_MAX)


class PatchedTaskWriteRequest(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    project_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    owner_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    assignee_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
    bug_tracker: str | None = Field(default=None, max_length=2000)
    labels: list[PatchedLabelRequest] = Field(default_factory=list)
    subset: str | None = Field(default=None, max_length=64)
    target_storage: StorageRequest | None = None
    source_storage: StorageRequest | None = None
    organization_id: int | None = Field(default=None, ge=0, le=INT32_MAX)
