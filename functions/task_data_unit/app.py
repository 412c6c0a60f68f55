"""task-data step 2 (one Map iteration): build and store one work unit's chunks."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="task-data")
tracer = Tracer(service="task-data", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="task-data")


class UnitInput(BaseModel):
    request_id: str
    task_id: int
    data_id: int
    unit: int


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=UnitInput)
def lambda_handler(event: UnitInput, context: LambdaContext) -> dict[str, Any]:
    return container().pipeline.run_unit(event.request_id, event.task_id, event.data_id, event.unit)
