"""Shared pieces of the DynamoDB adapter tests (no tests here): the data table exactly as
template.yaml declares it, on in-process moto, and every repository built on it or on the fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.dynamo import DynamoIdGenerator, DynamoUserRepository
from cvat_serverless.adapters.aws.repositories import dynamo_auth_repositories, dynamo_repositories
from cvat_serverless_tools.local.deployer import Deployer
from cvat_serverless_tools.local.template import Template


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")  # moto intercepts every client, also those made before mock_aws


def create_data_table(template: Template) -> str:
    """Create the template's DataTable (keys, gsi1, TTL) as the embedded deployer does; call
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


@dataclass
class AllRepos:
    backend: str
    users: Any
    organizations: Any
    memberships: Any
    invitations: Any
    projects: Any
    tasks: Any
    segments: Any
    jobs: Any
    labels: Any
    access_tokens: Any
    sessions: Any
    login_attempts: Any
    ids: Any


def memory_repos() -> AllRepos:
    return AllRepos(
        "memory", mem.InMemoryUserRepository(), mem.InMemoryOrganizationRepository(),
        mem.InMemoryMembershipRepository(), mem.InMemoryInvitationRepository(), mem.InMemoryProjectRepository(),
        mem.InMemoryTaskRepository(), mem.InMemorySegmentRepository(), mem.InMemoryJobRepository(),
        mem.InMemoryLabelRepository(), mem.InMemoryAccessTokenRepository(), mem.InMemorySessionRepository(),
        mem.InMemoryLoginAttemptRepository(), mem.InMemoryIdGenerator(),
    )


def dynamo_all_repos(table_name: str) -> AllRepos:
    """Built through the same two functions the composition root calls."""
    core = dynamo_repositories(table_name, users=DynamoUserRepository(table_name))
    auth = dynamo_auth_repositories(table_name)
    return AllRepos(
        "dynamodb", core.users, core.organizations, core.memberships, core.invitations, core.projects,
        core.tasks, core.segments, core.jobs, core.labels, auth.access_tokens, auth.sessions,
        auth.login_attempts, DynamoIdGenerator(table_name),
    )


@pytest.fixture(params=["memory", "dynamodb"])
def repos(request: pytest.FixtureRequest) -> AllRepos:
    if request.param == "memory":
        return memory_repos()
    return dynamo_all_repos(request.getfixturevalue("table"))


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
