"""Projects: create/list/get/update/delete with CVAT's permissions and events."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.events import diff_fields
from ..domain.labels import LabelInput
from ..domain.projects import Project, validate_bug_tracker, validate_name
from ..domain.query import Page
from ..ports import AnnotationStore, Clock, EventPublisher, IdGenerator, Repositories
from .common import UNSET, ServiceBase, StorageInput, Unset, check_version, list_page, project_ref, username_of
from .labels import LabelService
from .views import Shown


@dataclass(slots=True)
class ProjectCreate:
    name: str
    labels: Sequence[LabelInput] = field(default_factory=list)
    owner_id: int | None = None
    assignee_id: int | None = None
    bug_tracker: str = ""
    source_storage: StorageInput | None = None
    target_storage: StorageInput | None = None


@dataclass(slots=True)
class ProjectPatch:
    name: str | Unset = UNSET
    labels: Sequence[LabelInput] = field(default_factory=list)
    owner_id: int | Unset | None = UNSET
    assignee_id: int | Unset | None = UNSET
    bug_tracker: str | Unset = UNSET
    source_storage: StorageInput | Unset | None = UNSET
    target_storage: StorageInput | Unset | None = UNSET
    organization_id: int | Unset | None = UNSET


class ProjectService(ServiceBase):
    def __init__(
        self,
        repos: Repositories,
        ids: IdGenerator,
        clock: Clock,
        events: EventPublisher,
        labels: LabelService,
        *,
        annotations: AnnotationStore,
    ) -> None:
        super().__init__(repos, ids, clock, events)
        self.labels = labels
        self.annotations = annotations

    def _shown(self, project: Project) -> Shown[Project]:
        return Shown(project, self.related.for_projects([project]))

    def create(self, ctx: RequestContext, data: ProjectCreate) -> Shown[Project]:
        """Create a project (and its labels) in the request's organization context."""
        ctx.require_write()
        perm.check(
            ctx.actor,
            "create",
            perm.ResourceRef(perm.Resource.PROJECT, organization_id=ctx.org_id),
            request_org_id=ctx.org_id,
        )
        self._check_user_exists("owner_id", data.owner_id)
        self._check_user_exists("assignee_id", data.assignee_id)
        now = self.clock.now()
        project = Project(
            id=self.ids.next_id("project"),
            name=validate_name(data.name),
            owner_id=data.owner_id if data.owner_id is not None else ctx.user_id,
            organization_id=ctx.org_id,
            assignee_id=data.assignee_id,
            assignee_updated_date=now if data.assignee_id is not None else None,
            bug_tracker=validate_bug_tracker(data.bug_tracker),
            source_storage=self._storage("source_storage", data.source_storage or StorageInput()),
            target_storage=self._storage("target_storage", data.target_storage or StorageInput()),
            created_date=now,
            updated_date=now,
        )
        project = self.repos.projects.add(project)
        try:
            self.labels.apply_patches(data.labels, project_id=project.id)
        except Exception:
            self.repos.projects.delete(project.id)
            raise
        self._publish(
            ctx,
            "create:project",
            project,
            resource_id=project.id,
            organization_id=project.organization_id,
            project_id=project.id,
        )
        return self._shown(project)

    def get(self, ctx: RequestContext, project_id: int) -> Shown[Project]:
        """One project the caller may view."""
        project = self.repos.projects.get(project_id)
        perm.check(ctx.actor, "view", project_ref(project))
        return self._shown(project)

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Project]]:
        """Projects visible to the caller in the request's context, with CVAT's list parameters."""
        window = self._window_page(ctx, perm.Resource.PROJECT, params, self.repos.projects.window)
        if window is not None:
            return Shown(window, self.related.for_projects(window.results))
        items = self._visible_projects(ctx)
        users = self._users_of((u for p in items for u in (p.owner_id, p.assignee_id)), {})
        username = username_of(users)
        page = list_page(
            ctx,
            perm.Resource.PROJECT,
            items,
            ref=project_ref,
            row=lambda p: {
                "id": p.id,
                "name": p.name,
                "owner": username(p.owner_id),
                "assignee": username(p.assignee_id),
                "status": p.status.value,
                "updated_date": p.updated_date,
            },
            params=params,
        )
        return Shown(page, self.related.for_projects(page.results, users=users))

    def update(
        self, ctx: RequestContext, project_id: int, patch: ProjectPatch, *, version: int | None = None
    ) -> Shown[Project]:
        """PATCH a project: each changed field is checked with its own CVAT scope (update:desc,
        update:owner, update:assignee, update:associated_storage, update:organization)."""
        ctx.require_write()
        project = self.repos.projects.get(project_id)
        check_version(project, version)
        ref = project_ref(project)
        before = copy.deepcopy(project)
        now = self.clock.now()
        if not isinstance(patch.name, Unset) or not isinstance(patch.bug_tracker, Unset) or patch.labels:
            perm.check(ctx.actor, "update:desc", ref)
        if not isinstance(patch.name, Unset):
            project.name = validate_name(patch.name)
        if not isinstance(patch.bug_tracker, Unset):
            project.bug_tracker = validate_bug_tracker(patch.bug_tracker)
        self._patch_owner_assignee_storage(ctx, ref, project, patch, now)
        if not isinstance(patch.organization_id, Unset) and patch.organization_id != project.organization_id:
            perm.check(ctx.actor, "update:organization", ref)
            if patch.organization_id is not None:
                # moving into an organization needs the rights to create there
                perm.check(
                    ctx.actor,
                    "create",
                    perm.ResourceRef(perm.Resource.PROJECT, organization_id=patch.organization_id),
                    request_org_id=patch.organization_id,
                )
            project.organization_id = patch.organization_id
            for task in self.repos.tasks.list_by_project(project.id):
                task.organization_id = project.organization_id
                self.repos.tasks.save(task)
                for job in self.repos.jobs.list_by_task(task.id):
                    job.organization_id = project.organization_id
                    self.repos.jobs.save(job)
        changed = diff_fields(before, project)
        label_changes = self.labels.apply_patches(patch.labels, project_id=project.id) if patch.labels else None
        if label_changes is not None and not label_changes.empty:
            changed["labels"] = sorted(set(label_changes.before_update) | {lb.id for lb in label_changes.deleted})
        project.updated_date = now
        project = self.repos.projects.save(project)
        self._publish(
            ctx,
            "update:project",
            project,
            resource_id=project.id,
            organization_id=project.organization_id,
            project_id=project.id,
            before_update=changed,
        )
        return self._shown(project)

    def delete(self, ctx: RequestContext, project_id: int) -> builtins.list[int]:
        """Delete a project with its labels and tasks (and their jobs). Returns the deleted task
        ids so that the caller can remove their media and annotations."""
        ctx.require_write()
        project = self.repos.projects.get(project_id)
        perm.check(ctx.actor, "delete", project_ref(project))
        task_ids = []
        for task in self.repos.tasks.list_by_project(project_id):
            self.repos.comments.delete_by_task(task.id)
            self.repos.issues.delete_by_task(task.id)
            for job in self.repos.jobs.list_by_task(task.id):
                self.annotations.delete(job.id)
            self.repos.jobs.delete_by_task(task.id)
            self.repos.segments.delete_by_task(task.id)
            self.labels.delete_all(task_id=task.id)
            self.repos.tasks.delete(task.id)
            task_ids.append(task.id)
        self.labels.delete_all(project_id=project_id)
        self.repos.projects.delete(project_id)
        self._publish(
            ctx,
            "delete:project",
            project,
            resource_id=project.id,
            organization_id=project.organization_id,
            project_id=project.id,
        )
        return task_ids
