"""/api/requests: background requests (rq_id), as the SDK polls them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ..params import list_params
from ..present import Presenter
from ..schemas import requests as sr
from ._common import Call

router = Router()
TAGS = ["requests"]
RequestId = Annotated[str, Path(min_length=1, max_length=256)]


@router.get("/api/requests", tags=TAGS, summary="The caller's background requests")
@list_params("action", "target", "subresource", "status", "format", "project_id", "task_id", "job_id")
def list_requests(**_: str | None) -> sr.PaginatedRequestList:
    call = Call(router)
    page = call.services.requests.list(call.ctx, call.query)
    return sr.PaginatedRequestList.model_validate(call.show_page(page, Presenter.request))


@router.get("/api/requests/<id>", tags=TAGS, summary="One background request")
def get_request(id: RequestId) -> sr.RequestRead:
    call = Call(router)
    return call.show(call.services.requests.get(call.ctx, id), Presenter.request)


@router.post("/api/requests/<id>/cancel", tags=TAGS, summary="Cancel a background request")
def cancel_request(id: RequestId) -> Response[None]:
    call = Call(router)
    call.services.requests.cancel(call.ctx, id)
    return Response(status_code=200)
