"""The lists that read only what a caller may see (get_many, the per-user lists, the lists over
several projects or tasks, the counts, the "all" lists), on both backends: the in-memory fakes
and the DynamoDB adapters on moto. On DynamoDB also: every list is a strongly consistent Query of
a base-table partition (never gsi1, never a Scan), the lists over several partitions query them
concurrently and skip empty id lists, and a table written by schema version 1 is moved forward by
DynamoSchema.ensure()."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws import dynamo_migrations, dynamo_store
from cvat_serverless.adapters.aws.dynamo import SCHEMA_VERSION, DynamoSchema, DynamoUserRepository, items_model
from cvat_serverless.adapters.aws.dynamo_codec import encode
from cvat_serverless.adapters.aws.dynamo_store import plain_items_model
from cvat_serverless.domain.auth import AccessToken
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.jobs import Job, Segment
from cvat_serverless.domain.labels import Label
from cvat_serverless.domain.organizations import Invitation, Membership, Organization, OrgRole
from cvat_serverless.domain.projects import Project
from cvat_serverless.domain.tasks import Task
from cvat_serverless.domain.users import User
from cvat_serverless.ports import ALL_ORGANIZATIONS, Window

dynamo_moto, table, repos = backends.dynamo_moto, backends.table, backends.repos
Repos = backends.Repos

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _user(i: int) -> User:
    return User(id=i, username=f"user{i}", email=f"u{i}@example.com", password_hash="h")


def _project(i: int, owner: int | None = 1, assignee: int | None = None, org: int | None = None) -> Project:
    return Project(id=i, name=f"p{i}", owner_id=owner, assignee_id=assignee, organization_id=org)


def _task(i: int, owner: int | None = 1, assignee: int | None = None, project: int | None = None,
          org: int | None = None) -> Task:
    return Task(id=i, name=f"t{i}", owner_id=owner, assignee_id=assignee, project_id=project, organization_id=org)


def _job(i: int, task: int, assignee: int | None = None, org: int | None = None) -> Job:
    return Job(id=i, task_id=task, segment_id=i, start_frame=0, stop_frame=9, frame_count=10,
               assignee_id=assignee, organization_id=org)


def _label(i: int, task: int | None = None, project: int | None = None) -> Label:
    return Label(id=i, name=f"l{i}", color="#000000", task_id=task, project_id=project)


def ids(entities: list[Any]) -> list[int]:
    return [e.id for e in entities]


def _stored(entity: Any, version: int = 3) -> Any:
    return replace(entity, version=version)


# --------------------------------------------------------------------------- get_many


GET_MANY: dict[str, tuple[Callable[[int], Any], str]] = {  # a new entity, a str field to change
    "users": (_user, "first_name"),
    "organizations": (lambda i: Organization(id=i, slug=f"o{i}", owner_id=1), "name"),
    "projects": (_project, "name"),
    "tasks": (_task, "name"),
}


@pytest.mark.parametrize("repo", sorted(GET_MANY))
def test_get_many_returns_the_known_ids_once_in_the_order_asked(repos: Repos, repo: str) -> None:
    make, changed_field = GET_MANY[repo]
    store = getattr(repos, repo)
    stored = {i: store.add(make(i)) for i in (1, 2, 3)}
    store.save(replace(stored[3], **{changed_field: "changed"}))
    found = store.get_many([3, 999, 1, 3])
    assert list(found) == [3, 1]
    assert found[1] == stored[1]
    assert found[3] == store.get(3) and found[3].version == 2  # the latest version, not a stale copy
    assert store.get_many([]) == {}
    assert store.get_many(iter([2])) == {2: stored[2]}  # any iterable


def test_get_many_reads_more_than_one_batch(table: str, calls: Calls) -> None:
    # BatchGetItem takes 100 keys a request. The main items are written directly: 130 adds, one
    # transaction each, take seconds on moto.
    with plain_items_model(table).batch_write() as batch:
        for i in range(1, 131):
            batch.save(plain_items_model(table)(pk=f"PROJECT#{i}", sk="PROJECT", data=encode(_project(i)), version=1))
    calls.made.clear()
    found = backends.dynamo_repos(table).projects.get_many(range(135, 0, -1))
    assert list(found) == list(range(130, 0, -1))
    assert found[7] == _stored(_project(7), version=1)
    assert sorted(len(b["RequestItems"][table]["Keys"]) for b in calls.of("BatchGetItem")) == [35, 100]


# --------------------------------------------------------------------------- per-user lists


def test_projects_of_a_user_are_those_owned_or_assigned_once_each(repos: Repos) -> None:
    projects = repos.projects
    projects.add(_project(3, owner=1))
    projects.add(_project(1, owner=2, assignee=1, org=7))
    projects.add(_project(2, owner=1, assignee=1))  # both: listed once
    projects.add(_project(4, owner=2, assignee=3))
    projects.add(_project(5, owner=None))
    assert ids(projects.list_by_user(1)) == [1, 2, 3]
    assert ids(projects.list_by_user(2)) == [1, 4]
    assert ids(projects.list_by_user(3)) == [4]
    assert projects.list_by_user(99) == []
    assert projects.list_by_user(1)[0] == projects.get(1)


def test_the_project_copies_of_users_move_with_a_save_and_go_with_a_delete(repos: Repos) -> None:
    projects = repos.projects
    p = projects.add(_project(1, owner=1, assignee=2))
    p = projects.save(replace(p, assignee_id=3))
    assert ids(projects.list_by_user(2)) == []
    assert projects.list_by_user(3) == [p]
    p = projects.save(replace(p, owner_id=3))  # owner and assignee the same user now
    assert projects.list_by_user(1) == []
    assert projects.list_by_user(3) == [p]
    p = projects.save(replace(p, assignee_id=None, owner_id=4))
    assert projects.list_by_user(3) == []
    assert projects.list_by_user(4) == [p]
    projects.delete(1)
    assert projects.list_by_user(4) == []
    assert projects.list_all() == []


def test_tasks_of_a_user_are_those_owned_or_assigned_once_each(repos: Repos) -> None:
    tasks = repos.tasks
    tasks.add(_task(1, owner=1, assignee=1, project=5))
    tasks.add(_task(2, owner=2, assignee=1, org=3))
    tasks.add(_task(3, owner=2))
    t4 = tasks.add(_task(4, owner=1, assignee=2))
    assert ids(tasks.list_by_user(1)) == [1, 2, 4]
    assert ids(tasks.list_by_user(2)) == [2, 3, 4]
    t4 = tasks.save(replace(t4, owner_id=2))
    assert ids(tasks.list_by_user(1)) == [1, 2]
    assert tasks.list_by_user(2)[-1] == t4
    tasks.delete(2)
    assert ids(tasks.list_by_user(1)) == [1]
    assert ids(tasks.list_by_user(2)) == [3, 4]


def test_jobs_of_an_assignee_follow_the_assignee(repos: Repos) -> None:
    jobs = repos.jobs
    jobs.add_many([_job(2, task=1, assignee=5), _job(1, task=2, assignee=5, org=3), _job(3, task=1)])
    assert ids(jobs.list_by_assignee(5)) == [1, 2]
    j = jobs.save(replace(jobs.get(2), assignee_id=6))
    assert ids(jobs.list_by_assignee(5)) == [1]
    assert jobs.list_by_assignee(6) == [j]
    jobs.save(replace(j, assignee_id=None))
    assert jobs.list_by_assignee(6) == []
    jobs.delete(1)
    assert jobs.list_by_assignee(5) == []
    jobs.add_many([_job(4, task=9, assignee=7)])
    jobs.delete_by_task(9)
    assert jobs.list_by_assignee(7) == []
    assert ids(jobs.list_all()) == [2, 3]


# --------------------------------------------------------------------------- several partitions


def test_tasks_of_several_projects_merged_by_id(repos: Repos) -> None:
    tasks = repos.tasks
    for i, project in [(5, 1), (1, 2), (3, 1), (2, None), (4, 3)]:
        tasks.add(_task(i, project=project))
    assert ids(tasks.list_by_projects([2, 1])) == [1, 3, 5]
    assert ids(tasks.list_by_projects([1, 1, 99])) == [3, 5]  # duplicates and unknown projects
    assert ids(tasks.list_by_projects(iter([3, 2]))) == [1, 4]
    assert tasks.list_by_projects([]) == []
    moved = tasks.save(replace(tasks.get(5), project_id=3))
    assert ids(tasks.list_by_projects([1])) == [3]
    assert tasks.list_by_projects([3]) == [tasks.get(4), moved]
    tasks.delete(4)
    assert tasks.list_by_projects([3]) == [moved]


def test_task_counts_of_projects_have_every_project_given(repos: Repos) -> None:
    tasks = repos.tasks
    for i, project in [(1, 1), (2, 1), (3, 2), (4, None)]:
        tasks.add(_task(i, project=project))
    assert tasks.count_by_projects([2, 1, 7]) == {2: 1, 1: 2, 7: 0}
    assert tasks.count_by_projects([1, 1]) == {1: 2}
    assert tasks.count_by_projects([]) == {}
    tasks.save(replace(tasks.get(1), project_id=2))
    tasks.delete(2)
    assert tasks.count_by_projects(iter([1, 2])) == {1: 0, 2: 2}


def test_jobs_of_several_tasks_merged_by_id(repos: Repos) -> None:
    jobs = repos.jobs
    jobs.add_many([_job(4, task=1), _job(2, task=2), _job(3, task=1), _job(1, task=3)])
    assert ids(jobs.list_by_tasks([1, 2])) == [2, 3, 4]
    assert ids(jobs.list_by_tasks([3, 3, 99])) == [1]
    assert jobs.list_by_tasks([]) == []
    jobs.delete_by_task(1)
    assert ids(jobs.list_by_tasks([1, 2])) == [2]


def test_labels_of_several_tasks_or_projects_and_all_labels(repos: Repos) -> None:
    labels = repos.labels
    labels.add_many([_label(4, task=1), _label(2, task=2), _label(3, project=1), _label(1, project=2),
                     _label(5, task=3), replace(_label(6, task=1), parent_id=4)])
    assert ids(labels.list_by_tasks([2, 1])) == [2, 4, 6]
    assert ids(labels.list_by_projects([2, 1, 2])) == [1, 3]
    assert labels.list_by_tasks([]) == [] and labels.list_by_projects([]) == []
    assert ids(labels.list_all()) == [1, 2, 3, 4, 5, 6]
    renamed = labels.save(replace(labels.get(2), name="renamed"))
    assert labels.list_all()[1] == renamed
    labels.delete(6)
    assert ids(labels.list_by_tasks([1])) == [4]
    assert ids(labels.list_all()) == [1, 2, 3, 4, 5]


# --------------------------------------------------------------------------- lists moved off gsi1


@pytest.mark.parametrize("kind", ["projects", "tasks", "jobs"])
def test_a_window_is_a_page_of_its_scope_in_id_order_with_the_scope_total(repos: Repos, kind: str) -> None:
    make = {"projects": lambda i, org: _project(i, org=org), "tasks": lambda i, org: _task(i, org=org),
            "jobs": lambda i, org: _job(i, task=1, org=org)}[kind]
    repo = getattr(repos, kind)
    orgs = {1: 7, 2: None, 3: 7, 4: 7, 5: None, 6: 7, 7: 8}
    for i in (5, 1, 7, 3, 6, 2, 4):  # written out of order
        backends.add_one(repo, make(i, orgs[i]))
    in_org = [i for i in sorted(orgs) if orgs[i] == 7]
    window = repo.window(7, 0, 3, newest_first=True)
    assert (ids(window.items), window.total) == (in_org[::-1][:3], 4)
    assert ids(repo.window(7, 1, 2, newest_first=False).items) == in_org[1:3]
    assert ids(repo.window(7, 3, 10, newest_first=True).items) == [in_org[0]]
    assert (repo.window(7, 4, 10, newest_first=True).items, repo.window(7, 0, 0, newest_first=True).total) == ([], 4)
    assert ids(repo.window(None, 0, 10, newest_first=False).items) == [2, 5]  # the personal workspace
    everything = repo.window(ALL_ORGANIZATIONS, 2, 3, newest_first=True)
    assert (ids(everything.items), everything.total) == ([5, 4, 3], 7)
    assert repo.window(99, 0, 10, newest_first=True) == Window([], 0)
    # whole entities, at their stored version
    assert repo.window(8, 0, 1, newest_first=True).items == [repo.get(7)]


def test_the_all_and_organization_lists_follow_saves_and_deletes(repos: Repos) -> None:
    users, orgs, ms, invs, tokens, jobs = (
        repos.users, repos.organizations, repos.memberships, repos.invitations, repos.access_tokens, repos.jobs)
    for i in (3, 1, 2):
        users.add(_user(i))
        orgs.add(Organization(id=i, slug=f"o{i}", owner_id=1))
    users.save(replace(users.get(2), first_name="Changed"))
    users.delete(3)
    assert ids(users.list_all()) == [1, 2] and users.list_all()[1].first_name == "Changed"
    orgs.save(replace(orgs.get(1), slug="renamed"))
    orgs.delete(2)
    assert [o.slug for o in orgs.list_all()] == ["renamed", "o3"]

    ms.add(Membership(id=2, user_id=1, organization_id=1, role=OrgRole.WORKER))
    ms.add(Membership(id=1, user_id=2, organization_id=1, role=OrgRole.OWNER))
    assert ids(ms.list_by_organization(1)) == [1, 2]
    ms.delete(2)
    assert ids(ms.list_by_organization(1)) == [1]
    invs.add(Invitation(key="k2", organization_id=1, membership_id=1, user_id=2, role=OrgRole.WORKER,
                        owner_id=1, created_date=NOW))
    invs.add(Invitation(key="k1", organization_id=1, membership_id=2, user_id=3, role=OrgRole.WORKER,
                        owner_id=1, created_date=NOW))
    assert [i.key for i in invs.list_by_organization(1)] == ["k1", "k2"]
    invs.delete("k1")
    assert [i.key for i in invs.list_by_organization(1)] == ["k2"]

    for i in (2, 1):
        tokens.add(AccessToken(id=i, name=f"t{i}", owner_id=1, digest=f"d{i}", prefix="p", created_date=NOW,
                               updated_date=NOW))
    assert ids(tokens.list_by_owner(1)) == [1, 2]
    tokens.delete(1)
    assert ids(tokens.list_by_owner(1)) == [2]

    jobs.add_many([_job(2, task=1, org=1), _job(1, task=1, org=1), _job(3, task=1)])
    assert ids(jobs.list_by_organization(1)) == [1, 2]
    jobs.save(replace(jobs.get(2), organization_id=None))
    assert ids(jobs.list_by_organization(1)) == [1]
    assert ids(jobs.list_by_organization(None)) == [2, 3]


# --------------------------------------------------------------------------- DynamoDB requests


@dataclass
class Calls:
    """The DynamoDB operations the adapters sent: (operation, parameters, thread name)."""

    made: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    hooks: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.made.append((model.name, dict(params), threading.current_thread().name))
        for hook in self.hooks:
            hook(model.name, params)

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params, _ in self.made if name == operation]


@pytest.fixture
def calls(table: str) -> Iterator[Calls]:
    """Every request of the adapters' PynamoDB clients (the users' model and the generic one)."""
    recorded = Calls()
    clients = [model._get_connection().connection.client for model in (items_model(table), plain_items_model(table))]
    for client in clients:
        client.meta.events.register("before-parameter-build.dynamodb", recorded.record)
    yield recorded
    for client in clients:
        client.meta.events.unregister("before-parameter-build.dynamodb", recorded.record)


def _populate(r: Repos) -> None:
    for i in (1, 2):
        r.users.add(_user(i))
        r.organizations.add(Organization(id=i, slug=f"o{i}", owner_id=1))
    r.memberships.add(Membership(id=1, user_id=2, organization_id=1, role=OrgRole.WORKER))
    r.invitations.add(Invitation(key="k", organization_id=1, membership_id=1, user_id=2, role=OrgRole.WORKER,
                                 owner_id=1, created_date=NOW))
    r.projects.add(_project(1, owner=1, assignee=2, org=1))
    r.tasks.add(_task(1, owner=1, assignee=2, project=1, org=1))
    r.tasks.add(_task(2, owner=2))
    r.jobs.add_many([_job(1, task=1, assignee=2, org=1), _job(2, task=2)])
    r.labels.add_many([_label(1, project=1), _label(2, task=2)])
    r.segments.add_many([Segment(id=1, task_id=1, start_frame=0, stop_frame=9)])
    r.access_tokens.add(AccessToken(id=1, name="t", owner_id=1, digest="d", prefix="p", created_date=NOW,
                                    updated_date=NOW))


def _every_list(r: Repos) -> list[Any]:
    return [
        r.users.list_all(), r.users.get_many([1, 2]), r.organizations.list_all(), r.organizations.get_many([1]),
        r.memberships.list_by_organization(1), r.memberships.list_by_user(2), r.invitations.list_by_organization(1),
        r.invitations.list_by_user(2), r.projects.list_all(), r.projects.list_by_organization(1),
        r.projects.list_by_user(2), r.projects.get_many([1]), r.tasks.list_all(), r.tasks.list_by_organization(None),
        r.tasks.list_by_project(1), r.tasks.list_by_projects([1, 2]), r.tasks.list_by_user(2),
        r.tasks.count_by_projects([1, 2]), r.tasks.get_many([1, 2]), r.segments.list_by_task(1),
        r.jobs.list_all(), r.jobs.list_by_task(1), r.jobs.list_by_tasks([1, 2]), r.jobs.list_by_organization(1),
        r.jobs.list_by_organization(None), r.jobs.list_by_assignee(2), r.labels.list_by_task(2),
        r.labels.list_by_project(1), r.labels.list_by_tasks([1, 2]), r.labels.list_by_projects([1, 2]),
        r.labels.list_all(), r.access_tokens.list_by_owner(1),
        r.tasks.window(ALL_ORGANIZATIONS, 1, 1, newest_first=True).items,
        r.projects.window(1, 0, 5, newest_first=False).items, r.jobs.window(None, 0, 5, newest_first=True).items,
    ]


def test_no_list_reads_an_index_or_scans_and_every_read_is_consistent(table: str, calls: Calls) -> None:
    r = backends.dynamo_repos(table)
    _populate(r)
    calls.made.clear()
    assert all(_every_list(r))  # each list found something
    operations = {name for name, _, _ in calls.made}
    assert operations == {"Query", "BatchGetItem"}
    queries = calls.of("Query")
    assert all("IndexName" not in q for q in queries)
    assert all(q.get("ConsistentRead") is True for q in queries)
    assert all(k.get("ConsistentRead") is True for b in calls.of("BatchGetItem") for k in b["RequestItems"].values())
    # nothing writes the old index's keys any more
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert items and not [i for i in items if "gsi1pk" in i or "gsi1sk" in i]


def test_an_empty_id_list_makes_no_request(table: str, calls: Calls) -> None:
    r = backends.dynamo_repos(table)
    empty: list[int] = []
    assert r.tasks.list_by_projects(empty) == [] and r.tasks.count_by_projects(empty) == {}
    assert r.jobs.list_by_tasks(empty) == []
    assert r.labels.list_by_tasks(empty) == [] and r.labels.list_by_projects(empty) == []
    assert r.users.get_many(empty) == {} and r.organizations.get_many(empty) == {}
    assert r.projects.get_many(empty) == {} and r.tasks.get_many(empty) == {}
    assert calls.made == []


@pytest.mark.parametrize("read", [
    pytest.param(lambda r: r.tasks.list_by_projects([1, 2]), id="tasks.list_by_projects"),
    pytest.param(lambda r: r.tasks.count_by_projects([1, 2]), id="tasks.count_by_projects"),
    pytest.param(lambda r: r.jobs.list_by_tasks([1, 2]), id="jobs.list_by_tasks"),
    pytest.param(lambda r: r.labels.list_by_tasks([1, 2]), id="labels.list_by_tasks"),
    pytest.param(lambda r: r.labels.list_by_projects([1, 2]), id="labels.list_by_projects"),
])
def test_several_partitions_are_queried_at_once(table: str, calls: Calls, read: Callable[[Repos], Any]) -> None:
    # Each Query waits in the hook until the other one is in flight too: read one after the
    # other, the first would wait in vain and the barrier would break.
    barrier = threading.Barrier(2, timeout=10)
    calls.hooks.append(lambda operation, _: barrier.wait() if operation == "Query" else None)
    read(backends.dynamo_repos(table))
    assert len(calls.of("Query")) == 2


def test_at_most_eight_partitions_are_queried_at_once(table: str, calls: Calls) -> None:
    tasks = backends.dynamo_repos(table).tasks
    for i in range(1, 21):
        tasks.add(_task(i, project=i))
    calls.made.clear()
    assert tasks.count_by_projects(range(1, 21)) == dict.fromkeys(range(1, 21), 1)
    threads = {thread for name, params, thread in calls.made if name == "Query"}
    assert len(calls.of("Query")) == 20
    assert 1 <= len(threads) <= dynamo_store.MAX_PARALLEL_QUERIES
    assert threading.current_thread().name not in threads
    assert all(q["Select"] == "COUNT" for q in calls.of("Query"))


def test_a_batch_is_cut_into_transactions_of_whole_entities(table: str, calls: Calls,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # An assigned job in an organization is 5 items (the most a job has; a task has 6 at most), so
    # 100 items hold 20 jobs. A limit of 12 keeps the test fast on moto: 2 jobs a transaction.
    monkeypatch.setattr(dynamo_store, "MAX_TRANSACTION_ITEMS", 12)
    jobs = backends.dynamo_repos(table).jobs
    jobs.add_many([_job(i, task=1, assignee=2, org=1) for i in range(1, 6)])
    assert [len(t["TransactItems"]) for t in calls.of("TransactWriteItems")] == [10, 10, 5]
    assert ids(jobs.list_by_assignee(2)) == [1, 2, 3, 4, 5] == ids(jobs.list_by_organization(1))


# --------------------------------------------------------------------------- schema 1 -> 2


def _v1_items(entity: Any) -> list[tuple[str, str, str | None, str | None]]:
    """(pk, sk, gsi1pk, gsi1sk) of every item schema version 1 wrote for ``entity``."""
    def k(i: int) -> str:
        return f"{i:012d}"

    def o(i: int | None) -> str:
        return "-" if i is None else str(i)

    match entity:
        case User():
            return [(f"USER#{entity.id}", "PROFILE", "USERS", k(entity.id))]
        case Organization():
            return [(f"ORG#{entity.id}", "ORG", "ORGS", k(entity.id)), (f"ORGSLUG#{entity.slug}", "UNIQUE", None, None)]
        case Membership():
            org = entity.organization_id
            return [(f"MEMBERSHIP#{entity.id}", "MEMBERSHIP", f"ORG#{org}#MEMBERSHIPS", k(entity.id)),
                    (f"USER#{entity.user_id}#MEMBERSHIPS", f"ORG#{k(org)}", None, None)]
        case Invitation():
            return [(f"INVITATION#{entity.key}", "INVITATION", f"ORG#{entity.organization_id}#INVITATIONS", entity.key),
                    *[(f"USER#{u}#INVITATIONS", entity.key, None, None) for u in {entity.user_id, entity.owner_id}]]
        case Project():
            return [(f"PROJECT#{entity.id}", "PROJECT", "PROJECTS", k(entity.id)),
                    (f"ORG#{o(entity.organization_id)}#PROJECTS", k(entity.id), None, None)]
        case Task():
            in_project = [] if entity.project_id is None else [
                (f"PROJECT#{entity.project_id}#TASKS", k(entity.id), None, None)]
            return [(f"TASK#{entity.id}", "TASK", "TASKS", k(entity.id)),
                    (f"ORG#{o(entity.organization_id)}#TASKS", k(entity.id), None, None), *in_project]
        case Job():
            in_org = f"ORG#{o(entity.organization_id)}#JOBS"
            return [(f"JOB#{entity.id}", "JOB", "JOBS", k(entity.id)),
                    (f"TASK#{entity.task_id}#JOBS", k(entity.id), in_org, k(entity.id))]
        case Label():
            owner = f"TASK#{entity.task_id}" if entity.task_id is not None else f"PROJECT#{entity.project_id}"
            guard = f"LABELNAME#T{o(entity.task_id)}#P{o(entity.project_id)}#-#{entity.name}"
            return [(f"LABEL#{entity.id}", "LABEL", None, None), (f"{owner}#LABELS", k(entity.id), None, None),
                    (guard, "UNIQUE", None, None)]
        case AccessToken():
            return [(f"TOKEN#{entity.id}", "TOKEN", f"USER#{entity.owner_id}#TOKENS", k(entity.id)),
                    (f"TOKENDIGEST#{entity.digest}", "UNIQUE", None, None)]
    raise TypeError(entity)


def _write_v1(table_name: str, entities: list[Any], version: int = 3) -> None:
    """The items schema version 1 wrote, each at ``version``, and the schema item."""
    items = boto3.resource("dynamodb").Table(table_name)
    with items.batch_writer() as batch:
        batch.put_item(Item={"pk": "META", "sk": "SCHEMA", "data": {"version": 1}, "version": 1})
        for entity in entities:
            data = DynamoUserRepository.data(entity) if isinstance(entity, User) else encode(entity)
            for pk, sk, gsi1pk, gsi1sk in _v1_items(entity):
                item = {"pk": pk, "sk": sk, "data": data, "version": version}
                if gsi1pk:
                    item |= {"gsi1pk": gsi1pk, "gsi1sk": gsi1sk}
                if isinstance(entity, User) and sk == "PROFILE":
                    batch.put_item(Item={"pk": f"USERNAME#{entity.username}", "sk": "UNIQUE",
                                         "data": {"user_id": entity.id}, "version": 1})
                batch.put_item(Item=item)


V1_ENTITIES: list[Any] = [
    _user(1), _user(2),
    Organization(id=1, slug="acme", owner_id=1),
    Membership(id=1, user_id=2, organization_id=1, role=OrgRole.WORKER),
    Invitation(key="k1", organization_id=1, membership_id=1, user_id=2, role=OrgRole.WORKER, owner_id=1,
               created_date=NOW),
    _project(1, owner=1, assignee=2, org=1),
    _task(1, owner=1, assignee=2, project=1, org=1), _task(2, owner=2, assignee=2),
    _job(1, task=1, assignee=2, org=1), _job(2, task=2),
    _label(1, project=1), _label(2, task=2),
    AccessToken(id=1, name="t", owner_id=1, digest="d1", prefix="p", created_date=NOW, updated_date=NOW),
]


def test_a_version_1_table_is_moved_forward_by_ensure(table: str) -> None:
    _write_v1(table, V1_ENTITIES)
    schema = DynamoSchema(table)
    assert schema.version() == 1
    assert schema.ensure() == SCHEMA_VERSION == 3  # 1 -> 2 -> 3
    assert schema.version() == 3
    r = backends.dynamo_repos(table)
    u1, u2, org, membership, invitation, project, t1, t2, j1, j2, l1, l2, token = map(_stored, V1_ENTITIES)

    assert r.users.list_all() == [u1, u2] and r.users.get_many([2]) == {2: u2}
    assert r.users.find_by_username("user1") == u1
    assert r.organizations.list_all() == [org] and r.organizations.get_many([1]) == {1: org}
    assert r.memberships.list_by_organization(1) == [membership] == r.memberships.list_by_user(2)
    assert r.invitations.list_by_organization(1) == [invitation] == r.invitations.list_by_user(1)
    assert r.projects.list_all() == [project] == r.projects.list_by_user(1) == r.projects.list_by_user(2)
    assert r.projects.get_many([1]) == {1: project}
    assert r.tasks.list_all() == [t1, t2] == r.tasks.list_by_user(2)
    assert r.tasks.list_by_user(1) == [t1] == r.tasks.list_by_projects([1])
    assert r.tasks.count_by_projects([1, 2]) == {1: 1, 2: 0}
    assert r.tasks.get_many([2, 1]) == {2: t2, 1: t1}
    assert r.jobs.list_all() == [j1, j2] == r.jobs.list_by_tasks([1, 2])
    assert r.jobs.list_by_assignee(2) == [j1] == r.jobs.list_by_organization(1)
    assert r.jobs.list_by_organization(None) == [j2]
    assert r.labels.list_all() == [l1, l2]
    assert r.labels.list_by_tasks([2]) == [l2] and r.labels.list_by_projects([1]) == [l1]
    assert r.access_tokens.list_by_owner(1) == [token]

    # the migrated entities are saved, moved and deleted like new ones
    moved = r.projects.save(replace(project, assignee_id=None))
    assert r.projects.list_by_user(2) == [] and r.projects.list_all() == [moved]
    r.tasks.delete(1)
    assert r.tasks.list_all() == [t2] and r.tasks.list_by_projects([1]) == []
    saved = r.users.save(replace(u2, first_name="Renamed"))
    assert r.users.list_all() == [u1, saved]
    with pytest.raises(ConflictError):
        r.users.add(replace(_user(3), username="user1"))

    # rerunning the step (a crash before the version was recorded) changes nothing
    before = _every_list(r)
    dynamo_migrations.upgrade(table, 1)
    assert _every_list(r) == before
    assert schema.ensure() == 3


def test_the_upgrade_never_writes_a_copy_older_than_its_entity(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A running process saves one task and deletes the other between the upgrade's Scan and its
    # writes: the saved task is copied at its new version, the deleted one gets no copies.
    _write_v1(table, [_task(1, owner=1, project=1), _task(2, owner=1, project=1)])
    model = plain_items_model(table)
    scan = model.scan
    tasks = backends.dynamo_repos(table).tasks

    def scan_then_change(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from scan(*args, **kwargs)
        tasks.save(replace(tasks.get(1), name="changed", assignee_id=5))
        tasks.delete(2)

    monkeypatch.setattr(model, "scan", scan_then_change)
    assert DynamoSchema(table).ensure() == 3
    changed = tasks.get(1)
    assert changed.version == 4 and changed.name == "changed"
    assert tasks.list_all() == [changed] == tasks.list_by_user(1) == tasks.list_by_user(5)
    assert tasks.list_by_projects([1]) == [changed]
    with pytest.raises(NotFoundError):
        tasks.get(2)


def test_a_new_table_starts_at_the_current_version_without_an_upgrade(table: str, calls: Calls) -> None:
    assert DynamoSchema(table).ensure() == SCHEMA_VERSION
    assert "Scan" not in {name for name, _, _ in calls.made}
    assert DynamoSchema(table).version() == SCHEMA_VERSION
