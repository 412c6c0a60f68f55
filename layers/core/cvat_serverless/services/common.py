"""What the core services share: their ports, the UNSET marker for partial updates, events,
and how objects are described to the permission table and to list queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.events import DomainEvent
from ..domain.jobs import Job
from ..domain.projects import Project
from ..domain.query import SPECS, Page, apply_list_query, parse_list_query
from ..domain.storage import Storage, validate_storage
from ..domain.tasks import Task
from ..ports import (
    Clock,
    EventPublisher,
    IdGenerator,
    InvitationRepository,
    JobRepository,
    LabelRepository,
    MembershipRepository,
    OrganizationRepository,
    ProjectRepository,
    SegmentRepository,
    TaskRepository,
    UserRepository,
)

T = TypeVar("T")


class Unset:
    """The value of a PATCH field the client did not send (``None`` is a real value)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset()


def check_version(entity: Any, version: int | None) -> None:
    """The client's optimistic-lock token: a stale one is a conflict, even for a no-op change."""
    if version is not None and version != entity.version:
        raise ConflictError("The object was changed by someone else; reload it and try again.")


@dataclass(frozen=True, slots=True)
class Repositories:
    users: UserRepository
    organizations: OrganizationRepository
    memberships: MembershipRepository
    invitations: InvitationRepository
    projects: ProjectRepository
    tasks: TaskRepository
    segments: SegmentRepository
    jobs: JobRepository
    labels: LabelRepository


@dataclass(frozen=True, slots=True)
class StorageInput:
    location: str = "local"
    cloud_storage_id: int | None = None


class ServiceBase:
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher) -> None:
        self.repos = repos
        self.ids = ids
        self.clock = clock
        self.events = events

    def _publish_task(self, ctx: RequestContext | None, action: str, task: Task,
                      before_update: Mapping[str, Any] | None = None) -> None:
        """``<action>:task`` with the task's ids, as every task event carries them."""
        self._publish(ctx, f"{action}:task", task, resource_id=task.id, organization_id=task.organization_id,
                      project_id=task.project_id, task_id=task.id, before_update=before_update)

    def _publish(
        self,
        ctx: RequestContext | None,
        scope: str,
        obj: Any,
        *,
        resource_id: int | str,
        organization_id: int | None = None,
        project_id: int | None = None,
        task_id: int | None = None,
        job_id: int | None = None,
        before_update: Mapping[str, Any] | None = None,
    ) -> None:
        event = DomainEvent(
            scope=scope,
            resource=scope.split(":", 1)[1],
            resource_id=resource_id,
            actor_id=ctx.user_id if ctx else None,
            request_id=ctx.request_id if ctx else "",
            timestamp=self.clock.now(),
            organization_id=organization_id,
            project_id=project_id,
            task_id=task_id,
            job_id=job_id,
            obj=obj,
            before_update=dict(before_update or {}),
        )
        self.events.publish(scope, event.detail())

    def _storage(self, field_name: str, value: StorageInput | None) -> Storage | None:
        if value is None:
            return None
        location = validate_storage(field_name, value.location, value.cloud_storage_id)
        return Storage(self.ids.next_id("storage"), location, value.cloud_storage_id)

    def _username(self, user_id: int | None, cache: dict[int, str | None]) -> str | None:
        if user_id is None:
            return None
        if user_id not in cache:
            try:
                cache[user_id] = self.repos.users.get(user_id).username
            except Exception:
                cache[user_id] = None
        return cache[user_id]

    def _check_user_exists(self, field_name: str, user_id: int | None) -> None:
        if user_id is None:
            return
        try:
            self.repos.users.get(user_id)
        except Exception:
            raise ValidationError(fields={field_name: [f'Invalid pk "{user_id}" - object does not exist.']}) from None

    def _patch_owner_assignee_storage(self, ctx: RequestContext, ref: Any, target: Project | Task, patch: Any,
                                      now: Any) -> None:
        """The owner, the assignee (with its date) and the two storages of a project or a task:
        the same rules and permissions for both."""
        if not isinstance(patch.owner_id, Unset) and patch.owner_id != target.owner_id:
            perm.check(ctx.actor, "update:owner", ref)
            self._check_user_exists("owner_id", patch.owner_id)
            target.owner_id = patch.owner_id
        if not isinstance(patch.assignee_id, Unset) and patch.assignee_id != target.assignee_id:
            perm.check(ctx.actor, "update:assignee", ref)
            self._check_user_exists("assignee_id", patch.assignee_id)
            target.assignee_id = patch.assignee_id
            target.assignee_updated_date = now
        for name in ("source_storage", "target_storage"):
            value = getattr(patch, name)
            if not isinstance(value, Unset):
                perm.check(ctx.actor, "update:associated_storage", ref)
                setattr(target, name, self._storage(name, value))


# --- how objects look to the permission table ---------------------------------------------------


def project_ref(project: Project) -> perm.ResourceRef:
    return perm.ResourceRef(
        perm.Resource.PROJECT,
        organization_id=project.organization_id,
        owner_id=project.owner_id,
        assignee_id=project.assignee_id,
    )


def task_ref(task: Task, project: Project | None) -> perm.ResourceRef:
    return perm.ResourceRef(
        perm.Resource.TASK,
        organization_id=task.organization_id,
        owner_id=task.owner_id,
        assignee_id=task.assignee_id,
        project_owner_id=project.owner_id if project else None,
        project_assignee_id=project.assignee_id if project else None,
    )


def job_ref(job: Job, task: Task, project: Project | None) -> perm.ResourceRef:
    return perm.ResourceRef(
        perm.Resource.JOB,
        organization_id=task.organization_id,
        assignee_id=job.assignee_id,
        task_owner_id=task.owner_id,
        task_assignee_id=task.assignee_id,
        project_owner_id=project.owner_id if project else None,
        project_assignee_id=project.assignee_id if project else None,
    )


def list_page(
    ctx: RequestContext,
    kind: perm.Resource,
    items: Iterable[T],
    *,
    ref: Callable[[T], perm.ResourceRef],
    row: Callable[[T], Mapping[str, Any]],
    params: Mapping[str, str],
) -> Page[T]:
    """The one list pipeline: CVAT's list permission, visibility filter (so nothing leaks into
    results or counts), then filter/search/sort/page."""
    perm.check_list(ctx.actor, kind, ctx.org)
    spec = SPECS[kind.value]
    query = parse_list_query(params, spec)
    visible = ((obj, row(obj)) for obj in items if perm.visible_in_list(ctx.actor, ref(obj), ctx.org))
    return apply_list_query(visible, spec, query)
