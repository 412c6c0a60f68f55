"""Fixes to moto that the embedded runtime needs. They reach into moto's internals, so they are
written for one moto version (MOTO_VERSION, the exact pin in pyproject.toml) and refuse to apply
on any other: a moto upgrade means re-reading these patches, not finding out from wrong answers.

query-by-partition: moto's DynamoDB Query sorts every item of the table (``Table.all_items``) and
keeps those of the queried partition, and walks from the first item again for every page, so each
list got slower as the table grew (one table holds all our data): 1.8 s for a page of 100 items
at 300,000 items. Here a Query looks up its partition (moto keeps the base table's items by hash
key, then by range key), sorts only those, finds ExclusiveStartKey and the range condition's
bounds by bisection, and runs moto's page loop over those positions, so Items, Count,
ScannedCount and LastEvaluatedKey are moto's (a test compares both on random tables). Index
(GSI/LSI) queries group the table's items by the index's hash key once, and keep that grouping
until the next DynamoDB write in this process (every DynamoDBBackend method but the reads counts
as one). Item sizes (moto measures each item a page keeps, for its 1 MB page) are kept the same
way, and the page's items are copied shallowly instead of deeply, as nothing changes them. Anything
else (legacy QueryFilter, multi-attribute index keys, mixed key types, invalid input) runs moto's
own Query. One assumption: no item is over moto's own 405,000-byte item limit (moto checks it on
every write but a nested in-place update); moto's page loop would otherwise stop on such an item
outside the key condition, where this skips those items without measuring them.

fast-read-serialization: moto 5.2 serializes every response by walking the service model member
by member; a Query returning 150 task items (about 45 attributes each) spent 1.5 of its 1.8 s
there. The read operations' results are already in DynamoDB's JSON wire form, so they are written
with json.dumps (same body, as a test checks through boto3).

transaction-undo-log: moto makes a deep copy of the whole table for each operation of a
TransactWriteItems call, to roll back on failure. With one table for all data that is O(table)
per transaction item: adding a task took 83 ms on an empty table and over a second at 5,000
items. Here the rollback keeps an undo record of only the items the transaction touches, which
is what a transaction can change.

s3-object-files: moto keeps each S3 object's bytes in memory or a temporary file, reads them
whole to answer, and pickles them into the snapshot. Here the bytes are files in the data
directory and moto keeps a reference; uploads and downloads stream (s3_objects.py says how, and
tests/integration/test_embedded_s3_store.py compares the answers with moto's own).

map-tolerated-failures: moto's Distributed Map counts a failed iteration and goes on, so the Map
state succeeds whatever its items did. On AWS a Map Run fails with
States.ExceedToleratedFailureThreshold once more items failed than ToleratedFailureCount /
ToleratedFailurePercentage allow (both 0 by default: any failed item fails the Map), and the
state's Catch takes it. Here the Map Run does the same.

compiled-jsonpaths: moto's EventBridge compiles each target's input paths (the eight of the
default event template) with jsonpath_ng for every event it delivers, and jsonpath_ng builds a
PLY parser for each compile: ~2 ms a path, so ~20 ms a PutEvents entry, which every API save
pays once per annotation event. Compiled paths are immutable; here each is compiled once.

moto-modules-listed-once: moto's server finds the backend of every request by listing moto's
package folder (a listdir and a stat per entry, ~150) before matching the host; the listing
is taken once. Likewise each request lists its response class's methods (inspect.getmembers
over a few hundred attributes) to find the action's; a class's methods are listed once.

sqs-send-without-counting: moto's SendMessage reads the queue's ``attributes`` for one FIFO
setting, and building them counts the queue's messages three times (visible, in flight,
delayed), each a walk over every message. The domain events queue has no consumer yet, so every
annotation save (one message per event) got slower as it filled: ~4 ms a save after 500
messages, and without bound on a long-running runtime. A standard queue has no such setting (the
read answers None), so a send to one skips building them.

sqs-receive-once: moto's ReceiveMessage picks the visible messages and marks them received
without a lock, so two consumers polling one queue at once (the embedded event source mappings
run several pollers, as AWS does) could both get the same message, and a webhook went out twice.
Here each queue's pick runs under a lock of its own, and the long poll waits outside it (for a
message, up to WaitTimeSeconds), so a waiting consumer never holds up another.

stop-a-starting-execution: moto's StopExecution reaches into the execution's evaluation
environment, which its worker thread makes only once it runs: a StopExecution right after
StartExecution (a user canceling an auto-annotation at once) failed with an AttributeError (a
500). Here the stop waits for that environment (a few milliseconds at most), as AWS stops an
execution in any state.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
import time
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

MOTO_VERSION = "5.2.5"
PATCHES = ("query-by-partition", "fast-read-serialization", "transaction-undo-log", "s3-object-files",
           "map-tolerated-failures", "compiled-jsonpaths", "moto-modules-listed-once", "sqs-send-without-counting",
           "get-item-without-partition", "sqs-receive-once", "stop-a-starting-execution")

_applied = threading.Lock()
_state = {"done": False}


class MotoVersionError(RuntimeError):
    """The installed moto is not the version these patches were written for."""


def installed_moto_version() -> str:
    import moto

    return str(moto.__version__)


def check_moto_version() -> None:
    found = installed_moto_version()
    if found != MOTO_VERSION:
        raise MotoVersionError(
            f"moto {found} is installed, but the embedded runtime's moto patches "
            f"(cvat_serverless_tools/local/moto_patches.py) were written for moto {MOTO_VERSION}; "
            f"install that version (pip install 'moto[server]=={MOTO_VERSION}', or pip install -e '.[local]')"
        )


def describe(*, patched: bool | None = None) -> str:
    """"moto 5.2.5 with cvat-serverless patches: ...": the moto this process runs (or, with
    ``patched``, will run once the patches are applied or not), e.g. for a test report's header."""
    found = installed_moto_version()
    if patched is None:
        patched = _state["done"]
    if patched and found != MOTO_VERSION:
        return f"moto {found}, which the cvat-serverless patches (written for moto {MOTO_VERSION}) refuse"
    patches = f"with cvat-serverless patches: {', '.join(PATCHES)}" if patched else "without patches"
    return f"moto {found} {patches}"


