"""Logger, Metrics and Tracer: made once, here, and imported by every handler.

Configured through the standard Powertools variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, ...) set in template.yaml.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

__all__ = ["logger", "metrics", "tracer"]

logger = Logger(service="sla-keeper")
metrics = Metrics(namespace="SlaKeeper", service="sla-keeper")
tracer = Tracer(service="sla-keeper")
