"""analytics-writer: domain events from the event bus (EventBridge rule -> SQS) into the event
store, one object per partition per batch (services.analytics). A batch is written whole or
retried whole: its objects are named after its message ids, so a retry overwrites, never doubles."""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from cvat_serverless.bootstrap import container

logger = Logger(service="analytics-writer")
tracer = Tracer(service="analytics-writer", auto_patch=False)  # see adapters/aws/tracing.py
metrics = Metrics(service="analytics-writer")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=SQSEvent)
def lambda_handler(event: SQSEvent, context: LambdaContext) -> dict[str, Any]:
    records = list(event.records)
    details = [json.loads(r.body).get("detail") or {} for r in records]  # EventBridge envelopes
    written = container().analytics.write_domain_events(details, [r.message_id for r in records])
    metrics.add_metric(name="EventsWritten", unit=MetricUnit.Count, value=written)
    return {"written": written}
