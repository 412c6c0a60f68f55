"""The embedded runtime's moto patches (local/moto_patches.py): each keeps moto's answers.

conftest.py applies them for the whole session; the equivalence tests switch one patch back to
moto's original (kept as ``moto_original``) to compare the two on the same data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.table import Table

from cvat_serverless_tools.admin import cli
from cvat_serverless_tools.local import moto_patches


@pytest.fixture
def table():
    moto_patches.apply()
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}])
        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
        yield ddb


def items(ddb):
    return sorted((i["pk"]["S"], i["sk"]["S"], i.get("v", {}).get("N")) for i in ddb.scan(TableName="t")["Items"])


def put(pk, v="9"):
    return {"Put": {"TableName": "t", "Item": {"pk": {"S": pk}, "sk": {"S": "1"}, "v": {"N": v}}}}


# ------------------------------------------------------------------------------ version guard
def test_the_patches_refuse_another_moto_version(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(moto_patches.MotoVersionError) as error:
        moto_patches.apply()
    message = str(error.value)
    assert "moto 5.3.0 is installed" in message
    assert f"written for moto {moto_patches.MOTO_VERSION}" in message
    assert f"moto[server]=={moto_patches.MOTO_VERSION}" in message


def test_the_patches_are_written_for_the_pinned_moto(project_root):
    assert moto_patches.installed_moto_version() == moto_patches.MOTO_VERSION
    assert f'"moto[server]=={moto_patches.MOTO_VERSION}"' in (project_root / "pyproject.toml").read_text()


def test_up_refuses_to_start_on_another_moto_version(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    code = cli.main(["up", "--port", "0", "--aws-port", "0", "--data-dir", str(tmp_path / "data")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("cvat-serverless: cannot start: moto 5.3.0 is installed, but the embedded runtime's")
    assert not (tmp_path / "data" / "runtime.json").exists()


def test_applying_twice_changes_nothing():
    moto_patches.apply()
    query = Table.query
    moto_patches.apply()
    assert Table.query is query
    assert moto_patches.describe() == (f"moto {moto_patches.MOTO_VERSION} with cvat-serverless patches: "
                                       "query-by-partition, fast-read-serialization, transaction-undo-log, "
                                       "s3-object-files, map-tolerated-failures, compiled-jsonpaths, "
                                       "moto-modules-listed-once, sqs-send-without-counting, "
                                       "get-item-without-partition, sqs-receive-once, "
                                       "stop-a-starting-execution")


# ----------------------------------------------------------------------- transaction-undo-log
def test_a_successful_transaction_applies_every_operation(table):
    table.transact_write_items(TransactItems=[
        put("b"),
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "2"}}}},
    ])
    assert items(table) == [("a", "1", "2"), ("b", "1", "9")]


def test_a_cancelled_transaction_changes_nothing(table):
    with pytest.raises(ClientError) as error:
        table.transact_write_items(TransactItems=[
            put("b"),
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "5"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}},
                     "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(table) == [("a", "1", "1")]


def test_a_delete_in_a_cancelled_transaction_is_undone(table):
    with pytest.raises(ClientError):
        table.transact_write_items(TransactItems=[
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "zzz"}, "sk": {"S": "1"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert items(table) == [("a", "1", "1")]


def test_the_whole_table_is_no_longer_copied_per_operation():
    import moto.dynamodb.models as models

    moto_patches.apply()
    marker = object.__new__(Table)
    assert models.copy.deepcopy(marker) is marker
    assert models.copy.deepcopy({"a": [1]}) == {"a": [1]}


# -------------------------------------------------------------------- fast-read-serialization
def test_fast_read_serialization_gives_boto3_the_same_answers():
    """Every attribute type through Query/Scan/GetItem/BatchGetItem, with and without the patch."""
    from moto.dynamodb import responses

    item = {"pk": {"S": "p"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xffbin"},
            "t": {"BOOL": True}, "z": {"NULL": True}, "l": {"L": [{"S": "x"}, {"N": "2"}]},
            "m": {"M": {"k": {"S": "v"}, "d": {"M": {"e": {"N": "-3"}}}}}, "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"1", b"2"]}, "u": {"S": "ünïcode ✓"}}

    def reads(ddb):
        key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
        return [
            ddb.get_item(TableName="t", Key=key)["Item"],
            ddb.query(TableName="t", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "p"}}, Limit=1)["Items"],
            {k: v for k, v in ddb.scan(TableName="t", Limit=1).items() if k != "ResponseMetadata"},
            ddb.batch_get_item(RequestItems={"t": {"Keys": [key]}})["Responses"],
        ]

    def run():
        with mock_aws():
            ddb = boto3.client("dynamodb")
            ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}])
            ddb.put_item(TableName="t", Item=item)
            ddb.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": "2"}})
            return reads(ddb)

    moto_patches.apply()
    fast = run()
    patched = responses.DynamoResult.execute_result
    original = patched.moto_original
    responses.DynamoResult.execute_result = original
    try:
        slow = run()
    finally:
        responses.DynamoResult.execute_result = patched
    assert fast == slow
    assert fast[0]["b"] == {"B": b"\x00\xffbin"}


# ------------------------------------------------------------------------- query-by-partition
# Random tables of each key kind, with a GSI with a range key, a GSI without one and (with a
# range key) an LSI; random writes between random queries; every query paged to its end through
# boto3 with the patched Query and with moto's own, on the same data.
KINDS = {"number": "N", "string": "S", "binary": "B", "hash-only": None}
PARTITIONS = ["a", "b", "c"]
OPS = ["=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"]
BUDGETS = [table_module.RESULT_SIZE_LIMIT, 3_000]  # moto's 1 MB page, and a small one to reach it

NUMBERS = st.builds(lambda i, half: f"{i}.5" if half else str(i), st.integers(-6, 6), st.booleans())
STRINGS = st.text(alphabet="abBé", min_size=1, max_size=3)
BINARIES = st.binary(min_size=1, max_size=2)
RANGE_VALUES = {"N": NUMBERS.map(lambda v: {"N": v}), "S": STRINGS.map(lambda v: {"S": v}),
                "B": BINARIES.map(lambda v: {"B": v})}


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")  # moto intercepts every client, also those made before mock_aws


def _create(ddb: Any, kind: str) -> None:
    range_type = KINDS[kind]
    definitions = [("pk", "S"), ("gk", "S"), ("gr", "N"), ("tag", "S")]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    extra: dict[str, Any] = {}
    if range_type:
        definitions += [("sk", range_type), ("lr", "N")]
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        extra["LocalSecondaryIndexes"] = [{
            "IndexName": "by-rank", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lr", "KeyType": "RANGE"}]}]
    ddb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=schema,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in definitions],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-group", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}, {"AttributeName": "gr", "KeyType": "RANGE"}]},
            {"IndexName": "by-tag", "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
             "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}]},
        ], **extra)


@st.composite
def _items(draw: Any, kind: str) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": draw(st.sampled_from(PARTITIONS))}}
    range_type = KINDS[kind]
    if range_type:
        item["sk"] = draw(RANGE_VALUES[range_type])
        if draw(st.booleans()):
            item["lr"] = {"N": draw(NUMBERS)}
    if draw(st.booleans()):
        item["v"] = {"N": str(draw(st.integers(0, 9)))}
    if draw(st.integers(0, 3)):
        item["gk"] = {"S": draw(st.sampled_from(["g1", "g2"]))}
        if draw(st.integers(0, 3)):
            item["gr"] = {"N": draw(NUMBERS)}
    if draw(st.booleans()):
        item["tag"] = {"S": draw(st.sampled_from(["x", "y"]))}
    size = draw(st.sampled_from([0, 0, 40, 700, 1_400]))
    if size:
        item["blob"] = {"S": "z" * size}
    return item


def _moto_order(value: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(value).cast_value  # binary values are compared as their base64 text there


def _key(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("pk", "sk") if k in item}


@st.composite
def _query(draw: Any, kind: str, written: list[dict[str, Any]]) -> dict[str, Any]:
    range_type = KINDS[kind]
    indexes = [None, None, "by-group", "by-tag"] + (["by-rank"] if range_type else [])
    index = draw(st.sampled_from(indexes))
    hash_name, range_name, range_type = {
        None: ("pk", "sk" if range_type else None, range_type), "by-group": ("gk", "gr", "N"),
        "by-tag": ("tag", None, None), "by-rank": ("pk", "lr", "N")}[index]
    hash_values = {"pk": [*PARTITIONS, "zz"], "gk": ["g1", "g2", "g3"], "tag": ["x", "y"]}[hash_name]
    hash_value = draw(st.sampled_from(hash_values))
    names, values = {"#h": hash_name}, {":h": {"S": hash_value}}
    condition = "#h = :h"
    ops = [op for op in OPS if not (op == "BEGINS_WITH" and range_type == "N")]
    op = draw(st.sampled_from([None, *ops])) if range_name else None
    if op is not None:
        # Bounds from the partition's own values as often as not, so that = and begins_with find some.
        near = [i[range_name] for i in written if range_name in i and i.get(hash_name) == {"S": hash_value}]

        def bound() -> dict[str, Any]:
            if not near or draw(st.booleans()):
                return draw(RANGE_VALUES[range_type])  # type: ignore[index,no-any-return]
            value = dict(draw(st.sampled_from(near)))
            if op == "BEGINS_WITH" and "S" in value:
                value["S"] = value["S"][:draw(st.integers(1, len(value["S"])))]
            return value

        names["#r"] = range_name  # type: ignore[assignment]
        values[":r"] = bound()
        if op == "BETWEEN":
            values[":s"] = bound()
            if draw(st.integers(0, 3)):  # DynamoDB refuses a lower bound above the upper one; moto finds nothing
                values[":r"], values[":s"] = sorted([values[":r"], values[":s"]], key=_moto_order)
            condition += " AND #r BETWEEN :r AND :s"
        elif op == "BEGINS_WITH":
            condition += " AND begins_with(#r, :r)"
        else:
            condition += f" AND #r {op} :r"
    request: dict[str, Any] = {"TableName": "t", "KeyConditionExpression": condition,
                               "ScanIndexForward": draw(st.booleans())}
    if index:
        request["IndexName"] = index
    if draw(st.booleans()):
        request["Limit"] = draw(st.integers(1, 4))
    if index in (None, "by-rank") and draw(st.booleans()):
        request["ConsistentRead"] = True
    if draw(st.integers(0, 2)) == 0:
        request["FilterExpression"], names["#f"], values[":f"] = draw(st.sampled_from([
            ("#f >= :f", "v", {"N": "4"}), ("attribute_exists(#f)", "tag", None),
            ("attribute_not_exists(#f) OR size(#f) < :f", "blob", {"N": "500"})]))
        if values[":f"] is None:
            del values[":f"]
    shape = draw(st.sampled_from(["all", "all", "projection", "count"]))
    if shape == "projection":
        request["ProjectionExpression"] = "#h, #v, #b"
        names.update({"#v": "v", "#b": "blob"})
    elif shape == "count":
        request["Select"] = "COUNT"
    if written and draw(st.integers(0, 3)) == 0:  # a start key that is no page's end, mostly in the partition
        inside = [i for i in written if i.get(hash_name) == {"S": hash_value}]
        start = draw(st.sampled_from(inside if inside and draw(st.integers(0, 3)) else written))
        request["ExclusiveStartKey"] = _start_key(kind, start, index)
    request["ExpressionAttributeNames"], request["ExpressionAttributeValues"] = names, values
    return request


def _start_key(kind: str, item: dict[str, Any], index: str | None) -> dict[str, Any]:
    key = _key(kind, item)
    wanted = {None: (), "by-group": ("gk", "gr"), "by-tag": ("tag",), "by-rank": ("lr",)}[index]
    for name in wanted:
        key[name] = item.get(name, {"S": "g1"} if name in ("gk", "tag") else {"N": "0"})
    return key


@st.composite
def _scenario(draw: Any, kind: str) -> tuple[int, list[dict[str, Any]], list[tuple[str, Any]]]:
    """The page budget, the table's first items, then writes and queries."""
    most = 30 if KINDS[kind] else len(PARTITIONS)
    first = draw(st.lists(_items(kind), min_size=draw(st.sampled_from([1, most // 2, most, most])), max_size=most,
                          unique_by=lambda i: repr(_key(kind, i))))
    written = list(first)  # start keys come from these
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(4, 14))):
        step = draw(st.sampled_from(["query", "query", "query", "put", "delete", "update", "transact"]))
        if step == "query":
            steps.append(("query", draw(_query(kind, written))))
        elif step == "put":
            item = draw(_items(kind))
            written.append(item)
            steps.append(("put", item))
        elif written and step == "delete":
            steps.append(("delete", _key(kind, draw(st.sampled_from(written)))))
        elif written and step == "update":
            steps.append(("update", (_key(kind, draw(st.sampled_from(written))),
                                     draw(st.sampled_from([None, "g1", "g2", "g3"])))))
        elif step == "transact":
            puts = draw(st.lists(_items(kind), min_size=1, max_size=3, unique_by=lambda i: repr(_key(kind, i))))
            written.extend(puts)
            steps.append(("transact", (puts, draw(st.booleans()))))
    return draw(st.sampled_from(BUDGETS)), first, steps


def _pages(ddb: Any, request: dict[str, Any]) -> list[Any]:
    """Every page of the query, as boto3 answers it (or the error it raises)."""
    pages: list[Any] = []
    request = dict(request)
    for _ in range(60):
        try:
            answer = ddb.query(**request)
        except Exception as exc:
            return [*pages, ("error", type(exc).__name__, str(exc))]
        answer.pop("ResponseMetadata")
        pages.append(answer)
        if "LastEvaluatedKey" not in answer:
            return pages
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return [*pages, "more than 60 pages"]


@contextmanager
def _moto_query() -> Iterator[None]:
    patched = Table.query
    Table.query = patched.moto_original  # type: ignore[attr-defined,method-assign]
    try:
        yield
    finally:
        Table.query = patched  # type: ignore[method-assign]


@contextmanager
def _partition_only() -> Iterator[None]:
    """Fail if the patched Query reads the whole table (moto's path) instead of the partition."""
    all_items = Table.all_items

    def refuse(self: Any) -> Any:
        raise AssertionError("the patched Query walked the whole table")

    Table.all_items = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items = all_items  # type: ignore[method-assign]


def _write(ddb: Any, kind: str, step: str, arg: Any) -> None:
    if step == "put":
        ddb.put_item(TableName="t", Item=arg)
    elif step == "delete":
        ddb.delete_item(TableName="t", Key=arg)
    elif step == "update":
        key, group = arg
        if group is None:
            ddb.update_item(TableName="t", Key=key, UpdateExpression="REMOVE gk")
        else:
            ddb.update_item(TableName="t", Key=key, UpdateExpression="SET gk = :g, gr = :r",
                            ExpressionAttributeValues={":g": {"S": group}, ":r": {"N": "1"}})
    elif step == "transact":
        puts, cancel = arg
        actions: list[dict[str, Any]] = [{"Put": {"TableName": "t", "Item": item}} for item in puts]
        if cancel:
            absent = {**_key(kind, puts[0]), "pk": {"S": "nobody"}}
            actions.append({"ConditionCheck": {"TableName": "t", "Key": absent,
                                               "ConditionExpression": "attribute_exists(pk)"}})
        try:
            ddb.transact_write_items(TransactItems=actions)
        except ClientError as error:
            assert cancel, error


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_query_by_partition_gives_moto_s_answers(kind, data):
    budget, first, steps = data.draw(_scenario(kind))
    with mock_aws():
        ddb = _dynamodb()
        _create(ddb, kind)
        for item in first:
            ddb.put_item(TableName="t", Item=item)
        saved_budget = table_module.RESULT_SIZE_LIMIT
        table_module.RESULT_SIZE_LIMIT = budget
        try:
            for step, arg in steps:
                if step != "query":
                    _write(ddb, kind, step, arg)
                    continue
                with _partition_only():
                    fast = _pages(ddb, arg)
                with _moto_query():
                    slow = _pages(ddb, arg)
                assert fast == slow, arg
        finally:
            table_module.RESULT_SIZE_LIMIT = saved_budget


def test_a_query_moto_refuses_is_refused_alike():
    """Input the partition path leaves to moto (a number range key with begins_with, a string
    compared with a number, a consistent read of a GSI, legacy QueryFilter) answers as moto does."""
    with mock_aws():
        ddb = _dynamodb()
        _create(ddb, "number")
        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "2"}})
        requests: list[dict[str, Any]] = [
            {"KeyConditionExpression": "pk = :h AND begins_with(sk, :r)",
             "ExpressionAttributeValues": {":h": {"S": "a"}, ":r": {"N": "1"}}},
            {"KeyConditionExpression": "pk = :h AND sk < :r",
             "ExpressionAttributeValues": {":h": {"S": "a"}, ":r": {"S": "1"}}},
            {"KeyConditionExpression": "gk = :h", "IndexName": "by-group", "ConsistentRead": True,
             "ExpressionAttributeValues": {":h": {"S": "g1"}}},
            {"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
             "QueryFilter": {"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "2"}]}}},
        ]
        for request in requests:
            fast = _pages(ddb, {"TableName": "t", **request})
            with _moto_query():
                slow = _pages(ddb, {"TableName": "t", **request})
            assert fast == slow, request


def test_an_index_query_sees_every_write_since_the_last_one():
    """The index grouping is kept between queries, and dropped by any write in between."""
    with mock_aws():
        ddb = _dynamodb()
        _create(ddb, "string")

        def group(name: str) -> list[str]:
            answer = ddb.query(TableName="t", IndexName="by-group", KeyConditionExpression="gk = :g",
                               ExpressionAttributeValues={":g": {"S": name}})
            return [i["sk"]["S"] for i in answer["Items"]]

        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "gk": {"S": "g1"}, "gr": {"N": "1"}})
        assert group("g1") == ["1"]
        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "2"}, "gk": {"S": "g1"}, "gr": {"N": "0"}})
        assert group("g1") == ["2", "1"]
        ddb.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "2"}}, UpdateExpression="SET gk = :g",
                        ExpressionAttributeValues={":g": {"S": "g2"}})
        assert (group("g1"), group("g2")) == (["1"], ["2"])
        ddb.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
        assert group("g1") == []


