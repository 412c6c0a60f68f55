from __future__ import annotations

import json

import boto3
import pytest

from cvat_serverless.adapters.aws.dynamo import SCHEMA_VERSION, DynamoSchema
from cvat_serverless.adapters.aws.events import EventBridgePublisher
from cvat_serverless.adapters.aws.s3 import S3BlobStore
from cvat_serverless.adapters.aws.stepfunctions import StepFunctionsWorkflowStarter, execution_name
from cvat_serverless.domain.errors import ConflictError, NotFoundError


def test_blob_store_round_trip_range_and_missing(stack):
    blobs = S3BlobStore(stack.outputs["MediaBucketName"])
    blobs.put("a/b.bin", bytes(range(256)), content_type="application/octet-stream")
    assert blobs.get("a/b.bin") == bytes(range(256))
    assert blobs.get_range("a/b.bin", 10, 19) == bytes(range(10, 20))
    head = blobs.head("a/b.bin")
    assert head["size"] == 256 and head["content_type"] == "application/octet-stream" and head["etag"]
    with pytest.raises(NotFoundError):
        blobs.get("nope")
    with pytest.raises(NotFoundError):
        blobs.head("nope")


def test_schema_version_is_recorded_once_and_a_newer_table_is_refused(stack):
    schema = DynamoSchema(stack.outputs["DataTableName"])
    assert schema.version() is None
    assert schema.ensure() == SCHEMA_VERSION
    assert schema.ensure() == SCHEMA_VERSION
    table = boto3.resource("dynamodb").Table(stack.outputs["DataTableName"])
    table.update_item(Key={"pk": "META", "sk": "SCHEMA"}, UpdateExpression="SET #d.#v = :v",
                      ExpressionAttributeNames={"#d": "data", "#v": "version"},
                      ExpressionAttributeValues={":v": SCHEMA_VERSION + 1})
    with pytest.raises(ConflictError, match="newer"):
        schema.ensure()


def test_events_reach_the_consumers_queue_through_the_rule(stack):
    EventBridgePublisher(stack.outputs["EventBusName"]).publish("create:task", {"id": 1, "request_id": "r-1"})
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.outputs["DomainEventsQueueUrl"].rsplit("/", 1)[1])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "create:task"
    assert event["source"] == "cvat-serverless"
    assert event["detail"] == {"id": 1, "request_id": "r-1"}


def test_workflow_start_is_idempotent_by_name(stack):
    arn = stack.outputs["TaskDataStateMachineArn"]
    starter = StepFunctionsWorkflowStarter({"task-data": arn})
    first = starter.start("task-data", "uploads/a b.mp4-seq1", {"key": "uploads/a b.mp4"})
    again = starter.start("task-data", "uploads/a b.mp4-seq1", {"key": "uploads/a b.mp4"})
    assert first == again
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1


def test_execution_names_are_valid_and_stable():
    assert execution_name("uploads/a b.mp4") == "uploads-a-b-mp4"
    long = execution_name("x" * 200)
    assert len(long) <= 80 and long == execution_name("x" * 200)
    assert execution_name("x" * 200) != execution_name("x" * 199 + "y")


def test_blob_store_lists_one_folder_level_like_the_in_memory_fake(stack):
    from cvat_serverless.adapters.memory import InMemoryBlobStore

    s3_store, fake = S3BlobStore(stack.outputs["MediaBucketName"]), InMemoryBlobStore()
    for store in (s3_store, fake):
        for key in ("share/a.jpg", "share/sub/b.jpg", "share/sub/deeper/c.jpg", "share/z.mp4", "other/x"):
            store.put(key, b"1")
    for prefix in ("share/", "share/sub/", "share/missing/"):
        assert s3_store.list_dir(prefix) == fake.list_dir(prefix), prefix
    assert s3_store.list_dir("share/") == (["sub"], ["a.jpg", "z.mp4"])
