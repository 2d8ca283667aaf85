"""Logger, Metrics and Tracer: made once, here, and imported by every handler.

Configured through the standard Powertools variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, ...) set in template.yaml.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["NOTICE_METRICS", "count", "logger", "metrics", "tracer"]

NAMESPACE = "SlaKeeper"
NOTICE_METRICS = {"warning": "Warnings", "breach": "Breaches", "retraction": "Retractions"}
logger = Logger(service="sla-keeper")
metrics = Metrics(namespace=NAMESPACE, service="sla-keeper")
tracer = Tracer(service="sla-keeper")


def count(name: str, plan: str, priority: int, value: int = 1) -> None:
    """A count by plan and priority (its own EMF document: tickets in a batch differ)."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return  # single_metric does not honour the switch that Metrics does
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="plan", value=plan or "unknown")
        metric.add_dimension(name="priority", value=str(priority))