# ------------------------------------------------------------------------- transaction-undo-log
class _CopyKeepingTables:
    """Stands in for the ``copy`` module inside moto's DynamoDB models: a Table is "copied" as
    itself, so the transaction's whole-table backup costs nothing (our undo log replaces it)."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, obj: Any, memo: dict[int, Any] | None = None) -> Any:
        return obj if isinstance(obj, self._table_type) else copy.deepcopy(obj, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _key_of(table: Any, op: dict[str, Any]) -> dict[str, Any] | None:
    if "Key" in op:
        return dict(op["Key"])
    attrs = op.get("Item")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None and table.range_key_attr in attrs:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _undo_record(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    record = []
    for entry in transact_items:
        op = next(iter(entry.values()), None)
        if not isinstance(op, dict) or op.get("TableName") not in backend.tables:
            continue
        table = backend.tables[op["TableName"]]
        key = _key_of(table, op)
        if key is None:
            continue
        try:
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:  # noqa: S112 - moto reports a bad key itself when it runs the operation
            continue
        before = table.get_item(hash_value, range_value)
        record.append((table, hash_value, range_value, copy.deepcopy(before)))
    return record


def _restore(record: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, before in reversed(record):
        if before is None:
            if table.get_item(hash_value, range_value) is not None:
                table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = before
        else:
            table.items[hash_value] = before


def _patch_transactions(models_module: Any, table_type: type) -> None:
    original: Callable[..., None] = models_module.DynamoDBBackend.transact_write_items
    models_module.copy = _CopyKeepingTables(table_type)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        record = _undo_record(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(record)
            raise

    models_module.DynamoDBBackend.transact_write_items = transact_write_items


# ---------------------------------------------------------------------- fast-read-serialization
FAST_READS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})


def _patch_read_serialization() -> None:
    import base64
    import json

    from moto.dynamodb import responses

    original = responses.DynamoResult.execute_result

    def default(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode()
        if isinstance(value, set | frozenset):
            return sorted(value)
        raise TypeError(f"cannot serialize {type(value).__name__}")

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in FAST_READS:
            return original(self, context)
        version = context.operation_model.service_model.metadata.get("jsonVersion", "1.0")
        body = json.dumps(self.result, default=default, separators=(",", ":"))
        return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body

    execute_result.moto_original = original  # type: ignore[attr-defined]  # for the equivalence test
    responses.DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


# --------------------------------------------------------------------------- query-by-partition
# The key conditions moto's key parsers produce (KeyConditionExpression and legacy KeyConditions).
_KEY_CONDITIONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
_KEY_TYPES = frozenset({"S", "N", "B"})
# moto refuses to write a larger item (dynamo_type.LimitedSizeDict). moto's page loop checks its
# 1 MB budget on items outside the key condition too; with at least this much budget left no
# item can end the page, so those items need not be measured.
_ITEM_SIZE_LIMIT = 405_000
# DynamoDBBackend methods that change no item; every other one counts as a write.
_BACKEND_READS = frozenset({
    "batch_get_item", "default_vpc_endpoint_service", "describe_backup", "describe_continuous_backups",
    "describe_endpoints", "describe_export", "describe_import", "describe_table", "describe_time_to_live",
    "get_backup", "get_item", "get_keys_value", "get_resource_policy", "get_schema", "get_table",
    "get_table_keys_name", "iter_tagged_resources", "list_backups", "list_exports", "list_tables",
    "list_tags_of_resource", "query", "scan", "transact_get_items",
})


class _MotoDecides(Exception):
    """The partition path cannot promise moto's exact answer for this query; moto's Query runs."""


class _WriteClock:
    """Counts DynamoDB writes in this process. An index grouping built at one count is valid until
    the count moves; writers tick after they change anything, so a grouping built during a write
    is dropped too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0

    def tick(self) -> None:
        with self._lock:
            self.now += 1


