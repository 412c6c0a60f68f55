"""auto-annotate-results: an async model endpoint's output or failure object (S3 ObjectCreated
under auto-annotation/async-results/ or async-failures/, through SQS) -> the auto-annotate chunk
waiting for it (SendTaskSuccess with the object's key; the collect step saves the output or fails
with the failure's text). A key that no chunk waits for yet fails its record: SQS delivers it
again (the endpoint may write before the submit step stored its token), then dead-letters it."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="auto-annotate-results")
tracer = Tracer(service="auto-annotate-results", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="auto-annotate-results")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    notification = record.decoded_nested_s3_event
    for s3 in notification.records if "Records" in notification else ():  # an s3:TestEvent has none
        key = unquote_plus(s3.s3.get_object.key)  # S3 (and moto) URL-encode keys in notifications
        outcome = container().auto_annotation_results.deliver(key)
        logger.info(f"async result {key}: {outcome}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
