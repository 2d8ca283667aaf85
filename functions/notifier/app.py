"""The schedules' target: judge the notice a timer stands for and publish it exactly once.

Real failures raise, so Lambda retries (at most twice) and then hands the event to the on-failure
destination; stale, early and duplicate timers return quietly."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from sla.core.errors import describe
from sla.ports import TimerInput
from sla.runtime import clock
from sla.runtime.observability import count, count_published, logger, metrics, tracer
from sla.runtime.wiring import notifier_service


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
        judged = notifier_service().judge(
            timer.ticket_id, timer.kind, timer.for_, clock.now(), timer.metric, timer.cycle
        )
    except Exception as exc:
        logger.error("timer failed", extra=describe(exc))
        raise
    count_published([judged])
    if judged.outcome in ("stale", "duplicate"):
        count("StaleTimers", judged.plan, judged.priority, metric=judged.metric)
    logger.info(
        "timer judged",
        extra={"kind": judged.kind, "metric": judged.metric, "outcome": judged.outcome},
    )
    return {"outcome": judged.outcome}