def test_a_base_table_query_pages_through_a_large_partition_by_position():
    with mock_aws():
        ddb = _dynamodb()
        _create(ddb, "number")
        for n in range(300):
            ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"N": str(n)}})
        request = {"TableName": "t", "KeyConditionExpression": "pk = :h AND sk >= :r", "Limit": 7,
                   "ExpressionAttributeValues": {":h": {"S": "a"}, ":r": {"N": "10"}}, "ScanIndexForward": False}
        with _partition_only():
            pages = _pages(ddb, request)
        assert [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(299, 9, -1))
        assert len(pages) == 42 and "LastEvaluatedKey" not in pages[-1]


# --------------------------------------------------------------------- map-tolerated-failures
def _map_definition(extra: dict[str, Any]) -> str:
    import json

    item = {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Broken"}],
                  "Default": "Fine"},
        "Broken": {"Type": "Fail", "Error": "UnitFailed", "Cause": "item 2 is broken"},
        "Fine": {"Type": "Pass", "End": True}}}
    return json.dumps({"StartAt": "Units", "States": {
        "Units": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, **extra,
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **item},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                  "Next": "Done"},
        "Caught": {"Type": "Pass", "End": True},
        "Done": {"Type": "Pass", "End": True}}})


def _run_map(items: list[int], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    import json
    import time

    from moto.core.config import default_user_config

    moto_patches.apply()
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name="m", definition=_map_definition(extra or {}),
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))["executionArn"]
        for _ in range(600):  # the execution runs in moto's thread
            described = sfn.describe_execution(executionArn=run)
            if described["status"] != "RUNNING":
                return json.loads(described["output"])
            time.sleep(0.01)
    raise AssertionError("the execution did not end")


