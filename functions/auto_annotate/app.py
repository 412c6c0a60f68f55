"""auto-annotate, every step of statemachines/auto_annotate.asl.json: prepare, one chunk (sync; or
async: submit, then collect after the endpoint's callback), finish, fail (services/auto_annotation.py)."""

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from cvat_serverless.bootstrap import container

logger = Logger(service="auto-annotate")
tracer = Tracer(service="auto-annotate", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="auto-annotate")


class StepInput(BaseModel):
    step: Literal["prepare", "run_chunk", "submit_chunk", "collect_chunk", "finish", "fail"]
    request_id: str
    input: dict[str, Any]  # the state machine's input, as the API started it
    execution_name: str = ""  # prepare: $$.Execution.Name
    chunk: int = Field(0, ge=0)  # the chunk steps
    task_token: str = ""  # submit_chunk: $$.Task.Token
    output_key: str = ""  # collect_chunk: the endpoint's output object ("" when there was nothing to do)
    failure_key: str = ""  # collect_chunk: or its failure object
    error: str = ""  # fail: the state machine's Catch, Error and Cause
    cause: str = ""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    worker, doc = container().auto_annotation, event.input
    steps = {
        "prepare": lambda: worker.prepare(doc, event.execution_name),
        "run_chunk": lambda: worker.run_chunk(doc, event.chunk),
        "submit_chunk": lambda: worker.submit_chunk(doc, event.chunk, event.task_token),
        "collect_chunk": lambda: worker.collect_chunk(doc, event.chunk, event.output_key, event.failure_key),
        "finish": lambda: worker.finish(doc),
        "fail": lambda: worker.fail(doc, event.error, event.cause),
    }
    return steps[event.step]()
