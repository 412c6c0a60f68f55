"""Organizations, memberships and invitations (CVAT's OrganizationRead, MembershipRead,
InvitationRead and their write requests)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from .common import BasicUser, CvatModel, Paginated, RequestModel, omitted

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class RoleEnum(StrEnum):
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    MAINTAINER = "maintainer"
    OWNER = "owner"


class OrganizationRead(CvatModel):
    id: int
    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    description: str
    created_date: datetime | None = omitted()
    updated_date: datetime | None = omitted()
    contact: dict[str, Any]
    owner: BasicUser | None


class PaginatedOrganizationReadList(Paginated[OrganizationRead]):
    pass


class OrganizationWriteRequest(RequestModel):
    slug: str = Field(min_length=1, max_length=16, pattern=SLUG_PATTERN)
    name: str = Field(default="", max_length=64)
    description: str = ""
    contact: dict[str, Any] = Field(default_factory=dict)


class PatchedOrganizationWriteRequest(RequestModel):
    slug: str | None = Field(default=None, min_length=1, max_length=16, pattern=SLUG_PATTERN)
    name: str | None = Field(default=None, max_length=64)
    description: str | None = None
    contact: dict[str, Any] | None = None


class MembershipRead(CvatModel):
    id: int
    user: BasicUser
    organization: int
    is_active: bool
    joined_date: datetime | None
    role: str
    invitation: str | None


class PaginatedMembershipReadList(Paginated[MembershipRead]):
    pass


class PatchedMembershipWriteRequest(RequestModel):
    role: RoleEnum | None = None


class BasicOrganization(CvatModel):
    id: int
    slug: str = Field(pattern=SLUG_PATTERN)


class InvitationRead(CvatModel):
    key: str
    created_date: datetime
    owner: BasicUser | None
    role: RoleEnum
    user: BasicUser
    organization: int
    organization_info: BasicOrganization
    expired: bool | None
    accepted: bool


class PaginatedInvitationReadList(Paginated[InvitationRead]):
    pass


class InvitationWriteRequest(RequestModel):
    role: RoleEnum
    email: str = Field(min_length=1, max_length=254)


class AcceptInvitationRead(CvatModel):
    organization_slug: str
