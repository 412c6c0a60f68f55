"""The repository contract: every port method behaves the same on the in-memory fakes and on the
DynamoDB adapters (on moto, with the data table as template.yaml declares it), so the unit tests
that run on the fakes say something about the deployed product.

Every test takes ``repos``, all repositories of one backend, and so runs once per backend (ids
``[memory]`` and ``[dynamodb]``; each DynamoDB case starts from an empty table). To cover a new
port method, write one test against ``repos``. To hold a new entity kind to the rules every
repository shares (versions, copies, conflicts, not found, delete), add one row to ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws import dynamo_store
from cvat_serverless.domain.auth import AccessToken, Session
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.issues import Comment, Issue
from cvat_serverless.domain.jobs import Job, JobStage, Segment
from cvat_serverless.domain.labels import Label
from cvat_serverless.domain.organizations import Invitation, Membership, Organization, OrgRole
from cvat_serverless.domain.projects import Project
from cvat_serverless.domain.tasks import Task
from cvat_serverless.domain.users import SystemRole, User

dynamo_moto, table, repos = backends.dynamo_moto, backends.table, backends.repos
Repos = backends.Repos

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _user(i: int, **fields: Any) -> User:
    return replace(User(id=i, username=f"user{i}", email=f"u{i}@example.com", password_hash="h"), **fields)


def _token(i: int) -> AccessToken:
    return AccessToken(id=i, name=f"t{i}", owner_id=1, digest=f"d{i}", prefix="abc", created_date=NOW,
                       updated_date=NOW)


def _invitation(i: int) -> Invitation:
    return Invitation(key=f"key{i}", organization_id=1, membership_id=i, user_id=2, role=OrgRole.WORKER,
                      owner_id=1, created_date=NOW)


def _job(i: int, task: int, org: int | None = None) -> Job:
    return Job(id=i, task_id=task, segment_id=i, start_frame=i * 10, stop_frame=i * 10 + 9, frame_count=10,
               organization_id=org)


def _issue(i: int, job: int = 1, task: int = 1, owner: int | None = 1, assignee: int | None = None) -> Issue:
    return Issue(id=i, job_id=job, task_id=task, frame=0, position=[1.5, 2.0, 3.0, 4.25], owner_id=owner,
                 assignee_id=assignee, created_date=NOW, updated_date=NOW)


def _comment(i: int, issue: int = 1, task: int = 1, owner: int | None = 1) -> Comment:
    return Comment(id=i, issue_id=issue, job_id=1, task_id=task, frame=0, message=f"m{i}", owner_id=owner,
                   created_date=NOW, updated_date=NOW)


def _label(i: int, name: str, task: int = 1) -> Label:
    return Label(id=i, name=name, color="#000000", task_id=task)


# --------------------------------------------------------------------------- every repository


@dataclass(frozen=True)
class Kind:
    repo: str  # the attribute of the Repos bundle
    make: Callable[[int], Any]  # a new entity with id i
    change: tuple[str, Any]  # a field and another value for it
    key: Callable[[Any], Any] = lambda entity: entity.id  # what get and delete take
    unknown: Any = 999  # a key nothing has

    def of(self, repos: Repos) -> Any:
        return getattr(repos, self.repo)


KINDS: dict[str, Kind] = {
    "user": Kind("users", _user, ("first_name", "Changed")),
    "organization": Kind("organizations", lambda i: Organization(id=i, slug=f"o{i}", owner_id=1), ("name", "changed")),
    "membership": Kind("memberships", lambda i: Membership(id=i, user_id=i, organization_id=1, role=OrgRole.WORKER),
                       ("is_active", True)),
    "invitation": Kind("invitations", _invitation, ("accepted", True), key=lambda e: e.key, unknown="nope"),
    "project": Kind("projects", lambda i: Project(id=i, name=f"p{i}", owner_id=1), ("name", "changed")),
    "task": Kind("tasks", lambda i: Task(id=i, name=f"t{i}", owner_id=1), ("name", "changed")),
    "job": Kind("jobs", lambda i: _job(i, task=1), ("stage", JobStage.VALIDATION)),
    "label": Kind("labels", lambda i: Label(id=i, name=f"l{i}", color="#ff0000", task_id=1), ("name", "changed")),
    "access token": Kind("access_tokens", _token, ("name", "changed")),
    "issue": Kind("issues", _issue, ("resolved", True)),
    "comment": Kind("comments", _comment, ("message", "changed")),
}

each_kind = pytest.mark.parametrize("kind", [pytest.param(KINDS[k], id=k) for k in sorted(KINDS)])


@each_kind
def test_an_added_entity_is_stored_at_version_1(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    entity = kind.make(1)
    stored = backends.add_one(repo, entity)
    assert stored == replace(entity, version=1)
    assert repo.get(kind.key(stored)) == stored


@each_kind
def test_a_change_to_a_returned_copy_is_stored_only_when_saved(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    field, value = kind.change
    stored = backends.add_one(repo, kind.make(1))
    setattr(stored, field, value)  # the copy add returned
    loaded = repo.get(kind.key(stored))
    assert getattr(loaded, field) != value
    setattr(loaded, field, value)  # the copy get returned
    assert getattr(repo.get(kind.key(stored)), field) != value
    saved = repo.save(loaded)
    assert saved.version == 2
    assert getattr(saved, field) == value
    assert repo.get(kind.key(stored)) == saved
    assert loaded.version == 1  # save returns a new object; the caller's copy is untouched


@each_kind
def test_a_stale_save_conflicts_and_changes_nothing(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    field, value = kind.change
    stored = backends.add_one(repo, kind.make(1))
    saved = repo.save(replace(stored, **{field: value}))
    with pytest.raises(ConflictError):
        repo.save(stored)  # version 1 is stale now
    assert repo.get(kind.key(stored)) == saved


@each_kind
def test_adding_an_existing_id_conflicts(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    stored = backends.add_one(repo, kind.make(1))
    field, value = kind.change
    with pytest.raises(ConflictError):
        backends.add_one(repo, replace(kind.make(1), **{field: value}))
    assert repo.get(kind.key(stored)) == stored


@each_kind
def test_an_unknown_id_is_not_found(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    backends.add_one(repo, kind.make(1))
    with pytest.raises(NotFoundError):
        repo.get(kind.unknown)
    with pytest.raises(NotFoundError):
        repo.delete(kind.unknown)
    with pytest.raises(NotFoundError):
        repo.save(kind.make(99))


@each_kind
def test_a_delete_frees_the_id_and_every_unique_value(repos: Repos, kind: Kind) -> None:
    repo = kind.of(repos)
    stored = backends.add_one(repo, kind.make(1))
    repo.delete(kind.key(stored))
    with pytest.raises(NotFoundError):
        repo.get(kind.key(stored))
    again = backends.add_one(repo, kind.make(1))  # every guard of the deleted entity was released
    assert again.version == 1


def test_ids_count_from_1_per_kind(repos: Repos) -> None:
    assert [repos.ids.next_id("task") for _ in range(3)] == [1, 2, 3]
    assert repos.ids.next_id("job") == 1


# --------------------------------------------------------------------------- users


def test_usernames_and_emails_are_unique_ignoring_case(repos: Repos) -> None:
    users = repos.users
    users.add(_user(1))
    users.add(_user(2))
    with pytest.raises(ConflictError):
        users.add(_user(3, username="USER1"))
    with pytest.raises(ConflictError):
        users.add(_user(3, email="U2@example.com"))
    users.add(_user(4, email=""))
    users.add(_user(5, email=""))  # several users without an email are fine
    assert [u.id for u in users.list_all()] == [1, 2, 4, 5]


def test_users_are_found_by_username_and_email_ignoring_case(repos: Repos) -> None:
    users = repos.users
    joined = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    alice = users.add(_user(1, username="Alice", email="alice@example.com", groups=[SystemRole.USER],
                            date_joined=joined))
    users.add(_user(2, email=""))
    got = users.get(1)
    assert got == alice
    assert (got.username, got.email, got.groups, got.date_joined) == (
        "Alice", "alice@example.com", [SystemRole.USER], joined)
    assert users.find_by_username("alice") == alice
    assert users.find_by_username("ALICE") == alice
    assert users.find_by_email("ALICE@example.com") == alice
    assert users.find_by_username("bob") is None
    assert users.find_by_email("") is None  # not the user without an email


def test_a_save_moves_the_username_and_email_of_a_user(repos: Repos) -> None:
    users = repos.users
    user1 = users.add(_user(1))
    users.add(_user(2))
    renamed = users.save(replace(user1, username="alice", email="alice@example.com"))
    assert users.find_by_username("user1") is None
    assert users.find_by_email("u1@example.com") is None
    assert users.find_by_username("ALICE") == renamed
    assert users.find_by_email("alice@example.com") == renamed
    with pytest.raises(ConflictError):
        users.save(replace(renamed, username="user2"))
    with pytest.raises(ConflictError):
        users.save(replace(renamed, email="u2@example.com"))
    with pytest.raises(ConflictError):
        users.save(replace(user1, username="stale"))  # version 1 is stale
    assert users.get(1) == renamed
    no_email = users.save(replace(renamed, email=""))
    assert no_email.version == 3
    assert users.find_by_email("alice@example.com") is None
    users.add(_user(3, email="alice@example.com"))  # the cleared email is free
    users.delete(1)
    assert users.find_by_username("alice") is None
    users.add(_user(4, username="Alice"))  # so is the deleted user's username
    assert [u.id for u in users.list_all()] == [2, 3, 4]
    with pytest.raises(NotFoundError):
        users.delete(1)


# --------------------------------------------------------------------------- organizations


def test_an_organization_is_found_by_its_exact_slug(repos: Repos) -> None:
    orgs = repos.organizations
    acme = orgs.add(Organization(id=1, slug="acme", owner_id=1))
    orgs.add(Organization(id=2, slug="beta", owner_id=1))
    assert orgs.find_by_slug("acme") == acme
    assert orgs.find_by_slug("ACME") is None  # slugs are case-sensitive, as in CVAT
    assert orgs.find_by_slug("") is None


def test_a_slug_belongs_to_one_organization_and_moves_with_a_save(repos: Repos) -> None:
    orgs = repos.organizations
    acme = orgs.add(Organization(id=1, slug="acme", owner_id=1))
    orgs.add(Organization(id=2, slug="beta", owner_id=1))
    with pytest.raises(ConflictError):
        orgs.add(Organization(id=3, slug="acme", owner_id=2))
    with pytest.raises(ConflictError):
        orgs.save(replace(acme, slug="beta"))
    assert orgs.get(1) == acme  # a failed rename changes nothing
    renamed = orgs.save(replace(acme, slug="gamma"))
    assert orgs.find_by_slug("acme") is None
    assert orgs.find_by_slug("gamma") == renamed
    orgs.add(Organization(id=4, slug="acme", owner_id=1))  # the old slug is free again
    assert [o.id for o in orgs.list_all()] == [1, 2, 4]
    orgs.delete(2)
    assert orgs.find_by_slug("beta") is None
    assert [o.id for o in orgs.list_all()] == [1, 4]


def test_a_user_has_one_membership_per_organization(repos: Repos) -> None:
    ms = repos.memberships
    ms.add(Membership(id=3, user_id=5, organization_id=1, role=OrgRole.OWNER, is_active=True))
    ms.add(Membership(id=1, user_id=6, organization_id=1, role=OrgRole.WORKER))
    ms.add(Membership(id=2, user_id=5, organization_id=2, role=OrgRole.WORKER))
    with pytest.raises(ConflictError):
        ms.add(Membership(id=4, user_id=5, organization_id=1, role=OrgRole.WORKER))
    assert ms.find(1, 5).id == 3
    assert ms.find(2, 6) is None
    moved = ms.save(replace(ms.get(1), organization_id=2))  # the (org, user) guard moves with it
    assert ms.find(1, 6) is None
    assert ms.find(2, 6) == moved
    with pytest.raises(ConflictError):
        ms.save(replace(ms.get(2), user_id=6))  # (2, 6) is taken
    ms.delete(3)
    assert ms.find(1, 5) is None
    ms.add(Membership(id=4, user_id=5, organization_id=1, role=OrgRole.WORKER))  # (1, 5) is free again


def test_memberships_are_listed_by_organization_and_by_user(repos: Repos) -> None:
    ms = repos.memberships
    ms.add(Membership(id=3, user_id=5, organization_id=1, role=OrgRole.OWNER, is_active=True))
    ms.add(Membership(id=1, user_id=6, organization_id=1, role=OrgRole.WORKER))
    ms.add(Membership(id=2, user_id=5, organization_id=2, role=OrgRole.WORKER))
    assert [m.id for m in ms.list_by_organization(1)] == [1, 3]
    assert [m.id for m in ms.list_by_user(5)] == [2, 3]
    promoted = ms.save(replace(ms.get(1), role=OrgRole.MAINTAINER, is_active=True, joined_date=NOW))
    assert ms.find(1, 6) == promoted
    assert ms.list_by_user(6) == [promoted]
    ms.save(replace(promoted, organization_id=2))
    assert [m.id for m in ms.list_by_organization(1)] == [3]
    assert [m.id for m in ms.list_by_organization(2)] == [1, 2]
    ms.delete(3)
    assert [m.id for m in ms.list_by_user(5)] == [2]
    assert ms.list_by_organization(1) == []


def test_invitations_are_listed_by_organization_and_by_invitee_and_inviter(repos: Repos) -> None:
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


# --------------------------------------------------------------------------- projects, tasks, labels


def test_projects_and_tasks_are_listed_where_their_stored_version_says(repos: Repos) -> None:
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


def test_label_names_are_unique_per_owner_and_parent(repos: Repos) -> None:
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


# --------------------------------------------------------------------------- segments and jobs


def test_segments_are_listed_and_deleted_by_task(repos: Repos) -> None:
    segments = repos.segments
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


def test_jobs_are_listed_by_task_and_organization_and_move_with_a_save(repos: Repos) -> None:
    jobs = repos.jobs
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


def test_issues_are_listed_by_job_task_and_user_and_move_with_a_save(repos: Repos) -> None:
    issues = repos.issues
    for issue in (_issue(2, job=1, task=1, owner=5), _issue(1, job=2, task=1, owner=6, assignee=5),
                  _issue(3, job=3, task=2, owner=6)):
        issues.add(issue)
    assert [i.id for i in issues.list_all()] == [1, 2, 3]
    assert issues.get(1).position == [1.5, 2.0, 3.0, 4.25]
    assert [i.id for i in issues.list_by_job(1)] == [2]
    assert [i.id for i in issues.list_by_jobs([3, 2])] == [1, 3]
    assert [i.id for i in issues.list_by_tasks([1])] == [1, 2]
    assert [i.id for i in issues.list_by_user(5)] == [1, 2]
    assert issues.count_by_jobs([1, 3, 9]) == {1: 1, 3: 1, 9: 0}
    moved = issues.save(replace(issues.get(1), assignee_id=7, resolved=True))
    assert [i.id for i in issues.list_by_user(5)] == [2]
    assert issues.list_by_user(7) == [moved]
    issues.delete_by_task(1)
    assert [i.id for i in issues.list_all()] == [3]
    assert issues.list_by_user(7) == [] and issues.list_by_job(2) == []
    issues.delete_by_task(1)  # idempotent


def test_comments_are_listed_by_issue_task_and_owner(repos: Repos) -> None:
    comments = repos.comments
    for comment in (_comment(1, issue=1, owner=5), _comment(2, issue=2, owner=6), _comment(3, issue=1, task=2)):
        comments.add(comment)
    assert [c.id for c in comments.list_by_issue(1)] == [1, 3]
    assert [c.id for c in comments.list_by_issues([2, 1])] == [1, 2, 3]
    assert [c.id for c in comments.list_by_tasks([1])] == [1, 2]
    assert [c.id for c in comments.list_by_owner(5)] == [1]
    assert comments.count_by_issues([1, 2, 4]) == {1: 2, 2: 1, 4: 0}
    comments.delete_by_issue(1)
    assert [c.id for c in comments.list_all()] == [2]
    comments.delete_by_task(1)
    assert comments.list_all() == [] and comments.list_by_owner(6) == []


# --------------------------------------------------------------------------- batches


@pytest.mark.parametrize("size", [3, 25])
def test_batches_are_all_or_nothing(repos: Repos, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto copies the whole table for every item of a transaction, so big batches are slow on it;
    # a limit of 10 items per transaction makes 25 labels (75 items) take 8 transactions.
    monkeypatch.setattr(dynamo_store, "MAX_TRANSACTION_ITEMS", 10)
    labels, jobs = repos.labels, repos.jobs
    (taken,) = labels.add_many([_label(1000, "taken")])
    batch = [_label(i, f"l{i}") for i in range(1, size)]
    with pytest.raises(ConflictError):  # the last label's name is taken: nothing of the batch stays
        labels.add_many([*batch, _label(size, "taken")])
    with pytest.raises(ConflictError):  # the first label's name comes again at the end of the batch
        labels.add_many([*batch, _label(size, "l1")])
    assert labels.list_by_task(1) == [taken]
    with pytest.raises(NotFoundError):
        labels.get(1)
    labels.add_many([*batch, _label(size, "free")])
    assert len(labels.list_by_task(1)) == size + 1

    (existing,) = jobs.add_many([_job(10_000, 1)])
    with pytest.raises(ConflictError):
        jobs.add_many([*(_job(i, 1) for i in range(1, size)), _job(10_000, 1)])
    assert jobs.list_by_task(1) == [existing]  # the stored job is unchanged too
    stored = jobs.add_many([_job(i, 1) for i in range(1, size + 1)])
    assert [j.version for j in stored] == [1] * size
    assert len(jobs.list_by_task(1)) == size + 1
    with pytest.raises(ConflictError):  # the same id twice in one batch
        jobs.add_many([_job(20_000, 2), _job(20_000, 2)])
    assert jobs.list_by_task(2) == []


def test_a_batch_over_the_real_transaction_limit_is_all_or_nothing(repos: Repos) -> None:
    segments = repos.segments
    batch = [Segment(id=i, task_id=1, start_frame=i, stop_frame=i) for i in range(1, 61)]  # 120 items
    segments.add_many([Segment(id=100, task_id=2, start_frame=0, stop_frame=0)])
    with pytest.raises(ConflictError):
        segments.add_many([*batch, Segment(id=100, task_id=1, start_frame=0, stop_frame=0)])
    assert segments.list_by_task(1) == []
    assert len(segments.add_many(batch)) == 60
    assert [s.id for s in segments.list_by_task(1)] == list(range(1, 61))


# --------------------------------------------------------------------------- access tokens, sessions, logins


def test_an_access_token_is_found_by_its_unique_digest(repos: Repos) -> None:
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


def test_sessions_are_found_by_digest_and_deleted_alone_or_by_user(repos: Repos) -> None:
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


def test_failed_logins_are_counted_per_key_since_an_instant(repos: Repos) -> None:
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