_clock = _WriteClock()
# table -> (write count, {(index, hash attr, range attr): _IndexGroups})
_index_cache: weakref.WeakKeyDictionary[Any, tuple[int, dict[tuple[str, str, str | None], _IndexGroups]]] = (
    weakref.WeakKeyDictionary()
)
_index_cache_lock = threading.Lock()
# item sizes (moto measures every item a page keeps), valid until the next write:
# (write count, {id(item): (weak reference to the item, size)})
_sizes: tuple[int, dict[int, tuple[weakref.ref[Any], int]]] = (-1, {})


@dataclass
class _IndexGroups:
    items: dict[Any, list[Any]]  # index hash value (DynamoType) -> the items an index query can see
    ordered: dict[Any, tuple[list[Any], list[tuple[Any, ...]]] | None]  # hash value -> sorted partition


@dataclass
class _Query:
    """The arguments of moto's Table.query."""

    hash_key: Any
    range_comparison: str | None
    range_objs: list[Any]
    limit: Any
    exclusive_start_key: dict[str, Any] | None
    scan_index_forward: Any
    projection_expressions: list[list[str]] | None
    index_name: str | None
    consistent_read: bool
    filter_expression: Any
    hash_key_conditions: list[tuple[str, Any]] | None
    range_key_conditions: list[tuple[str, str, list[Any]]] | None
    filter_kwargs: dict[str, Any]


@dataclass
class _Page:
    order: list[Any]  # the partition's items in the query's order
    start: int  # the first position after ExclusiveStartKey
    lo: int  # positions [lo, hi) satisfy the range key condition (all positions without one)
    hi: int


