"""dataset-export, every step of the workflow (statemachines/export_dataset.asl.json): the
annotations, one part of the images, the join, and failing the request."""

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="dataset-export")
tracer = Tracer(service="dataset-export", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="dataset-export")


class StepInput(BaseModel):
    step: Literal["annotations", "images", "finalize", "fail"]
    request_id: str
    execution_name: str = ""  # the Step Functions execution ($$.Execution.Name), for step 1
    part: int = 0  # step 2: which part of the images
    error: str = ""  # fail: the state machine's Catch, Error and Cause
    cause: str = ""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    exports = container().exports
    if event.step == "annotations":
        return exports.annotations(event.request_id, event.execution_name)
    if event.step == "images":
        return exports.images(event.request_id, event.part)
    if event.step == "finalize":
        return exports.finalize(event.request_id)
    return exports.fail(event.request_id, event.error, event.cause)
