"""/api/lambda: the model registry, auto-annotation requests and interactive calls (CVAT's
lambda manager: ``FunctionViewSet`` and ``RequestViewSet``, no trailing slash)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ..schemas import lambda_functions as sl
from ._common import Call

if TYPE_CHECKING:
    from ...domain.requests import BackgroundRequest

router = Router()
TAGS = ["lambda"]
FunctionId = Annotated[str, Path(pattern=r"^[a-zA-Z0-9_.-]+$", max_length=128)]
RequestId = Annotated[str, Path(min_length=1, max_length=256)]


def function_call(r: BackgroundRequest) -> sl.FunctionCall:
    """A background auto-annotation request as CVAT's ``FunctionCall``."""
    given: dict[str, Any] = r.workflow_input or {}
    return sl.FunctionCall(
        id=r.id,
        function=sl.FunctionCallParams(id=r.function_id or str(given.get("function_id", "")), task=r.task_id or 0,
                                       threshold=given.get("threshold"), job=r.job_id),
        status=sl.FunctionCallStatus(r.status.value), enqueued=r.created_date, started=r.started_date,
        ended=r.finished_date, progress=int(round(r.progress * 100, 6)),
        exc_info=r.message if r.status.value == "failed" else None,
    )


def _body(call: Call) -> Any:
    return call.event.json_body


@router.get("/api/lambda/functions", tags=TAGS, summary="The functions (models) that can annotate")
def list_functions() -> list[dict[str, Any]]:
    call = Call(router).signed_in()
    return [f.to_cvat() for f in call.services.lambda_functions.list()]


@router.get("/api/lambda/functions/<func_id>", tags=TAGS, summary="One function")
def get_function(func_id: FunctionId) -> dict[str, Any]:
    call = Call(router).signed_in()
    return call.services.lambda_functions.get(func_id).to_cvat()


@router.post("/api/lambda/functions/<func_id>", tags=TAGS, summary="Run a function on one frame",
             description="Detectors answer the shapes they found, with the task's label names; interactors "
                         "and trackers answer what the model answers (a tracker's states signed).")
def call_function(func_id: FunctionId, body: sl.OnlineFunctionCallRequest) -> Any:
    call = Call(router)
    return call.services.lambda_functions.call(call.ctx, func_id, _body(call))


@router.post("/api/lambda/requests", tags=TAGS, summary="Annotate a task or a job with a function")
def create_request(body: sl.FunctionCallRequest) -> sl.FunctionCall:
    call = Call(router)
    return function_call(call.services.lambda_functions.start_request(call.ctx, _body(call)))


@router.get("/api/lambda/requests", tags=TAGS, summary="The caller's auto-annotation requests")
def list_requests() -> list[sl.FunctionCall]:
    call = Call(router)
    return [function_call(r) for r in call.services.lambda_functions.list_requests(call.ctx)]


@router.get("/api/lambda/requests/<id>", tags=TAGS, summary="One auto-annotation request")
def get_request(id: RequestId) -> sl.FunctionCall:
    call = Call(router)
    return function_call(call.services.lambda_functions.get_request(call.ctx, id))


@router.delete("/api/lambda/requests/<id>", tags=TAGS, summary="Cancel an auto-annotation request")
def cancel_request(id: RequestId) -> Response[None]:
    call = Call(router)
    call.services.lambda_functions.cancel_request(call.ctx, id)
    return Response(status_code=204)
