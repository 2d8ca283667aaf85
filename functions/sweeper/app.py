"""Every few minutes: judge overdue notices and re-arm missing timers. Every repair is a metric;
in a healthy system it stays at zero (RELIABILITY.md invariant 2, checked in production).

Invoked with ``{"full": true}`` (by ``sla replay`` after lost stream batches) it checks the timers
of every ticket that owes a notice, however far ahead."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sla.runtime import clock
from sla.runtime.observability import count_published, logger, metrics, tracer
from sla.runtime.wiring import sweeper


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = sweeper().run(clock.now(), full=bool(event.get("full")))
    metrics.add_metric(name="Repairs", unit=MetricUnit.Count, value=result.repairs)
    count_published(result.judged)
    if result.repairs:
        logger.warning(
            "sweeper repaired",
            extra={"published": result.published, "rearmed": result.rearmed},
        )
    return {"overdue": result.overdue, "published": result.published, "rearmed": result.rearmed}
