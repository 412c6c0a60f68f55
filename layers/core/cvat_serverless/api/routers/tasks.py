"""/api/tasks: create, list, retrieve, partial update, delete (task data and annotations live
in their own routers)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ..params import list_params
from ..present import Presenter
from ..schemas import tasks as st
from ._common import Call, ObjectId, patched, patched_storage, storage

router = Router()
TAGS = ["tasks"]
TASK_FILTERS = (
    "name", "owner", "assignee", "status", "subset", "mode", "dimension", "media_type", "project_id",
    "project_name", "tracker_link", "validation_mode",
)


@router.post("/api/tasks", tags=TAGS, summary="Create a task (data is attached afterwards)", status_code=201)
def create_task(body: st.TaskWriteRequest) -> st.TaskRead:
    from ...services.tasks import TaskCreate

    call = Call(router)
    task = call.services.tasks.create(
        call.ctx,
        TaskCreate(
            name=body.name,
            project_id=body.project_id,
            labels=[lb.to_input() for lb in body.labels],
            owner_id=body.owner_id,
            assignee_id=body.assignee_id,
            bug_tracker=body.bug_tracker,
            overlap=body.overlap,
            segment_size=body.segment_size,
            subset=body.subset,
            source_storage=storage(body.source_storage),
            target_storage=storage(body.target_storage),
            consensus_replicas=body.consensus_replicas,
        ),
    )
    return call.show(task, Presenter.task)


@router.get("/api/tasks", tags=TAGS, summary="Tasks visible to the caller")
@list_params(*TASK_FILTERS)
def list_tasks(**_: str | None) -> st.PaginatedTaskReadList:
    call = Call(router)
    page = call.services.tasks.list(call.ctx, call.query)
    return st.PaginatedTaskReadList.model_validate(call.show_page(page, Presenter.task))


@router.get("/api/tasks/<id>", tags=TAGS, summary="One task")
def get_task(id: ObjectId) -> st.TaskRead:
    call = Call(router)
    return call.show(call.services.tasks.get(call.ctx, id), Presenter.task)


@router.patch("/api/tasks/<id>", tags=TAGS, summary="Update a task")
def update_task(id: ObjectId, body: st.PatchedTaskWriteRequest | None = None) -> st.TaskRead:
    from ...services.tasks import TaskPatch

    call = Call(router)
    body = body or st.PatchedTaskWriteRequest()
    patch = TaskPatch(
        name=patched(body, "name", nullable=False),
        project_id=patched(body, "project_id"),
        owner_id=patched(body, "owner_id"),
        assignee_id=patched(body, "assignee_id"),
        bug_tracker=patched(body, "bug_tracker", nullable=False),
        labels=[lb.to_input() for lb in body.labels],
        subset=patched(body, "subset", nullable=False),
        source_storage=patched_storage(body, "source_storage"),
        target_storage=patched_storage(body, "target_storage"),
        organization_id=patched(body, "organization_id"),
    )
    return call.show(call.services.tasks.update(call.ctx, id, patch), Presenter.task)


@router.delete("/api/tasks/<id>", tags=TAGS, summary="Delete a task with its jobs")
def delete_task(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.tasks.delete(call.ctx, id)
    return Response(status_code=204)
