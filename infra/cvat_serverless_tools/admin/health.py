"""`cvat-serverless health`: one line per dependency, like CVAT's `manage.py health_check`."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .targets import QUEUE_OUTPUTS, Target


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        state = "working" if self.ok else "unavailable"
        return f"{self.name:<44} ... {state}{': ' + self.detail if self.detail else ''}"


def _run(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def schema_status(table_name: str) -> tuple[bool, str]:
    """(whether the table is at the code's schema version, a line saying where it stands), read
    only: the recorded version, the code's, and the progress an interrupted upgrade recorded."""
    from cvat_serverless.adapters.aws.dynamo import SCHEMA_VERSION, DynamoSchema
    from cvat_serverless.adapters.aws.dynamo_migrations import read_progress

    version = DynamoSchema(table_name).version()
    if version is None:
        return False, f"not initialised (this code uses version {SCHEMA_VERSION}); run `cvat-serverless migrate`"
    if version > SCHEMA_VERSION:
        return False, (f"version {version}, newer than this code's {SCHEMA_VERSION}: "
                       "deploy the cvat-serverless release that wrote it")
    if version < SCHEMA_VERSION:
        progress = read_progress(table_name, version + 1) or {}
        started = (f"; the upgrade to {version + 1} stopped after {progress.get('scanned', 0)} items checked "
                   "and resumes from there" if progress and not progress.get("complete") else "")
        return False, (f"version {version}, behind this code's {SCHEMA_VERSION}{started}; "
                       "run `cvat-serverless migrate` (old items stay readable until then)")
    return True, f"version {version}"


def checks(target: Target) -> Iterator[Check]:
    """Run every check against an activated target."""
    from cvat_serverless.adapters.aws.clients import client

    out = target.outputs

    def table() -> str:
        status = client("dynamodb").describe_table(TableName=out["DataTableName"])["Table"]["TableStatus"]
        if status != "ACTIVE":
            raise RuntimeError(f"table status {status}")
        return ""

    def schema() -> str:
        ok, line = schema_status(out["DataTableName"])
        if not ok:
            raise RuntimeError(line)
        return line

    def bucket() -> str:
        client("s3").head_bucket(Bucket=out["MediaBucketName"])
        return ""

    def queue(name: str, url: str) -> Callable[[], str]:
        def probe() -> str:
            attrs = client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            waiting = int(attrs.get("ApproximateNumberOfMessages", 0))
            if not waiting:
                return ""
            if name.startswith("WebhookDeliveryDeadLetter"):  # working, but someone should look
                return f"{waiting} dead letters: see `cvat-serverless webhooks dlq`"
            return f"{waiting} messages waiting"
        return probe

    def state_machine() -> str:
        answer = client("stepfunctions").describe_state_machine(stateMachineArn=out["TaskDataStateMachineArn"])
        if answer.get("status", "ACTIVE") != "ACTIVE":
            raise RuntimeError(f"status {answer['status']}")
        return ""

    def bus() -> str:
        client("events").describe_event_bus(Name=out["EventBusName"])
        return ""

    def api() -> str:
        with urllib.request.urlopen(f"{target.api_url}/api/server/about", timeout=10) as answer:  # noqa: S310
            about = json.loads(answer.read())
        return f"CVAT API {about['version']}"

    yield _run(f"DynamoDB table {out.get('DataTableName', '?')}", table)
    yield _run("Database schema", schema)
    yield _run(f"S3 media bucket {out.get('MediaBucketName', '?')}", bucket)
    for name in QUEUE_OUTPUTS:
        if name in out:
            yield _run(f"SQS queue {out[name].rsplit('/', 1)[-1]}", queue(name, out[name]))
    yield _run("Step Functions task-data state machine", state_machine)
    yield _run(f"EventBridge bus {out.get('EventBusName', '?')}", bus)
    if target.api_url:
        yield _run("REST API", api)
