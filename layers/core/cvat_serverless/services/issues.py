"""Review issues and their comments: CVAT's /issues and /comments.

An issue is created with its first comment (the write-only ``message``), as CVAT does. Who may do
what follows CVAT's issues.rego and comments.rego (domain.permissions): the issue's owner and
assignee, the job's assignee and the task's and project's owners and assignees, organization
maintainers and admins. Lists read only the partitions of what the caller may see (their tasks,
their assigned jobs, their own issues and comments), or the whole scope for those who see it.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.issues import Comment, Issue, validate_frame, validate_message, validate_position
from ..domain.jobs import Job
from ..domain.projects import Project
from ..domain.query import Page
from ..domain.tasks import Task
from .common import UNSET, ServiceBase, Unset, list_page, username_of
from .views import Shown


@dataclass(frozen=True, slots=True)
class IssueCreate:
    job_id: int
    frame: int
    position: list[float]
    message: str
    assignee_id: int | None = None
    resolved: bool = False


@dataclass(frozen=True, slots=True)
class _Parents:
    """What the rules look at around an issue: its job, task and project."""

    job: Job
    task: Task
    project: Project | None


def issue_ref(issue: Issue, parents: _Parents) -> perm.ResourceRef:
    task, project = parents.task, parents.project
    return perm.ResourceRef(
        perm.Resource.ISSUE,
        organization_id=task.organization_id,
        owner_id=issue.owner_id,
        assignee_id=issue.assignee_id,
        job_assignee_id=parents.job.assignee_id,
        task_owner_id=task.owner_id,
        task_assignee_id=task.assignee_id,
        project_owner_id=project.owner_id if project else None,
        project_assignee_id=project.assignee_id if project else None,
    )


def comment_ref(comment: Comment | None, issue: Issue, parents: _Parents) -> perm.ResourceRef:
    """A comment as the rules see it (``comment`` None: a new comment of ``issue``)."""
    task, project = parents.task, parents.project
    return perm.ResourceRef(
        perm.Resource.COMMENT,
        organization_id=task.organization_id,
        owner_id=comment.owner_id if comment is not None else None,
        issue_owner_id=issue.owner_id,
        issue_assignee_id=issue.assignee_id,
        job_assignee_id=parents.job.assignee_id,
        task_owner_id=task.owner_id,
        task_assignee_id=task.assignee_id,
        project_owner_id=project.owner_id if project else None,
        project_assignee_id=project.assignee_id if project else None,
    )


class _ReviewBase(ServiceBase):
    def _parents(self, job: Job) -> _Parents:
        task = self.repos.tasks.get(job.task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id else None
        return _Parents(job, task, project)

    def _parents_of_tasks(self, task_ids: Iterable[int]) -> dict[int, _Parents]:
        """The parents of every job of the given tasks, by job id (tasks that are gone are left
        out: their issues are being deleted with them)."""
        tasks = self.related.tasks(task_ids)
        projects = self.related.projects(t.project_id for t in tasks.values())
        jobs = self.repos.jobs.list_by_tasks(sorted(tasks)) if tasks else []
        found = {}
        for job in jobs:
            task = tasks.get(job.task_id)
            if task is not None:
                found[job.id] = _Parents(job, task, projects.get(task.project_id) if task.project_id else None)
        return found

    def _org_of_request(self, ctx: RequestContext, task: Task) -> int | None:
        # no context sent: the job's organization decides (as a task created in a project)
        return ctx.org_id if ctx.org.explicit or ctx.org_id is not None else task.organization_id

    def _visible_issues(self, ctx: RequestContext) -> list[Issue]:
        """Issues the caller may see in the request's scope (maybe a few more, which the list's
        visibility filter drops), read from the caller's partitions only."""
        if ctx.actor.is_admin and ctx.org_id is None and not ctx.org.explicit:
            return self.repos.issues.list_all()
        tasks = self._visible_tasks(ctx)
        by_id = {i.id: i for i in self.repos.issues.list_by_tasks([t.id for t in tasks])} if tasks else {}
        if not self._sees_whole_scope(ctx):
            by_id.update((i.id, i) for i in self._issues_of_user(ctx))
        return [by_id[k] for k in sorted(by_id)]

    def _issues_of_user(self, ctx: RequestContext) -> list[Issue]:
        """Issues the caller owns or is assigned to, and the issues of the jobs assigned to them."""
        found = self.repos.issues.list_by_user(ctx.user_id)
        assigned = [j.id for j in self.repos.jobs.list_by_assignee(ctx.user_id)]
        return found + self.repos.issues.list_by_jobs(assigned) if assigned else found

    def _issue(self, issue_id: int) -> tuple[Issue, _Parents]:
        issue = self.repos.issues.get(issue_id)
        return issue, self._parents(self.repos.jobs.get(issue.job_id))

    def _publish_issue(self, ctx: RequestContext, action: str, issue: Issue, parents: _Parents,
                       before: Mapping[str, object] | None = None) -> None:
        self._publish(ctx, f"{action}:issue", issue, resource_id=issue.id,
                      organization_id=parents.task.organization_id, project_id=parents.task.project_id,
                      task_id=parents.task.id, job_id=parents.job.id, before_update=before)

    def _publish_comment(self, ctx: RequestContext, action: str, comment: Comment, parents: _Parents,
                         before: Mapping[str, object] | None = None) -> None:
        self._publish(ctx, f"{action}:comment", comment, resource_id=comment.id,
                      organization_id=parents.task.organization_id, project_id=parents.task.project_id,
                      task_id=parents.task.id, job_id=parents.job.id, before_update=before)


