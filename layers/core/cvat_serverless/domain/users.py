"""Users and system roles, in CVAT's words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .errors import ValidationError


class SystemRole(StrEnum):
    """CVAT's system groups; a user has the privileges of the highest one."""

    ADMIN = "admin"
    BUSINESS = "business"  # kept for compatibility: CVAT 2.x treats it like user
    USER = "user"
    WORKER = "worker"


_USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_username(username: str) -> str:
    if not _USERNAME_RE.match(username or ""):
        raise ValidationError(
            fields={"username": ["150 characters or fewer; letters, digits and @/./+/-/_ only."]}
        )
    return username


def validate_email(email: str) -> str:
    if email and not _EMAIL_RE.match(email):
        raise ValidationError(fields={"email": ["Enter a valid email address."]})
    return email.lower()


@dataclass(slots=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    first_name: str = ""
    last_name: str = ""
    groups: list[SystemRole] = field(default_factory=lambda: [SystemRole.USER])
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True
    date_joined: datetime | None = None
    last_login: datetime | None = None
    version: int = 0  # optimistic locking; the repository bumps it on every save

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or SystemRole.ADMIN in self.groups


MIN_PASSWORD_LENGTH = 8


def validate_new_password(password1: str, password2: str, username: str = "", field: str = "password1") -> str:
    """Django's default password validators, as CVAT applies them to registration and password
    changes: both entries equal, at least 8 characters, not only digits, not the username."""
    if password1 != password2:
        raise ValidationError(fields={"non_field_errors": ["The two password fields didn't match."]})
    problems: list[str] = []
    if len(password1) < MIN_PASSWORD_LENGTH:
        problems.append(f"This password is too short. It must contain at least {MIN_PASSWORD_LENGTH} characters.")
    if password1.isdigit():
        problems.append("This password is entirely numeric.")
    if username and username.lower() in password1.lower():
        problems.append("The password is too similar to the username.")
    if problems:
        raise ValidationError(fields={field: problems})
    return password1
