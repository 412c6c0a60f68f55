"""Users (CVAT's User / BasicUser / PatchedUserRequest)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import USERNAME_PATTERN, BasicUser, CvatModel, Paginated, RequestModel, omitted


class User(CvatModel):
    url: str
    id: int
    username: str = Field(max_length=150, pattern=USERNAME_PATTERN)
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    email: str = Field(max_length=254)
    groups: list[str]
    is_staff: bool
    is_superuser: bool
    is_active: bool
    last_login: datetime | None
    date_joined: datetime | None = omitted()
    has_analytics_access: bool | None = False


class PaginatedMetaUserList(Paginated[User | BasicUser]):
    pass


class PatchedUserRequest(RequestModel):
    username: str | None = Field(default=None, min_length=1, max_length=150, pattern=USERNAME_PATTERN)
    first_name: str | None = Field(default=None, max_length=150)
    last_name: str | None = Field(default=None, max_length=150)
    email: str | None = Field(default=None, max_length=254)
    groups: list[str] | None = None
    is_staff: bool | None = None
    is_superuser: bool | None = None
    is_active: bool | None = None
