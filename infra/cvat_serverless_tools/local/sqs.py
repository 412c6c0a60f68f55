"""SQS event source mappings, emulated: poll, invoke, delete what succeeded.

Same contract as AWS's: a batch of up to BatchSize records, ReportBatchItemFailures honoured
(only the failed messages stay), an unhandled error leaves the whole batch to the visibility
timeout, and the queue's redrive policy (in moto) moves poison messages to the DLQ.

Concurrency: AWS runs many batches of one mapping at once (its pollers scale with the queue's
backlog, up to ``ScalingConfig.MaximumConcurrency``). Here a mapping gets that many poller
threads, at most ``MAX_POLLERS`` (one process, one GIL: more threads only help while batches
wait on I/O, such as a webhook receiver), and one when the template leaves it unset.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from .deployer import EventSourceMapping
from .lambdas import FunctionRegistry
from .template import ACCOUNT_ID, REGION

log = logging.getLogger("cvat_serverless_tools.local")

MAX_POLLERS = 4


def pollers_for(mapping: EventSourceMapping) -> int:
    """How many batches of the mapping run at once in the embedded runtime."""
    return max(1, min(MAX_POLLERS, mapping.max_concurrency or 1))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": {
            k: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                "stringListValues": [], "binaryListValues": [], "dataType": v.get("DataType", "String")}
            for k, v in m.get("MessageAttributes", {}).items()
        },
        "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    } for m in messages]}


class SqsPoller(threading.Thread):
    def __init__(self, mapping: EventSourceMapping, functions: FunctionRegistry, sqs: Any, index: int = 0) -> None:
        super().__init__(name=f"esm-{mapping.queue_name}-{index}", daemon=True)
        self.mapping = mapping
        self.function = functions.by_logical_id(mapping.function_logical_id)
        self.sqs = sqs
        self.stopping = threading.Event()
        self.queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{mapping.queue_name}"
        self.batches = 0

    def poll_once(self, url: str) -> int:
        """Receive one batch and hand it to the function; returns how many messages came."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.mapping.batching_window_s
        while len(messages) < self.mapping.batch_size:
            answer = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=1 if not messages else 0, AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            got = answer.get("Messages", [])
            messages.extend(got)
            if not got or time.monotonic() >= deadline:
                break
        if not messages:
            return 0
        result = self.function.invoke(sqs_event(messages, self.queue_arn))
        self.batches += 1
        if not result.ok:
            log.warning("%s failed on a batch of %d: %s", self.function.name, len(messages),
                        result.payload.get("errorMessage"))
            return len(messages)  # nothing deleted: visibility timeout, then redrive
        failed: set[str] = set()
        if self.mapping.report_batch_item_failures and isinstance(result.payload, dict):
            failed = {f.get("itemIdentifier", "") for f in result.payload.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])
            ])
        return len(messages)

    def run(self) -> None:
        url = self.sqs.get_queue_url(QueueName=self.mapping.queue_name)["QueueUrl"]
        while not self.stopping.is_set():
            try:
                self.poll_once(url)
            except Exception:  # keep the mapping alive, as AWS does
                log.exception("event source mapping %s", self.mapping.queue_name)
                self.stopping.wait(1)

    def stop(self) -> None:
        self.stopping.set()
