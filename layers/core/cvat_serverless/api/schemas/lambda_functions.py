"""CVAT's lambda API shapes (FunctionCallRequest, OnlineFunctionCallRequest, FunctionCall and the
function dicts of ``GET /api/lambda/functions``).

The request models describe the bodies for the OpenAPI document and catch wrong JSON types;
``domain.function_calls`` checks the rest with CVAT's messages (the routes hand it the body as sent).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from .common import INT32_MAX, CvatModel, RequestModel, omitted


class LabelMappingEntryRequest(RequestModel):
    name: str = Field(min_length=1)
    attributes: dict[str, str] | None = None
    sublabels: dict[str, LabelMappingEntryRequest] | None = None


class FunctionCallRequest(RequestModel):
    function: str = Field(min_length=1)
    task: int = Field(ge=0, le=INT32_MAX)
    job: int | None = Field(default=None, ge=0, le=INT32_MAX)
    threshold: float | None = Field(default=None, ge=0, le=1)
    cleanup: bool = False
    conv_mask_to_poly: bool | None = None
    convMaskToPoly: bool | None = Field(default=None, deprecated=True)  # CVAT's deprecated name
    mapping: dict[str, LabelMappingEntryRequest] | None = None
    max_distance: int | None = None
    roi: list[int] | None = Field(default=None, min_length=4, max_length=4)


class OnlineFunctionCallRequest(RequestModel):
    """``task`` or ``job``, ``frame``, and the fields of the function's kind."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    job: int | None = Field(default=None, ge=0, le=INT32_MAX)
    task: int | None = Field(default=None, ge=0, le=INT32_MAX)


class FunctionCallStatus(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"


class FunctionCallParams(CvatModel):
    id: str
    task: int
    threshold: float | None
    job: int | None = omitted()  # the SDK refuses null here: left out for a task's request


class FunctionCall(CvatModel):
    id: str
    function: FunctionCallParams
    status: FunctionCallStatus | None
    enqueued: datetime | None
    started: datetime | None
    ended: datetime | None
    progress: int | None = 0
    exc_info: str | None = None


FunctionDict = dict[str, Any]
"""A function as CVAT lists it (``FunctionSpec.to_cvat``; the SDK reads it as a free-form object)."""
