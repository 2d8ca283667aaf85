"""The webhook API: POST /webhooks/tickets, GET /tickets/{ticket_id}/sla, GET /tickets/sla?id=...,
GET /tickets?status=... and GET /sla/quote.

A thin handler: each route hands the request to the layer's WebhookService and turns the result,
or any error, into a response. Problems are mapped in one place (sla.runtime.problems).

The routes also describe the API: Powertools builds the OpenAPI document from their signatures
and declared responses (``openapi_document()``; ``python -m local.openapi`` writes it to
docs/openapi.json). Powertools validates the parameters of the read routes only
(``enable_validation`` per route): the service must verify the webhook's signature on the raw
bytes before anything parses them, and it validates the queries of the quote and the lists
itself (against the policy). The parameters of those routes describe the request for the
document; Powertools never fills them.

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run
time, through the tracer's wrapper, and cannot resolve annotations left as strings. Powertools'
OpenAPI models are imported only when a document is asked for (about fifty pydantic models:
they would double the handler's import time).
"""

import json
import os
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseHeader,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, Field
from pydantic_core import PydanticUndefined

from sla.core.errors import MethodNotAllowedError, NotFoundError, UnprocessableError, describe
from sla.core.lists import ListStatus, TicketList
from sla.core.terms import MetricName
from sla.core.view import PendingView, Quote, SlaView
from sla.runtime import clock
from sla.runtime.observability import logger, metrics, tracer
from sla.runtime.problems import PROBLEM_CONTENT_TYPE, problem_for
from sla.runtime.wiring import webhook_service

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

JSON = "application/json"
API_VERSION = "1.0.0"
# Served by the local stack only (it sets SLA_LOCAL=1); on AWS they are not routes of the API
# and the document is a build artifact, docs/openapi.json.
LOCAL_ONLY = ("/openapi.json", "/swagger")
# The quote's query parameters; any other is ignored, never passed on or echoed.
QUOTE_PARAMETERS = ("plan", "priority", "environment", "product_stage", "at")
# The lists' query parameters, likewise.
LIST_PARAMETERS = ("status", "metric", "plan", "priority", "limit", "cursor")
# The default of a parameter that the OpenAPI document shows as required but that Powertools never
# fills (its route keeps validation off): the handler reads the request itself.
DOCUMENTED: Any = PydanticUndefined


class HttpApi(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver with three changes.

    A path parameter matches a whole segment, whatever its characters: API Gateway hands the
    function the path percent-decoded (docs/api-paths.md), so a ticket id arrives with its spaces,
    ``#``, ``+``, quotes or non-ASCII letters, which Powertools' own pattern (letters, digits and
    some punctuation) would answer with a 404. It says which methods a path answers (405). And its
    OpenAPI document leaves out the schemas no operation refers to: Powertools always adds its
    own validation error models, which this API never answers with.
    """

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        return re.compile(base_regex.format(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule)))

    def methods_for(self, path: str) -> list[str]:
        """The methods of the routes that match ``path`` (local-only routes only locally)."""
        return sorted(
            {
                route.method
                for route in self._static_routes + self._dynamic_routes
                if route.rule.match(path) and (_local() or route.path not in LOCAL_ONLY)
            }
        )

    def get_openapi_schema(self, **kwargs: Any) -> "OpenAPI":
        _describe_api()
        document = super().get_openapi_schema(**kwargs)
        schemas = document.components.schemas if document.components else None
        while schemas:
            text = document.model_dump_json(by_alias=True, exclude_none=True)
            unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
            if not unused:
                break
            for name in unused:
                del schemas[name]
        return document


app = HttpApi()


def _local() -> bool:
    return os.environ.get("SLA_LOCAL") == "1"


def _json(status: int, document: Any, content_type: str = JSON, **headers: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_type,
        body=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        headers=headers,
    )


# -- what the document says about requests and answers ----------------------------------------


class WebhookTicket(BaseModel):
    """The ticket as of ``occurred_at``. Unknown fields are ignored and never stored."""

    id: str = Field(
        min_length=1,
        max_length=256,
        description="Up to 256 printable characters; any id that can be created can be read.",
    )
    created_at: AwareDatetime = Field(description="When the sender created it; starts the clock.")
    plan: str = Field(
        min_length=1, max_length=64, description="A plan of the policy, in any letter case."
    )
    priority: int | None = Field(
        default=None, description="A priority of the policy (1 to 3); null or missing: 3."
    )
    environment: str | None = Field(
        default=None, max_length=64, description="production (the default), staging, development."
    )
    product_stage: str | None = Field(
        default=None, max_length=64, description="ga (the default), beta, developer_preview."
    )


class WebhookActor(BaseModel):
    type: str = Field(max_length=64, description="customer, agent, ...")
    id: str | None = Field(default=None, max_length=256)


class WebhookEvent(BaseModel):
    """A ticket event, signed with Standard Webhooks. Unknown fields are ignored, never stored."""

    type: str = Field(
        description=(
            "ticket.created, ticket.updated, ticket.responded (a public agent reply), "
            "ticket.solved or ticket.closed; any other type is acknowledged and ignored."
        )
    )
    occurred_at: AwareDatetime = Field(description="When it happened, with its offset.")
    ticket: WebhookTicket
    actor: WebhookActor | None = None
    reason: str | None = Field(
        default=None, max_length=1024, description="Why an agent changed the priority."
    )


class IgnoredEvent(BaseModel):
    """The answer to an event of an unknown type: acknowledged, not stored."""

    ignored: Literal[True]
    detail: str


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or header, then the field.")
    msg: str
    type: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem. Never echoes submitted values or secrets."""

    type: str = Field(description="urn:sla-keeper:problem:<slug>")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None, description="Field locations.")


