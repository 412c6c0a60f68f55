"""Every repository of one backend, for the tests (no tests here): the in-memory fakes, or the
DynamoDB adapters on the data table exactly as template.yaml declares it, on in-process moto.

A test module takes the fixtures it needs by assigning them, e.g. ``repos = backends.repos``
(pytest finds fixtures among a module's attributes). ``repos`` runs a test once per backend;
``table`` alone gives a DynamoDB-only test an empty table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from cvat_serverless import ports
from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.dynamo import DynamoIdGenerator, DynamoUserRepository
from cvat_serverless.adapters.aws.repositories import dynamo_auth_repositories, dynamo_repositories
from cvat_serverless_tools.local.deployer import Deployer
from cvat_serverless_tools.local.template import Template

BACKENDS = ("memory", "dynamodb")

E = TypeVar("E")


@dataclass(frozen=True)
class Repos:
    """All repositories and the id generator of one backend, as the composition root builds them."""

    backend: str
    users: ports.UserRepository
    organizations: ports.OrganizationRepository
    memberships: ports.MembershipRepository
    invitations: ports.InvitationRepository
    projects: ports.ProjectRepository
    tasks: ports.TaskRepository
    segments: ports.SegmentRepository
    jobs: ports.JobRepository
    labels: ports.LabelRepository
    requests: ports.RequestRepository
    task_data: ports.TaskDataRepository
    tus_uploads: ports.TusUploadRepository
    issues: ports.IssueRepository
    comments: ports.CommentRepository
    access_tokens: ports.AccessTokenRepository
    sessions: ports.SessionRepository
    login_attempts: ports.LoginAttemptRepository
    ids: ports.IdGenerator

    @property
    def core(self) -> ports.Repositories:
        return ports.Repositories(
            users=self.users, organizations=self.organizations, memberships=self.memberships,
            invitations=self.invitations, projects=self.projects, tasks=self.tasks, segments=self.segments,
            jobs=self.jobs, labels=self.labels, requests=self.requests, task_data=self.task_data,
            tus_uploads=self.tus_uploads, issues=self.issues, comments=self.comments,
        )

    @property
    def auth(self) -> ports.AuthRepositories:
        return ports.AuthRepositories(access_tokens=self.access_tokens, sessions=self.sessions,
                                      login_attempts=self.login_attempts)


def memory_repos() -> Repos:
    return _bundle("memory", mem.memory_repositories(), mem.memory_auth_repositories(), mem.InMemoryIdGenerator())


def _bundle(backend: str, core: ports.Repositories, auth: ports.AuthRepositories, ids: ports.IdGenerator) -> Repos:
    return Repos(
        backend=backend,
        users=core.users,
        organizations=core.organizations,
        memberships=core.memberships,
        invitations=core.invitations,
        projects=core.projects,
        tasks=core.tasks,
        segments=core.segments,
        jobs=core.jobs,
        labels=core.labels,
        requests=core.requests,
        task_data=core.task_data,
        tus_uploads=core.tus_uploads,
        issues=core.issues,
        comments=core.comments,
        access_tokens=auth.access_tokens,
        sessions=auth.sessions,
        login_attempts=auth.login_attempts,
        ids=ids,
    )


def dynamo_repos(table_name: str) -> Repos:
    """New adapter objects (a new client of the table) built through the two functions the
    composition root calls."""
    core = dynamo_repositories(table_name, users=DynamoUserRepository(table_name))
    return _bundle("dynamodb", core, dynamo_auth_repositories(table_name), DynamoIdGenerator(table_name))


def add_one(repo: Any, entity: E) -> E:
    """Store one entity through ``add``, or ``add_many`` where the port has only batches."""
    return repo.add(entity) if hasattr(repo, "add") else repo.add_many([entity])[0]


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")  # moto intercepts every client, also those made before mock_aws


def create_data_table(template: Template) -> str:
    """Create the template's DataTable (keys, TTL) as the embedded deployer does; call
    inside mock_aws. Deploying the whole stack takes ~0.4 s, this a few milliseconds."""
    deployer = Deployer(template, "https://sqs.us-east-1.amazonaws.com", lambda _service: _dynamodb())
    deployer._table("DataTable")
    return str(deployer.physical["DataTable"]["Name"])


@pytest.fixture(scope="module")
def dynamo_moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def table(template: Template, dynamo_moto: None) -> Iterator[str]:
    """An empty data table per test. Its name stays the same, so the PynamoDB model classes (and
    their connections) bound to it are built once."""
    name = create_data_table(template)
    yield name
    _dynamodb().delete_table(TableName=name)


@pytest.fixture(params=BACKENDS)
def repos(request: pytest.FixtureRequest) -> Repos:
    """Every repository of one backend, empty; a test taking it runs once per backend."""
    if request.param == "memory":
        return memory_repos()
    return dynamo_repos(request.getfixturevalue("table"))


@pytest.fixture
def serialised_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto is not thread-safe (a failed transaction restores a copy of the whole table, which can
    wipe a write another thread made meanwhile). DynamoDB executes each request atomically, so
    serialising moto's request handling reproduces its semantics for races between requests."""
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def call(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", call)
