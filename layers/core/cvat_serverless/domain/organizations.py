"""Organizations, memberships and invitations in CVAT's words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import ValidationError

SLUG_MAX = 16
NAME_MAX = 64
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
# CVAT's ORG_INVITATION_EXPIRY_DAYS
INVITATION_EXPIRY = timedelta(days=7)


class OrgRole(StrEnum):
    """CVAT's ``RoleEnum``: a member's role in an organization."""

    WORKER = "worker"
    SUPERVISOR = "supervisor"
    MAINTAINER = "maintainer"
    OWNER = "owner"


# Lower is stronger, as in CVAT's rules (organizations.get_priority).
_ROLE_PRIORITY = {OrgRole.OWNER: 0, OrgRole.MAINTAINER: 50, OrgRole.SUPERVISOR: 75, OrgRole.WORKER: 100}


def role_at_least(role: OrgRole | None, required: OrgRole) -> bool:
    """True when ``role`` has the privileges of ``required`` (owner > maintainer > supervisor >
    worker); a non-member (None) has none."""
    return role is not None and _ROLE_PRIORITY[role] <= _ROLE_PRIORITY[required]


@dataclass(slots=True)
class Organization:
    id: int
    slug: str
    owner_id: int | None
    name: str = ""
    description: str = ""
    contact: dict[str, Any] = field(default_factory=dict)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0


@dataclass(slots=True)
class Membership:
    id: int
    user_id: int
    organization_id: int
    role: OrgRole
    is_active: bool = False  # False until the invitation is accepted
    joined_date: datetime | None = None
    invitation_key: str | None = None
    version: int = 0


@dataclass(slots=True)
class Invitation:
    key: str
    organization_id: int
    membership_id: int
    user_id: int  # the invitee
    role: OrgRole
    owner_id: int | None  # who invited
    created_date: datetime
    # When it was last sent (CVAT's Invitation.sent_date; resending restarts the expiry). Stored
    # since schema version 3; an item written before (no ``sent_date``) reads as sent when created,
    # the same default the 2 -> 3 upgrade writes (dynamo_migrations), so new code that saves such
    # an item before the upgrade reached it writes the value the upgrade would have written.
    sent_date: datetime | None = None
    accepted: bool = False
    version: int = 0

    def __post_init__(self) -> None:
        if self.sent_date is None:
            self.sent_date = self.created_date

    def is_expired(self, now: datetime) -> bool:
        sent = self.sent_date or self.created_date
        return now - sent > INVITATION_EXPIRY


def validate_slug(slug: str) -> str:
    if not slug:
        raise ValidationError(fields={"slug": ["This field may not be blank."]})
    if len(slug) > SLUG_MAX:
        raise ValidationError(fields={"slug": [f"Ensure this field has no more than {SLUG_MAX} characters."]})
    if not _SLUG_RE.match(slug):
        raise ValidationError(
            fields={"slug": ["Enter a valid 'slug' consisting of letters, numbers, underscores or hyphens."]}
        )
    return slug


def validate_org_name(name: str) -> str:
    if len(name) > NAME_MAX:
        raise ValidationError(fields={"name": [f"Ensure this field has no more than {NAME_MAX} characters."]})
    return name


def parse_role(value: str, field_name: str = "role") -> OrgRole:
    try:
        return OrgRole(value)
    except ValueError:
        raise ValidationError(fields={field_name: [f'"{value}" is not a valid choice.']}) from None
