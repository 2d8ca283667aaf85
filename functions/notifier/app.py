"""The schedules' target: judge the notice a timer stands for and publish it exactly once.

Real failures raise, so Lambda retries (at most twice) and then hands the event to the on-failure
destination; stale, early and duplicate timers return quietly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from sla.errors import describe
from sla.observability import logger, metrics, tracer
from sla.timers import TimerInput
from sla.wiring import notifier_service

METRIC = {"warning": "Warnings", "breach": "Breaches", "retraction": "Retractions"}


def _now() -> datetime:
    return datetime.now(UTC)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    try:
        timer = TimerInput.model_validate(event)
    except ValidationError:
        logger.error("not a timer input; dropped")  # retrying cannot make it valid
        metrics.add_metric(name="MalformedTimers", unit=MetricUnit.Count, value=1)
        return {"outcome": "malformed"}
    try:
        judged = notifier_service().judge(timer.ticket_id, timer.kind, timer.for_, _now())
    except Exception as exc:
        logger.error("timer failed", extra=describe(exc))
        raise
    metrics.add_dimension(name="plan", value=judged.plan or "unknown")
    metrics.add_dimension(name="priority", value=str(judged.priority))
    if judged.outcome == "published":
        metrics.add_metric(name=METRIC[judged.kind], unit=MetricUnit.Count, value=1)
    elif judged.outcome in ("stale", "duplicate"):
        metrics.add_metric(name="StaleTimers", unit=MetricUnit.Count, value=1)
    logger.info("timer judged", extra={"kind": judged.kind, "outcome": judged.outcome})
    return {"outcome": judged.outcome}
