"""import-annotations: import an uploaded file into a task, a job or a project's tasks; or, after
the step failed for good (the state machine's Catch adds ``error``), fail the request."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from cvat_serverless.bootstrap import container
from cvat_serverless.services.imports import ImportJob

logger = Logger(service="import-annotations")
tracer = Tracer(service="import-annotations", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="import-annotations")


class StepError(BaseModel):
    error: str = Field("", alias="Error")
    cause: str = Field("", alias="Cause")


class ImportInput(BaseModel):
    request_id: str
    target: str = Field(pattern="^(task|job|project)$")
    resource_id: int
    format: str
    upload_id: str
    conv_mask_to_poly: bool = False
    import_mode: str = Field("replace", pattern="^(append|replace)$")
    error: StepError | None = None  # the state machine's Catch: the step failed for good


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ImportInput)
def lambda_handler(event: ImportInput, context: LambdaContext) -> dict[str, Any]:
    job = ImportJob(**event.model_dump(exclude={"error"}))
    if event.error is not None:
        return container().import_worker.fail(job, event.error.error, event.error.cause)
    return container().import_worker.run(job)
