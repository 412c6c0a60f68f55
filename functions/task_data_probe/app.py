"""task-data step 1: probe the uploaded object and plan its segments."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="task-data")
tracer = Tracer(service="task-data", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="task-data")


class ProbeInput(BaseModel):
    execution_name: str  # the Step Functions execution ($$.Execution.Name) that runs this step
    key: str


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ProbeInput)
def lambda_handler(event: ProbeInput, context: LambdaContext) -> dict[str, Any]:
    return container().task_data.probe(event.execution_name, event.key)
