"""statemachines/auto_annotate.asl.json on moto's Step Functions interpreter (moto 5.2.5, the one
the embedded runtime runs): the definition loads, and an execution drives the real step handler
(functions/auto_annotate, in-process, over the in-memory world of the functional tests) through
Prepare -> Distributed Map(Mode: Run | Submit.waitForTaskToken -> Collect; ChunkFail) -> Finish,
and Catch -> Fail. The async branch is resumed by the results handler
(functions/auto_annotate_results), which calls SendTaskSuccess on moto through the production
adapter.

Lambda invocations of the interpreter are routed to the handler in-process (moto would need
Docker); everything else is moto's own code. The lead's embedded-runtime test runs the deployed
stack end to end."""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from cvat_serverless.adapters.aws import clients
from cvat_serverless.adapters.aws.stepfunctions import StepFunctionsWorkflowStarter
from cvat_serverless.adapters.memory_inference import FakeInferenceClient, MemoryAutoAnnotationLedger
from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.requests import RequestStatus
from cvat_serverless_tools.local import moto_patches
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_auto_annotate_handlers import make_task, register, request, s3_notification, shapes

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:auto-annotate"
pytestmark = pytest.mark.slow


def definition() -> str:
    text = (ROOT / "statemachines" / "auto_annotate.asl.json").read_text()
    return text.replace("${AutoAnnotateFunctionArn}", FUNCTION_ARN)


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch, api: Api) -> Iterator[Any]:
    """moto's interpreter with the auto-annotate handler behind FUNCTION_ARN."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    handler = load_handler("auto_annotate")

    def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        assert parameters["FunctionName"] == FUNCTION_ARN
        payload = parameters["Payload"]
        event = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
        try:
            return {"StatusCode": 200, "Payload": handler(event, Context("auto_annotate"))}
        except Exception as exc:  # AWS's error payload: Retry/Catch match errorType
            return {"StatusCode": 200, "FunctionError": "Unhandled",
                    "Payload": {"errorType": type(exc).__name__, "errorMessage": str(exc),
                                "stackTrace": traceback.format_tb(exc.__traceback__)}}

    moto_patches.apply()
    monkeypatch.setattr(lambda_eval_utils, "_invoke_lambda_function", invoke)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        clients.client.cache_clear()  # the adapter's clients talk to this moto
        c = api.container
        api.user("alice")
        c.__dict__.update(inference=FakeInferenceClient(blobs=c.blobs, bucket="b"),
                          auto_annotation_ledger=MemoryAutoAnnotationLedger(),
                          task_callbacks=StepFunctionsWorkflowStarter({}))
        yield boto3.client("stepfunctions", region_name="us-east-1")
    clients.client.cache_clear()


def execute(sfn: Any, inp: dict[str, Any], *, poll: Any = None, timeout: float = 60) -> dict[str, Any]:
    arn = sfn.create_state_machine(name="auto-annotate", definition=definition(),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=arn, name="exec-1", input=json.dumps(inp))["executionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poll is not None:
            poll()
        described = sfn.describe_execution(executionArn=run)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)
    raise AssertionError("the execution did not end")


def test_the_definition_loads_and_a_sync_request_runs_to_the_end(sfn: Any, api: Api) -> None:
    task, labels = make_task(api)
    register(api, batch_size=2)
    inp = request(api, task, labels)
    described = execute(sfn, inp)
    assert described["status"] == "SUCCEEDED", described
    assert sorted(s["frame"] for s in shapes(api, task)) == [0, 1, 2, 3, 4]
    rq = api.container.repos.requests.get(inp["request_id"])
    assert rq.status is RequestStatus.FINISHED and rq.execution_name == "exec-1"


def test_a_model_error_is_caught_and_fails_the_request(sfn: Any, api: Api) -> None:
    task, labels = make_task(api)
    register(api)
    api.container.inference.error = ValidationError("The model behind endpoint yolox-nano refused the input: bad")
    inp = request(api, task, labels)
    described = execute(sfn, inp)
    assert described["status"] == "FAILED" and described["error"] == "AutoAnnotateFailed"
    rq = api.container.repos.requests.get(inp["request_id"])
    assert rq.status is RequestStatus.FAILED
    assert rq.message.startswith("The function yolox-nano failed on chunk ")
    assert rq.message.endswith("refused the input: bad")


def results_poller(api: Api) -> Any:
    """S3 -> SQS -> the results handler: each new result or failure object delivered until a
    token takes it (a failed record is delivered again, as SQS does)."""
    handler = load_handler("auto_annotate_results")
    delivered: set[str] = set()
    lock = threading.Lock()

    def poll() -> None:
        with lock:
            for prefix in ("auto-annotation/async-results/", "auto-annotation/async-failures/"):
                for key, _ in api.container.blobs.list_keys(prefix):
                    if key in delivered:
                        continue
                    try:
                        handler(s3_notification(key), Context("auto_annotate_results"))
                    except Exception:  # no token yet: SQS redelivers
                        continue
                    delivered.add(key)
    return poll


def test_an_async_request_waits_for_its_callbacks(sfn: Any, api: Api) -> None:
    task, labels = make_task(api)
    register(api, mode="async")
    inp = request(api, task, labels)
    described = execute(sfn, inp, poll=results_poller(api))
    assert described["status"] == "SUCCEEDED", described
    assert sorted(s["frame"] for s in shapes(api, task)) == [0, 1, 2, 3, 4]
    assert len(api.container.inference.async_calls) == 3  # one per chunk


def test_an_async_failure_object_fails_the_request_with_the_endpoints_words(sfn: Any, api: Api) -> None:
    task, labels = make_task(api)
    register(api, mode="async")
    api.container.inference.error = RuntimeError("CUDA out of memory")
    inp = request(api, task, labels)
    described = execute(sfn, inp, poll=results_poller(api))
    assert described["status"] == "FAILED", described
    rq = api.container.repos.requests.get(inp["request_id"])
    assert rq.message.startswith("The function yolox-nano failed on chunk ")
    assert rq.message.endswith(": CUDA out of memory")
