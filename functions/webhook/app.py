"""The webhook API: POST /webhooks/tickets, GET /tickets/{ticket_id}/sla, GET /sla/quote.

A thin handler: each route hands the request to the layer's WebhookService and turns the result,
or any error, into a response. Problems are mapped in one place (sla.runtime.problems.problem_for).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sla.core.errors import NotFoundError, describe
from sla.runtime import clock
from sla.runtime.observability import logger, metrics, tracer
from sla.runtime.problems import PROBLEM_CONTENT_TYPE, problem_for
from sla.runtime.wiring import webhook_service

app = APIGatewayHttpResolver()
JSON = "application/json"


def _json(status: int, document: Any, content_type: str = JSON, **headers: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_type,
        body=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        headers=headers,
    )


@app.post("/webhooks/tickets")
@tracer.capture_method
def receive_ticket_event() -> Response[str]:
    event = app.current_event
    result = webhook_service().ingest(
        event.headers, event.body, bool(event.is_base64_encoded), clock.now()
    )
    metrics.add_metric(name=f"Webhook_{result.outcome}", unit=MetricUnit.Count, value=1)
    if result.view is None:
        return _json(200, {"ignored": True, "detail": "Unknown event type; acknowledged."})
    return _json(200, result.view.model_dump(mode="json", exclude={"history"}))


@app.get("/tickets/<ticket_id>/sla")
@tracer.capture_method
def read_ticket_sla(ticket_id: str) -> Response[str]:
    view = webhook_service().read(ticket_id, clock.now())
    return _json(200, view.model_dump(mode="json"))


@app.get("/sla/quote")
@tracer.capture_method
def quote() -> Response[str]:
    params = app.current_event.query_string_parameters or {}
    return _json(200, webhook_service().quote(params, clock.now()).model_dump(mode="json"))


def handle_error(exc: Exception) -> Response[str]:
    problem = problem_for(exc)
    if problem.status >= 500:
        # Types and code locations only: AWS error messages can quote submitted values.
        logger.error("request failed", extra={"status": problem.status, **describe(exc)})
        metrics.add_metric(name="Webhook_error", unit=MetricUnit.Count, value=1)
    elif problem.status in (401, 413):
        metrics.add_metric(
            name=f"Webhook_rejected_{problem.status}", unit=MetricUnit.Count, value=1
        )
    return _json(problem.status, problem.body(), PROBLEM_CONTENT_TYPE, **problem.headers)


@app.not_found
def not_found(exc: Exception) -> Response[str]:
    return handle_error(NotFoundError("No such route."))


app.exception_handler(Exception)(handle_error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
