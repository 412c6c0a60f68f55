"""Native functions and annotation requests (CVAT Enterprise's ``Function``, ``AnnotationRequest``
and the agent queue's bodies, as cvat-cli 2.80 sends and reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from .common import INT32_MAX, BasicUser, CvatModel, Paginated, RequestModel, omitted


class FunctionRead(CvatModel):
    id: int
    provider: str
    url: str
    name: str
    kind: str
    labels_v2: list[dict[str, Any]]
    min_pos_points: int
    min_neg_points: int
    startswith_box: bool
    startswith_box_optional: bool
    supported_shape_types: list[str]
    visibility: str
    owner: BasicUser | None
    organization: int | None
    created_date: datetime | None
    updated_date: datetime | None


class PaginatedFunctionReadList(Paginated[FunctionRead]):
    pass


class FunctionWriteRequest(RequestModel):
    """Validated by ``domain.agent_functions.function_from_body`` (its field errors are CVAT's)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    provider: Any = "native"
    name: Any = None
    kind: Any = None
    visibility: Any = "private"
    labels_v2: Any = None


class FunctionIdAndArParamsRequest(RequestModel):
    function: int = Field(ge=0, le=INT32_MAX)
    task: int = Field(ge=0, le=INT32_MAX)
    job: int | None = Field(default=None, ge=0, le=INT32_MAX)
    threshold: float | None = None
    cleanup: bool = False
    conv_mask_to_poly: bool = False
    mapping: dict[str, Any] | None = None
    roi: list[float] | None = None


class FunctionRunRequest(RequestModel):
    """An interactive call: ``task``, ``frame`` and what the function's kind needs
    (detector: threshold, mapping; interactor: pos_points, neg_points, obj_bbox; tracker: shapes
    to start tracking, or states to track)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    task: Any = None
    frame: Any = None


class AnnotationRequestRead(CvatModel):
    id: str
    function_id: int
    category: str
    status: str
    progress: float
    params: dict[str, Any]
    owner: BasicUser | None
    organization: int | None
    created_date: datetime | None
    started_date: datetime | None
    finished_date: datetime | None
    message: str
    result: dict[str, Any] | None = omitted()


class PaginatedAnnotationRequestReadList(Paginated[AnnotationRequestRead]):
    pass


class AcquireRequest(RequestModel):
    agent_id: Any = None
    request_category: Any = None


class ArAssignment(CvatModel):
    function_id: int
    ar_id: str
    ar_params: dict[str, Any]


class AcquireResponse(CvatModel):
    ar_assignment: ArAssignment | None


class UpdateRequest(RequestModel):
    agent_id: Any = None
    progress: Any = None


class FailRequest(RequestModel):
    agent_id: Any = None
    exc_info: Any = None


class CompleteRequest(RequestModel):
    """``agent_id`` and the result: ``annotations`` (detectors), ``shapes`` (interactors),
    ``states`` [+ ``shapes``] (trackers)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    agent_id: Any = None
