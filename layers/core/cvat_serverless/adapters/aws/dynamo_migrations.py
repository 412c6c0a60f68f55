"""Moves a table written by an older item layout forward, one schema version at a time.

``DynamoSchema.ensure()`` (run by ``cvat-serverless migrate`` and at every start of the embedded
runtime) calls ``upgrade(table, v)`` for each version ``v`` below the code's SCHEMA_VERSION and
records ``v + 1`` after it. A step must be idempotent: a process killed halfway leaves the old
version recorded, and the next run does the whole step again.

Version 1 -> 2: the lists leave gsi1 for base-table partitions (``ALL#<KIND>S``, ``ORG#<o>#JOBS``,
``ORG#<o>#MEMBERSHIPS``, ``ORG#<o>#INVITATIONS``, ``USER#<u>#TOKENS``) and gain the per-user
partitions (``USER#<u>#PROJECTS``, ``USER#<u>#TASKS``, ``USER#<u>#JOBS``); see repositories.py.
The step writes, for every user, organization, membership, invitation, project, task, job, label
and access token, every copy the version-2 layout gives it (the copies it already had are
rewritten unchanged; main items and uniqueness guards are left as they are).

- The entities are found with one paginated, strongly consistent Scan filtered on the main items'
  sort keys, not through the gsi1 lists: gsi1 is eventually consistent, lists no labels, may be
  dropped from the table before the upgrade runs, and in moto (the embedded runtime) every gsi1
  Query walks the whole table, so one Query per organization and per user would cost more than
  the single pass. The upgrade runs once per table, off the request path.
- Copies are written in transactions of whole entities (at most 100 items), each entity with a
  ConditionCheck that its main item still has the version the Scan read. A save or delete by a
  running new-layout process in between cancels the transaction; its entities are then read again
  and written one by one, so the step never writes a copy older than its main item nor a copy of
  a deleted entity. Writing the same copies twice is harmless, which makes the step safe to rerun.
- gsi1pk/gsi1sk stay on the version-1 main items until their next save rewrites them; nothing
  reads them any more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.transactions import TransactWrite

from ...domain.auth import AccessToken
from ...domain.errors import ConflictError
from ...domain.jobs import Job
from ...domain.labels import Label
from ...domain.organizations import Invitation, Membership, Organization
from ...domain.projects import Project
from ...domain.tasks import Task
from . import dynamo_auth, dynamo_jobs, dynamo_orgs, dynamo_projects
from .dynamo import ALL_USERS, DynamoUserRepository
from .dynamo_codec import encode
from .dynamo_store import PlainItem, VersionedStore, View, id_key, plain_items_model, transaction_batches
from .errors import aws_errors

log = logging.getLogger(__name__)

ATTEMPTS = 5
"""How often one entity is read again and rewritten when it keeps changing under the upgrade."""


@dataclass(frozen=True, slots=True)
class _Copies:
    """The copies one main item needs: written together, on condition of its version."""

    pk: str
    sk: str
    version: int
    data: dict[str, Any]
    views: tuple[View, ...]


_Plan = Callable[[PlainItem], _Copies]


def _store_plan(table_name: str, entity: type[Any], noun: str, views: Callable[[Any], Any]) -> _Plan:
    store = VersionedStore(table_name, entity, noun, views)

    def plan(item: PlainItem) -> _Copies:
        found = store.entity_of(item)
        copies = tuple(v for v in store.views(found)[1:] if v.unique is None)
        return _Copies(item.pk, item.sk, int(item.version or 0), encode(found), copies)

    return plan


def _user_plan(table_name: str) -> _Plan:
    users = DynamoUserRepository(table_name)

    def plan(item: PlainItem) -> _Copies:
        user = users.to_user(item)
        return _Copies(item.pk, item.sk, user.version, users.data(user), (View(ALL_USERS, id_key(user.id)),))

    return plan


def _plans_v2(table_name: str) -> dict[tuple[str, str], _Plan]:
    """Main items by (pk prefix, sk) -> what to write for them."""
    return {
        ("USER#", "PROFILE"): _user_plan(table_name),
        ("ORG#", "ORG"): _store_plan(table_name, Organization, "organization", dynamo_orgs.org_views),
        ("MEMBERSHIP#", "MEMBERSHIP"): _store_plan(
            table_name, Membership, "membership", dynamo_orgs.membership_views),
        ("INVITATION#", "INVITATION"): _store_plan(
            table_name, Invitation, "invitation", dynamo_orgs.invitation_views),
        ("PROJECT#", "PROJECT"): _store_plan(table_name, Project, "project", dynamo_projects.project_views),
        ("TASK#", "TASK"): _store_plan(table_name, Task, "task", dynamo_projects.task_views),
        ("LABEL#", "LABEL"): _store_plan(table_name, Label, "label", dynamo_projects.label_views),
        ("JOB#", "JOB"): _store_plan(table_name, Job, "job", dynamo_jobs.job_views),
        ("TOKEN#", "TOKEN"): _store_plan(table_name, AccessToken, "access token", dynamo_auth.token_views),
    }


def upgrade_1_to_2(table_name: str) -> int:
    """Write the version-2 copies of every entity; returns how many entities were visited."""
    model = plain_items_model(table_name)
    plans = _plans_v2(table_name)
    by_sk = {sk: (prefix, plan) for (prefix, sk), plan in plans.items()}

    def planned(items: Iterable[PlainItem]) -> Iterator[_Copies]:
        for item in items:
            prefix, plan = by_sk[item.sk]
            if item.pk.startswith(prefix):
                yield plan(item)

    with aws_errors("reading the table to upgrade it"):
        scan = model.scan(model.sk.is_in(*by_sk), consistent_read=True)
        done = 0
        # each entity: its copies and a ConditionCheck
        for batch in transaction_batches(planned(scan), lambda entry: len(entry.views) + 1):
            _write_batch(model, plans, batch)
            done += len(batch)
    log.info("schema 1 -> 2: wrote the new copies of %d entities in %s", done, table_name)
    return done


STEPS: dict[int, Callable[[str], int]] = {1: upgrade_1_to_2}
"""The step that moves a table from each version to the next."""


def upgrade(table_name: str, from_version: int) -> None:
    """Move ``table_name`` from ``from_version`` to the next version (the caller records it)."""
    STEPS[from_version](table_name)


def _transact(model: type[PlainItem], batch: list[_Copies]) -> None:
    with aws_errors("upgrading the table"), TransactWrite(connection=model._get_connection().connection) as tx:
        for entry in batch:
            tx.condition_check(model, entry.pk, entry.sk, condition=model.version == entry.version)
            for view in entry.views:
                tx.save(model(pk=view.pk, sk=view.sk, data=entry.data, version=entry.version))


def _write_batch(model: type[PlainItem], plans: dict[tuple[str, str], _Plan], batch: list[_Copies]) -> None:
    try:
        _transact(model, batch)
    except ConflictError:  # some entity changed since the Scan: redo them one by one from a fresh read
        for entry in batch:
            _write_one(model, plans, entry)


def _write_one(model: type[PlainItem], plans: dict[tuple[str, str], _Plan], entry: _Copies) -> None:
    plan = next(p for (prefix, sk), p in plans.items() if sk == entry.sk and entry.pk.startswith(prefix))
    for _ in range(ATTEMPTS):
        try:
            _transact(model, [entry])
            return
        except ConflictError:
            with aws_errors("reading an entity to upgrade it"):
                try:
                    fresh = model.get(entry.pk, entry.sk, consistent_read=True)
                except model.DoesNotExist:
                    return  # deleted meanwhile: its copies went with it
            entry = plan(fresh)
    raise ConflictError(f"{entry.pk} keeps changing during the upgrade; run `cvat-serverless migrate` again.")
