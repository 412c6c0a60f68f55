"""/api/projects: create, list, retrieve, partial update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from .. import auth, http
from ..params import list_params
from ..schemas import projects as sp
from ._common import ObjectId, patched, patched_storage, storage

if TYPE_CHECKING:
    from ..present import Presenter

router = Router()
TAGS = ["projects"]


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


@router.post("/api/projects", tags=TAGS, summary="Create a project (and its labels)", status_code=201)
def create_project(body: sp.ProjectWriteRequest) -> sp.ProjectRead:
    from ...services.projects import ProjectCreate

    ctx = auth.request_context(router.current_event)
    project = auth.container().projects.create(
        ctx,
        ProjectCreate(
            name=body.name,
            labels=[lb.to_input() for lb in body.labels],
            owner_id=body.owner_id,
            assignee_id=body.assignee_id,
            bug_tracker=body.bug_tracker,
            source_storage=storage(body.source_storage),
            target_storage=storage(body.target_storage),
        ),
    )
    return _presenter().project(project)


@router.get("/api/projects", tags=TAGS, summary="Projects visible to the caller")
@list_params("name", "owner", "assignee", "status")
def list_projects(**_: str | None) -> sp.PaginatedProjectReadList:
    event = router.current_event
    ctx = auth.request_context(event)
    page = auth.container().projects.list(ctx, http.query(event))
    presenter = _presenter()
    return sp.PaginatedProjectReadList.model_validate(presenter.page(page, presenter.project))


@router.get("/api/projects/<id>", tags=TAGS, summary="One project")
def get_project(id: ObjectId) -> sp.ProjectRead:
    ctx = auth.request_context(router.current_event)
    return _presenter().project(auth.container().projects.get(ctx, id))


@router.patch("/api/projects/<id>", tags=TAGS, summary="Update a project")
def update_project(id: ObjectId, body: sp.PatchedProjectWriteRequest | None = None) -> sp.ProjectRead:
    from ...services.projects import ProjectPatch

    ctx = auth.request_context(router.current_event)
    body = body or sp.PatchedProjectWriteRequest()
    patch = ProjectPatch(
        name=patched(body, "name", nullable=False),
        labels=[lb.to_input() for lb in body.labels],
        owner_id=patched(body, "owner_id"),
        assignee_id=patched(body, "assignee_id"),
        bug_tracker=patched(body, "bug_tracker", nullable=False),
        source_storage=patched_storage(body, "source_storage"),
        target_storage=patched_storage(body, "target_storage"),
        organization_id=patched(body, "organization_id"),
    )
    return _presenter().project(auth.container().projects.update(ctx, id, patch))


@router.delete("/api/projects/<id>", tags=TAGS, summary="Delete a project with its tasks")
def delete_project(id: ObjectId) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().projects.delete(ctx, id)
    return Response(status_code=204)
