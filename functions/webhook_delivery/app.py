"""webhook-delivery: DomainEventsQueue (events, fanned out into one job per subscribed webhook)
and WebhookDeliveryQueue (jobs, one POST each) -> services.webhooks.WebhookDispatcher, which
explains the retries and the ordering. Platform failures fail only their record."""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="webhook-delivery")
tracer = Tracer(service="webhook-delivery", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="webhook-delivery")


def record_handler(record: SQSRecord) -> None:
    logger.info(container().webhook_dispatcher.handle(json.loads(record.body)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # a processor per invocation: it holds the batch's records and results, and the embedded
    # runtime runs several batches of this mapping at once in one process (ScalingConfig)
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
