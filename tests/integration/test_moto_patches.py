"""The embedded runtime's DynamoDB transaction fix keeps moto's all-or-nothing semantics."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

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
    from moto.dynamodb.models.table import Table

    moto_patches.apply()
    marker = object.__new__(Table)
    assert models.copy.deepcopy(marker) is marker
    assert models.copy.deepcopy({"a": [1]}) == {"a": [1]}


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
