"""The table's stream to timers: arm, move or delete the ticket's schedules; judge at once what is
already due. Partial batch failures are reported, so one bad record is retried alone."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sla.core.errors import describe
from sla.runtime import clock
from sla.runtime.observability import count, count_published, logger, metrics, tracer
from sla.runtime.wiring import notifier_store, timer_sync

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    try:
        change = notifier_store().change(record.raw_event["dynamodb"])
        if change is None:
            return  # deliveries and notice claims carry no timers
        old, new = change
        result = timer_sync().apply(new, old, clock.now())
    except Exception as exc:
        logger.error("stream record failed", extra=describe(exc))
        raise
    if result.armed:
        metrics.add_metric(name="TimersArmed", unit=MetricUnit.Count, value=result.armed)
    for metric, priority in result.deadlines_set:
        count("DeadlinesSet", result.plan, priority, metric=metric)
    for metric, priority in result.met:
        count("Met", result.plan, priority, metric=metric)
    count_published(result.judged)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