def _header(description: str) -> OpenAPIResponseHeader:
    return {"description": description, "schema": {"type": "string"}}


def _problem(description: str, **headers: OpenAPIResponseHeader) -> OpenAPIResponse:
    answer: OpenAPIResponse = {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"model": ProblemDocument}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _recorded(what: str) -> OpenAPIResponse:
    """A delivery's 200: the view, that the ticket is pending, or that the event was ignored."""
    return {
        "description": what + "pending; for an event the SLA does not use, {ignored: true}.",
        "content": {JSON: {"model": SlaView | PendingView | IgnoredEvent}},
    }


def _ok(model: Any, description: str) -> OpenAPIResponse:
    return {"description": description, "content": {JSON: {"model": model}}}


WRONG_METHOD = _problem(
    "Every other method on this path, with the methods it answers in Allow.",
    Allow=_header("The methods this path answers, e.g. GET."),
)
UNAVAILABLE = _problem(
    "Throttling or a transient AWS fault: nothing was stored; retry after Retry-After seconds.",
    **{"Retry-After": _header("Seconds to wait before retrying.")},
)
NO_TICKET = _problem("No ticket with this id.")
SIGV4: list[dict[str, list[str]]] = [{"sigv4": []}]


@cache
def _describe_api() -> None:
    """What the document says about the API as a whole (once, when a document is first made)."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Tag

    app.configure_openapi(
        title="sla-keeper",
        version=API_VERSION,
        summary="First-response SLA deadlines for support tickets.",
        description=(
            "Signed ticket webhooks in; each ticket's SLA view and a public deadline quote out. "
            "Errors are application/problem+json (RFC 9457) and never echo submitted values."
        ),
        tags=[
            Tag(name="webhooks", description="Ticket events from a helpdesk or ticket form."),
            Tag(name="sla", description="Deadlines: a ticket's SLA view, and quotes."),
        ],
        security_schemes={
            "sigv4": APIKey.model_validate(
                {
                    "type": "apiKey",
                    "in": APIKeyIn.header,
                    "name": "Authorization",
                    "description": (
                        "IAM: requests signed with AWS Signature Version 4 for execute-api "
                        "(API Gateway's AWS_IAM authorizer). Not checked by the local stack."
                    ),
                    "openapi_extensions": {"x-amazon-apigateway-authtype": "awsSigv4"},
                }
            )
        },
    )


def _local_only(resolver: APIGatewayHttpResolver, next_middleware: Callable[..., Any]) -> Any:
    if not _local():
        raise NotFoundError("No such route.")
    return next_middleware(resolver)


# -- routes ---------------------------------------------------------------------------------------


@app.post(
    "/webhooks/tickets",
    summary="Record a ticket event",
    description=(
        "Standard Webhooks: the signature covers `{webhook-id}.{webhook-timestamp}.{raw body}`; "
        "the timestamp may be 5 minutes off either way. Checked in this order: size (256 KiB), "
        "content type, signature, JSON, schema. A duplicate webhook-id changes nothing and is "
        "answered with the current view. Events may arrive in any order."
    ),
    tags=["webhooks"],
    responses={
        200: _recorded("Recorded (or a duplicate): the SLA view without history, or that it is "),
        400: _problem("Not JSON, not UTF-8, or nested deeper than 32 levels."),
        401: _problem("Any signature problem: one uniform answer."),
        405: WRONG_METHOD,
        413: _problem("Body over 256 KiB (checked before hashing or parsing)."),
        415: _problem("Content type other than application/json."),
        422: _problem("Schema violation: unknown plan, priority 4, an instant without offset..."),
        503: UNAVAILABLE,
    },
    enable_validation=False,  # the raw bytes reach the service untouched
)
@tracer.capture_method
def receive_ticket_event(
    event: Annotated[WebhookEvent, Body()] = DOCUMENTED,
    webhook_id: Annotated[
        str, Header(alias="webhook-id", description="Stable across retries; the dedupe key.")
    ] = DOCUMENTED,
    webhook_timestamp: Annotated[
        str, Header(alias="webhook-timestamp", description="Unix seconds of this attempt.")
    ] = DOCUMENTED,
    webhook_signature: Annotated[
        str,
        Header(
            alias="webhook-signature",
            description="v1,<base64 HMAC-SHA256>; several space-separated during key rotation.",
        ),
    ] = DOCUMENTED,
) -> Response[str]:
    return _ingest("tickets")


def _ingest(source: str) -> Response[str]:
    request = app.current_event
    result = webhook_service().ingest(
        request.headers, request.body, bool(request.is_base64_encoded), clock.now(), source
    )
    metrics.add_metric(name=f"Webhook_{result.outcome}", unit=MetricUnit.Count, value=1)
    if result.view is None:
        return _json(
            200, {"ignored": True, "detail": "An event the SLA does not use; acknowledged."}
        )
    return _json(200, result.view.model_dump(mode="json", exclude={"history"}))


@app.post(
    "/webhooks/<source>",
    summary="Record a helpdesk's own webhook",
    description=(
        "The helpdesk's webhook as it sends it, verified as it signs it: zendesk "
        "(X-Zendesk-Webhook-Signature over the timestamp header and the body), jira "
        "(X-Hub-Signature: sha256=<hex>), zammad (X-Hub-Signature: sha1=<hex>), freshdesk (HTTP "
        "Basic authentication with the source's secret as the password). A source is enabled by "
        "its secret; any other answers 404. Ticket ids are `<source>:<the helpdesk's id>`."
    ),
    tags=["webhooks"],
    responses={
        200: _recorded("Recorded (or a duplicate delivery): the ticket's SLA view or that it is "),
        400: _problem("Not JSON, not UTF-8, or nested deeper than 32 levels."),
        401: _problem("Any authentication problem: one uniform answer."),
        404: _problem("Not an enabled source."),
        405: WRONG_METHOD,
        413: _problem("Body over 256 KiB (checked before hashing or parsing)."),
        415: _problem("Content type other than application/json."),
        422: _problem("Not the helpdesk's payload, or a value the policy does not know."),
        503: UNAVAILABLE,
    },
    enable_validation=False,  # the raw bytes reach the service untouched
)
@tracer.capture_method
def receive_helpdesk_event(
    source: Annotated[
        str, Path(description="zendesk, jira, freshdesk or zammad (enabled by its secret).")
    ],
) -> Response[str]:
    return _ingest(source)


def _read(ticket_id: str) -> Response[str]:
    return _json(200, webhook_service().read(ticket_id, clock.now()).model_dump(mode="json"))


@app.get(
    "/tickets/<ticket_id>/sla",
    summary="A ticket's SLA view and history",
    description=(
        "The id as one path segment, percent-encoded. API Gateway hands the function the path "
        "decoded, so on AWS an id with `/`, `?` or `%`, or `.` and `..`, cannot be addressed "
        "here (docs/api-paths.md); GET /tickets/sla?id= reads any id."
    ),
    tags=["sla"],
    security=SIGV4,
    responses={
        200: _ok(
            SlaView | PendingView,
            "The SLA view with `history`: every change, when, why and by whom (or, for a ticket "
            "whose creation time or plan no event has given yet, that it is pending).",
        ),
        404: NO_TICKET,
        405: WRONG_METHOD,
        503: UNAVAILABLE,
    },
    enable_validation=True,
)
@tracer.capture_method
def read_ticket_sla(
    ticket_id: Annotated[str, Path(description="The ticket's id.")],
) -> Response[str]:
    return _read(ticket_id)


@app.get(
    "/tickets/sla",
    summary="A ticket's SLA view and history, any id",
    description="The same answer as GET /tickets/{ticket_id}/sla, for any id.",
    tags=["sla"],
    security=SIGV4,
    responses={
        200: _ok(SlaView | PendingView, "The SLA view with `history` (or that it is pending)."),
        404: NO_TICKET,
        405: WRONG_METHOD,
        422: _problem("No id given."),
        503: UNAVAILABLE,
    },
    enable_validation=True,
)
@tracer.capture_method
def read_ticket_sla_by_query(
    ticket_id: Annotated[
        str, Query(alias="id", description="The ticket's id, URL-encoded (`+` as %2B).")
    ],
) -> Response[str]:
    return _read(ticket_id)


@app.get(
    "/tickets",
    summary="Tickets by SLA status, soonest deadline first",
    description=(
        "The tickets whose metric is `running` (the clock runs, no warning went out), `at_risk` "
        "(a warning went out and the clock runs) or `breached` (the breach notice went out and "
        "the clock has not stopped), soonest deadline first, from an index (never a scan). A "
        "ticket is on one list per metric. Pass `next_cursor` as `cursor` for the next page. "
        "With `plan` or `priority`, a page may hold fewer than `limit` tickets, even none, "
        "while `next_cursor` says more follow. Other query parameters are ignored."
    ),
    tags=["sla"],
    security=SIGV4,
    responses={
        200: _ok(TicketList, "A page of the list; `next_cursor` null at its end."),
        400: _problem("A cursor this list did not give for this status, metric and filters."),
        405: WRONG_METHOD,
        422: _problem("No or unknown status; a metric, plan or priority the policy lacks; limit."),
        503: UNAVAILABLE,
    },
    enable_validation=False,  # the service validates the query against the policy
)
@tracer.capture_method
def list_tickets(
    status: Annotated[ListStatus, Query(description="at_risk, breached or running.")] = DOCUMENTED,
    metric: Annotated[
        MetricName, Query(description="first_response (the default), next_reply, resolution.")
    ] = "first_response",
    plan: Annotated[str | None, Query(description="Only this plan.")] = None,
    priority: Annotated[int | None, Query(description="Only this priority.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Tickets per page, 1 to 200.")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    known = {name: query[name] for name in LIST_PARAMETERS if name in query}
    return _json(200, webhook_service().list_tickets(known).model_dump(mode="json"))


@app.get(
    "/sla/quote",
    summary="The deadline a ticket submitted now would get",
    description=(
        "Public, CORS enabled; never touches the table. Other query parameters are ignored."
    ),
    tags=["sla"],
    responses={
        200: _ok(Quote, "What a ticket submitted now (or at `at`) would get."),
        405: WRONG_METHOD,
        422: _problem("Unknown plan or priority, `at` without offset, before 2000 or >2 years."),
    },
    enable_validation=False,  # the service validates the query
)
@tracer.capture_method
def quote(
    plan: Annotated[str, Query(description="A plan of the policy.")] = DOCUMENTED,
    priority: Annotated[int | None, Query(description="1 to 3; missing: 3.")] = None,
    environment: Annotated[str | None, Query(description="production by default.")] = None,
    product_stage: Annotated[str | None, Query(description="ga by default.")] = None,
    at: Annotated[
        AwareDatetime | None, Query(description="Submitted at this instant instead of now.")
    ] = None,
) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    known = {name: query[name] for name in QUOTE_PARAMETERS if name in query}
    return _json(200, webhook_service().quote(known, clock.now()).model_dump(mode="json"))


def openapi_document() -> str:
    """The API's OpenAPI document, as docs/openapi.json holds it."""
    return app.get_openapi_json_schema() + "\n"


@app.get("/openapi.json", include_in_schema=False, middlewares=[_local_only])
def openapi_json() -> Response[str]:
    return Response(status_code=200, content_type=JSON, body=openapi_document())


if _local():  # on AWS, not even imported
    app.enable_swagger(path="/swagger", middlewares=[_local_only])


# -- errors ---------------------------------------------------------------------------------------


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
    allowed = app.methods_for(app.current_event.path)
    if allowed:
        return handle_error(MethodNotAllowedError(tuple(allowed)))
    return handle_error(NotFoundError("No such route."))


def invalid_request(exc: RequestValidationError) -> Response[str]:
    """Powertools' validation of the read routes, answered as our other 422s are."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return handle_error(UnprocessableError("The request does not match the schema.", errors))


app.exception_handler(RequestValidationError)(invalid_request)
app.exception_handler(Exception)(handle_error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
