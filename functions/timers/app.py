"""The table's stream to timers: arm, move or delete the ticket's schedules; judge at once what is
already due. Partial batch failures are reported, so one bad record is retried alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sla.errors import describe
from sla.observability import NOTICE_METRICS, count, logger, metrics, tracer
from sla.store import TICKET_SK, ticket_from_item
from sla.wiring import timer_sync

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _now() -> datetime:
    return datetime.now(UTC)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event["dynamodb"]
    keys = change.get("Keys", {})
    if keys.get("sk", {}).get("S") != TICKET_SK:
        return  # deliveries and notice claims carry no timers
    new = change.get("NewImage")
    old = change.get("OldImage")
    try:
        result = timer_sync().apply(
            ticket_from_item(new) if new else None, ticket_from_item(old) if old else None, _now()
        )
    except Exception as exc:
        logger.error("stream record failed", extra=describe(exc))
        raise
    if result.armed:
        metrics.add_metric(name="TimersArmed", unit=MetricUnit.Count, value=result.armed)
    if result.deadline_set:
        count("DeadlinesSet", result.plan, result.priority)
    if result.met:
        count("Met", result.plan, result.priority)
    for judged in result.judged:
        if judged.outcome == "published":
            count(NOTICE_METRICS[judged.kind], judged.plan, judged.priority)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
