"""/api/labels: list (by task, project or job), retrieve, partial update, delete."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from .. import http
from ..params import list_params
from ..present import Presenter
from ..schemas import labels as sl
from ._common import Call, ObjectId

router = Router()
TAGS = ["labels"]


@router.get("/api/labels", tags=TAGS, summary="Labels of a task, project or job (or all visible)")
@list_params("task_id", "project_id", "job_id", "name", "parent", "parent_id", "type", "color")
def list_labels(**_: str | None) -> sl.PaginatedLabelList:
    call = Call(router)
    params = call.query
    owners = {name: http.int_param(params, name) for name in ("task_id", "project_id", "job_id")}
    page = call.services.labels.list(call.ctx, params, **owners)
    return sl.PaginatedLabelList.model_validate(call.show_page(page, Presenter.label))


@router.get("/api/labels/<id>", tags=TAGS, summary="One label")
def get_label(id: ObjectId) -> sl.Label:
    call = Call(router)
    return call.show(call.services.labels.get(call.ctx, id), Presenter.label)


@router.patch("/api/labels/<id>", tags=TAGS, summary="Update a label")
def update_label(id: ObjectId, body: sl.PatchedLabelRequest | None = None) -> sl.Label:
    call = Call(router)
    patch = (body or sl.PatchedLabelRequest()).to_input()
    return call.show(call.services.labels.update(call.ctx, id, patch), Presenter.label)


@router.delete("/api/labels/<id>", tags=TAGS, summary="Delete a label")
def delete_label(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.labels.delete(call.ctx, id)
    return Response(status_code=204)
