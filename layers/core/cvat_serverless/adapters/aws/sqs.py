"""SqsWebhookQueue: webhook delivery jobs as SQS messages (one per job, sent in batches of 10)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ...domain.errors import DependencyUnavailableError
from .clients import client
from .errors import aws_errors

MAX_DELAY_S = 900  # SQS's limit


class SqsWebhookQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, jobs: Sequence[Mapping[str, Any]], *, delay_s: int = 0) -> None:
        delay = max(0, min(MAX_DELAY_S, int(delay_s)))
        for start in range(0, len(jobs), 10):
            entries = [{"Id": str(i), "MessageBody": json.dumps(job, default=str), "DelaySeconds": delay}
                       for i, job in enumerate(jobs[start:start + 10])]
            with aws_errors("queueing webhook deliveries"):
                answer = client("sqs").send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if answer.get("Failed"):
                failure = answer["Failed"][0]
                raise DependencyUnavailableError(
                    f"queueing webhook deliveries: {failure.get('Code')} {failure.get('Message')}")
