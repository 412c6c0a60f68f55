"""What CVAT's representation of an object names besides the object itself.

A task as CVAT shows it carries its owner's and assignee's names and its project's name; a job
carries fields of its task and project; a project the number of its tasks; a skeleton label its
sublabels; an invitation its organization's slug. The services read most of these anyway (for
permissions and list filters), so they hand them out with the result, loaded in batches, as a
``Shown``: the HTTP presenter then formats without reading anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # the presenter imports this module: keep the edge's first request light
    from datetime import datetime

    from ..domain.auth import AccessToken
    from ..domain.issues import Comment, Issue
    from ..domain.jobs import Job
    from ..domain.labels import Label
    from ..domain.organizations import Invitation, Membership, Organization
    from ..domain.projects import Project
    from ..domain.tasks import Task
    from ..domain.users import User
    from ..ports import Clock, Repositories

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Related:
    """The objects a representation names, by id. A missing id is an object that is gone (a
    deleted user, say): the presenter shows it as CVAT does (null, or "deleted")."""

    users: Mapping[int, User] = field(default_factory=dict)
    organizations: Mapping[int, Organization] = field(default_factory=dict)
    projects: Mapping[int, Project] = field(default_factory=dict)
    tasks: Mapping[int, Task] = field(default_factory=dict)
    task_counts: Mapping[int, int] = field(default_factory=dict)  # project id -> its number of tasks
    sublabels: Mapping[int, Sequence[Label]] = field(default_factory=dict)  # skeleton id -> sublabels
    issue_counts: Mapping[int, int] = field(default_factory=dict)  # job id -> its number of issues
    comment_counts: Mapping[int, int] = field(default_factory=dict)  # issue id -> its number of comments
    now: datetime | None = None  # the time the representation is made (invitations expire)


@dataclass(frozen=True, slots=True)
class Shown(Generic[T]):
    """A service's result with what its representation needs."""

    value: T
    related: Related


def _ids(values: Iterable[int | None]) -> set[int]:
    return {v for v in values if v is not None}


class RelatedLoader:
    """Batch reads of what a result's representation names. ``known`` maps let a service pass
    what it has already read, so nothing is read twice."""

    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.repos = repos
        self.clock = clock

    # --- the pieces --------------------------------------------------------------------------

    def users(self, ids: Iterable[int | None], known: Mapping[int, User] | None = None) -> dict[int, User]:
        wanted = _ids(ids)
        found = {i: u for i, u in (known or {}).items() if i in wanted}
        missing = wanted - found.keys()
        if missing:
            found.update(self.repos.users.get_many(sorted(missing)))
        return found

    def projects(self, ids: Iterable[int | None], known: Mapping[int, Project] | None = None) -> dict[int, Project]:
        wanted = _ids(ids)
        found = {i: p for i, p in (known or {}).items() if i in wanted}
        missing = wanted - found.keys()
        if missing:
            found.update(self.repos.projects.get_many(sorted(missing)))
        return found

    def tasks(self, ids: Iterable[int | None], known: Mapping[int, Task] | None = None) -> dict[int, Task]:
        wanted = _ids(ids)
        found = {i: t for i, t in (known or {}).items() if i in wanted}
        missing = wanted - found.keys()
        if missing:
            found.update(self.repos.tasks.get_many(sorted(missing)))
        return found

    # --- per kind ----------------------------------------------------------------------------

    def for_projects(self, projects: Sequence[Project], *, users: Mapping[int, User] | None = None) -> Related:
        return Related(
            users=self.users((u for p in projects for u in (p.owner_id, p.assignee_id)), users),
            task_counts=self.repos.tasks.count_by_projects([p.id for p in projects]) if projects else {},
        )

    def for_tasks(
        self,
        tasks: Sequence[Task],
        *,
        projects: Mapping[int, Project] | None = None,
        users: Mapping[int, User] | None = None,
    ) -> Related:
        return Related(
            users=self.users((u for t in tasks for u in (t.owner_id, t.assignee_id)), users),
            projects=self.projects((t.project_id for t in tasks), projects),
        )

    def for_jobs(
        self,
        jobs: Sequence[Job],
        *,
        tasks: Mapping[int, Task] | None = None,
        projects: Mapping[int, Project] | None = None,
        users: Mapping[int, User] | None = None,
    ) -> Related:
        by_id = self.tasks((j.task_id for j in jobs), tasks)
        return Related(
            users=self.users((j.assignee_id for j in jobs), users),
            tasks=by_id,
            projects=self.projects((t.project_id for t in by_id.values()), projects),
            issue_counts=self.repos.issues.count_by_jobs([j.id for j in jobs]) if jobs else {},
        )

    def for_issues(self, issues: Sequence[Issue], *, users: Mapping[int, User] | None = None) -> Related:
        return Related(
            users=self.users((u for i in issues for u in (i.owner_id, i.assignee_id)), users),
            comment_counts=self.repos.comments.count_by_issues([i.id for i in issues]) if issues else {},
        )

    def for_comments(self, comments: Sequence[Comment], *, users: Mapping[int, User] | None = None) -> Related:
        return Related(users=self.users((c.owner_id for c in comments), users))

    def for_labels(self, labels: Sequence[Label], *, pool: Iterable[Label] | None = None) -> Related:
        """Sublabels of the skeletons among ``labels``, found in ``pool`` (the labels of the same
        owners, when the caller has them) or read per owner."""
        skeletons = [lb for lb in labels if lb.type == "skeleton"]  # LabelType.SKELETON, a StrEnum
        if not skeletons:
            return Related()
        candidates = list(pool) if pool is not None else self._owners_labels(skeletons)
        subs: dict[int, list[Label]] = {s.id: [] for s in skeletons}
        for label in candidates:
            if label.parent_id in subs:
                subs[label.parent_id].append(label)
        return Related(sublabels={k: sorted(v, key=lambda lb: lb.id) for k, v in subs.items()})

    def _owners_labels(self, labels: Sequence[Label]) -> list[Label]:
        task_ids = sorted(_ids(lb.task_id for lb in labels))
        project_ids = sorted(_ids(lb.project_id for lb in labels if lb.task_id is None))
        found = self.repos.labels.list_by_tasks(task_ids) if task_ids else []
        if project_ids:
            found += self.repos.labels.list_by_projects(project_ids)
        return found

    def for_organizations(self, orgs: Sequence[Organization], *, users: Mapping[int, User] | None = None) -> Related:
        return Related(users=self.users((o.owner_id for o in orgs), users))

    def for_memberships(self, memberships: Sequence[Membership], *, users: Mapping[int, User] | None = None) -> Related:
        return Related(users=self.users((m.user_id for m in memberships), users))

    def for_invitations(
        self, invitations: Sequence[Invitation], *, users: Mapping[int, User] | None = None
    ) -> Related:
        org_ids = sorted(_ids(i.organization_id for i in invitations))
        return Related(
            users=self.users((u for i in invitations for u in (i.owner_id, i.user_id)), users),
            organizations=self.repos.organizations.get_many(org_ids) if org_ids else {},
            now=self.clock.now(),
        )

    @staticmethod
    def for_tokens(tokens: Sequence[AccessToken], owner: User) -> Related:
        """A caller only ever sees their own tokens: the owner is the caller."""
        return Related(users={owner.id: owner} if tokens else {})
