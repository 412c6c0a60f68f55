"""Jobs: list/get and the PATCH of assignee, stage and state; the task's status follows."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError
from ..domain.jobs import Job, apply_stage_state, parse_stage, parse_state, summarize_jobs, task_status
from ..domain.projects import Project
from ..domain.query import Page
from ..domain.tasks import Task
from .common import UNSET, ServiceBase, Unset, check_version, job_ref, list_page


class JobService(ServiceBase):
    def _ref(self, job: Job) -> tuple[perm.ResourceRef, Task]:
        task = self.repos.tasks.get(job.task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id else None
        return job_ref(job, task, project), task

    def get(self, ctx: RequestContext, job_id: int) -> Job:
        """One job the caller may view."""
        job = self.repos.jobs.get(job_id)
        perm.check(ctx.actor, "view", self._ref(job)[0])
        return job

    def check(self, ctx: RequestContext, job_id: int, scope: str) -> Job:
        """Check any job scope (``view:data``, ``update:annotations``...) for other routes."""
        if not scope.startswith(("view", "export")):
            ctx.require_write()
        job = self.repos.jobs.get(job_id)
        perm.check(ctx.actor, scope, self._ref(job)[0])
        return job

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Page[Job]:
        """Jobs visible to the caller (``task_id``, ``project_id``, ``stage``... as CVAT's filters)."""
        if "task_id" in params and params["task_id"].isdigit():
            items = self.repos.jobs.list_by_task(int(params["task_id"]))
        elif ctx.org_id is not None:
            items = self.repos.jobs.list_by_organization(ctx.org_id)
        else:
            items = self.repos.jobs.list_all()
        tasks: dict[int, Task] = {}
        projects: dict[int, Project] = {}
        users: dict[int, str | None] = {}

        def parents(job: Job) -> tuple[Task, Project | None]:
            if job.task_id not in tasks:
                tasks[job.task_id] = self.repos.tasks.get(job.task_id)
            task = tasks[job.task_id]
            if task.project_id is not None and task.project_id not in projects:
                projects[task.project_id] = self.repos.projects.get(task.project_id)
            return task, projects.get(task.project_id) if task.project_id is not None else None

        def row(j: Job) -> dict[str, object]:
            task, project = parents(j)
            return {
                "id": j.id,
                "task_id": j.task_id,
                "task_name": task.name,
                "project_id": task.project_id,
                "project_name": project.name if project else None,
                "assignee": self._username(j.assignee_id, users),
                "state": j.state.value,
                "stage": j.stage.value,
                "type": j.type.value,
                "dimension": task.dimension.value,
                "mode": task.mode.value,
                "media_type": task.media_type.value if task.media_type else None,
                "parent_job_id": j.parent_job_id,
                "updated_date": j.updated_date,
            }

        return list_page(ctx, perm.Resource.JOB, items, ref=lambda j: job_ref(j, *parents(j)), row=row, params=params)

    def update(
        self,
        ctx: RequestContext,
        job_id: int,
        *,
        assignee_id: int | Unset | None = UNSET,
        stage: str | Unset = UNSET,
        state: str | Unset = UNSET,
        version: int | None = None,
    ) -> Job:
        """PATCH a job: ``assignee`` (update:assignee), ``stage`` (update:stage), ``state``
        (update:state). A stage change without a state resets the state to ``new``; the task's
        status is recomputed from its jobs. Stale ``version`` -> ConflictError."""
        ctx.require_write()
        job = self.repos.jobs.get(job_id)
        check_version(job, version)
        ref, task = self._ref(job)
        before_job = copy.deepcopy(job)
        now = self.clock.now()
        new_stage = None if isinstance(stage, Unset) else parse_stage(stage)
        new_state = None if isinstance(state, Unset) else parse_state(state)
        if new_stage is not None and new_stage != job.stage:
            perm.check(ctx.actor, "update:stage", ref)
        if new_state is not None and new_state != job.state:
            perm.check(ctx.actor, "update:state", ref)
        if not isinstance(assignee_id, Unset) and assignee_id != job.assignee_id:
            perm.check(ctx.actor, "update:assignee", ref)
            self._check_user_exists("assignee", assignee_id)
            job.assignee_id = assignee_id
            job.assignee_updated_date = now
        changed = apply_stage_state(job, stage=new_stage, state=new_state)
        if job.assignee_id != before_job.assignee_id:
            changed["assignee_id"] = before_job.assignee_id
        if not changed:
            return before_job
        job.updated_date = now
        job = self.repos.jobs.save(job)
        self._publish(
            ctx,
            "update:job",
            job,
            resource_id=job.id,
            organization_id=task.organization_id,
            project_id=task.project_id,
            task_id=task.id,
            job_id=job.id,
            before_update=changed,
        )
        if changed.keys() & {"status", "stage", "state"}:
            self._refresh_task(ctx, task.id)
        return job

    def _refresh_task(self, ctx: RequestContext, task_id: int) -> None:
        """Recompute what the task derives from its jobs: its status and its jobs summary."""
        for _ in range(5):
            task = self.repos.tasks.get(task_id)
            jobs = self.repos.jobs.list_by_task(task_id)
            status = task_status(j.status for j in jobs)
            summary = summarize_jobs(jobs)
            if status == task.status and summary == task.jobs_summary:
                return
            before = {"status": task.status}
            task.status = status
            task.set_jobs_summary(summary)
            task.updated_date = self.clock.now()
            try:
                task = self.repos.tasks.save(task)
            except ConflictError:
                continue
            if before["status"] == status:
                return  # only the derived jobs summary changed: not a change of the task's fields
            self._publish_task(ctx, "update", task, before)
            return