def _ticking(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            _clock.tick()

    return write


def _count_writes(backend_type: type, table_type: type) -> None:
    for name, member in list(vars(backend_type).items()):
        if inspect.isfunction(member) and not name.startswith("_") and name not in _BACKEND_READS:
            setattr(backend_type, name, _ticking(member))
    # Table imports write through the table itself.
    for name in ("put_item", "delete_item"):
        setattr(table_type, name, _ticking(getattr(table_type, name)))


def _sorted(items: list[Any], attrs: list[str]) -> tuple[list[Any], list[tuple[Any, ...]]] | None:
    """``items`` in moto's order (by these attributes' DynamoType values), with their plain sort
    keys; None where moto's DynamoType order is not the plain values' order (mixed types)."""
    keyed = []
    types: tuple[str, ...] | None = None
    for item in items:
        values = [item.attrs[name] for name in attrs]
        kinds = tuple(v.type for v in values)
        if types is None:
            types = kinds
            if not _KEY_TYPES.issuperset(kinds):
                return None
        elif kinds != types:
            return None
        keyed.append((tuple(v.cast_value for v in values), item))
    keyed.sort(key=itemgetter(0))
    return [item for _, item in keyed], [key for key, _ in keyed]


def _group(table: Any, hash_attr: str, range_attr: str | None) -> _IndexGroups:
    from moto.dynamodb.models.dynamo_type import Item

    groups: dict[Any, list[Any]] = {}
    for entry in list(table.items.values()):
        for item in list(entry.values()) if table.range_key_attr else [entry]:
            if not isinstance(item, Item):
                continue
            value = item.attrs.get(hash_attr)
            if value is None or (range_attr is not None and item.attrs.get(range_attr) is None):
                continue
            try:
                groups.setdefault(value, []).append(item)
            except TypeError:  # a map, list or set never equals a query's scalar key
                continue
    return _IndexGroups(groups, {})


def _index_partition(table: Any, index_name: str, hash_attr: str, range_attr: str | None, *, hash_value: Any,
                     sort_attrs: list[str]) -> tuple[list[Any], list[tuple[Any, ...]]] | None:
    now = _clock.now
    with _index_cache_lock:
        cached = _index_cache.get(table)
        if cached is None or cached[0] != now:
            cached = (now, {})
            _index_cache[table] = cached
    key = (index_name, hash_attr, range_attr)
    groups = cached[1].get(key)
    if groups is None:
        groups = cached[1][key] = _group(table, hash_attr, range_attr)
    if hash_value not in groups.ordered:
        groups.ordered[hash_value] = _sorted(groups.items.get(hash_value, []), sort_attrs)
    return groups.ordered[hash_value]


def _size(item: Any) -> int:
    global _sizes  # noqa: PLW0603 - replaced whole, so a reader holds one count's sizes
    now = _clock.now
    if _sizes[0] != now:
        _sizes = (now, {})
    sizes = _sizes[1]
    known = sizes.get(id(item))
    if known is not None and known[0]() is item:
        return known[1]
    size = int(item.size())
    sizes[id(item)] = (weakref.ref(item), size)
    return size


def _detached(item: Any) -> Any:
    """A copy of the item that shares its attribute values. moto returns deep copies so that
    nothing done to the answer reaches the table; what it does to them (index and expression
    projections build new items, filters and the response only read) changes no value."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    copied: Any = Item.__new__(Item)
    copied.hash_key, copied.range_key = item.hash_key, item.range_key
    copied.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(copied.attrs, item.attrs)  # as moto's Item.__deepcopy__: no size check on a copy
    return copied


def _first_false(lo: int, hi: int, holds: Callable[[int], bool]) -> int:
    """The first position in [lo, hi) where ``holds`` is false, given it is true, then false."""
    while lo < hi:
        middle = (lo + hi) // 2
        if holds(middle):
            lo = middle + 1
        else:
            hi = middle
    return lo


def _range_bounds(keys: list[Any], comparison: str, values: list[Any]) -> tuple[int, int]:
    """Positions [lo, hi) of the ascending ``keys`` that satisfy the key condition."""
    import bisect

    n = len(keys)
    if comparison == "BETWEEN":
        lower, upper = values
        lo = bisect.bisect_left(keys, lower)
        return lo, max(lo, bisect.bisect_right(keys, upper))
    (value,) = values
    if comparison == "BEGINS_WITH":
        # Every key with the prefix sorts at or after the prefix, and they come first there.
        lo = bisect.bisect_left(keys, value)
        return lo, _first_false(lo, n, lambda i: bool(keys[i].startswith(value)))
    return {
        "=": (bisect.bisect_left(keys, value), bisect.bisect_right(keys, value)),
        "<": (0, bisect.bisect_left(keys, value)),
        "<=": (0, bisect.bisect_right(keys, value)),
        ">": (bisect.bisect_right(keys, value), n),
        ">=": (bisect.bisect_left(keys, value), n),
    }[comparison]


def _plan(table: Any, q: _Query) -> _Page:
    """Where moto's page loop would start and which positions it would keep, from the partition
    alone; raises _MotoDecides for a query whose answer this cannot promise to be moto's."""
    from moto.dynamodb.models.dynamo_type import Item

    range_comparison, range_key_conditions, hash_key_conditions = (
        q.range_comparison, q.range_key_conditions, q.hash_key_conditions)
    if q.filter_kwargs or (isinstance(q.limit, int) and q.limit < 1) or len(range_key_conditions or []) > 1:
        raise _MotoDecides
    if range_comparison is not None and range_comparison not in _KEY_CONDITIONS:
        raise _MotoDecides
    compared = range_key_conditions[-1][0] if range_key_conditions else None
    if q.index_name:
        indexes = {i.name: i for i in table.all_indexes()}
        index = indexes.get(q.index_name)
        if index is None or (q.consistent_read and index in table.global_indexes):
            raise _MotoDecides
        hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hash_keys) != 1 or len(range_keys) > 1 or (range_comparison and not range_keys):
            raise _MotoDecides
        if [name for name, _ in hash_key_conditions or []] != hash_keys:
            raise _MotoDecides
        if range_keys:
            index_range = range_keys[0]
        else:
            index_range = table.range_key_attr if table.range_key_attr else table.hash_key_attr
        hash_attrs = [hash_keys[0], table.hash_key_attr]
        range_attrs = [index_range, table.range_key_attr]
        compared = compared or index_range
        sort_attrs = table._generate_attr_to_sort_by(hash_attrs, range_attrs)
        partition = _index_partition(table, q.index_name, hash_keys[0], range_keys[0] if range_keys else None,
                                     hash_value=hash_key_conditions[0][1],  # type: ignore[index]
                                     sort_attrs=sort_attrs)
    else:
        if q.hash_key is None or (range_comparison and not table.range_key_attr):
            raise _MotoDecides
        hash_attrs, range_attrs = [table.hash_key_attr], [table.range_key_attr]
        compared = compared or table.range_key_attr
        sort_attrs = table._generate_attr_to_sort_by(hash_attrs, range_attrs)
        entry = table.items.get(q.hash_key)
        if table.range_key_attr:
            partition = _sorted(list(entry.values()) if entry else [], sort_attrs)
        elif entry is None:
            partition = ([], [])
        else:  # moto keeps a hash-only table's item itself under its hash key
            partition = _sorted([entry], sort_attrs) if isinstance(entry, Item) else None
    if partition is None or (range_comparison and (len(sort_attrs) < 2 or sort_attrs[1] != compared)):
        raise _MotoDecides
    ascending, keys = partition
    n = len(ascending)
    if range_comparison:
        lo, hi = _range_bounds([k[1] for k in keys], range_comparison, [v.cast_value for v in q.range_objs])
    else:
        lo, hi = 0, n
    if q.scan_index_forward is False:
        order, lo, hi = ascending[::-1], n - hi, n - lo
    else:
        order = ascending
    if range_comparison:
        def matches(position: int) -> bool:  # moto's own test, to check the bounds
            value = order[position].attrs.get(compared)
            return bool(value) and bool(value.compare(range_comparison, q.range_objs))

        inside = lo == hi or (matches(lo) and matches(hi - 1))
        if not inside or (lo > 0 and matches(lo - 1)) or (hi < n and matches(hi)):
            raise _MotoDecides
    start = 0
    if q.exclusive_start_key is not None and n:
        # moto skips the items that come before the start key or are it: a prefix of the order.
        def before(position: int) -> bool:
            return bool(table._item_comes_before_dct(order[position], q.exclusive_start_key, hash_attrs,
                                                     range_attrs, q.scan_index_forward))

        start = _first_false(0, n, before) if before(0) else 0
    return _Page(order, start, lo, hi)


