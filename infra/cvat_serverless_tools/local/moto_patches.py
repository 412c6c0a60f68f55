"""Fixes to moto that the embedded runtime needs (moto is pinned, so these stay valid).

DynamoDB reads: moto 5.2 serializes every response by walking the service model member by member;
a Query returning 150 task items (about 45 attributes each) spent 1.5 of its 1.8 s there. The
read operations' results are already in DynamoDB's JSON wire form, so they are written with
json.dumps (same body, as a test checks through boto3).

DynamoDB transactions: moto makes a deep copy of the whole table for each operation of a
TransactWriteItems call, to roll back on failure. With one table for all data that is O(table)
per transaction item: adding a task took 83 ms on an empty table and over a second at 5,000
items. Here the rollback keeps an undo record of only the items the transaction touches, which
is what a transaction can change.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

_applied = threading.Lock()
_state = {"done": False}


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


FAST_READS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})


def _patch_read_serialization(models_module: Any) -> None:
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


def apply() -> None:
    """Install the patches once per process."""
    with _applied:
        if _state["done"]:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original: Callable[..., None] = models.DynamoDBBackend.transact_write_items
        models.copy = _CopyKeepingTables(Table)  # type: ignore[assignment]

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            record = _undo_record(self, transact_items)
            try:
                original(self, transact_items)
            except Exception:
                _restore(record)
                raise

        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _patch_read_serialization(models)
        _state["done"] = True
