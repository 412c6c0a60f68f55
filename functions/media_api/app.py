"""media-api: API Gateway (REST) -> the media API app: chunks, frames, previews and data/meta of tasks and jobs."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless import bootstrap

logger = Logger(service="media-api")
tracer = Tracer(service="media-api", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="media-api")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return bootstrap.media_api().handle(event, context)