def _run(table: Any, q: _Query, page: _Page) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's page loop (Table.query in moto 5.2.5) over the planned positions only."""
    from moto.dynamodb.models import table as table_module

    limit, index_name = q.limit, q.index_name

    budget = table_module.RESULT_SIZE_LIMIT
    results: list[Any] = []
    result_size = 0
    last_evaluated_key = None

    def ends_page(first: int, end: int) -> bool:
        # moto's stop test on items outside the key condition, which it never keeps.
        if first >= end:
            return False
        if len(results) == limit:
            return True
        if budget - result_size >= _ITEM_SIZE_LIMIT:
            return False
        return any(result_size + _size(page.order[i]) > budget for i in range(first, end))

    if ends_page(page.start, page.lo):
        last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
    else:
        for item in page.order[max(page.start, page.lo):page.hi]:
            size = _size(item)
            if len(results) == limit or result_size + size > budget:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
                break
            results.append(item)
            result_size += size
        else:
            if ends_page(max(page.start, page.hi), len(page.order)):
                last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
    scanned_count = len(results)

    results = [_detached(item) for item in results]
    if index_name:
        index = table.get_index(index_name)
        results = [index.project(r) for r in results]
    if q.filter_expression is not None:
        results = [item for item in results if q.filter_expression.expr(item)]
    if q.projection_expressions:
        results = [r.project(q.projection_expressions) for r in results]
    return results, scanned_count, last_evaluated_key


