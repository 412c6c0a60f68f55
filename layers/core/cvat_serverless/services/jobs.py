"""Jobs: list/get and the PATCH of assignee, stage and state; the task's status follows."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError
from ..domain.jobs import Job, apply_stage_state, parse_stage, parse_state, summarize_jobs, task_status
from ..domain.projects import Project
from ..domain.query import Page
from ..domain.tasks import Task
from .common import UNSET, ServiceBase, Unset, check_version, job_ref, list_page, username_of
from .views import Shown


class JobService(ServiceBase):
    def _parents(self, job: Job) -> tuple[Task, Project | None]:
        task = self.repos.tasks.get(job.task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id else None
        return task, project

    def _shown(self, job: Job, task: Task, project: Project | None) -> Shown[Job]:
        return Shown(job, self.related.for_jobs(
            [job], tasks={task.id: task}, projects={project.id: project} if project else {}))

    def get(self, ctx: RequestContext, job_id: int) -> Shown[Job]:
        """One job the caller may view."""
        job = self.repos.jobs.get(job_id)
        task, project = self._parents(job)
        perm.check(ctx.actor, "view", job_ref(job, task, project))
        return self._shown(job, task, project)

    def check(self, ctx: RequestContext, job_id: int, scope: str) -> Job:
        """Check any job scope (``view:data``, ``update:annotations``...) for other routes."""
        if not scope.startswith(("view", "export")):
            ctx.require_write()
        job = self.repos.jobs.get(job_id)
        perm.check(ctx.actor, scope, job_ref(job, *self._parents(job)))
        return job

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Job]]:
        """Jobs visible to the caller (``task_id``, ``project_id``, ``stage``... as CVAT's filters)."""
        window = self._window_page(ctx, perm.Resource.JOB, params, self.repos.jobs.window)
        if window is not None:
            related = self.related.for_jobs(window.results)
            # a job whose task is being deleted has nothing to show (the full list skips it too)
            return Shown(replace(window, results=[j for j in window.results if j.task_id in related.tasks]), related)
        tasks: dict[int, Task] = {}
        if "task_id" in params and params["task_id"].isdigit():
            items = self.repos.jobs.list_by_task(int(params["task_id"]))
        elif self._sees_whole_scope(ctx):
            items = self._scope_items(ctx, self.repos.jobs.list_all, self.repos.jobs.list_by_organization)
        else:
            # assigned jobs, and the jobs of every task the caller sees through a relation
            tasks = {t.id: t for t in self._visible_tasks(ctx)}
            by_id = {j.id: j for j in self.repos.jobs.list_by_assignee(ctx.user_id)}
            if tasks:
                by_id.update((j.id, j) for j in self.repos.jobs.list_by_tasks(sorted(tasks)))
            items = [by_id[k] for k in sorted(by_id)]
        tasks = self.related.tasks((j.task_id for j in items), tasks)
        projects = self.related.projects(t.project_id for t in tasks.values())
        users = self._users_of((j.assignee_id for j in items), {})
        username = username_of(users)

        def parents(job: Job) -> tuple[Task, Project | None]:
            task = tasks[job.task_id]
            return task, projects.get(task.project_id) if task.project_id is not None else None

        def row(j: Job) -> dict[str, object]:
            task, project = parents(j)
            return {
                "id": j.id,
                "task_id": j.task_id,
                "task_name": task.name,
                "project_id": task.project_id,
                "project_name": project.name if project else None,
                "assignee": username(j.assignee_id),
                "state": j.state.value,
                "stage": j.stage.value,
                "type": j.type.value,
                "dimension": task.dimension.value,
                "mode": task.mode.value,
                "media_type": task.media_type.value if task.media_type else None,
                "parent_job_id": j.parent_job_id,
                "updated_date": j.updated_date,
            }

        items = [j for j in items if j.task_id in tasks]  # a job whose task is being deleted
        page = list_page(ctx, perm.Resource.JOB, items, ref=lambda j: job_ref(j, *parents(j)), row=row, params=params)
        return Shown(page, self.related.for_jobs(page.results, tasks=tasks, projects=projects, users=users))

    def update(
        self,
        ctx: RequestContext,
        job_id: int,
        *,
        assignee_id: int | Unset | None = UNSET,
        stage: str | Unset = UNSET,
        state: str | Unset = UNSET,
        version: int | None = None,
    ) -> Shown[Job]:
        """PATCH a job: ``assignee`` (update:assignee), ``stage`` (update:stage), ``state``
        (update:state). A stage change without a state resets the state to ``new``; the task's
        status is recomputed from its jobs. Stale ``version`` -> ConflictError."""
        ctx.require_write()
        job = self.repos.jobs.get(job_id)
        check_version(job, version)
        task, project = self._parents(job)
        ref = job_ref(job, task, project)
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
            return self._shown(before_job, task, project)
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
        return self._shown(job, task, project)

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
