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

Version 2 -> 3: invitations store ``sent_date`` (CVAT's Invitation.sent_date: the expiry counts
from it). Items written before lack it; the step gives every invitation item that lacks it, and
its copies, ``sent_date = created_date``. This is the shape of any "new field with a default"
step (``_Backfill``):

- The rule: deploy first, migrate after. Between the two, the new code reads items the step has
  not reached yet, so it must read a missing field as its default: ``Invitation.__post_init__``
  gives ``sent_date = created_date``, the same value the step writes, so a save by the new code
  in between writes that value too (no lost update, no version bump needed). The read-time default
  stays for as long as the code may meet a table that has not been upgraded.
- The step reads the table in pages: a strongly consistent Scan with ``Limit`` (``PAGE_SIZE``
  items evaluated) and ``ExclusiveStartKey``, filtered on the main items of the kind.
- Each item lacking the field is written back whole, with its copies, in a transaction whose main
  item is put on condition of the version the Scan read (a save in between cancels it: the item is
  read again and written alone, or skipped when deleted or already given the field). The version
  is not bumped: the value is the one the code already reads.
- After each page the step records its progress in the item ``META`` / ``UPGRADE#3``: the page's
  LastEvaluatedKey and the counts so far. A run cut short (killed, throttled, a failed write)
  resumes from the recorded key instead of scanning again from the start; redoing the page it was
  in is harmless. The progress item is marked complete after the last page, and only then does
  ``DynamoSchema.ensure()`` record version 3. A finished step run again (a crash before the
  version was recorded) reads its progress item and scans nothing.
- Rolling back to code of version 2 is safe: the codec ignores keys a class does not know, and
  older code reads ``sent_date`` anyway. It refuses to run on a table recorded at 3, though
  (ensure(): "newer than this code"); see the README's Upgrading section.
"""

from __future__ import annotations

import json
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
from .dynamo_store import (
    PlainItem,
    VersionedStore,
    View,
    id_key,
    item_data,
    plain_items_model,
    transaction_batches,
)
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


# --------------------------------------------------------------------------- backfills (2 -> 3)

PAGE_SIZE = 200
"""Items one Scan page of a backfill evaluates (its ``Limit``); progress is recorded after each."""


@dataclass(frozen=True, slots=True)
class UpgradeProgress:
    """Where a paginated step stands, told after each page and kept in ``META`` / ``UPGRADE#<v>``."""

    to_version: int
    noun: str  # what is counted: "invitations"
    scanned: int  # items of the kind read so far, over every run of the step
    updated: int  # of those, the ones found without the field (given it by the step, or by a save meanwhile)
    pages: int  # pages read by this run
    resumed: bool  # this run started from a key a previous run recorded
    complete: bool

    def line(self) -> str:
        state = "done" if self.complete else "in progress"
        again = ", resumed" if self.resumed else ""
        return (f"schema {self.to_version - 1} -> {self.to_version}: {self.scanned} {self.noun} checked, "
                f"{self.updated} updated ({state}{again})")


OnPage = Callable[[UpgradeProgress], None]
"""Told after each page, once its progress is recorded. An exception raised here stops the step
there (the next run resumes after that page): tests use it to cut a run short."""


def progress_key(to_version: int) -> tuple[str, str]:
    return "META", f"UPGRADE#{to_version}"


def read_progress(table_name: str, to_version: int) -> dict[str, Any] | None:
    """The progress a paginated step recorded (``last_key``, ``scanned``, ``updated``,
    ``complete``), or None when it never ran."""
    model = plain_items_model(table_name)
    with aws_errors("reading the upgrade's progress"):
        try:
            return item_data(model.get(*progress_key(to_version), consistent_read=True))
        except model.DoesNotExist:
            return None


@dataclass(frozen=True, slots=True)
class _Backfill:
    """A field the main items of one kind (``<prefix><id>`` / ``sk``) gain, with their copies."""

    to_version: int
    prefix: str
    sk: str
    field: str
    noun: str
    store: Callable[[str], VersionedStore[Any]]


def _invitations(table_name: str) -> VersionedStore[Any]:
    return VersionedStore(table_name, Invitation, "invitation", dynamo_orgs.invitation_views)


INVITATION_SENT_DATE = _Backfill(3, "INVITATION#", "INVITATION", "sent_date", "invitations", _invitations)


def upgrade_2_to_3(table_name: str, *, page_size: int = PAGE_SIZE, on_page: OnPage | None = None) -> int:
    """Give every invitation a stored ``sent_date``; returns how many items were written (over
    every run of the step)."""
    return _backfill(table_name, INVITATION_SENT_DATE, page_size=page_size, on_page=on_page)


