"""Review issues and comments (CVAT's IssueRead, IssueWriteRequest, CommentRead...)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import INT32_MAX, BasicUser, CvatModel, Paginated, RequestModel


class CommentsSummary(CvatModel):
    count: int = 0
    url: str


class IssueRead(CvatModel):
    id: int
    frame: int
    position: list[float]
    job: int
    owner: BasicUser | None
    assignee: BasicUser | None
    created_date: datetime | None
    updated_date: datetime | None
    resolved: bool
    comments: CommentsSummary


class PaginatedIssueReadList(Paginated[IssueRead]):
    pass


class IssueWriteRequest(RequestModel):
    frame: int = Field(ge=0, le=INT32_MAX)
    position: list[float]
    job: int = Field(ge=0, le=INT32_MAX)
    assignee: int | None = Field(default=None, ge=0, le=INT32_MAX)
    message: str = Field(min_length=1)
    resolved: bool = False


class PatchedIssueWriteRequest(RequestModel):
    position: list[float] | None = None
    assignee: int | None = Field(default=None, ge=0, le=INT32_MAX)
    resolved: bool | None = None


class CommentRead(CvatModel):
    id: int
    issue: int
    owner: BasicUser | None
    message: str
    created_date: datetime | None
    updated_date: datetime | None


class PaginatedCommentReadList(Paginated[CommentRead]):
    pass


class CommentWriteRequest(RequestModel):
    issue: int = Field(ge=0, le=INT32_MAX)
    message: str = Field(default="", min_length=1)


class PatchedCommentWriteRequest(RequestModel):
    message: str | None = Field(default=None, min_length=1)
