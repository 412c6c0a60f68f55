"""The behaviour every repository adapter must share (copies, versions, uniqueness, atomic
batches). Parametrised over the in-memory fakes; the DynamoDB adapters can join the factories."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cvat_serverless.adapters import memory as mem
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.jobs import Job, JobState
from cvat_serverless.domain.labels import Label
from cvat_serverless.domain.organizations import Membership, Organization, OrgRole
from cvat_serverless.domain.tasks import Task

NOW = datetime(2026, 1, 1, tzinfo=UTC)

FACTORIES = {
    "task": (mem.InMemoryTaskRepository, lambda i: Task(id=i, name=f"t{i}", owner_id=1)),
    "organization": (mem.InMemoryOrganizationRepository, lambda i: Organization(id=i, slug=f"o{i}", owner_id=1)),
    "job": (
        mem.InMemoryJobRepository,
        lambda i: Job(id=i, task_id=1, segment_id=i, start_frame=0, stop_frame=1, frame_count=2),
    ),
}


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_versions_copies_and_not_found(kind):
    repo_cls, make = FACTORIES[kind]
    repo = repo_cls()
    adder = repo.add if hasattr(repo, "add") else (lambda e: repo.add_many([e])[0])
    stored = adder(make(1))
    assert stored.version == 1
    loaded = repo.get(1)
    loaded.version = 1
    first = repo.save(loaded)
    assert first.version == 2
    with pytest.raises(ConflictError):
        repo.save(loaded)  # still version 1: stale
    # what a caller changes is not stored until saved
    first_copy = repo.get(1)
    if hasattr(first_copy, "name"):
        first_copy.name = "changed"
        assert repo.get(1).name != "changed"
    with pytest.raises(NotFoundError):
        repo.get(999)
    with pytest.raises(NotFoundError):
        repo.delete(999)
    with pytest.raises(ConflictError):
        adder(make(1))


def test_uniqueness_rules():
    orgs = mem.InMemoryOrganizationRepository()
    orgs.add(Organization(id=1, slug="a", owner_id=1))
    with pytest.raises(ConflictError):
        orgs.add(Organization(id=2, slug="a", owner_id=1))
    other = orgs.add(Organization(id=3, slug="b", owner_id=1))
    other.slug = "a"
    with pytest.raises(ConflictError):
        orgs.save(other)
    members = mem.InMemoryMembershipRepository()
    members.add(Membership(id=1, user_id=5, organization_id=1, role=OrgRole.WORKER))
    with pytest.raises(ConflictError):
        members.add(Membership(id=2, user_id=5, organization_id=1, role=OrgRole.OWNER))


def test_batches_are_all_or_nothing():
    labels = mem.InMemoryLabelRepository()
    batch = [Label(id=1, name="a", color="#000000", task_id=1), Label(id=2, name="a", color="#000001", task_id=1)]
    with pytest.raises(ConflictError):
        labels.add_many(batch)
    assert labels.list_by_task(1) == []
    jobs = mem.InMemoryJobRepository()
    jobs.add_many([FACTORIES["job"][1](1)])
    with pytest.raises(ConflictError):
        jobs.add_many([FACTORIES["job"][1](2), FACTORIES["job"][1](1)])
    assert [j.id for j in jobs.list_all()] == [1]
    assert jobs.get(1).state == JobState.NEW