def _patch_query(backend_type: type, table_type: Any) -> None:
    original = table_type.query

    def query(  # noqa: PLR0917 - moto's signature
            self: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any], limit: Any,
              exclusive_start_key: dict[str, Any] | None, scan_index_forward: Any,
              projection_expressions: list[list[str]] | None, index_name: str | None = None,
              consistent_read: bool = False, filter_expression: Any = None,
              hash_key_conditions: list[tuple[str, Any]] | None = None,
              range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
              **filter_kwargs: Any) -> tuple[list[Any], int, dict[str, Any] | None]:
        q = _Query(hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                   projection_expressions, index_name, consistent_read, filter_expression, hash_key_conditions,
                   range_key_conditions, filter_kwargs)
        try:
            page = _plan(self, q)
        except Exception:
            # _MotoDecides, or input moto's own Query reports (a key of the wrong type...).
            return original(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, projection_expressions, index_name, consistent_read,
                            filter_expression, hash_key_conditions, range_key_conditions, **filter_kwargs)
        return _run(self, q, page)

    query.moto_original = original  # type: ignore[attr-defined]  # for the equivalence test
    table_type.query = query
    _count_writes(backend_type, table_type)


# ------------------------------------------------------------------------- get-item-without-partition
def _patch_get_item(table_type: Any) -> None:
    """moto keeps a table's items as a defaultdict of partitions, and its get_item indexes it: every
    read of a missing item (a uniqueness check, a cache miss) leaves an empty partition behind, so a
    long-running runtime grows with its misses. Read with .get instead; the rest is moto's."""
    original = table_type.get_item

    def get_item(self: Any, hash_key: Any, range_key: Any = None,
                 projection_expression: list[list[str]] | None = None) -> Any:
        if self.has_range_key and range_key and hash_key not in self.items:
            return None  # moto would create the partition, then answer None
        return original(self, hash_key, range_key, projection_expression)

    table_type.get_item = get_item


# ------------------------------------------------------------------------- map-tolerated-failures
def _patch_map_tolerated_failures() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as component,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    cls: Any = component.DistributedIterationComponent
    original = cls._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        items = len(env.stack[-1]) if env.stack and isinstance(env.stack[-1], list) else 0
        original(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        failed = counter.failed.get() + counter.timed_out.get()
        allowed_count = eval_input.tolerated_failure_count or 0
        allowed_percentage = eval_input.tolerated_failure_percentage or 0
        # Each threshold that is set must hold (exceeding either fails the Map Run); none set: 0.
        within = ([failed <= allowed_count] if allowed_count else []) + (
            [bool(items) and 100.0 * failed / items <= allowed_percentage] if allowed_percentage else [])
        if failed == 0 or (within and all(within)):
            return
        env.stack.pop()  # the outputs original pushed: the state fails instead
        error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
        raise FailureEventException(failure_event=FailureEvent(
            env=env, error_name=error, event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(  # type: ignore[typeddict-item]
                error=error.error_name,
                cause=f"The specified tolerated failure threshold was exceeded: {failed} of {items} items failed."))))

    _map_run.moto_original = original  # type: ignore[attr-defined]
    cls._map_run = _map_run


