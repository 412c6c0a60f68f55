"""Login, registration, passwords and personal access tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import BasicUser, CvatModel, Paginated, RequestModel, omitted


class LoginRequest(RequestModel):
    password: str = Field(min_length=1)
    username: str = ""
    email: str = ""


class Token(CvatModel):
    key: str = Field(max_length=40)


class RegisterRequest(RequestModel):
    username: str = Field(min_length=5, max_length=150)
    password1: str = Field(min_length=8, max_length=256)
    password2: str = Field(min_length=8, max_length=256)
    email: str = Field(default="", max_length=254)
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)


class RegisterResponse(CvatModel):
    username: str
    email: str
    first_name: str
    last_name: str
    email_verification_required: bool
    key: str | None


class PasswordChangeRequest(RequestModel):
    old_password: str = Field(min_length=1)
    new_password1: str = Field(min_length=8, max_length=256)
    new_password2: str = Field(min_length=8, max_length=256)


class PasswordResetRequest(RequestModel):
    email: str = Field(min_length=1)


class PasswordResetConfirmRequest(RequestModel):
    new_password1: str = Field(min_length=8, max_length=256)
    new_password2: str = Field(min_length=8, max_length=256)
    uid: str = Field(min_length=1)
    token: str = Field(min_length=1)


class AccessTokenRead(CvatModel):
    id: int
    name: str
    created_date: datetime
    updated_date: datetime
    expiry_date: datetime | None
    last_used_date: datetime | None
    read_only: bool
    owner: BasicUser | None
    value: str | None = omitted()  # the secret: only in the answer that creates the token


class PaginatedAccessTokenReadList(Paginated[AccessTokenRead]):
    pass


class AccessTokenWriteRequest(RequestModel):
    name: str = Field(min_length=1, max_length=50)
    expiry_date: datetime | None = None
    read_only: bool = False


class PatchedAccessTokenWriteRequest(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    expiry_date: datetime | None = None
    read_only: bool | None = None
