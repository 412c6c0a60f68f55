"""backup-restore, every step of the workflow (statemachines/restore_backup.asl.json): read the
backup and create, check the tasks' data, annotate, and failing the request."""

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="backup-restore")
tracer = Tracer(service="backup-restore", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="backup-restore")


class StepInput(BaseModel):
    step: Literal["restore", "check", "annotate", "fail"]
    request_id: str
    execution_name: str = ""  # the Step Functions execution ($$.Execution.Name), for step 1
    round: int = 0  # check: how many times it looked already
    error: str = ""  # fail: the state machine's Catch, Error and Cause
    cause: str = ""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=StepInput)
def lambda_handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    restores = container().restores
    if event.step == "restore":
        return restores.restore(event.request_id, event.execution_name)
    if event.step == "check":
        return restores.check_progress(event.request_id, event.round)
    if event.step == "annotate":
        return restores.annotate(event.request_id)
    return restores.fail(event.request_id, event.error, event.cause)
