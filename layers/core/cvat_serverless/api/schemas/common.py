"""Shapes shared by several resources: users as others see them, storages, summaries, pages."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[\w.@+-]+$"
INT32_MAX = 2**31 - 1


class CvatModel(BaseModel):
    """A response body."""

    # Schemas are built on first use, not at import: a cold start builds only what it serves.
    model_config = ConfigDict(use_enum_values=True, defer_build=True)


def _is_none(value: Any) -> bool:
    return value is None


def omitted(**kwargs: Any) -> Any:
    """A field left out of the answer while it is None: cvat-sdk refuses null for some keys
    that CVAT leaves out (e.g. TaskRead.image_quality before the task has data)."""
    return Field(default=None, exclude_if=_is_none, **kwargs)


class RequestModel(BaseModel):
    """A request body: unknown keys are ignored, as REST framework serializers do."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    def given(self, name: str) -> bool:
        """Whether the client sent this field (PATCH: absent and null differ)."""
        return name in self.model_fields_set


class LocationEnum(StrEnum):
    CLOUD_STORAGE = "cloud_storage"
    LOCAL = "local"


class BasicUser(CvatModel):
    url: str
    id: int
    username: str = Field(max_length=150, pattern=USERNAME_PATTERN)
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)


class Storage(CvatModel):
    id: int
    location: LocationEnum = LocationEnum.LOCAL
    cloud_storage_id: int | None = None


class StorageRequest(RequestModel):
    location: LocationEnum = LocationEnum.LOCAL
    cloud_storage_id: int | None = Field(default=None, ge=0, le=INT32_MAX)


class LabelsSummary(CvatModel):
    url: str


class RestAuthDetail(CvatModel):
    detail: str


T = TypeVar("T")


class Paginated(CvatModel, Generic[T]):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]
