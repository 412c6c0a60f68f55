"""Races between clients of the DynamoDB adapters: threads released together by a barrier, each
with its own repository objects, against moto with its requests serialised as DynamoDB executes
them (see ``serialised_moto``). The outcome must not depend on the interleaving: one winner for a
stale save or a unique value, never a lost update, never half a batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws import dynamo_store
from cvat_serverless.domain.errors import ConflictError
from cvat_serverless.domain.jobs import Job, JobStage
from cvat_serverless.domain.labels import Label
from cvat_serverless.domain.organizations import Membership, Organization, OrgRole
from cvat_serverless.domain.projects import Project
from cvat_serverless.domain.tasks import Task
from cvat_serverless.domain.users import User

dynamo_moto, table, serialised_moto = backends.dynamo_moto, backends.table, backends.serialised_moto

THREADS = 6


def race(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions in threads released at once; each result is a value or the exception."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = actions[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def winners(results: list[Any]) -> list[Any]:
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, ConflictError) for e in errors), errors
    return [r for r in results if not isinstance(r, Exception)]


def clients(table: str, n: int = THREADS) -> list[backends.Repos]:
    return [backends.dynamo_repos(table) for _ in range(n)]


# kind -> (repository attribute, the stored entity, a change that client i makes)
STALE_SAVES: dict[str, tuple[str, Any, Callable[[Any, int], Any]]] = {
    "task": ("tasks", Task(id=1, name="t", owner_id=1, organization_id=1),
             lambda e, i: replace(e, name=f"by {i}", organization_id=i)),  # moves its org copy too
    "project": ("projects", Project(id=1, name="p", owner_id=1), lambda e, i: replace(e, name=f"by {i}")),
    "job": ("jobs", Job(id=1, task_id=1, segment_id=1, start_frame=0, stop_frame=9, frame_count=10),
            lambda e, i: replace(e, stage=JobStage.VALIDATION, assignee_id=i)),
    "organization": ("organizations", Organization(id=1, slug="org", owner_id=1),
                     lambda e, i: replace(e, slug=f"org-{i}")),  # each moves the slug guard elsewhere
    "label": ("labels", Label(id=1, name="car", color="#000000", task_id=1),
              lambda e, i: replace(e, name=f"car-{i}")),
    "user": ("users", User(id=1, username="u", email="u@example.com", password_hash="h"),
             lambda e, i: replace(e, username=f"u-{i}", email=f"u{i}@example.com")),
}


@pytest.mark.parametrize("kind", sorted(STALE_SAVES))
def test_stale_saves_racing_exactly_one_wins(table: str, serialised_moto: None, kind: str) -> None:
    attr, entity, change = STALE_SAVES[kind]
    first = getattr(backends.dynamo_repos(table), attr)
    backends.add_one(first, entity)
    repos = [getattr(c, attr) for c in clients(table)]
    loaded = [r.get(entity.id) for r in repos]  # every client holds version 1
    results = race([
        lambda r=r, e=e, i=i: r.save(change(e, i)) for i, (r, e) in enumerate(zip(repos, loaded, strict=True))
    ])
    (won,) = winners(results)
    assert won.version == 2
    assert first.get(entity.id) == won  # the winner's change, not a mix
    if kind == "organization":  # only the winner's slug is taken; the losers left no guard behind
        assert [first.find_by_slug(f"org-{i}") is not None for i in range(THREADS)].count(True) == 1
        assert first.find_by_slug("org") is None
    if kind == "task":
        assert [len(first.list_by_organization(i)) for i in range(THREADS)].count(1) == 1
        assert first.list_by_organization(1) == ([won] if won.organization_id == 1 else [])


# kind -> (repository attribute, client i's entity: the same unique value under a different id)
UNIQUE_ADDS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "organization slug": ("organizations", lambda i: Organization(id=i, slug="acme", owner_id=i)),
    "membership (org, user)": ("memberships", lambda i: Membership(id=i, user_id=5, organization_id=1,
                                                                   role=OrgRole.WORKER)),
    "username": ("users", lambda i: User(id=i, username="Alice" if i % 2 else "ALICE",  # case-insensitive
                                         email=f"a{i}@example.com", password_hash="h")),
    "email": ("users", lambda i: User(id=i, username=f"user{i}", email="same@example.com", password_hash="h")),
    "label name": ("labels", lambda i: [Label(id=i, name="car", color="#000000", task_id=1)]),
    "same id": ("tasks", lambda i: Task(id=1, name=f"t{i}", owner_id=i)),
}


@pytest.mark.parametrize("kind", sorted(UNIQUE_ADDS))
def test_racing_adds_of_one_unique_value(table: str, serialised_moto: None, kind: str) -> None:
    attr, make = UNIQUE_ADDS[kind]
    repos = [getattr(c, attr) for c in clients(table)]
    results = race([
        (lambda r=r, i=i: r.add_many(make(i))) if attr == "labels" else (lambda r=r, i=i: r.add(make(i)))
        for i, r in enumerate(repos, start=1)
    ])
    (won,) = winners(results)
    reader = getattr(backends.dynamo_repos(table), attr)
    if attr == "organizations":
        assert reader.list_all() == [won]
        assert reader.find_by_slug("acme") == won
    elif attr == "memberships":
        assert reader.list_by_user(5) == [won]
        assert reader.find(1, 5) == won
    elif attr == "users":
        assert reader.list_all() == [won]
    elif attr == "labels":
        assert reader.list_by_task(1) == won
    else:
        assert reader.list_all() == [won]


def test_racing_renames_onto_one_slug(table: str, serialised_moto: None) -> None:
    orgs = backends.dynamo_repos(table).organizations
    for i in range(THREADS):
        orgs.add(Organization(id=i, slug=f"org-{i}", owner_id=1))
    repos = [c.organizations for c in clients(table)]
    results = race([lambda r=r, i=i: r.save(replace(r.get(i), slug="wanted")) for i, r in enumerate(repos)])
    (won,) = winners(results)
    assert orgs.find_by_slug("wanted") == won
    # the losers kept their slugs; the winner's old slug is free
    assert sorted(o.slug for o in orgs.list_all()) == sorted(
        ["wanted"] + [f"org-{i}" for i in range(THREADS) if i != won.id])
    assert orgs.find_by_slug(f"org-{won.id}") is None


def test_racing_batches_are_each_all_or_nothing(table: str, serialised_moto: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # 12 labels = 36 items; at 10 items per transaction each batch takes 4 transactions, and the
    # batches collide on names in their first and in their last transaction.
    monkeypatch.setattr(dynamo_store, "MAX_TRANSACTION_ITEMS", 10)
    names = [f"n{i}" for i in range(12)]
    batches = [
        [Label(id=100 * b + i, name=n, color="#000000", task_id=1) for i, n in enumerate(order)]
        for b, order in enumerate([names, names[::-1], names[6:] + names[:6]], start=1)
    ]
    repos = [c.labels for c in clients(table, len(batches))]
    results = race([lambda r=r, b=b: r.add_many(b) for r, b in zip(repos, batches, strict=True)])
    won = winners(results)
    assert len(won) <= 1
    stored = backends.dynamo_repos(table).labels.list_by_task(1)
    assert stored == (sorted(won[0], key=lambda lb: lb.id) if won else [])


def test_ids_from_racing_clients_are_unique(table: str, serialised_moto: None) -> None:
    gens = [c.ids for c in clients(table)]
    results = race([lambda g=g: [g.next_id("job") for _ in range(15)] for g in gens])
    ids = sorted(i for r in results for i in r)
    assert ids == list(range(1, THREADS * 15 + 1))


def test_delete_racing_a_save_leaves_no_copies(table: str, serialised_moto: None) -> None:
    tasks = backends.dynamo_repos(table).tasks
    for i in range(1, 9):
        tasks.add(Task(id=i, name="t", owner_id=1, organization_id=1, project_id=1))
    saver, deleter = (c.tasks for c in clients(table, 2))
    loaded = [saver.get(i) for i in range(1, 9)]
    race([
        lambda: [_try(lambda t=t: saver.save(replace(t, organization_id=2, project_id=2))) for t in loaded],
        lambda: [_try(lambda i=i: deleter.delete(i)) for i in range(1, 9)],
    ])
    alive = tasks.list_all()
    # every task is either gone everywhere or listed exactly where its stored version says
    assert tasks.list_by_organization(1) + tasks.list_by_organization(2) == sorted(
        alive, key=lambda t: (t.organization_id, t.id))
    assert tasks.list_by_project(1) + tasks.list_by_project(2) == sorted(alive, key=lambda t: (t.project_id, t.id))


def _try(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except ConflictError as exc:
        return exc
    except Exception as exc:  # NotFoundError when the delete came first
        return exc
