"""Labels of tasks and projects: listing, PATCH/DELETE of one label, and the label part of
project/task create and update."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.labels import Label, LabelChanges, LabelInput, LabelSet
from ..domain.projects import Project
from ..domain.query import SPECS, Page, apply_list_query, parse_list_query
from ..domain.tasks import Task
from .common import ServiceBase, job_ref, list_page, project_ref, task_ref
from .views import Shown


class LabelService(ServiceBase):
    # --- used by the project and task services ----------------------------------------------

    def owner_labels(self, *, task_id: int | None = None, project_id: int | None = None) -> list[Label]:
        if task_id is not None:
            return self.repos.labels.list_by_task(task_id)
        assert project_id is not None
        return self.repos.labels.list_by_project(project_id)

    def apply_patches(
        self, patches: Sequence[LabelInput], *, task_id: int | None = None, project_id: int | None = None
    ) -> LabelChanges:
        """Validate and store label patches for one task or project (CVAT's ``labels`` field of
        project/task create and PATCH). All validation happens before anything is written."""
        if not patches:
            return LabelChanges()
        label_set = LabelSet(
            self.owner_labels(task_id=task_id, project_id=project_id), task_id=task_id, project_id=project_id
        )
        changes = label_set.apply(patches, self.ids.next_id)
        # sublabels are deleted with their skeleton; delete children first
        for label in sorted(changes.deleted, key=lambda lb: lb.parent_id is None):
            self.repos.labels.delete(label.id)
        for label in changes.updated:
            self._save_latest(label)
        try:
            # parents before sublabels
            self.repos.labels.add_many(sorted(changes.added, key=lambda lb: lb.parent_id is not None))
        except ConflictError:
            raise ValidationError(fields={"labels": ["Label names must be unique."]}) from None
        return changes

    def _save_latest(self, label: Label) -> Label:
        current = self.repos.labels.get(label.id)
        label.version = current.version
        return self.repos.labels.save(label)

    def delete_all(self, *, task_id: int | None = None, project_id: int | None = None) -> None:
        for label in sorted(
            self.owner_labels(task_id=task_id, project_id=project_id), key=lambda lb: lb.parent_id is None
        ):
            self.repos.labels.delete(label.id)

    # --- the /labels endpoints ---------------------------------------------------------------

    def _parent(self, label: Label) -> tuple[perm.ResourceRef, Task | None, Project | None]:
        if label.task_id is not None:
            task = self.repos.tasks.get(label.task_id)
            project = self.repos.projects.get(task.project_id) if task.project_id else None
            return task_ref(task, project), task, project
        assert label.project_id is not None
        project = self.repos.projects.get(label.project_id)
        return project_ref(project), None, project

    def _shown(self, label: Label) -> Shown[Label]:
        return Shown(label, self.related.for_labels([label]))

    def get(self, ctx: RequestContext, label_id: int) -> Shown[Label]:
        """One label; visible to whoever may view its task or project."""
        label = self.repos.labels.get(label_id)
        ref, _, _ = self._parent(label)
        perm.check(ctx.actor, perm.LABEL_SCOPE_MAP["view"], ref)
        return self._shown(label)

    def list(
        self,
        ctx: RequestContext,
        params: Mapping[str, str],
        *,
        task_id: int | None = None,
        project_id: int | None = None,
        job_id: int | None = None,
    ) -> Shown[Page[Label]]:
        """Labels, as ``GET /labels?task_id=|project_id=|job_id=``: a task in a project lists the
        project's labels; a job lists its task's. Without a parent, every visible label. Only
        top-level labels are listed (sublabels come inside their skeleton) unless the query
        names ``parent`` or ``parent_id``, as in CVAT."""
        if sum(v is not None for v in (task_id, project_id, job_id)) > 1:
            raise ValidationError("Only one of task_id, project_id and job_id can be used.")
        parent_ref: perm.ResourceRef | None = None
        tasks: dict[int, Task] = {}
        projects: dict[int, Project] = {}
        if job_id is not None:
            job = self.repos.jobs.get(job_id)
            task = self.repos.tasks.get(job.task_id)
            project = self.repos.projects.get(task.project_id) if task.project_id else None
            parent_ref = job_ref(job, task, project)
            task_id = task.id
        if task_id is not None:
            task = self.repos.tasks.get(task_id)
            labels = (
                self.repos.labels.list_by_project(task.project_id)
                if task.project_id
                else self.repos.labels.list_by_task(task_id)
            )
            if parent_ref is None:
                parent_ref = task_ref(task, self.repos.projects.get(task.project_id) if task.project_id else None)
        elif project_id is not None:
            labels = self.repos.labels.list_by_project(project_id)
            parent_ref = project_ref(self.repos.projects.get(project_id))
        else:
            labels, tasks, projects = self._visible_labels(ctx)
        pool = labels
        if "parent" not in params and "parent_id" not in params:
            labels = [lb for lb in labels if lb.parent_id is None]
        by_id = {lb.id: lb for lb in pool}
        spec = SPECS["label"]

        def row(label: Label) -> dict[str, object]:
            parent = by_id.get(label.parent_id) if label.parent_id else None
            return {
                "id": label.id,
                "name": label.name,
                "type": label.type.value,
                "color": label.color,
                "parent_id": label.parent_id,
                "parent": parent.name if parent else None,
            }

        if parent_ref is not None:
            # CVAT: with a parent, whoever may view the parent sees all its labels
            perm.check(ctx.actor, "view", parent_ref)
            page = apply_list_query(((lb, row(lb)) for lb in labels), spec, parse_list_query(params, spec))
        else:
            page = list_page(ctx, perm.Resource.LABEL, labels, ref=lambda lb: _label_ref(lb, tasks, projects),
                             row=row, params=params)
        return Shown(page, self.related.for_labels(page.results, pool=pool))

    def _visible_labels(self, ctx: RequestContext) -> tuple[builtins.list[Label], dict[int, Task], dict[int, Project]]:
        """The labels of the projects and tasks the caller may see, with those owners by id:
        read from the owners' partitions (or the all-labels partition for an admin)."""
        if ctx.actor.is_admin and ctx.org_id is None and not ctx.org.explicit:
            labels = self.repos.labels.list_all()
            tasks = self.related.tasks(lb.task_id for lb in labels)
            projects = self.related.projects(
                [lb.project_id for lb in labels] + [t.project_id for t in tasks.values()])
            return labels, tasks, projects
        visible_projects = self._visible_projects(ctx)
        visible_tasks = self._visible_tasks(ctx, visible_projects)
        projects = {p.id: p for p in visible_projects}
        tasks = {t.id: t for t in visible_tasks}
        labels = self.repos.labels.list_by_projects(sorted(projects)) if projects else []
        own = sorted(t.id for t in visible_tasks if t.project_id is None)
        if own:
            labels += self.repos.labels.list_by_tasks(own)
        projects.update(self.related.projects(
            (t.project_id for t in visible_tasks if t.project_id not in projects), projects))
        return sorted(labels, key=lambda lb: lb.id), tasks, projects

    def update(self, ctx: RequestContext, label_id: int, patch: LabelInput) -> Shown[Label]:
        """PATCH one label (name, color, type, attributes, sublabels, svg) with CVAT's rules."""
        ctx.require_write()
        label = self.repos.labels.get(label_id)
        ref, task, project = self._parent(label)
        perm.check(ctx.actor, perm.LABEL_SCOPE_MAP["update"], ref)
        if patch.deleted:
            raise ValidationError(fields={"deleted": ["Use DELETE to remove a label."]})
        patch.id = label_id
        changes = self.apply_patches([patch], task_id=label.task_id, project_id=label.project_id)
        updated = self.repos.labels.get(label_id)
        self._publish_parent_update(ctx, task, project, changes)
        return self._shown(updated)

    def delete(self, ctx: RequestContext, label_id: int) -> None:
        """DELETE one label (and its sublabels)."""
        ctx.require_write()
        label = self.repos.labels.get(label_id)
        ref, task, project = self._parent(label)
        perm.check(ctx.actor, perm.LABEL_SCOPE_MAP["delete"], ref)
        if label.parent_id is not None:
            raise ValidationError("Sublabels are deleted with their skeleton.")
        changes = self.apply_patches(
            [LabelInput(id=label_id, deleted=True)], task_id=label.task_id, project_id=label.project_id
        )
        self._publish_parent_update(ctx, task, project, changes)

    def _publish_parent_update(
        self, ctx: RequestContext, task: Task | None, project: Project | None, changes: LabelChanges
    ) -> None:
        # CVAT reports label edits as an update of the owning task/project
        if changes.empty:
            return
        before = {"labels": [lb.id for lb in changes.deleted] or list(changes.before_update)}
        if task is not None:
            self._publish_task(ctx, "update", task, before)
        elif project is not None:
            self._publish(
                ctx,
                "update:project",
                project,
                resource_id=project.id,
                organization_id=project.organization_id,
                project_id=project.id,
                before_update=before,
            )


def _label_ref(label: Label, tasks: Mapping[int, Task], projects: Mapping[int, Project]) -> perm.ResourceRef:
    """A label as the permission table sees it: through its task and project (both read)."""
    task = tasks.get(label.task_id) if label.task_id is not None else None
    project_id = task.project_id if task is not None else label.project_id
    project = projects.get(project_id) if project_id is not None else None
    org = task.organization_id if task else (project.organization_id if project else None)
    return perm.ResourceRef(
        perm.Resource.LABEL,
        organization_id=org,
        task_owner_id=task.owner_id if task else None,
        task_assignee_id=task.assignee_id if task else None,
        project_owner_id=project.owner_id if project else None,
        project_assignee_id=project.assignee_id if project else None,
    )
