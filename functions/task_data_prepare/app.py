"""task-data step 1: gather the request's media, probe it and plan jobs, chunks and work units."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="task-data")
tracer = Tracer(service="task-data", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="task-data")


class PrepareInput(BaseModel):
    request_id: str
    task_id: int
    data_id: int
    execution_name: str = ""  # the Step Functions execution ($$.Execution.Name) running it


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=PrepareInput)
def lambda_handler(event: PrepareInput, context: LambdaContext) -> dict[str, Any]:
    return container().pipeline.prepare(event.request_id, event.task_id, event.data_id, event.execution_name)
