"""task-data step 2 (one Map iteration): process one segment; returns an S3 key, not data."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="task-data")
tracer = Tracer(service="task-data", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="task-data")


class SegmentInput(BaseModel):
    execution_name: str  # the Step Functions execution ($$.Execution.Name) that runs this step
    key: str
    index: int
    start: int
    end: int


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=SegmentInput)
def lambda_handler(event: SegmentInput, context: LambdaContext) -> dict[str, Any]:
    return container().task_data.process_segment(event.execution_name, event.key, event.index, event.start, event.end)
