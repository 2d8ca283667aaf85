"""Every few minutes: judge overdue notices and re-arm missing timers. Every repair is a metric;
in a healthy system it stays at zero (RELIABILITY.md invariant 2, checked in production)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sla.observability import logger, metrics, tracer
from sla.wiring import sweeper


def _now() -> datetime:
    return datetime.now(UTC)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = sweeper().run(_now())
    metrics.add_metric(name="Repairs", unit=MetricUnit.Count, value=result.repairs)
    if result.repairs:
        logger.warning(
            "sweeper repaired",
            extra={"published": result.published, "rearmed": result.rearmed},
        )
    return {"overdue": result.overdue, "published": result.published, "rearmed": result.rearmed}