def test_a_failed_item_fails_the_distributed_map_as_on_aws():
    assert "error" not in _run_map([0, 1, 3])
    output = _run_map([0, 1, 2, 3])
    assert output["error"]["Error"] == "States.ExceedToleratedFailureThreshold", output
    assert "1 of 4 items failed" in output["error"]["Cause"]


def test_tolerated_failures_let_the_map_succeed():
    assert "error" not in _run_map([0, 1, 2, 3], {"ToleratedFailureCount": 1})
    assert "error" not in _run_map([0, 1, 2, 3], {"ToleratedFailurePercentage": 25.0})
    assert "error" in _run_map([0, 1, 2, 3], {"ToleratedFailurePercentage": 20.0})


# ----------------------------------------------------------------------- sqs-send-without-counting
def test_sends_to_standard_and_fifo_queues_behave_as_before():
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        standard = sqs.create_queue(QueueName="standard")["QueueUrl"]
        fifo = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=standard, MessageBody=f"m{i}")
        with pytest.raises(ClientError):  # a FIFO queue without content-based deduplication still checks
            sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g")
        counted = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
        assert counted["ApproximateNumberOfMessages"] == "3" and "ContentBasedDeduplication" not in counted
        got = sqs.receive_message(QueueUrl=standard, MaxNumberOfMessages=10)["Messages"]
        assert sorted(m["Body"] for m in got) == ["m0", "m1", "m2"]


