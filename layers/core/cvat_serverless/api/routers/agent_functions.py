"""/api/functions*: native functions, their annotation requests and the agents' queue (the protocol
of cvat-cli 2.80's ``function create-native``, ``delete`` and ``run-agent``).

Queue paths carry ``function:<id>``; cvat-cli percent-encodes the colon (``function%3A<id>``), and
API Gateway may hand the path on either way, so both spellings name the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ..params import list_params
from ..schemas import agent_functions as sf
from ._common import Call, ObjectId

if TYPE_CHECKING:
    from ...domain.agent_functions import AnnotationRequest, NativeFunction
    from ..present import Presenter

router = Router()
TAGS = ["functions"]
QueueId = Annotated[str, Path(min_length=1, max_length=64)]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]


def function_read(p: Presenter, f: NativeFunction) -> sf.FunctionRead:
    return sf.FunctionRead(
        id=f.id, provider=f.provider, url=p.url(f"/api/functions/{f.id}"), name=f.name, kind=f.kind.value,
        labels_v2=f.labels_v2, min_pos_points=f.min_pos_points, min_neg_points=f.min_neg_points,
        startswith_box=f.startswith_box, startswith_box_optional=f.startswith_box_optional,
        supported_shape_types=f.supported_shape_types, visibility=f.visibility.value, owner=p.basic_user(f.owner_id),
        organization=f.organization_id, created_date=f.created_date, updated_date=f.updated_date,
    )


def request_read(p: Presenter, r: AnnotationRequest) -> sf.AnnotationRequestRead:
    return sf.AnnotationRequestRead(
        id=r.id, function_id=r.function_id, category=r.category.value, status=r.status.value, progress=r.progress,
        params=r.ar_params, owner=p.basic_user(r.owner_id), organization=r.organization_id,
        created_date=r.created_date, started_date=r.started_date, finished_date=r.finished_date,
        message=r.exc_info, result=r.result,
    )


def _queue(queue_id: str) -> int:
    from ...domain.agent_functions import parse_queue_id

    return parse_queue_id(queue_id)


# --- functions ------------------------------------------------------------------------------------


@router.get("/api/functions", tags=TAGS, summary="Native functions the caller sees")
@list_params("name", "kind", "owner", "visibility", "provider")
def list_functions(**_: str | None) -> sf.PaginatedFunctionReadList:
    call = Call(router)
    page = call.services.agent_functions.list_functions(call.ctx, call.query)
    return sf.PaginatedFunctionReadList.model_validate(call.show_page(page, function_read))


@router.post("/api/functions", tags=TAGS, summary="Create a native function (served by agents)", status_code=201)
def create_function(body: sf.FunctionWriteRequest) -> sf.FunctionRead:
    call = Call(router)
    return call.show(call.services.agent_functions.create(call.ctx, body.model_dump()), function_read)


# Static paths first in the file for readers; powertools matches static routes before dynamic ones.
@router.get("/api/functions/requests", tags=TAGS, summary="Annotation requests: the caller's, or a function's")
@list_params("status", "function_id", "category", "task_id")
def list_requests(**_: str | None) -> sf.PaginatedAnnotationRequestReadList:
    call = Call(router)
    page = call.services.agent_functions.list_requests(call.ctx, call.query)
    return sf.PaginatedAnnotationRequestReadList.model_validate(call.show_page(page, request_read))


@router.post("/api/functions/requests", tags=TAGS, summary="Queue a batch annotation request", status_code=201)
def submit_request(body: sf.FunctionIdAndArParamsRequest) -> sf.AnnotationRequestRead:
    from ...services.agent_functions import BatchSubmit

    call = Call(router)
    shown = call.services.agent_functions.submit(call.ctx, BatchSubmit(
        function_id=body.function, task_id=body.task, job_id=body.job, threshold=body.threshold, cleanup=body.cleanup,
        conv_mask_to_poly=body.conv_mask_to_poly, mapping=body.mapping, roi=body.roi))
    return call.show(shown, request_read)


@router.get("/api/functions/requests/<rq_id>", tags=TAGS, summary="One annotation request")
def get_request(rq_id: RequestId) -> sf.AnnotationRequestRead:
    call = Call(router)
    return call.show(call.services.agent_functions.get_request(call.ctx, rq_id), request_read)


@router.delete("/api/functions/requests/<rq_id>", tags=TAGS, summary="Cancel an annotation request")
def cancel_request(rq_id: RequestId) -> Response[None]:
    call = Call(router)
    call.services.agent_functions.cancel(call.ctx, rq_id)
    return Response(status_code=204)


@router.get("/api/functions/<id>", tags=TAGS, summary="One native function")
def get_function(id: ObjectId) -> sf.FunctionRead:
    call = Call(router)
    return call.show(call.services.agent_functions.get(call.ctx, id), function_read)


@router.delete("/api/functions/<id>", tags=TAGS, summary="Delete a native function; cancel its pending requests")
def delete_function(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.agent_functions.delete(call.ctx, id)
    return Response(status_code=204)


@router.post("/api/functions/<id>/run", tags=TAGS, summary="Call a native function interactively (waits for an agent)")
def run_function(id: ObjectId, body: sf.FunctionRunRequest) -> dict[str, Any]:
    call = Call(router)
    return call.services.agent_functions.run(call.ctx, id, body.model_dump())


# --- the agents' queue ----------------------------------------------------------------------------


@router.post("/api/functions/queues/<queue_id>/requests/acquire", tags=TAGS,
             summary="Assign the oldest queued request of a category to the agent")
def acquire(queue_id: QueueId, body: sf.AcquireRequest) -> sf.AcquireResponse:
    call = Call(router)
    ar = call.services.agent_functions.acquire(call.ctx, _queue(queue_id), body.agent_id, body.request_category)
    if ar is None:
        return sf.AcquireResponse(ar_assignment=None)
    return sf.AcquireResponse(ar_assignment=sf.ArAssignment(function_id=ar.function_id, ar_id=ar.id,
                                                            ar_params=ar.ar_params))


@router.post("/api/functions/queues/<queue_id>/requests/<rq_id>/update", tags=TAGS,
             summary="The agent's progress on a request")
def update_request(queue_id: QueueId, rq_id: RequestId, body: sf.UpdateRequest) -> Response[None]:
    call = Call(router)
    call.services.agent_functions.update(call.ctx, _queue(queue_id), rq_id, body.agent_id, body.progress)
    return Response(status_code=204)


@router.post("/api/functions/queues/<queue_id>/requests/<rq_id>/complete", tags=TAGS,
             summary="The agent's result (idempotent for the same agent)")
def complete_request(queue_id: QueueId, rq_id: RequestId, body: sf.CompleteRequest) -> Response[None]:
    call = Call(router)
    call.services.agent_functions.complete(call.ctx, _queue(queue_id), rq_id, body.agent_id, body.model_dump())
    return Response(status_code=204)


@router.post("/api/functions/queues/<queue_id>/requests/<rq_id>/fail", tags=TAGS,
             summary="The agent could not process a request")
def fail_request(queue_id: QueueId, rq_id: RequestId, body: sf.FailRequest) -> Response[None]:
    call = Call(router)
    call.services.agent_functions.fail(call.ctx, _queue(queue_id), rq_id, body.agent_id, body.exc_info)
    return Response(status_code=204)


@router.get("/api/functions/queues/<queue_id>/watch", tags=TAGS,
            summary="Server-sent events about new requests, as a long poll")
def watch_queue(queue_id: QueueId) -> Response[str]:
    call = Call(router)
    body = call.services.agent_functions.watch(call.ctx, _queue(queue_id))
    return Response(status_code=200, content_type="text/event-stream", body=body,
                    headers={"Cache-Control": "no-cache"})