class IssueService(_ReviewBase):
    def _shown(self, issue: Issue) -> Shown[Issue]:
        return Shown(issue, self.related.for_issues([issue]))

    def create(self, ctx: RequestContext, data: IssueCreate) -> Shown[Issue]:
        """Open an issue on a frame of a job, with its first comment (``message``)."""
        ctx.require_write()
        job = self._existing("job", self.repos.jobs.get, data.job_id)
        parents = self._parents(job)
        draft = Issue(id=0, job_id=job.id, task_id=job.task_id, frame=data.frame, owner_id=ctx.user_id,
                      assignee_id=data.assignee_id)
        perm.check(ctx.actor, "create@job", issue_ref(draft, parents),
                   request_org_id=self._org_of_request(ctx, parents.task))
        validate_frame(job, data.frame)
        position = validate_position(data.position)
        message = validate_message(data.message)
        self._check_user_exists("assignee", data.assignee_id)
        now = self.clock.now()
        issue = self.repos.issues.add(Issue(
            id=self.ids.next_id("issue"), job_id=job.id, task_id=job.task_id, frame=data.frame, position=position,
            owner_id=ctx.user_id, assignee_id=data.assignee_id, resolved=data.resolved, created_date=now,
            updated_date=now,
        ))
        comment = self.repos.comments.add(Comment(
            id=self.ids.next_id("comment"), issue_id=issue.id, job_id=job.id, task_id=job.task_id,
            frame=issue.frame, message=message, owner_id=ctx.user_id, created_date=now, updated_date=now,
        ))
        self._publish_issue(ctx, "create", issue, parents)
        self._publish_comment(ctx, "create", comment, parents)
        return self._shown(issue)

    def get(self, ctx: RequestContext, issue_id: int) -> Shown[Issue]:
        issue, parents = self._issue(issue_id)
        perm.check(ctx.actor, "view", issue_ref(issue, parents))
        return self._shown(issue)

    def list(self, ctx: RequestContext, params: Mapping[str, str], *, job_id: int | None = None,
             task_id: int | None = None) -> Shown[Page[Issue]]:
        """Issues visible to the caller, with CVAT's filters (``job_id``, ``task_id``,
        ``frame_id``, ``resolved``, ``owner``, ``assignee``), search, sort and pages."""
        if job_id is not None:
            items = self.repos.issues.list_by_job(job_id)
        elif task_id is not None:
            items = self.repos.issues.list_by_tasks([task_id])
        else:
            items = self._visible_issues(ctx)
        parents = self._parents_of_tasks({i.task_id for i in items})
        items = [i for i in items if i.job_id in parents]
        users = self._users_of((u for i in items for u in (i.owner_id, i.assignee_id)), {})
        username = username_of(users)

        def row(i: Issue) -> dict[str, object]:
            return {
                "id": i.id,
                "owner": username(i.owner_id),
                "assignee": username(i.assignee_id),
                "job_id": i.job_id,
                "task_id": i.task_id,
                "resolved": i.resolved,
                "frame_id": i.frame,
            }

        page = list_page(ctx, perm.Resource.ISSUE, items, ref=lambda i: issue_ref(i, parents[i.job_id]), row=row,
                         params=params)
        return Shown(page, self.related.for_issues(page.results, users=users))

    def update(self, ctx: RequestContext, issue_id: int, *, position: builtins.list[float] | Unset = UNSET,
               assignee_id: int | Unset | None = UNSET, resolved: bool | Unset = UNSET) -> Shown[Issue]:
        """PATCH an issue's ``position``, ``assignee`` or ``resolved`` (its frame and job are
        write-once)."""
        ctx.require_write()
        issue, parents = self._issue(issue_id)
        perm.check(ctx.actor, "update", issue_ref(issue, parents))
        before = copy.deepcopy(issue)
        if not isinstance(position, Unset):
            issue.position = validate_position(position)
        if not isinstance(assignee_id, Unset) and assignee_id != issue.assignee_id:
            self._check_user_exists("assignee", assignee_id)
            issue.assignee_id = assignee_id
        if not isinstance(resolved, Unset):
            issue.resolved = bool(resolved)
        changed = {n: getattr(before, n) for n in ("position", "assignee_id", "resolved")
                   if getattr(before, n) != getattr(issue, n)}
        if not changed:
            return self._shown(before)
        issue.updated_date = self.clock.now()
        issue = self.repos.issues.save(issue)
        self._publish_issue(ctx, "update", issue, parents, changed)
        return self._shown(issue)

    def delete(self, ctx: RequestContext, issue_id: int) -> None:
        """DELETE an issue with its comments."""
        ctx.require_write()
        issue, parents = self._issue(issue_id)
        perm.check(ctx.actor, "delete", issue_ref(issue, parents))
        self.repos.comments.delete_by_issue(issue.id)
        self.repos.issues.delete(issue.id)
        self._publish_issue(ctx, "delete", issue, parents)

