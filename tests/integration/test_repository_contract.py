"""One contract suite for the user repository and id generator: the in-memory fakes and the
DynamoDB adapters must behave the same, so unit tests on fakes mean something."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cvat_serverless.adapters.aws.dynamo import DynamoIdGenerator, DynamoUserRepository
from cvat_serverless.adapters.memory import InMemoryIdGenerator, InMemoryUserRepository
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.users import SystemRole, User


@pytest.fixture(params=["memory", "dynamodb"])
def repos(request):
    if request.param == "memory":
        return InMemoryUserRepository(), InMemoryIdGenerator()
    deployment = request.getfixturevalue("stack")
    table = deployment.outputs["DataTableName"]
    return DynamoUserRepository(table), DynamoIdGenerator(table)


def user(uid: int, name: str, email: str = "") -> User:
    return User(id=uid, username=name, email=email, password_hash="h", groups=[SystemRole.USER],
                date_joined=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


def test_ids_are_sequential_per_kind(repos):
    _, ids = repos
    assert [ids.next_id("user") for _ in range(3)] == [1, 2, 3]
    assert ids.next_id("task") == 1


def test_add_get_and_find(repos):
    users, _ = repos
    stored = users.add(user(1, "Alice", "alice@example.com"))
    assert stored.version >= 1
    got = users.get(1)
    assert (got.username, got.email, got.groups, got.date_joined) == (
        "Alice", "alice@example.com", [SystemRole.USER], datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert users.find_by_username("alice").id == 1  # usernames are case-insensitive
    assert users.find_by_email("ALICE@example.com").id == 1
    assert users.find_by_username("bob") is None
    assert users.find_by_email("") is None
    with pytest.raises(NotFoundError):
        users.get(99)


def test_username_and_email_are_unique(repos):
    users, _ = repos
    users.add(user(1, "alice", "a@example.com"))
    with pytest.raises(ConflictError):
        users.add(user(2, "ALICE", "other@example.com"))
    with pytest.raises(ConflictError):
        users.add(user(3, "carol", "a@example.com"))
    users.add(user(4, "dave"))
    users.add(user(5, "erin"))  # several users without an email are fine
    assert sorted(u.id for u in users.list_all()) == [1, 4, 5]


def test_save_bumps_version_and_a_stale_copy_conflicts(repos):
    users, _ = repos
    first = users.add(user(1, "alice"))
    updated = users.save(replace(first, first_name="Al"))
    assert updated.version == first.version + 1
    assert users.get(1).first_name == "Al"
    with pytest.raises(ConflictError):
        users.save(replace(first, last_name="Stale"))
    assert users.get(1).last_name == ""
