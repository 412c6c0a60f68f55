"""What the core services share: their ports, the UNSET marker for partial updates, events,
how objects are described to the permission table and to list queries, and what a caller may
see (the candidates a list reads: never the whole system unless the caller may see all of it)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, NotFoundError, ValidationError
from ..domain.events import DomainEvent
from ..domain.jobs import Job
from ..domain.projects import Project
from ..domain.query import SPECS, Page, apply_list_query, id_order, page_start, parse_list_query
from ..domain.storage import Storage, validate_storage
from ..domain.tasks import Task
from ..domain.users import User
from ..ports import ALL_ORGANIZATIONS, AllOrganizations, Clock, EventPublisher, IdGenerator, Repositories, Scope, Window
from .views import RelatedLoader

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
class StorageInput:
    location: str = "local"
    cloud_storage_id: int | None = None


def basic_user_fields(user: User) -> dict[str, Any]:
    """A user as CVAT's BasicUser names them, less the ``url`` (made where the origin is known)."""
    return {"id": user.id, "username": user.username, "first_name": user.first_name, "last_name": user.last_name}


class ServiceBase:
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher) -> None:
        self.repos = repos
        self.ids = ids
        self.clock = clock
        self.events = events
        self.related = RelatedLoader(repos, clock)

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
        obj_name: str | None = None,
        count: int | None = None,
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
            obj_name=obj_name,
            count=count,
            origin=ctx.origin if ctx else "",
            actor=basic_user_fields(ctx.user) if ctx else None,
        )
        self.events.publish(scope, event.detail())

    def _storage(self, field_name: str, value: StorageInput | None) -> Storage | None:
        if value is None:
            return None
        location = validate_storage(field_name, value.location, value.cloud_storage_id)
        return Storage(self.ids.next_id("storage"), location, value.cloud_storage_id)

    def _check_user_exists(self, field_name: str, user_id: int | None) -> None:
        if user_id is not None:
            self._existing(field_name, self.repos.users.get, user_id)

    def _existing(self, field_name: str, read: Callable[[int], T], object_id: int) -> T:
        """An object a request names by id; a missing one is CVAT's 400 for that field (only a
        NotFoundError: a dependency failure stays a 503)."""
        try:
            return read(object_id)
        except NotFoundError:
            raise ValidationError(fields={field_name: [f'Invalid pk "{object_id}" - object does not exist.']}) from None

    # --- what a caller may see -----------------------------------------------------------------

    @staticmethod
    def _sees_whole_scope(ctx: RequestContext) -> bool:
        """Admins see everything in scope; maintainers and owners see their organization's."""
        if ctx.actor.is_admin:
            return True
        org_id = ctx.org_id
        return org_id is not None and perm.sees_organization(ctx.actor, org_id)

    def _visible_projects(self, ctx: RequestContext) -> list[Project]:
        """Every project the caller may see in the request's scope, and maybe a few more that
        the list's permission filter then drops: read from the caller's partitions only."""
        if self._sees_whole_scope(ctx):
            return self._scope_items(ctx, self.repos.projects.list_all, self.repos.projects.list_by_organization)
        return self.repos.projects.list_by_user(ctx.user_id)

    def _visible_tasks(self, ctx: RequestContext, projects: Iterable[Project] | None = None) -> list[Task]:
        """As _visible_projects, for tasks: the caller's own and assigned tasks, and the tasks of
        the projects they own or are assigned to (``projects``, when already read)."""
        if self._sees_whole_scope(ctx):
            return self._scope_items(ctx, self.repos.tasks.list_all, self.repos.tasks.list_by_organization)
        mine = projects if projects is not None else self.repos.projects.list_by_user(ctx.user_id)
        by_id = {t.id: t for t in self.repos.tasks.list_by_user(ctx.user_id)}
        project_ids = [p.id for p in mine if ctx.user_id in (p.owner_id, p.assignee_id)]
        if project_ids:
            by_id.update((t.id, t) for t in self.repos.tasks.list_by_projects(project_ids))
        return [by_id[k] for k in sorted(by_id)]

    @staticmethod
    def _scope(ctx: RequestContext) -> Scope:
        """An organization, the personal workspace named explicitly (None), or everything."""
        return ctx.org_id if ctx.org_id is not None or ctx.org.explicit else ALL_ORGANIZATIONS

    def _scope_items(self, ctx: RequestContext, every: Callable[[], list[T]],
                     by_org: Callable[[int | None], list[T]]) -> list[T]:
        scope = self._scope(ctx)
        return every() if isinstance(scope, AllOrganizations) else by_org(scope)

    def _window_page(self, ctx: RequestContext, kind: perm.Resource, params: Mapping[str, str],
                     window: Callable[..., Window[T]]) -> Page[T] | None:
        """The page of a list read as a window of its scope's partition, when the caller sees
        the whole scope and asks only for id order: a first page costs a page, not the scope.
        None when the list needs every candidate (a filter, a search, another order, or a
        caller who sees only some objects); the full pipeline (list_page) answers it then."""
        spec = SPECS[kind.value]
        query = parse_list_query(params, spec)
        newest_first = id_order(query, spec)
        if newest_first is None or not self._sees_whole_scope(ctx):
            return None
        perm.check_list(ctx.actor, kind, ctx.org)
        scope = self._scope(ctx)
        if query.page == -1:
            found = window(scope, 0, 0, newest_first=newest_first)
        else:
            found = window(scope, (query.page - 1) * query.page_size, query.page_size, newest_first=newest_first)
        page, start = page_start(query, found.total)
        if query.page == -1:
            found = window(scope, start, query.page_size, newest_first=newest_first)
        return Page(count=found.total, results=found.items, page=page, page_size=query.page_size)

    def _users_of(self, ids: Iterable[int | None], users: dict[int, User]) -> dict[int, User]:
        """``users`` completed with the users among ``ids`` (one batch read for the missing)."""
        users.update(self.related.users(ids, users))
        return users

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


def username_of(users: Mapping[int, User]) -> Callable[[int | None], str | None]:
    """The username of an id among ``users`` (None for no user or one that is gone): what CVAT's
    list filters call ``owner`` and ``assignee``."""

    def username(user_id: int | None) -> str | None:
        user = users.get(user_id) if user_id is not None else None
        return user.username if user is not None else None

    return username


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


@contextlib.contextmanager
def scratch_file(prefix: str) -> Iterator[str]:
    """A local file for one workflow step's bytes (Lambda's /tmp), removed after."""
    fd, path = tempfile.mkstemp(prefix=prefix)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
