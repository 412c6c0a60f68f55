"""ingest: S3 ObjectCreated notifications of the drop folder (through SQS) -> tasks (services.ingest).
A refused drop gets a failure record and is consumed; a record that fails for the platform's
reasons is retried (and finally dead-lettered) alone: partial batch failures."""

from dataclasses import asdict
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container
from cvat_serverless.services.ingest import DropOutcome, DroppedObject

logger = Logger(service="ingest")
tracer = Tracer(service="ingest", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="ingest")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    notification = record.decoded_nested_s3_event  # S3Event over the message's JSON body
    for s3 in notification.records if "Records" in notification else ():  # an s3:TestEvent has none
        obj = s3.s3.get_object  # ObjectCreated:* only (the bucket's notification configuration)
        # S3 (and moto) URL-encode keys in notifications, and S3Object.key does not decode them
        dropped = DroppedObject(s3.s3.bucket.name, unquote_plus(obj.key), obj.size,
                                obj.etag or obj.get("sequencer") or s3.event_time)
        result = container().ingest.accept(dropped)
        metrics.add_metric(name=f"Drops{result.outcome.value.title()}", unit=MetricUnit.Count, value=1)
        log = logger.warning if result.outcome is DropOutcome.FAILED else logger.info
        log(f"drop {result.outcome.value}: {result.message}", extra={"drop": asdict(result)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
