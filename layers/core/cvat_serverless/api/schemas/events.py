"""CVAT's analytics events bodies: ``ClientEventsRequest`` in, ``ClientEvents`` out (SDK 2.80)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import CvatModel, RequestModel


class EventRequest(RequestModel):
    scope: str = Field(min_length=1)
    obj_name: str | None = Field(default=None, min_length=1)
    obj_id: int | None = None
    obj_val: str | None = Field(default=None, min_length=1)
    source: str | None = Field(default=None, min_length=1)
    timestamp: datetime
    count: int | None = None
    duration: int = 0
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    user_id: int | None = None
    user_name: str | None = Field(default=None, min_length=1)
    user_email: str | None = Field(default=None, min_length=1)
    org_id: int | None = None
    org_slug: str | None = Field(default=None, min_length=1)
    payload: str | None = None


class ClientEventsRequest(RequestModel):
    events: list[EventRequest] = Field(default_factory=list)
    previous_event: EventRequest | None = None
    timestamp: datetime


class Event(CvatModel):
    scope: str
    obj_name: str | None = None
    obj_id: int | None = None
    obj_val: str | None = None
    source: str | None = None
    timestamp: datetime
    count: int | None = None
    duration: int = 0
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    user_email: str | None = None
    org_id: int | None = None
    org_slug: str | None = None
    payload: str | None = None


class ClientEvents(CvatModel):
    events: list[Event] = Field(default_factory=list)
    timestamp: datetime


class QueryId(CvatModel):
    query_id: str
