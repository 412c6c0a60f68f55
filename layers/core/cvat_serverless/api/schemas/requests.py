"""CVAT's ``Request`` (background requests) and ``RqId``."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import CvatModel


class RqId(CvatModel):
    rq_id: str


class RequestOperation(CvatModel):
    type: str
    target: str
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    format: str | None = None
    function_id: str | None = None


class RequestOwner(CvatModel):
    id: int
    username: str


class RequestRead(CvatModel):
    status: str
    message: str = ""
    id: str
    operation: RequestOperation
    progress: float | None = Field(default=None, ge=0, le=1)
    created_date: datetime
    started_date: datetime | None = None
    finished_date: datetime | None = None
    expiry_date: datetime | None = None
    owner: RequestOwner | None = None
    result_url: str | None = None
    result_id: int | None = None


class PaginatedRequestList(CvatModel):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[RequestRead]
