"""events-export, every step of the workflow (statemachines/export_events.asl.json): the CSV of
the request's events, and failing the request."""

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="events-export")
tracer = Tracer(service="events-export", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="events-export")


class StepInput(BaseModel):
    step: Literal["export", "fail"]
    request_id: str
    execution_name: str = ""  # the Step Functions execution ($$.Execution.Name)
    error: str = ""  # fail: the state machine's Catch, Error and Cause
    cause: str = ""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    analytics = container().analytics
    if event.step == "export":
        return analytics.run_export(event.request_id, event.execution_name)
    return analytics.fail(event.request_id, event.error, event.cause)