def _backfill(table_name: str, spec: _Backfill, *, page_size: int, on_page: OnPage | None) -> int:
    model = plain_items_model(table_name)
    store = spec.store(table_name)
    recorded = read_progress(table_name, spec.to_version) or {}
    scanned, updated = int(recorded.get("scanned", 0)), int(recorded.get("updated", 0))
    if recorded.get("complete"):
        return updated
    start = json.loads(recorded["last_key"]) if recorded.get("last_key") else None
    resumed, pages = start is not None, 0
    if resumed:
        log.info("schema %d: resuming after %d %s", spec.to_version, scanned, spec.noun)
    kind = (model.sk == spec.sk) & model.pk.startswith(spec.prefix)
    while True:
        with aws_errors(f"reading the {spec.noun} to upgrade them"):
            page = model._get_connection().scan(
                filter_condition=kind, limit=page_size, exclusive_start_key=start, consistent_read=True)
        items = [model.from_raw_data(raw) for raw in page.get("Items", [])]
        lacking = [item for item in items if item_data(item).get(spec.field) is None]
        for batch in transaction_batches((_filled(store, item) for item in lacking), lambda e: len(e.views)):
            _write_filled(model, store, spec, batch)
        start = page.get("LastEvaluatedKey")
        scanned, updated, pages = scanned + len(items), updated + len(lacking), pages + 1
        _record_progress(model, spec.to_version, start, scanned, updated)
        if on_page is not None:
            on_page(UpgradeProgress(spec.to_version, spec.noun, scanned, updated, pages, resumed, start is None))
        if start is None:
            break
    log.info("schema %d: %d %s checked, %d given %s in %s",
             spec.to_version, scanned, spec.noun, updated, spec.field, table_name)
    return updated


def _record_progress(
    model: type[PlainItem], to_version: int, last_key: dict[str, Any] | None, scanned: int, updated: int
) -> None:
    pk, sk = progress_key(to_version)
    data = {"last_key": json.dumps(last_key) if last_key else None, "scanned": scanned, "updated": updated,
            "complete": last_key is None}
    with aws_errors("recording the upgrade's progress"):
        model(pk=pk, sk=sk, data=data).save()


def _filled(store: VersionedStore[Any], item: PlainItem) -> _Copies:
    """The item and its copies, written back with the field's default (the entity's read-time
    default, so the value is the one the code already reads)."""
    entity = store.entity_of(item)
    views = tuple(v for v in store.views(entity) if v.unique is None)
    return _Copies(item.pk, item.sk, int(item.version or 0), encode(entity), views)


def _transact_filled(model: type[PlainItem], batch: list[_Copies]) -> None:
    with aws_errors("upgrading the table"), TransactWrite(connection=model._get_connection().connection) as tx:
        for entry in batch:
            for view in entry.views:  # views[0] is the main item: the only one with a condition
                condition = model.version == entry.version if view.key == (entry.pk, entry.sk) else None
                tx.save(model(pk=view.pk, sk=view.sk, data=entry.data, version=entry.version), condition=condition)


def _write_filled(model: type[PlainItem], store: VersionedStore[Any], spec: _Backfill, batch: list[_Copies]) -> None:
    try:
        _transact_filled(model, batch)
        return
    except ConflictError:  # some item changed since the Scan: redo them one by one from a fresh read
        pass
    for entry in batch:
        for _ in range(ATTEMPTS):
            with aws_errors(f"reading one of the {spec.noun} to upgrade it"):
                try:
                    fresh = model.get(entry.pk, entry.sk, consistent_read=True)
                except model.DoesNotExist:
                    break  # deleted meanwhile: its copies went with it
            if item_data(fresh).get(spec.field) is not None:
                break  # saved meanwhile by code that writes the field
            try:
                _transact_filled(model, [_filled(store, fresh)])
                break
            except ConflictError:
                continue
        else:
            raise ConflictError(f"{entry.pk} keeps changing during the upgrade; run `cvat-serverless migrate` again.")


# --------------------------------------------------------------------------- the steps

STEPS: dict[int, Callable[..., int]] = {1: upgrade_1_to_2, 2: upgrade_2_to_3}
"""The step that moves a table from each version to the next; a step that reads the table in
pages takes ``on_page`` (see OnPage)."""

PAGINATED = frozenset({2})
"""The steps that take ``on_page`` and record their progress."""


def upgrade(table_name: str, from_version: int, on_page: OnPage | None = None) -> None:
    """Move ``table_name`` from ``from_version`` to the next version (the caller records it)."""
    if from_version in PAGINATED:
        STEPS[from_version](table_name, on_page=on_page)
    else:
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
