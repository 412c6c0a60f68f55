from __future__ import annotations

from dataclasses import dataclass

import pytest

from cvat_serverless.adapters import memory as mem
from cvat_serverless.domain.context import RequestContext
from cvat_serverless.domain.users import SystemRole, User
from cvat_serverless.services.common import Repositories
from cvat_serverless.services.jobs import JobService
from cvat_serverless.services.labels import LabelService
from cvat_serverless.services.organizations import OrganizationService
from cvat_serverless.services.projects import ProjectService
from cvat_serverless.services.tasks import TaskService
from cvat_serverless.services.users import UserService


@dataclass
class World:
    repos: Repositories
    ids: mem.InMemoryIdGenerator
    clock: mem.FixedClock
    events: mem.InMemoryEventPublisher
    orgs: OrganizationService
    projects: ProjectService
    tasks: TaskService
    jobs: JobService
    labels: LabelService
    users: UserService

    def user(self, username: str, *groups: SystemRole, superuser: bool = False) -> User:
        return self.repos.users.add(
            User(
                id=self.ids.next_id("user"),
                username=username,
                email=f"{username}@example.com",
                password_hash="x",
                groups=list(groups or [SystemRole.USER]),
                is_superuser=superuser,
            )
        )

    def ctx(
        self, user: User, org: str | None = None, *, header: str | None = None, read_only: bool = False
    ) -> RequestContext:
        return self.orgs.resolve_context(
            self.repos.users.get(user.id), org=org, header=header, request_id="req-1", read_only=read_only
        )


@pytest.fixture
def world() -> World:
    repos = Repositories(
        users=mem.InMemoryUserRepository(),
        organizations=mem.InMemoryOrganizationRepository(),
        memberships=mem.InMemoryMembershipRepository(),
        invitations=mem.InMemoryInvitationRepository(),
        projects=mem.InMemoryProjectRepository(),
        tasks=mem.InMemoryTaskRepository(),
        segments=mem.InMemorySegmentRepository(),
        jobs=mem.InMemoryJobRepository(),
        labels=mem.InMemoryLabelRepository(),
    )
    ids = mem.InMemoryIdGenerator()
    clock = mem.FixedClock()
    events = mem.InMemoryEventPublisher()
    labels = LabelService(repos, ids, clock, events)
    return World(
        repos=repos,
        ids=ids,
        clock=clock,
        events=events,
        orgs=OrganizationService(repos, ids, clock, events),
        projects=ProjectService(repos, ids, clock, events, labels),
        tasks=TaskService(repos, ids, clock, events, labels),
        jobs=JobService(repos, ids, clock, events),
        labels=labels,
        users=UserService(repos, ids, clock, events),
    )
