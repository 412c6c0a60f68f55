"""Webhooks (CVAT's WebhookRead, WebhookWriteRequest, WebhookDeliveryRead, Events)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from .common import INT32_MAX, BasicUser, CvatModel, Paginated, RequestModel, omitted


class WebhookType(StrEnum):
    ORGANIZATION = "organization"
    PROJECT = "project"
    SERVER = "server"  # admins only; listed only with ?type=server (domain.webhooks)


class WebhookContentType(StrEnum):
    APPLICATION_JSON = "application/json"


class WebhookRead(CvatModel):
    id: int
    url: str
    target_url: str
    description: str
    type: WebhookType
    content_type: WebhookContentType
    is_active: bool
    enable_ssl: bool
    created_date: datetime | None
    updated_date: datetime | None
    owner: BasicUser | None
    project_id: int | None
    organization: int | None
    events: list[str]
    last_status: int | None = omitted()  # CVAT leaves both out until a delivery exists
    last_delivery_date: datetime | None = omitted()


class PaginatedWebhookReadList(Paginated[WebhookRead]):
    pass


class WebhookWriteRequest(RequestModel):
    target_url: str = Field(min_length=1, max_length=8192)
    type: WebhookType
    events: list[str]
    description: str = Field(default="", max_length=128)
    content_type: WebhookContentType = WebhookContentType.APPLICATION_JSON
    secret: str = Field(default="", max_length=64)
    is_active: bool = True
    enable_ssl: bool = True
    project_id: int | None = Field(default=None, ge=0, le=INT32_MAX)


class PatchedWebhookWriteRequest(RequestModel):
    target_url: str | None = Field(default=None, min_length=1, max_length=8192)
    events: list[str] | None = None
    description: str | None = Field(default=None, max_length=128)
    content_type: WebhookContentType | None = None
    secret: str | None = Field(default=None, max_length=64)
    is_active: bool | None = None
    enable_ssl: bool | None = None


class WebhookDeliveryRead(CvatModel):
    id: int
    webhook_id: int
    event: str
    status_code: int | None
    redelivery: bool
    attempt: int | None
    request_duration: int | None
    created_date: datetime | None
    updated_date: datetime | None
    changed_fields: str
    request: Any
    response: Any


class PaginatedWebhookDeliveryReadList(Paginated[WebhookDeliveryRead]):
    pass


class EventGroup(CvatModel):
    display_name: str


class WebhooksEvent(CvatModel):
    key: str
    group: EventGroup


class Events(CvatModel):
    webhook_type: str
    events: list[WebhooksEvent]
