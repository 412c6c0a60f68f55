"""``cvat-serverless webhooks dlq [--redrive]``: the webhook delivery jobs that failed for the
platform's reasons (``WebhookDeliveryDeadLetterQueue``): list them, or put them back on
``WebhookDeliveryQueue`` as first attempts. Receivers' own failures never land there: they are
retried by delayed messages and recorded as deliveries."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

_BATCH = 10


def _jobs(sqs: Any, url: str, *, hide_s: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=_BATCH, VisibilityTimeout=hide_s,
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return messages
        messages.extend(got)


def dlq(target: Any, *, redrive: bool) -> tuple[int, list[str]]:
    """How many jobs were found (and moved back when ``redrive``), with one line per job."""
    from cvat_serverless.adapters.aws.clients import client

    sqs = client("sqs")
    dead, live = target.outputs["WebhookDeliveryDeadLetterQueueUrl"], target.outputs["WebhookDeliveryQueueUrl"]
    # listing hides each message for a few seconds only, so a later run sees them again
    messages = _jobs(sqs, dead, hide_s=60 if redrive else 2)
    lines = []
    for m in messages:
        try:
            job = json.loads(m["Body"])
            lines.append(f"webhook {job.get('webhook_id')}: {job.get('event')} (attempt {job.get('attempt')})")
        except ValueError:
            job = None
            lines.append(f"message {m['MessageId']}: not a delivery job")
        if redrive and job is not None:
            sqs.send_message(QueueUrl=live, MessageBody=json.dumps({**job, "attempt": 1}))
            sqs.delete_message(QueueUrl=dead, ReceiptHandle=m["ReceiptHandle"])
    return len(messages), lines


def cmd_dlq(args: argparse.Namespace) -> int:
    from .targets import resolve_target

    target = resolve_target(args)
    if target is None:
        raise SystemExit(f"The embedded runtime for {args.data_dir} is not running; start it with "
                         "`cvat-serverless up`, or pass --stack for a deployed stack.")
    target.activate()
    count, lines = dlq(target, redrive=args.redrive)
    for line in lines:
        print(line)
    verb = "moved back to the delivery queue" if args.redrive else "waiting in the dead-letter queue"
    print(f"{count} webhook delivery job(s) {verb} ({target.description}).")
    return 0


def add_parser(sub: Any, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    webhooks = sub.add_parser("webhooks", help="webhook delivery administration")
    inner = webhooks.add_subparsers(dest="webhooks_command", required=True)
    parser = inner.add_parser("dlq", help="list the delivery jobs in the dead-letter queue, or --redrive them")
    parser.add_argument("--redrive", action="store_true", help="send them to the delivery queue again")
    add_target_args(parser)
    parser.set_defaults(func=cmd_dlq)
