"""/api/projects: create, list, retrieve, partial update, delete."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ..params import list_params
from ..present import Presenter
from ..schemas import projects as sp
from ._common import Call, ObjectId, patched, patched_storage, storage

router = Router()
TAGS = ["projects"]


@router.post("/api/projects", tags=TAGS, summary="Create a project (and its labels)", status_code=201)
def create_project(body: sp.ProjectWriteRequest) -> sp.ProjectRead:
    from ...services.projects import ProjectCreate

    call = Call(router)
    project = call.services.projects.create(
        call.ctx,
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
    return call.show(project, Presenter.project)


@router.get("/api/projects", tags=TAGS, summary="Projects visible to the caller")
@list_params("name", "owner", "assignee", "status")
def list_projects(**_: str | None) -> sp.PaginatedProjectReadList:
    call = Call(router)
    page = call.services.projects.list(call.ctx, call.query)
    return sp.PaginatedProjectReadList.model_validate(call.show_page(page, Presenter.project))


@router.get("/api/projects/<id>", tags=TAGS, summary="One project")
def get_project(id: ObjectId) -> sp.ProjectRead:
    call = Call(router)
    return call.show(call.services.projects.get(call.ctx, id), Presenter.project)


@router.patch("/api/projects/<id>", tags=TAGS, summary="Update a project")
def update_project(id: ObjectId, body: sp.PatchedProjectWriteRequest | None = None) -> sp.ProjectRead:
    from ...services.projects import ProjectPatch

    call = Call(router)
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
    return call.show(call.services.projects.update(call.ctx, id, patch), Presenter.project)


@router.delete("/api/projects/<id>", tags=TAGS, summary="Delete a project with its tasks")
def delete_project(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.projects.delete(call.ctx, id)
    return Response(status_code=204)
