"""The embedded SQS event source mapping, against moto's SQS: batches, partial failures, redrive."""

from __future__ import annotations

import json
import textwrap
import time

import boto3
import pytest
from moto import mock_aws

from cvat_serverless_tools.local import moto_patches
from cvat_serverless_tools.local.deployer import EventSourceMapping
from cvat_serverless_tools.local.lambdas import FunctionRegistry, LocalFunction
from cvat_serverless_tools.local.sqs import MAX_POLLERS, SqsPoller, pollers_for

HANDLER = """
import json
SEEN = []
def handler(event, context):
    SEEN.append(event)
    if any(json.loads(r["body"]).get("crash") for r in event["Records"]):
        raise RuntimeError("whole batch fails")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                  if json.loads(r["body"]).get("bad")]}
"""


def worker(tmp_path) -> tuple[FunctionRegistry, LocalFunction]:
    """The HANDLER above as the function "Worker"."""
    (tmp_path / "app.py").write_text(textwrap.dedent(HANDLER))
    registry = FunctionRegistry()
    fn = LocalFunction("Worker", "worker", "arn:aws:lambda:us-east-1:123456789012:function:worker", tmp_path,
                       "app.handler", 5, 128)
    registry.add(fn)
    return registry, fn


@pytest.fixture
def setup(tmp_path):
    with mock_aws():
        sqs = boto3.client("sqs")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName="work", Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        })["QueueUrl"]
        registry, fn = worker(tmp_path)
        mapping = EventSourceMapping("Worker", "work", batch_size=10, batching_window_s=0,
                                     report_batch_item_failures=True, enabled=True)
        yield sqs, url, dlq, SqsPoller(mapping, registry, sqs), fn


def count(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_successful_batch_is_deleted_and_event_has_sqs_shape(setup):
    sqs, url, _, poller, fn = setup
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"i": i}))
    assert poller.poll_once(url) == 3
    assert count(sqs, url) == 0
    record = fn.load().__globals__["SEEN"][0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:work"
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody", "awsRegion"} <= set(record)


def test_only_reported_failures_stay_and_end_in_the_dlq(setup):
    sqs, url, dlq, poller, _ = setup
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"ok": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"bad": 1}))
    deadline = time.monotonic() + 10
    while count(sqs, dlq) == 0 and time.monotonic() < deadline:
        poller.poll_once(url)
    assert count(sqs, url) == 0
    moved = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert [json.loads(m["Body"]) for m in moved] == [{"bad": 1}]


def test_an_unhandled_error_keeps_the_whole_batch(setup):
    sqs, url, _, poller, _ = setup
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"crash": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"ok": 1}))
    poller.poll_once(url)
    assert count(sqs, url) == 2


def test_the_templates_scaling_config_sets_how_many_batches_run_at_once(stack):
    by_queue = {m.queue_name: m for m in stack.mappings}
    deliveries = next(m for name, m in by_queue.items() if "WebhookDeliveryQueue" in name)
    events = next(m for name, m in by_queue.items() if "DomainEventsQueue" in name)
    assert (deliveries.max_concurrency, pollers_for(deliveries)) == (20, MAX_POLLERS)
    assert (events.max_concurrency, events.batching_window_s) == (5, 0)
    uploads = next(m for name, m in by_queue.items() if "UploadQueue" in name)
    assert (uploads.max_concurrency, pollers_for(uploads)) == (None, 1)


def test_concurrent_pollers_of_one_mapping_hand_each_message_to_one_batch(tmp_path):
    moto_patches.apply()  # as the embedded runtime does (sqs-receive-once)
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="busy", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        registry, fn = worker(tmp_path)
        mapping = EventSourceMapping("Worker", "busy", batch_size=3, batching_window_s=0,
                                     report_batch_item_failures=True, enabled=True, max_concurrency=4)
        for i in range(60):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"i": i}))
        pollers = [SqsPoller(mapping, registry, sqs, n) for n in range(pollers_for(mapping))]
        for p in pollers:
            p.start()
        deadline = time.monotonic() + 30
        while count(sqs, url) and time.monotonic() < deadline:
            time.sleep(0.05)
        for p in pollers:
            p.stop()
        for p in pollers:
            p.join(timeout=5)
        bodies = [json.loads(r["body"])["i"] for e in fn.load().__globals__["SEEN"] for r in e["Records"]]
        assert sorted(bodies) == list(range(60))  # every message once, none twice
        assert sum(p.batches for p in pollers) >= 20 and all(p.batches for p in pollers)