# ------------------------------------------------------------------------------ get-item-without-partition
def test_a_missed_get_item_leaves_no_partition_behind(table):
    from moto.dynamodb.models import dynamodb_backends

    assert "Item" not in table.get_item(TableName="t", Key={"pk": {"S": "nobody"}, "sk": {"S": "1"}})
    assert "Item" not in table.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "2"}})
    (backend,) = [b for region in dynamodb_backends.values() for b in region.values() if "t" in b.tables]
    partitions = {key.value for key in backend.tables["t"].items}
    assert partitions == {"a"}  # moto itself would have added "nobody"
    assert table.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]["v"] == {"N": "1"}


# ------------------------------------------------------------------------------------- sqs-receive-once
def _receive_all_concurrently(sqs, url: str, consumers: int) -> list[str]:
    got: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
            if not answer.get("Messages"):
                return
            with lock:
                got.extend(m["MessageId"] for m in answer["Messages"])

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_concurrent_consumers_never_receive_one_message_twice():
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="shared")["QueueUrl"]
        sent = [sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(300)]
        got = _receive_all_concurrently(sqs, url, consumers=8)
        assert sorted(got) == sorted(sent)  # each exactly once


def test_a_long_poll_gets_a_late_message_and_holds_up_no_other_consumer():
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="polled")["QueueUrl"]
        waited: dict[str, object] = {}

        def long_poll() -> None:
            started = time.monotonic()
            waited["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
            waited["seconds"] = time.monotonic() - started

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
        assert time.monotonic() - started < 5  # not behind the 10 s long poll
        sqs.send_message(QueueUrl=url, MessageBody="late")
        poller.join(timeout=15)
        assert [m["Body"] for m in waited["messages"]] == ["late"]
        assert waited["seconds"] < 9  # answered when the message came, not at the end of the wait


# ---------------------------------------------------------------------------- stop-a-starting-execution
def test_a_stop_waits_for_the_execution_to_have_started():
    """StopExecution right after StartExecution: the worker's environment is made by its thread."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    moto_patches.apply()
    stops: list[tuple[object, object, object]] = []

    class Environment:
        def set_stop(self, stop_date: object, cause: object, error: object) -> None:
            stops.append((stop_date, error, cause))

    worker = ExecutionWorker.__new__(ExecutionWorker)
    worker.env = None
    threading.Timer(0.05, lambda: setattr(worker, "env", Environment())).start()  # the thread starting
    ExecutionWorker.stop(worker, "now", error="", cause="Canceled by the user.")
    assert stops == [("now", "", "Canceled by the user.")]