# ------------------------------------------------------------ compiled-jsonpaths, moto-modules-listed-once
def _patch_compiled_jsonpaths() -> None:
    import jsonpath_ng.ext

    original = jsonpath_ng.ext.parse
    cached = functools.lru_cache(maxsize=512)(original)
    cached.moto_original = original  # type: ignore[attr-defined]
    jsonpath_ng.ext.parse = cached  # moto.events.utils imports it on every call, so it finds this one


def _patch_moto_modules_listed_once() -> None:
    from moto import backends

    original = backends.list_of_moto_modules
    listed = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return listed

    list_of_moto_modules.moto_original = original  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules

    from moto.core import responses

    names = responses.method_names_from_class
    listed_names = functools.lru_cache(maxsize=None)(lambda clazz: frozenset(names(clazz)))
    listed_names.moto_original = names  # type: ignore[attr-defined]
    responses.method_names_from_class = listed_names  # type: ignore[assignment]  # read by ``in`` only


# ------------------------------------------------------------------------- sqs-send-without-counting
_SENDING_TO: ContextVar[Any] = ContextVar("moto_sqs_sending_to", default=None)


def _patch_sqs_send_without_counting() -> None:
    from moto.sqs import models

    backend_type: Any = models.SQSBackend
    queue_type: Any = models.Queue
    send, attributes = backend_type.send_message, queue_type.attributes.fget

    def send_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return send(self, queue_name, *args, **kwargs)
        token = _SENDING_TO.set(queue)
        try:
            return send(self, queue_name, *args, **kwargs)
        finally:
            _SENDING_TO.reset(token)

    def queue_attributes(self: Any) -> dict[str, Any]:
        # a standard queue's attributes never hold ContentBasedDeduplication, all a send reads
        return {} if _SENDING_TO.get() is self else attributes(self)

    send_message.moto_original = send  # type: ignore[attr-defined]
    backend_type.send_message = send_message
    queue_type.attributes = property(queue_attributes)


def _patch_sqs_receive_once() -> None:
    from moto.sqs import models

    backend_type: Any = models.SQSBackend
    receive = backend_type.receive_message
    locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
    guard = threading.Lock()

    def lock_of(queue: Any) -> threading.Lock:
        with guard:
            return locks.setdefault(queue, threading.Lock())

    def receive_message(self: Any, queue_name: str, count: int, wait_seconds_timeout: int,  # noqa: PLR0917 (moto's)
                        visibility_timeout: int, message_attribute_names: list[str] | None = None) -> Any:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with lock_of(queue):  # moto's pick, with no wait: one consumer at a time
                got = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.monotonic()
            if got or left <= 0:
                return got
            if queue.messages:  # visible, yet none could be taken (a FIFO group in flight): moto loops too
                time.sleep(min(0.01, left))
            else:
                queue.wait_for_messages(min(1.0, left))

    receive_message.moto_original = receive  # type: ignore[attr-defined]
    backend_type.receive_message = receive_message


# --------------------------------------------------------------------------------------- apply
def _patch_stop_a_starting_execution() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker.stop
    started_within_s = 5.0

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        deadline = time.monotonic() + started_within_s
        while self.env is None and time.monotonic() < deadline:
            time.sleep(0.001)  # the worker thread is starting: its environment comes in a moment
        if self.env is None:
            return  # never started: there is nothing to stop
        original(self, stop_date, error, cause)

    ExecutionWorker.stop = stop  # type: ignore[method-assign]


def apply() -> None:
    """Install the patches once per process; raises MotoVersionError on any moto but MOTO_VERSION
    (checked on every call, before anything is changed)."""
    check_moto_version()
    with _applied:
        if _state["done"]:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        _patch_transactions(models, Table)
        _patch_read_serialization()
        _patch_query(models.DynamoDBBackend, Table)
        _patch_get_item(Table)
        from . import s3_objects

        s3_objects.install()
        _patch_map_tolerated_failures()
        _patch_compiled_jsonpaths()
        _patch_moto_modules_listed_once()
        _patch_sqs_send_without_counting()
        _patch_sqs_receive_once()
        _patch_stop_a_starting_execution()
        _state["done"] = True
