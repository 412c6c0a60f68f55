"""The repository contract against the in-memory fakes and the DynamoDB adapters alike.

Part 1 re-runs every test of tests/unit/services/test_svc_repository_contract.py (the services'
own contract suite) on DynamoDB: the module is loaded a second time and its repository classes
and factories are swapped for the DynamoDB adapters, so a test added there runs here too.
Part 2 covers every port method, parametrised over both backends (fixture ``repos``).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import test_dynamo_support as support

from cvat_serverless.adapters.aws import dynamo_jobs, dynamo_orgs, dynamo_projects, dynamo_store
from cvat_serverless.domain.auth import AccessToken, Session
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.jobs import Job, JobStage, Segment
from cvat_serverless.domain.labels import Label
from cvat_serverless.domain.organizations import Invitation, Membership, Organization, OrgRole
from cvat_serverless.domain.projects import Project
from cvat_serverless.domain.tasks import Task
from cvat_serverless.domain.users import User

# the shared fixtures (a module-scoped moto, a fresh table per test, both backends)
dynamo_moto, table, repos = support.dynamo_moto, support.table, support.repos

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------- part 1


def _load_services_contract() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "unit" / "services" / "test_svc_repository_contract.py"
    spec = importlib.util.spec_from_file_location("_svc_repository_contract_on_dynamodb", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CONTRACT = _load_services_contract()


def _cases() -> list[Any]:
    cases = []
    for name, fn in sorted(vars(CONTRACT).items()):
        if not (name.startswith("test_") and inspect.isfunction(fn)):
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if marks:
            argname, values = marks[0].args[0], marks[0].args[1]
            cases += [pytest.param(name, {argname: v}, id=f"{name}[{v}]") for v in values]
        else:
            cases.append(pytest.param(name, {}, id=name))
    return cases


@pytest.fixture
def contract_on_dynamodb(table: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    adapters = SimpleNamespace(
        InMemoryTaskRepository=lambda: dynamo_projects.DynamoTaskRepository(table),
        InMemoryProjectRepository=lambda: dynamo_projects.DynamoProjectRepository(table),
        InMemoryLabelRepository=lambda: dynamo_projects.DynamoLabelRepository(table),
        InMemoryOrganizationRepository=lambda: dynamo_orgs.DynamoOrganizationRepository(table),
        InMemoryMembershipRepository=lambda: dynamo_orgs.DynamoMembershipRepository(table),
        InMemoryInvitationRepository=lambda: dynamo_orgs.DynamoInvitationRepository(table),
        InMemoryJobRepository=lambda: dynamo_jobs.DynamoJobRepository(table),
        InMemorySegmentRepository=lambda: dynamo_jobs.DynamoSegmentRepository(table),
    )
    factories = {kind: (getattr(adapters, cls.__name__), make) for kind, (cls, make) in CONTRACT.FACTORIES.items()}
    monkeypatch.setattr(CONTRACT, "mem", adapters)
    monkeypatch.setattr(CONTRACT, "FACTORIES", factories)
    return CONTRACT


@pytest.mark.parametrize(("name", "kwargs"), _cases())
def test_services_contract_on_dynamodb(contract_on_dynamodb: ModuleType, name: str, kwargs: dict[str, Any]) -> None:
    fn = getattr(contract_on_dynamodb, name)
    assert set(inspect.signature(fn).parameters) == set(kwargs), f"{name} needs fixtures this runner lacks"
    fn(**kwargs)


# --------------------------------------------------------------------------- part 2


def _user(i: int) -> User:
    return User(id=i, username=f"user{i}", email=f"u{i}@example.com", password_hash="h")


def _token(i: int) -> AccessToken:
    return AccessToken(id=i, name=f"t{i}", owner_id=1, digest=f"d{i}", prefix="abc", created_date=NOW,
                       updated_date=NOW)


def _invitation(i: int) -> Invitation:
    return Invitation(key=f"key{i}", organization_id=1, membership_id=i, user_id=2, role=OrgRole.WORKER,
                      owner_id=1, created_date=NOW)


# kind -> (repository attribute, factory, how to get by the entity's key, a field to change)
KINDS: dict[str, tuple[str, Any, Any, str]] = {
    "user": ("users", _user, lambda e: e.id, "first_name"),
    "organization": ("organizations", lambda i: Organization(id=i, slug=f"o{i}", owner_id=1), lambda e: e.id, "name"),
    "membership": ("memberships", lambda i: Membership(id=i, user_id=i, organization_id=1, role=OrgRole.WORKER),
                   lambda e: e.id, "is_active"),
    "invitation": ("invitations", _invitation, lambda e: e.key, "accepted"),
    "project": ("projects", lambda i: Project(id=i, name=f"p{i}", owner_id=1), lambda e: e.id, "name"),
    "task": ("tasks", lambda i: Task(id=i, name=f"t{i}", owner_id=1), lambda e: e.id, "name"),
    "job": ("jobs", lambda i: Job(id=i, task_id=1, segment_id=i, start_frame=0, stop_frame=9, frame_count=10),
            lambda e: e.id, "stage"),
    "label": ("labels", lambda i: Label(id=i, name=f"l{i}", color="#ff0000", task_id=1), lambda e: e.id, "name"),
    "access token": ("access_tokens", _token, lambda e: e.id, "name"),
}
CHANGED = {"first_name": "Changed", "name": "changed", "is_active": True, "accepted": True,
           "stage": JobStage.VALIDATION}


def _adder(repo: Any) -> Any:
    return repo.add if hasattr(repo, "add") else (lambda e: repo.add_many([e])[0])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_versions_copies_conflicts_and_not_found(repos: support.AllRepos, kind: str) -> None:
    attr, make, key, field = KINDS[kind]
    repo = getattr(repos, attr)
    add = _adder(repo)
    stored = add(make(1))
    assert stored.version == 1
    assert repo.get(key(stored)) == stored
    loaded = repo.get(key(stored))
    setattr(loaded, field, CHANGED[field])
    assert getattr(repo.get(key(stored)), field) != CHANGED[field]  # not stored until saved
    saved = repo.save(loaded)
    assert saved.version == 2
    assert repo.get(key(stored)) == saved
    assert loaded.version == 1  # save returns a new object; the caller's copy is untouched
    with pytest.raises(ConflictError):
        repo.save(loaded)  # version 1 is stale now
    with pytest.raises(ConflictError):
        add(make(1))  # the id exists
    with pytest.raises(NotFoundError):
        repo.save(make(99))
    unknown = "nope" if kind == "invitation" else 999
    with pytest.raises(NotFoundError):
        repo.get(unknown)
    with pytest.raises(NotFoundError):
        repo.delete(unknown)
    repo.delete(key(stored))
    with pytest.raises(NotFoundError):
        repo.get(key(stored))
    again = add(make(1))  # every guard of the deleted entity was released
    assert again.version == 1


def test_organizations_by_slug(repos: support.AllRepos) -> None:
    orgs = repos.organizations
    a = orgs.add(Organization(id=1, slug="acme", owner_id=1))
    orgs.add(Organization(id=2, slug="beta", owner_id=1))
    assert orgs.find_by_slug("acme") == a
    assert orgs.find_by_slug("ACME") is None  # slugs are case-sensitive, as in CVAT
    assert orgs.find_by_slug("") is None
    with pytest.raises(ConflictError):
        orgs.add(Organization(id=3, slug="acme", owner_id=2))
    with pytest.raises(ConflictError):
        orgs.save(replace(a, slug="beta"))
    assert orgs.get(1).slug == "acme" and orgs.get(1).version == 1  # a failed rename changes nothing
    renamed = orgs.save(replace(a, slug="gamma"))
    assert orgs.find_by_slug("acme") is None
    assert orgs.find_by_slug("gamma") == renamed
    orgs.add(Organization(id=4, slug="acme", owner_id=1))  # the old slug is free again
    assert [o.id for o in orgs.list_all()] == [1, 2, 4]
    orgs.delete(2)
    assert orgs.find_by_slug("beta") is None
    assert [o.id for o in orgs.list_all()] == [1, 4]


def test_memberships(repos: support.AllRepos) -> None:
    ms = repos.memberships
    ms.add(Membership(id=3, user_id=5, organization_id=1, role=OrgRole.OWNER, is_active=True))
    ms.add(Membership(id=1, user_id=6, organization_id=1, role=OrgRole.WORKER))
    ms.add(Membership(id=2, user_id=5, organization_id=2, role=OrgRole.WORKER))
    with pytest.raises(ConflictError):
        ms.add(Membership(id=4, user_id=5, organization_id=1, role=OrgRole.WORKER))
    assert ms.find(1, 5).id == 3
    assert ms.find(2, 6) is None
    assert [m.id for m in ms.list_by_organization(1)] == [1, 3]
    assert [m.id for m in ms.list_by_user(5)] == [2, 3]
    promoted = ms.save(replace(ms.get(1), role=OrgRole.MAINTAINER, is_active=True, joined_date=NOW))
    assert ms.find(1, 6) == promoted
    assert ms.list_by_user(6) == [promoted]
    moved = ms.save(replace(promoted, organization_id=2))  # the (org, user) guard moves with it
    assert ms.find(1, 6) is None and ms.find(2, 6) == moved
    assert [m.id for m in ms.list_by_organization(2)] == [1, 2]
    with pytest.raises(ConflictError):
        ms.save(replace(ms.get(2), user_id=6))  # (2, 6) is taken
    ms.delete(3)
    assert ms.find(1, 5) is None
    assert [m.id for m in ms.list_by_user(5)] == [2]


def test_invitations(repos: support.AllRepos) -> None:
    inv = repos.invitations
    inv.add(_invitation(1))
    inv.add(replace(_invitation(2), organization_id=2, user_id=3, owner_id=3))  # invited themself
    inv.add(replace(_invitation(3), owner_id=None))
    with pytest.raises(ConflictError):
        inv.add(_invitation(1))
    assert [i.key for i in inv.list_by_organization(1)] == ["key1", "key3"]
    assert [i.key for i in inv.list_by_user(2)] == ["key1", "key3"]
    assert [i.key for i in inv.list_by_user(1)] == ["key1"]  # the inviter sees it too
    assert [i.key for i in inv.list_by_user(3)] == ["key2"]
    sent = inv.save(replace(inv.get("key1"), sent_date=NOW + timedelta(days=1), accepted=True))
    assert inv.list_by_user(1) == [sent]
    inv.delete("key1")
    assert inv.list_by_user(1) == []
    assert [i.key for i in inv.list_by_user(2)] == ["key3"]


def test_projects_and_tasks_by_owner(repos: support.AllRepos) -> None:
    projects, tasks = repos.projects, repos.tasks
    projects.add(Project(id=2, name="p2", owner_id=1, organization_id=7))
    projects.add(Project(id=1, name="p1", owner_id=1))
    tasks.add(Task(id=3, name="t3", owner_id=1, organization_id=7, project_id=2))
    tasks.add(Task(id=1, name="t1", owner_id=1))
    tasks.add(Task(id=2, name="t2", owner_id=1, organization_id=7))
    assert [p.id for p in projects.list_all()] == [1, 2]
    assert [p.id for p in projects.list_by_organization(7)] == [2]
    assert [p.id for p in projects.list_by_organization(None)] == [1]
    assert [t.id for t in tasks.list_all()] == [1, 2, 3]
    assert [t.id for t in tasks.list_by_organization(7)] == [2, 3]
    assert [t.id for t in tasks.list_by_organization(None)] == [1]
    assert [t.id for t in tasks.list_by_project(2)] == [3]
    # moving a task to another project and workspace moves it between the lists
    moved = tasks.save(replace(tasks.get(3), project_id=1, organization_id=None))
    assert tasks.list_by_project(2) == []
    assert tasks.list_by_project(1) == [moved]
    assert [t.id for t in tasks.list_by_organization(None)] == [1, 3]
    assert [t.id for t in tasks.list_by_organization(7)] == [2]
    out = tasks.save(replace(moved, project_id=None))
    assert tasks.list_by_project(1) == []
    assert tasks.get(3) == out
    projects.save(replace(projects.get(1), organization_id=7))
    assert [p.id for p in projects.list_by_organization(7)] == [1, 2]
    tasks.delete(2)
    projects.delete(2)
    assert [t.id for t in tasks.list_all()] == [1, 3]
    assert [t.id for t in tasks.list_by_organization(7)] == []
    assert [p.id for p in projects.list_all()] == [1]


def _job(i: int, task: int, org: int | None = None) -> Job:
    return Job(id=i, task_id=task, segment_id=i, start_frame=i * 10, stop_frame=i * 10 + 9, frame_count=10,
               organization_id=org)


def test_segments_and_jobs(repos: support.AllRepos) -> None:
    segments, jobs = repos.segments, repos.jobs
    segments.add_many([Segment(id=i, task_id=1 + i % 2, start_frame=i, stop_frame=i) for i in (3, 1, 2)])
    assert [s.id for s in segments.list_by_task(2)] == [1, 3]
    assert segments.get(2).task_id == 1
    with pytest.raises(NotFoundError):
        segments.get(9)
    with pytest.raises(ConflictError):
        segments.add_many([Segment(id=5, task_id=1, start_frame=0, stop_frame=0),
                           Segment(id=2, task_id=1, start_frame=0, stop_frame=0)])
    assert [s.id for s in segments.list_by_task(1)] == [2]  # segment 5 was not kept
    segments.delete_by_task(2)
    assert segments.list_by_task(2) == []
    with pytest.raises(NotFoundError):
        segments.get(3)
    assert segments.get(2).id == 2

    jobs.add_many([_job(2, 1, 7), _job(1, 1), _job(3, 2, 7)])
    assert [j.id for j in jobs.list_all()] == [1, 2, 3]
    assert [j.id for j in jobs.list_by_task(1)] == [1, 2]
    assert [j.id for j in jobs.list_by_organization(7)] == [2, 3]
    assert [j.id for j in jobs.list_by_organization(None)] == [1]
    moved = jobs.save(replace(jobs.get(1), organization_id=8, stage=JobStage.ACCEPTANCE))
    assert jobs.list_by_organization(None) == []
    assert jobs.list_by_organization(8) == [moved]
    assert jobs.list_by_task(1)[0] == moved
    jobs.delete_by_task(1)
    assert [j.id for j in jobs.list_all()] == [3]
    jobs.delete_by_task(1)  # idempotent
    jobs.delete(3)
    assert jobs.list_all() == []


def test_labels_names_are_unique_per_owner_and_parent(repos: support.AllRepos) -> None:
    labels = repos.labels
    labels.add_many([
        Label(id=1, name="car", color="#000001", task_id=1),
        Label(id=2, name="person", color="#000002", task_id=1),
        Label(id=3, name="car", color="#000003", task_id=2),  # another task
        Label(id=4, name="car", color="#000004", task_id=1, parent_id=2),  # a sublabel
        Label(id=5, name="car", color="#000005", project_id=1),
    ])
    with pytest.raises(ConflictError):
        labels.add_many([Label(id=6, name="car", color="#000006", task_id=1)])
    with pytest.raises(ConflictError):
        labels.save(replace(labels.get(2), name="car"))
    renamed = labels.save(replace(labels.get(1), name="truck"))
    labels.add_many([Label(id=6, name="car", color="#000006", task_id=1)])  # "car" is free again
    assert [lb.id for lb in labels.list_by_task(1)] == [1, 2, 4, 6]
    assert labels.list_by_task(1)[0] == renamed
    assert [lb.id for lb in labels.list_by_project(1)] == [5]
    labels.delete(6)
    labels.add_many([Label(id=7, name="car", color="#000007", task_id=1)])
    assert [lb.id for lb in labels.list_by_task(1)] == [1, 2, 4, 7]


@pytest.mark.parametrize("size", [3, 25])
def test_batches_are_all_or_nothing(repos: support.AllRepos, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto copies the whole table for every item of a transaction, so big batches are slow on it;
    # a limit of 10 items per transaction makes 25 labels (75 items) take 8 transactions.
    monkeypatch.setattr(dynamo_store, "MAX_TRANSACTION_ITEMS", 10)
    labels, jobs = repos.labels, repos.jobs
    labels.add_many([Label(id=1000, name="taken", color="#000000", task_id=1)])
    batch = [Label(id=i, name=f"l{i}", color="#000000", task_id=1) for i in range(1, size)]
    with pytest.raises(ConflictError):  # the last label's name is taken: nothing of the batch stays
        labels.add_many([*batch, Label(id=size, name="taken", color="#000000", task_id=1)])
    assert [lb.id for lb in labels.list_by_task(1)] == [1000]
    with pytest.raises(NotFoundError):
        labels.get(1)
    labels.add_many([*batch, Label(id=size, name="free", color="#000000", task_id=1)])
    assert len(labels.list_by_task(1)) == size + 1

    jobs.add_many([_job(10_000, 1)])
    with pytest.raises(ConflictError):
        jobs.add_many([*(_job(i, 1) for i in range(1, size)), _job(10_000, 1)])
    assert [j.id for j in jobs.list_by_task(1)] == [10_000]
    stored = jobs.add_many([_job(i, 1) for i in range(1, size + 1)])
    assert [j.version for j in stored] == [1] * size
    assert len(jobs.list_by_task(1)) == size + 1
    with pytest.raises(ConflictError):  # the same id twice in one batch
        jobs.add_many([_job(20_000, 2), _job(20_000, 2)])
    assert jobs.list_by_task(2) == []


def test_a_batch_over_the_real_transaction_limit(repos: support.AllRepos) -> None:
    segments = repos.segments
    batch = [Segment(id=i, task_id=1, start_frame=i, stop_frame=i) for i in range(1, 61)]  # 120 items
    segments.add_many([Segment(id=100, task_id=2, start_frame=0, stop_frame=0)])
    with pytest.raises(ConflictError):
        segments.add_many([*batch, Segment(id=100, task_id=1, start_frame=0, stop_frame=0)])
    assert segments.list_by_task(1) == []
    assert len(segments.add_many(batch)) == 60
    assert [s.id for s in segments.list_by_task(1)] == list(range(1, 61))


def test_users(repos: support.AllRepos) -> None:
    users = repos.users
    alice = users.add(_user(1))
    users.add(_user(2))
    with pytest.raises(ConflictError):
        users.add(replace(_user(3), username="USER1"))
    with pytest.raises(ConflictError):
        users.add(replace(_user(3), email="U2@example.com"))
    renamed = users.save(replace(alice, username="alice", email="alice@example.com"))
    assert users.find_by_username("user1") is None
    assert users.find_by_email("u1@example.com") is None
    assert users.find_by_username("ALICE") == renamed
    assert users.find_by_email("alice@example.com") == renamed
    with pytest.raises(ConflictError):
        users.save(replace(renamed, username="user2"))
    with pytest.raises(ConflictError):
        users.save(replace(renamed, email="u2@example.com"))
    with pytest.raises(ConflictError):
        users.save(replace(alice, username="stale"))  # version 1 is stale
    assert users.get(1) == renamed
    no_email = users.save(replace(renamed, email=""))
    assert users.find_by_email("alice@example.com") is None
    users.add(replace(_user(3), email="alice@example.com"))
    users.delete(1)
    assert users.find_by_username("alice") is None
    users.add(replace(_user(4), username="Alice"))
    assert [u.id for u in users.list_all()] == [2, 3, 4]
    assert no_email.version == 3
    with pytest.raises(NotFoundError):
        users.delete(1)


def test_access_tokens(repos: support.AllRepos) -> None:
    tokens = repos.access_tokens
    tokens.add(_token(2))
    tokens.add(_token(1))
    tokens.add(replace(_token(3), owner_id=2))
    with pytest.raises(ConflictError):
        tokens.add(replace(_token(4), digest="d1"))
    assert tokens.find_by_digest("d1").id == 1
    assert tokens.find_by_digest("nope") is None
    assert [t.id for t in tokens.list_by_owner(1)] == [1, 2]
    used = tokens.save(replace(tokens.get(1), last_used_date=NOW, read_only=True))
    assert tokens.find_by_digest("d1") == used
    tokens.delete(1)
    assert tokens.find_by_digest("d1") is None
    assert [t.id for t in tokens.list_by_owner(1)] == [2]


def test_sessions(repos: support.AllRepos) -> None:
    sessions = repos.sessions

    def session(digest: str, user: int) -> Session:
        return Session(digest=digest, user_id=user, csrf_token=f"csrf-{digest}", created_date=NOW,
                       expiry_date=NOW + timedelta(days=14))

    stored = sessions.add(session("a", 1))
    sessions.add(session("b", 1))
    sessions.add(session("c", 2))
    with pytest.raises(ConflictError):
        sessions.add(session("a", 3))
    assert sessions.find_by_digest("a") == stored == session("a", 1)
    assert sessions.find_by_digest("zzz") is None
    sessions.delete("a")
    sessions.delete("a")  # idempotent
    assert sessions.find_by_digest("a") is None
    sessions.delete_by_user(1)
    assert sessions.find_by_digest("b") is None
    assert sessions.find_by_digest("c") == session("c", 2)


def test_login_attempts(repos: support.AllRepos) -> None:
    attempts = repos.login_attempts
    paris = timezone(timedelta(hours=1))
    times = [NOW, NOW + timedelta(minutes=5), (NOW + timedelta(minutes=10)).astimezone(paris)]
    for at in times:
        attempts.add_failure("user:alice", at)
    attempts.add_failure("user:alice", times[1])  # two failures at the same instant both count
    attempts.add_failure("ip:10.0.0.1", NOW)
    long_key = "user:" + "x" * 3000  # a partition key holds at most 2048 bytes
    attempts.add_failure(long_key, NOW)
    assert sorted(attempts.failures_since("user:alice", NOW + timedelta(minutes=5))) == [times[1], times[1], times[2]]
    everything = sorted(attempts.failures_since("user:alice", NOW - timedelta(days=1)))
    assert everything == [times[0], times[1], times[1], times[2]]
    assert attempts.failures_since("user:bob", NOW) == []
    assert attempts.failures_since(long_key, NOW) == [NOW]
    attempts.clear("user:alice")
    attempts.clear("user:alice")
    assert attempts.failures_since("user:alice", NOW - timedelta(days=1)) == []
    assert attempts.failures_since("ip:10.0.0.1", NOW) == [NOW]


def test_ids_are_atomic_counters(repos: support.AllRepos) -> None:
    assert [repos.ids.next_id("task") for _ in range(3)] == [1, 2, 3]
    assert repos.ids.next_id("job") == 1