class CommentService(_ReviewBase):
    def _comment(self, comment_id: int) -> tuple[Comment, Issue, _Parents]:
        comment = self.repos.comments.get(comment_id)
        issue, parents = self._issue(comment.issue_id)
        return comment, issue, parents

    def _shown_comment(self, comment: Comment) -> Shown[Comment]:
        return Shown(comment, self.related.for_comments([comment]))

    def create_comment(self, ctx: RequestContext, issue_id: int, message: str = "") -> Shown[Comment]:
        """Comment on an issue."""
        ctx.require_write()
        issue = self._existing("issue", self.repos.issues.get, issue_id)
        parents = self._parents(self.repos.jobs.get(issue.job_id))
        perm.check(ctx.actor, "create@issue", comment_ref(None, issue, parents),
                   request_org_id=self._org_of_request(ctx, parents.task))
        now = self.clock.now()
        message = validate_message(message, required=False)
        comment = self.repos.comments.add(Comment(
            id=self.ids.next_id("comment"), issue_id=issue.id, job_id=issue.job_id, task_id=issue.task_id,
            frame=issue.frame, message=message, owner_id=ctx.user_id, created_date=now, updated_date=now,
        ))
        self._publish_comment(ctx, "create", comment, parents)
        return self._shown_comment(comment)

    def get_comment(self, ctx: RequestContext, comment_id: int) -> Shown[Comment]:
        comment, issue, parents = self._comment(comment_id)
        perm.check(ctx.actor, "view", comment_ref(comment, issue, parents))
        return self._shown_comment(comment)

    def list_comments(self, ctx: RequestContext, params: Mapping[str, str], *, issue_id: int | None = None,
                      job_id: int | None = None) -> Shown[Page[Comment]]:
        """Comments visible to the caller (``issue_id``, ``job_id``, ``frame_id``, ``owner``)."""
        if issue_id is not None:
            items = self.repos.comments.list_by_issue(issue_id)
        elif job_id is not None:
            items = self.repos.comments.list_by_issues(i.id for i in self.repos.issues.list_by_job(job_id))
        else:
            items = self._visible_comments(ctx)
        task_ids = {c.task_id for c in items}
        parents = self._parents_of_tasks(task_ids)
        issues = {i.id: i for i in self.repos.issues.list_by_tasks(sorted(task_ids))} if task_ids else {}
        items = [c for c in items if c.issue_id in issues and c.job_id in parents]
        users = self._users_of((c.owner_id for c in items), {})
        username = username_of(users)

        def row(c: Comment) -> dict[str, object]:
            return {"id": c.id, "owner": username(c.owner_id), "issue_id": c.issue_id, "frame_id": c.frame,
                    "job_id": c.job_id}

        page = list_page(ctx, perm.Resource.COMMENT, items,
                         ref=lambda c: comment_ref(c, issues[c.issue_id], parents[c.job_id]), row=row, params=params)
        return Shown(page, self.related.for_comments(page.results, users=users))

    def _visible_comments(self, ctx: RequestContext) -> builtins.list[Comment]:
        if ctx.actor.is_admin and ctx.org_id is None and not ctx.org.explicit:
            return self.repos.comments.list_all()
        tasks = self._visible_tasks(ctx)
        by_id = {c.id: c for c in self.repos.comments.list_by_tasks([t.id for t in tasks])} if tasks else {}
        if not self._sees_whole_scope(ctx):
            seen_tasks = {t.id for t in tasks}
            issues = sorted({i.id for i in self._issues_of_user(ctx) if i.task_id not in seen_tasks})
            if issues:
                by_id.update((c.id, c) for c in self.repos.comments.list_by_issues(issues))
            by_id.update((c.id, c) for c in self.repos.comments.list_by_owner(ctx.user_id))
        return [by_id[k] for k in sorted(by_id)]

    def update_comment(self, ctx: RequestContext, comment_id: int, message: str | Unset = UNSET) -> Shown[Comment]:
        """PATCH a comment's ``message``."""
        ctx.require_write()
        comment, issue, parents = self._comment(comment_id)
        perm.check(ctx.actor, "update", comment_ref(comment, issue, parents))
        if isinstance(message, Unset) or message == comment.message:
            return self._shown_comment(comment)
        before = {"message": comment.message}
        comment.message = validate_message(message)
        comment.updated_date = self.clock.now()
        comment = self.repos.comments.save(comment)
        self._publish_comment(ctx, "update", comment, parents, before)
        return self._shown_comment(comment)

    def delete_comment(self, ctx: RequestContext, comment_id: int) -> None:
        ctx.require_write()
        comment, issue, parents = self._comment(comment_id)
        perm.check(ctx.actor, "delete", comment_ref(comment, issue, parents))
        self.repos.comments.delete(comment.id)
        self._publish_comment(ctx, "delete", comment, parents)
