"""Versioned entities on the single table: one main item per entity plus the extra items that
list it or keep a value unique, all written in one transaction.

Each repository describes an entity as a list of ``View``s (its items). The first view is the main
item, keyed by the entity's id alone (``TASK#7``/``TASK``); the others are full copies under the
partition a listing queries (``ORG#3#TASKS``/``000000000007``, ``ALL#TASKS``/..., ``USER#5#TASKS``/...)
or uniqueness guards (``ORGSLUG#acme``/``UNIQUE``). Every item holds the whole entity in ``data``
and the entity's ``version``, so a listing is one strongly consistent Query on the base table, a
lookup by a unique value is one GetItem, and nothing reads a secondary index. An item stays the
size of one entity (no unbounded lists inside items).

Rules (the same as the in-memory fakes):
- ``add`` puts every view with ``attribute_not_exists(pk)``: an existing id or a taken unique
  value cancels the transaction -> ConflictError. The entity is stored with version 1.
- ``save`` reads the stored entity (to know which views move), then in one transaction puts the
  main item on condition ``version = <the caller's version>``, rewrites the copies, puts views
  whose key changed with ``attribute_not_exists`` (a new slug that is taken conflicts) and deletes
  the views that no longer apply. A stale version -> ConflictError; nothing is half-written.
- ``add_many`` is all or nothing. DynamoDB transactions hold at most 100 items, so a batch is cut
  into transactions of whole entities; when a later transaction fails, the items written by the
  earlier ones are deleted again before the error is raised. Concurrent readers may see part of a
  batch of more than 100 items for the moment it takes to write it, and a process killed between
  two transactions leaves the first part stored: callers (task creation) write jobs before
  marking the task ready, so such a remnant is never served as a finished task. An entity has
  at most six items (a task: main, all, organization, project, owner, assignee), so a transaction
  holds at least 16 entities.

Reads over several partitions (``query_many``, ``count_many``) run one Query per partition, at most
MAX_PARALLEL_QUERIES at once on threads: botocore clients are thread-safe, and the model's
connection and client, which PynamoDB builds lazily without a lock, are built before the threads
start. ``get_many`` is one BatchGetItem per 100 keys (PynamoDB resends unprocessed keys).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from pynamodb.attributes import MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.errors import ConflictError, NotFoundError
from ...ports import AllOrganizations, Scope
from .dynamo_codec import decode, encode
from .errors import aws_errors

log = logging.getLogger(__name__)

E = TypeVar("E")
K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit on the items of one TransactWriteItems call."""

MAX_PARALLEL_QUERIES = 8
"""Partitions a multi-partition read queries at once (PynamoDB's client pools 10 connections)."""

_CONFLICT_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def id_key(value: int) -> str:
    """A sort key that orders integer ids numerically."""
    return f"{value:012d}"


def scope_partition(scope: Scope, kind: str) -> str:
    """The partition that lists every ``kind`` (``TASKS``...) of a scope: ``ALL#TASKS``, or an
    organization's (``ORG#<o|->#TASKS``)."""
    if isinstance(scope, AllOrganizations):
        return f"ALL#{kind}"
    return f"ORG#{opt_key(scope)}#{kind}"


def opt_key(value: int | None) -> str:
    """An id inside a key, ``-`` for none (e.g. the personal workspace: no organization)."""
    return "-" if value is None else str(value)


class PlainItem(Model):
    """The same items as ``dynamo.BaseItem``, with ``version`` as a plain number: the store sets
    it and writes the optimistic-locking conditions itself (PynamoDB's VersionAttribute would
    bump every copy on its own and cannot write a copy at a given version)."""

    class Meta:
        table_name = "unset"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = MapAttribute[str, Any](null=True)
    value = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def item_data(item: PlainItem) -> dict[str, Any]:
    """The item's ``data`` map as a plain dict (raw maps come back as MapAttribute)."""
    data = item.data
    if data is None:
        return {}
    return data.as_dict() if isinstance(data, MapAttribute) else dict(data)


@cache
def plain_items_model(table_name: str) -> type[PlainItem]:
    from .tracing import instrument_aws_sdks  # as items_model: trace from the first client on

    instrument_aws_sdks()
    meta = type("Meta", (), {"table_name": table_name})
    return type(f"PlainItem_{abs(hash(table_name))}", (PlainItem,), {"Meta": meta})


