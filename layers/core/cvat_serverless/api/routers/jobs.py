"""/api/jobs: list (CVAT's filters), retrieve, and the PATCH of assignee, stage and state."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from .. import http
from ..params import list_params
from ..present import Presenter
from ..schemas import jobs as sj
from ._common import Call, ObjectId, patched

router = Router()
TAGS = ["jobs"]
JOB_FILTERS = (
    "task_id", "project_id", "task_name", "project_name", "assignee", "state", "stage", "dimension", "mode",
    "media_type", "type", "parent_job_id",
)


@router.get("/api/jobs", tags=TAGS, summary="Jobs visible to the caller")
@list_params(*JOB_FILTERS)
def list_jobs(**_: str | None) -> sj.PaginatedJobReadList:
    call = Call(router)
    http.int_param(call.query, "task_id")
    page = call.services.jobs.list(call.ctx, call.query)
    return sj.PaginatedJobReadList.model_validate(call.show_page(page, Presenter.job))


@router.get("/api/jobs/<id>", tags=TAGS, summary="One job")
def get_job(id: ObjectId) -> sj.JobRead:
    call = Call(router)
    return call.show(call.services.jobs.get(call.ctx, id), Presenter.job)


@router.patch("/api/jobs/<id>", tags=TAGS, summary="Change a job's assignee, stage or state")
def update_job(id: ObjectId, body: sj.PatchedJobWriteRequest | None = None) -> sj.JobRead:
    call = Call(router)
    body = body or sj.PatchedJobWriteRequest()
    # StrEnum members are str: the service gets CVAT's wire values (or UNSET)
    job = call.services.jobs.update(
        call.ctx,
        id,
        assignee_id=patched(body, "assignee"),
        stage=patched(body, "stage", nullable=False),
        state=patched(body, "state", nullable=False),
    )
    return call.show(job, Presenter.job)
