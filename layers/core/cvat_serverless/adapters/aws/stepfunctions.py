"""StepFunctionsWorkflowStarter: starts the state machines named in Settings and tells how their
executions went. An execution is named by the caller (idempotency), so its ARN is known without
asking: ``arn:aws:states:<region>:<account>:execution:<state machine>:<name>``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ...domain.errors import ValidationError
from .clients import client
from .errors import aws_errors, error_code

_NAME_OK = re.compile(r"[^0-9A-Za-z_-]")


def execution_name(raw: str) -> str:
    """Execution names: 1-80 chars of [0-9A-Za-z_-]; stable for the same input (idempotency)."""
    cleaned = _NAME_OK.sub("-", raw).strip("-")
    if len(cleaned) > 80:
        import hashlib

        digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
        cleaned = f"{cleaned[:63]}-{digest}"
    return cleaned or "execution"


@dataclass(slots=True)
class ExecutionState:
    """ports.WorkflowRun: DescribeExecution's status, and the error and cause of a failure."""

    status: str
    error: str = ""
    cause: str = ""


class StepFunctionsWorkflowStarter:
    def __init__(self, state_machines: Mapping[str, str]) -> None:
        self._arns = dict(state_machines)

    def _state_machine(self, workflow: str) -> str:
        arn = self._arns.get(workflow)
        if not arn:
            raise ValidationError(f"Unknown workflow {workflow!r}.")
        return arn

    def execution_arn(self, workflow: str, name: str) -> str:
        return self._state_machine(workflow).replace(":stateMachine:", ":execution:") + f":{execution_name(name)}"

    def start(self, workflow: str, name: str, payload: Mapping[str, Any]) -> str:
        arn = self._state_machine(workflow)
        name = execution_name(name)
        try:
            with aws_errors(f"starting {workflow}"):
                answer = client("stepfunctions").start_execution(
                    stateMachineArn=arn, name=name, input=json.dumps(payload, separators=(",", ":"))
                )
        except ClientError as exc:
            # Same name and same input: AWS answers 200 for a running execution and this error
            # for a finished one. Either way the work was started once, which is what we want.
            if error_code(exc) == "ExecutionAlreadyExists":
                return self.execution_arn(workflow, name)
            raise
        return str(answer["executionArn"])

    def describe(self, workflow: str, name: str) -> ExecutionState | None:
        arn = self.execution_arn(workflow, name)
        try:
            with aws_errors(f"reading {workflow} execution {name}"):
                answer = client("stepfunctions").describe_execution(executionArn=arn)
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise
        return ExecutionState(str(answer["status"]), str(answer.get("error", "")), str(answer.get("cause", "")))

    def stop(self, workflow: str, name: str, *, cause: str = "") -> None:
        arn = self.execution_arn(workflow, name)
        try:
            with aws_errors(f"stopping {workflow} execution {name}"):
                client("stepfunctions").stop_execution(executionArn=arn, cause=cause[:32768])
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return  # never started (or lost): nothing runs
            raise

    # --- callbacks (ports.TaskCallbacks): an async auto-annotate chunk's result resumes its task ---

    def task_succeeded(self, token: str, output: Mapping[str, Any]) -> None:
        self._callback("send_task_success", token, output=json.dumps(dict(output)))

    @staticmethod
    def _callback(action: str, token: str, **kwargs: Any) -> None:
        try:
            with aws_errors("answering a waiting workflow task"):
                getattr(client("stepfunctions"), action)(taskToken=token, **kwargs)
        except ClientError as exc:
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                return  # the task ended (timed out, its execution stopped): nobody waits any more
            raise
