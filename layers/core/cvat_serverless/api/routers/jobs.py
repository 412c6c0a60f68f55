"""/api/jobs: list (CVAT's filters), retrieve, and the PATCH of assignee, stage and state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Router

from .. import auth, http
from ..params import list_params
from ..schemas import jobs as sj
from ._common import ObjectId, patched

if TYPE_CHECKING:
    from ...domain.tasks import Task
    from ..present import Presenter

router = Router()
TAGS = ["jobs"]
JOB_FILTERS = (
    "task_id", "project_id", "task_name", "project_name", "assignee", "state", "stage", "dimension", "mode",
    "media_type", "type", "parent_job_id",
)


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


@router.get("/api/jobs", tags=TAGS, summary="Jobs visible to the caller")
@list_params(*JOB_FILTERS)
def list_jobs(**_: str | None) -> sj.PaginatedJobReadList:
    event = router.current_event
    ctx = auth.request_context(event)
    params = http.query(event)
    http.int_param(params, "task_id")
    page = auth.container().jobs.list(ctx, params)
    presenter = _presenter()
    tasks: dict[int, Task] = {}
    return sj.PaginatedJobReadList.model_validate(presenter.page(page, lambda j: presenter.job(j, tasks)))


@router.get("/api/jobs/<id>", tags=TAGS, summary="One job")
def get_job(id: ObjectId) -> sj.JobRead:
    ctx = auth.request_context(router.current_event)
    return _presenter().job(auth.container().jobs.get(ctx, id))


@router.patch("/api/jobs/<id>", tags=TAGS, summary="Change a job's assignee, stage or state")
def update_job(id: ObjectId, body: sj.PatchedJobWriteRequest | None = None) -> sj.JobRead:
    ctx = auth.request_context(router.current_event)
    body = body or sj.PatchedJobWriteRequest()
    # StrEnum members are str: the service gets CVAT's wire values (or UNSET)
    job = auth.container().jobs.update(
        ctx,
        id,
        assignee_id=patched(body, "assignee"),
        stage=patched(body, "stage", nullable=False),
        state=patched(body, "state", nullable=False),
    )
    return _presenter().job(job)
