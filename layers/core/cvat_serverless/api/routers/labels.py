"""/api/labels: list (by task, project or job), retrieve, partial update, delete."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import ValidationError
from .. import auth, http
from ..params import list_params
from ..schemas import labels as sl
from ._common import ObjectId

if TYPE_CHECKING:
    from ..present import Presenter

router = Router()
TAGS = ["labels"]


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


@router.get("/api/labels", tags=TAGS, summary="Labels of a task, project or job (or all visible)")
@list_params("task_id", "project_id", "job_id", "name", "parent", "parent_id", "type", "color")
def list_labels(**_: str | None) -> sl.PaginatedLabelList:
    event = router.current_event
    ctx = auth.request_context(event)
    params = http.query(event)
    owners = {name: http.int_param(params, name) for name in ("task_id", "project_id", "job_id")}
    if sum(v is not None for v in owners.values()) > 1:
        raise ValidationError("Only one of task_id, project_id and job_id can be used.")
    if "parent" not in params and "parent_id" not in params:
        # top-level labels only, as CVAT lists them; sublabels come inside their skeleton
        own_filter = params.get("filter")
        top_level: dict[str, object] = {"!": {"var": "parent_id"}}
        try:
            combined = {"and": [json.loads(own_filter), top_level]} if own_filter else top_level
        except ValueError:
            combined = None  # let the service report the bad filter
        if combined is not None:
            params = {**params, "filter": json.dumps(combined)}
    page = auth.container().labels.list(ctx, params, **owners)
    presenter = _presenter()
    return sl.PaginatedLabelList.model_validate(presenter.page(page, presenter.label))


@router.get("/api/labels/<id>", tags=TAGS, summary="One label")
def get_label(id: ObjectId) -> sl.Label:
    ctx = auth.request_context(router.current_event)
    return _presenter().label(auth.container().labels.get(ctx, id))


@router.patch("/api/labels/<id>", tags=TAGS, summary="Update a label")
def update_label(id: ObjectId, body: sl.PatchedLabelRequest | None = None) -> sl.Label:
    ctx = auth.request_context(router.current_event)
    patch = (body or sl.PatchedLabelRequest()).to_input()
    return _presenter().label(auth.container().labels.update(ctx, id, patch))


@router.delete("/api/labels/<id>", tags=TAGS, summary="Delete a label")
def delete_label(id: ObjectId) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().labels.delete(ctx, id)
    return Response(status_code=204)
