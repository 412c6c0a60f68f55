"""The services over both backends: every test here runs on the in-memory fakes and again on the
DynamoDB adapters (moto, the table template.yaml declares), wired by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cvat_serverless import bootstrap
from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.dynamo_drops import DynamoDropMarkerRepository
from cvat_serverless.domain.context import RequestContext
from cvat_serverless.domain.users import SystemRole, User
from cvat_serverless.ports import IdGenerator, Repositories
from cvat_serverless.services.jobs import JobService
from cvat_serverless.services.labels import LabelService
from cvat_serverless.services.organizations import OrganizationService
from cvat_serverless.services.projects import ProjectService
from cvat_serverless.services.tasks import TaskService
from cvat_serverless.services.users import UserService
from tests.integration import repository_backends as backends
from tests.integration.conftest import template  # noqa: F401 - fixture
from tests.memory_world import container_with, memory_container

dynamo_moto, table, serialised_moto = backends.dynamo_moto, backends.table, backends.serialised_moto


@dataclass
class World:
    repos: Repositories
    ids: IdGenerator
    clock: mem.FixedClock
    events: mem.InMemoryEventPublisher
    orgs: OrganizationService
    projects: ProjectService
    tasks: TaskService
    jobs: JobService
    labels: LabelService
    users: UserService
    container: bootstrap.Container  # the rest of the wiring (auth services, adapters)

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


@pytest.fixture(params=backends.BACKENDS)
def world(request: pytest.FixtureRequest) -> World:
    if request.param == "memory":
        c = memory_container()
    else:
        # moto checks a condition and writes in two steps; DynamoDB does both atomically (the
        # race tests would otherwise see two winners now and then)
        request.getfixturevalue("serialised_moto")
        table_name = request.getfixturevalue("table")
        repos = backends.dynamo_repos(table_name)
        c = container_with(repos.core, repos.auth, repos.ids, drop_markers=DynamoDropMarkerRepository(table_name))
    return World(
        repos=c.repos,
        ids=c.ids,
        clock=c.clock,
        events=c.events,
        orgs=c.organizations,
        projects=c.projects,
        tasks=c.tasks,
        jobs=c.jobs,
        labels=c.labels,
        users=c.user_service,
        container=c,
    )
