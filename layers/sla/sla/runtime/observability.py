"""Logger, Metrics and Tracer: made once, here, and imported by every handler.

Configured through the standard Powertools variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, ...) set in template.yaml.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

if TYPE_CHECKING:
    from sla.app.notifier import Judgement

__all__ = [
    "NOTICE_METRICS",
    "SLA_METRICS",
    "build_tracer",
    "count",
    "count_published",
    "logger",
    "metrics",
    "tracer",
    "tracing_on",
]

NAMESPACE = "SlaKeeper"
NOTICE_METRICS = {"warning": "Warnings", "breach": "Breaches", "retraction": "Retractions"}
SLA_METRICS = ("first_response", "next_reply", "resolution")  # the `metric` dimension's values
_TRUE = ("1", "true", "yes", "on")


class _Untraced(BaseSegment):
    """The segment of :class:`_NoTracing`: takes everything, records nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class _NoTracing(BaseProvider):
    """The Tracer's provider while tracing is off. Powertools' default provider is the X-Ray SDK,
    imported even when tracing is disabled: about 80 ms at import (its sampler builds a botocore
    session), most of which the first request would pay anyway for botocore. With this provider
    the SDK is never imported, and importing the handler stays free of botocore."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _Untraced()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncIterator[BaseSegment]:
        yield _Untraced()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def tracing_on(environ: Mapping[str, str]) -> bool:
    """Whether to trace with X-Ray: in Lambda, unless ``POWERTOOLS_TRACE_DISABLED`` is true (the
    template sets it from its ``Tracing`` parameter). Powertools' own rule, written out."""
    if environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in _TRUE:
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not environ.get("AWS_SAM_LOCAL")


def build_tracer(environ: Mapping[str, str]) -> Tracer:
    """The X-Ray Tracer when tracing is on; otherwise a Tracer that never loads the X-Ray SDK."""
    if tracing_on(environ):
        return Tracer(service="sla-keeper")
    return Tracer(service="sla-keeper", disabled=True, auto_patch=False, provider=_NoTracing())


logger = Logger(service="sla-keeper")
metrics = Metrics(namespace=NAMESPACE, service="sla-keeper")
tracer = build_tracer(os.environ)
# An invocation that counts nothing is normal here (a sweep with no repairs, a stream batch of
# delivery records): Powertools would print a UserWarning into the logs for each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count(
    name: str, plan: str, priority: int, value: int = 1, *, metric: str = "first_response"
) -> None:
    """A count by plan, priority and SLA metric (its own EMF document: tickets in a batch differ).

    The dimensions stay few-valued: a ``metric`` outside :data:`SLA_METRICS` is counted as
    ``unknown``, so no stray value (never a ticket id) can become a time series of its own."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return  # single_metric does not honour the switch that Metrics does
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE
    ) as emitted:
        emitted.add_dimension(name="plan", value=plan or "unknown")
        emitted.add_dimension(name="priority", value=str(priority))
        emitted.add_dimension(name="metric", value=metric if metric in SLA_METRICS else "unknown")


def count_published(judgements: Iterable[Judgement]) -> None:
    """One count per notice that went out, by kind, plan, priority and SLA metric."""
    for judged in judgements:
        if judged.outcome == "published":
            count(
                NOTICE_METRICS[judged.kind],
                judged.plan,
                judged.priority,
                metric=getattr(judged, "metric", "first_response"),
            )
