"""task-data step 3: collect the segments' results, write the manifest, publish the event."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="task-data")
tracer = Tracer(service="task-data", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="task-data")


class SegmentResult(BaseModel):
    index: int
    result_key: str


class FinalizeInput(BaseModel):
    execution_name: str  # the Step Functions execution ($$.Execution.Name) that runs this step
    key: str
    results: list[SegmentResult]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=FinalizeInput)
def lambda_handler(event: FinalizeInput, context: LambdaContext) -> dict[str, Any]:
    results = [r.model_dump() for r in event.results]
    return container().task_data.finalize(event.execution_name, event.key, results, request_id=event.execution_name)
