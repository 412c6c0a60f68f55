"""Where an admin command acts: the embedded runtime (default) or a deployed stack (--stack)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Stack output -> the environment variable Settings reads (config.SETTINGS_ENV).
OUTPUT_TO_ENV = {
    "DataTableName": "CVAT_TABLE_NAME",
    "MediaBucketName": "CVAT_MEDIA_BUCKET",
    "UploadPrefix": "CVAT_UPLOAD_PREFIX",
    "EventBusName": "CVAT_EVENT_BUS_NAME",
    "TaskDataStateMachineArn": "CVAT_TASK_DATA_STATE_MACHINE_ARN",
}
QUEUE_OUTPUTS = ("UploadQueueUrl", "UploadDeadLetterQueueUrl", "DomainEventsQueueUrl", "DomainEventsDeadLetterQueueUrl",
                 "WebhookDeliveryQueueUrl", "WebhookDeliveryDeadLetterQueueUrl", "AnalyticsEventsQueueUrl",
                 "AnalyticsEventsDeadLetterQueueUrl")


class TargetError(RuntimeError):
    pass


@dataclass
class Target:
    description: str
    outputs: dict[str, str]
    aws_env: dict[str, str] = field(default_factory=dict)  # endpoint and credentials, if not the user's

    @property
    def api_url(self) -> str:
        return self.outputs.get("ApiUrl", "").rstrip("/")

    def settings_env(self) -> dict[str, str]:
        return {env: str(self.outputs[out]) for out, env in OUTPUT_TO_ENV.items() if out in self.outputs}

    def activate(self) -> None:
        """Point this process's AWS clients and Settings at the target."""
        os.environ.update(self.aws_env)
        os.environ.update(self.settings_env())
        from cvat_serverless import bootstrap

        bootstrap.reset()


def embedded_target(data_dir: Path) -> Target | None:
    """The running embedded runtime of ``data_dir``, or None when it is not running."""
    from ..local.runtime import embedded_environment, read_runtime_file

    facts = read_runtime_file(data_dir)
    if not facts or not _alive(int(facts.get("pid", 0))):
        return None  # never started, or a stale runtime.json from a killed process
    endpoint = facts["aws_endpoint"]
    outputs = dict(facts.get("outputs", {}))
    outputs["ApiUrl"] = facts["api_url"]
    env = embedded_environment(endpoint, int(endpoint.rsplit(":", 1)[1]))
    return Target(f"the embedded runtime at {facts['api_url']} (data in {facts['data_dir']})", outputs, env)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stack_target(stack_name: str, region: str | None = None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cfn = boto3.client("cloudformation", region_name=region) if region else boto3.client("cloudformation")
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise TargetError(f"Cannot read stack {stack_name}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    env = {"AWS_DEFAULT_REGION": region} if region else {}
    return Target(f"stack {stack_name}", outputs, env)


def describe(target: Target) -> str:
    return json.dumps({"target": target.description, **target.outputs}, indent=1)


def resolve_target(args: Any) -> Target | None:
    if getattr(args, "stack", None):
        return stack_target(args.stack, getattr(args, "region", None))
    return embedded_target(Path(args.data_dir))
