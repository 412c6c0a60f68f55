"""functions-api: API Gateway (REST, proxy) -> the functions_api app (/api/lambda/*, /api/functions*)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless import bootstrap

logger = Logger(service="functions-api")
tracer = Tracer(service="functions-api", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="functions-api")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return bootstrap.functions_api().handle(event, context)