@dataclass(frozen=True, slots=True)
class View:
    """One item of an entity. ``unique`` names the rule a guard enforces (``"slug"``)."""

    pk: str
    sk: str
    unique: str | None = None
    expires_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.pk, self.sk


def user_views(partition: str, sk: str, *user_ids: int | None) -> list[View]:
    """One copy under ``USER#<u>#<partition>`` per distinct user among ``user_ids`` (an owner who
    is also the assignee is listed once)."""
    return [View(f"USER#{u}#{partition}", sk) for u in dict.fromkeys(u for u in user_ids if u is not None)]


@dataclass(slots=True)
class _Op:
    kind: str  # "put" | "delete"
    item: PlainItem
    condition: Condition | None
    conflict: str  # the message when this operation's condition fails


class VersionedStore(Generic[E]):
    """The generic add/get/save/delete/list of one entity type over ``View``s."""

    def __init__(
        self, table_name: str, entity: type[E], noun: str, views: Callable[[E], Sequence[View]]
    ) -> None:
        self.model = plain_items_model(table_name)
        self._entity = entity
        self._noun = noun
        self._views = views
        self._a_noun = f"{'An' if noun[0] in 'aeiou' else 'A'} {noun}"
        self._versioned = any(f.name == "version" for f in fields(entity))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ items <-> entities
    def _item(self, view: View, data: dict[str, Any], version: int | None) -> PlainItem:
        return self.model(
            pk=view.pk, sk=view.sk, data=data, version=version if self._versioned else None,
            expires_at=view.expires_at,
        )

    def entity_of(self, item: PlainItem) -> E:
        extra = {"version": int(item.version or 0)} if self._versioned else {}
        return decode(self._entity, item_data(item), **extra)

    def _with_version(self, entity: E, version: int) -> E:
        stored = copy.deepcopy(entity)
        if self._versioned:
            stored.version = version  # type: ignore[attr-defined]
        return stored

    def views(self, entity: E) -> Sequence[View]:
        return self._views(entity)

    def _what(self, entity: E) -> str:
        return f"{self._noun} {self._views(entity)[0].pk.split('#', 1)[-1]}"

    # ------------------------------------------------------------------ transactions
    def _transact(self, what: str, ops: Sequence[_Op]) -> None:
        # PynamoDB sends deletes before puts; cancellation reasons come back in request order.
        ordered = [op for op in ops if op.kind == "delete"] + [op for op in ops if op.kind == "put"]
        if len(ordered) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{what}: {len(ordered)} items exceed one DynamoDB transaction")
        with aws_errors(what):
            try:
                with TransactWrite(connection=self.model._get_connection().connection) as tx:
                    for op in ordered:
                        if op.kind == "put":
                            tx.save(op.item, condition=op.condition)
                        else:
                            tx.delete(op.item, condition=op.condition)
            except TransactWriteError as exc:
                reasons = list(exc.cancellation_reasons or [])
                for op, reason in zip(ordered, reasons, strict=False):
                    if reason is not None and reason.code == "ConditionalCheckFailed":
                        raise ConflictError(op.conflict) from exc
                if any(r is not None and r.code in _CONFLICT_REASONS for r in reasons):
                    raise ConflictError(f"{what}: changed concurrently; reload and retry.") from exc
                raise

    def _put_new(self, entity: E, views: Sequence[View], data: dict[str, Any]) -> list[_Op]:
        ops = []
        for i, view in enumerate(views):
            if view.unique:
                message = f"{self._a_noun} with this {view.unique} already exists."
            else:
                message = f"{self._what(entity)} already exists." if i == 0 else f"{self._noun} exists."
            ops.append(_Op("put", self._item(view, data, 1), self.model.pk.does_not_exist(), message))
        return ops

    # ------------------------------------------------------------------ writes
    def add(self, entity: E) -> E:
        return self.add_many([entity])[0]

    def add_many(self, entities: Sequence[E]) -> list[E]:
        prepared = [(e, self._views(e)) for e in entities]
        seen: set[tuple[str, str]] = set()
        for entity, views in prepared:
            for i, view in enumerate(views):
                if view.key in seen:
                    raise ConflictError(
                        f"{self._a_noun} with this {view.unique} already exists." if view.unique
                        else f"{self._what(entity)} already exists." if i == 0
                        else f"Two {self._noun}s of the batch share the item {view.pk}/{view.sk}."
                    )
                seen.add(view.key)
        written: list[View] = []
        try:
            for chunk in _chunks(prepared):
                ops = [op for e, views in chunk for op in self._put_new(e, views, encode(e))]
                self._transact(f"creating {len(chunk)} {self._noun}(s)", ops)
                written.extend(v for _, views in chunk for v in views)
        except Exception:
            if written:
                self._undo(written)
            raise
        return [self._with_version(e, 1) for e in entities]

    def _undo(self, views: Sequence[View]) -> None:
        """Delete the items of the first transactions of a failed batch."""
        try:
            self.delete_views(views)
        except Exception:  # the original error matters more; leave a trace of the remnant
            log.exception("could not roll back %d items of a failed %s batch", len(views), self._noun)

    def save(self, entity: E) -> E:
        new_views = self._views(entity)
        main = new_views[0]
        current = self.get(main.pk, main.sk)
        expected = entity.version  # type: ignore[attr-defined]
        old_keys = {v.key for v in self._views(current)}
        new_keys = {v.key for v in new_views}
        data = encode(entity)
        stale = f"The {self._noun} was changed by someone else; reload and retry."
        ops = [_Op("put", self._item(main, data, expected + 1), self.model.version == expected, stale)]
        for view in new_views[1:]:
            if view.key in old_keys:  # the main item's condition already serialises this write
                ops.append(_Op("put", self._item(view, data, expected + 1), None, stale))
            else:
                ops.append(_Op(
                    "put", self._item(view, data, expected + 1), self.model.pk.does_not_exist(),
                    f"{self._a_noun} with this {view.unique} already exists." if view.unique else stale,
                ))
        for view in self._views(current):
            if view.key not in new_keys:
                ops.append(_Op("delete", self.model(pk=view.pk, sk=view.sk), None, stale))
        self._transact(f"saving {self._what(entity)}", ops)
        return self._with_version(entity, expected + 1)

    def delete(self, pk: str, sk: str, attempts: int = 3) -> None:
        """Delete an entity and all its items; NotFoundError when it does not exist. A save that
        lands between the read and the delete moves views, so the delete is retried."""
        for _ in range(attempts):
            current_item = self._get_item(pk, sk)
            current = self.entity_of(current_item)
            views = self._views(current)
            condition = (
                self.model.version == current_item.version if self._versioned else self.model.pk.exists()
            )
            ops = [_Op("delete", self.model(pk=views[0].pk, sk=views[0].sk), condition, "changed")]
            ops += [_Op("delete", self.model(pk=v.pk, sk=v.sk), None, "changed") for v in views[1:]]
            try:
                self._transact(f"deleting {self._what(current)}", ops)
                return
            except ConflictError:
                continue
        raise ConflictError(f"The {self._noun} keeps changing; try deleting it again.")

    def delete_views(self, views: Iterable[View]) -> None:
        """Delete items without conditions (batched, 25 per request; not atomic)."""
        with aws_errors(f"deleting {self._noun} items"), self.model.batch_write() as batch:
            for view in views:
                batch.delete(self.model(pk=view.pk, sk=view.sk))

    def delete_entities(self, entities: Iterable[E]) -> None:
        self.delete_views(v for e in entities for v in self._views(e))

    # ------------------------------------------------------------------ reads
    def _get_item(self, pk: str, sk: str) -> PlainItem:
        with aws_errors(f"reading a {self._noun}"):
            try:
                return self.model.get(pk, sk, consistent_read=True)
            except self.model.DoesNotExist:
                raise NotFoundError(f"{self._noun.capitalize()} {pk.split('#', 1)[-1]} not found.") from None

    def get(self, pk: str, sk: str) -> E:
        return self.entity_of(self._get_item(pk, sk))

    def find(self, pk: str, sk: str) -> E | None:
        try:
            return self.get(pk, sk)
        except NotFoundError:
            return None

    def get_many(self, ids: Iterable[K], key: Callable[[K], tuple[str, str]]) -> dict[K, E]:
        """The entities among ``ids`` that exist, by id, in the order of ``ids`` (duplicates read
        once); ``key`` gives an id's main item. Strongly consistent, as ``get``."""
        keys = {key(i): i for i in ids}
        if not keys:
            return {}
        with aws_errors(f"reading {self._noun}s"):
            found = {(i.pk, i.sk): i for i in self.model.batch_get(list(keys), consistent_read=True)}
        return {i: self.entity_of(found[k]) for k, i in keys.items() if k in found}

    def query(self, pk: str, sk_prefix: str | None = None) -> list[E]:
        """Entities copied under ``pk`` (strongly consistent; PynamoDB follows the pages)."""
        condition = self.model.sk.startswith(sk_prefix) if sk_prefix else None
        with aws_errors(f"listing {self._noun}s"):
            return [self.entity_of(i) for i in self.model.query(pk, condition, consistent_read=True)]

    def query_window(self, pk: str, offset: int, limit: int, *, newest_first: bool) -> tuple[list[E], int]:
        """``limit`` entities from position ``offset`` of the partition ``pk`` in sort-key order
        (newest first: descending), and how many it holds: a count, a count of the ``offset``
        skipped items (Select=COUNT with a Limit: it ends at their last key and returns no item),
        then one page of whole items. Strongly consistent."""
        forward = not newest_first
        with aws_errors(f"listing {self._noun}s"):
            total = self.model.count(pk, consistent_read=True)
            if limit <= 0 or offset >= total:
                return [], total
            start = self._skip(pk, offset, forward=forward) if offset else None
            page = self.model.query(pk, consistent_read=True, scan_index_forward=forward, limit=limit,
                                    last_evaluated_key=start)
            return [self.entity_of(i) for i in page], total

    def _skip(self, pk: str, count: int, *, forward: bool) -> dict[str, Any] | None:
        """The key after which the item at position ``count`` of the partition starts."""
        connection = self.model._get_connection()
        start: dict[str, Any] | None = None
        while count > 0:
            answer = connection.query(pk, consistent_read=True, scan_index_forward=forward, limit=count,
                                      select="COUNT", exclusive_start_key=start)
            count -= int(answer.get("Count", 0))
            start = answer.get("LastEvaluatedKey")
            if start is None:  # the partition ended first
                break
        return start

    def query_many(self, pks: Iterable[str]) -> list[E]:
        """The entities copied under each of ``pks``, partition after partition; the Queries run
        concurrently. No request for no partitions."""
        return [e for found in self._fan_out(self.query, pks) for e in found]

    def count_many(self, pks: Iterable[str]) -> dict[str, int]:
        """How many items each partition holds (Query with Select=COUNT, concurrently)."""
        unique = list(dict.fromkeys(pks))
        return dict(zip(unique, self._fan_out(self._count, unique), strict=True))

    def _count(self, pk: str) -> int:
        with aws_errors(f"counting {self._noun}s"):
            return self.model.count(pk, consistent_read=True)

    def _fan_out(self, read: Callable[[str], R], pks: Iterable[str]) -> list[R]:
        unique = list(dict.fromkeys(pks))
        if len(unique) <= 1:
            return [read(pk) for pk in unique]
        # PynamoDB builds the connection and its botocore client on first use, without a lock:
        # build them here so that the threads share one client (thread-safe once built).
        _ = self.model._get_connection().connection.client
        workers = min(MAX_PARALLEL_QUERIES, len(unique))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dynamo-{self._noun}") as pool:
            return list(pool.map(read, unique))


def _chunks(prepared: Sequence[tuple[E, Sequence[View]]]) -> Iterator[list[tuple[E, Sequence[View]]]]:
    return transaction_batches(prepared, lambda entry: len(entry[1]))


def transaction_batches(entries: Iterable[R], items: Callable[[R], int]) -> Iterator[list[R]]:
    """Whole entries per transaction, at most MAX_TRANSACTION_ITEMS items each; ``items`` tells
    how many items an entry writes."""
    batch: list[R] = []
    size = 0
    for entry in entries:
        n = items(entry)
        if batch and size + n > MAX_TRANSACTION_ITEMS:
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += n
    if batch:
        yield batch
