"""The naive way to write the same webhook function, for the cold-start comparison only.

Everything is made at import, as many Powertools examples do: Tracer, the boto3 resources and
clients, the secret fetched, the policy loaded, request validation on. The request path is the
same service as ours, so the comparison isolates what happens at start-up.
"""

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities import parameters

from sla.app.api import WebhookService
from sla.aws.store import DynamoTicketStore
from sla.core.policy import load_policy
from sla.fakes import StaticSecrets
from sla.sources.canonical import StandardWebhooksSource

tracer = Tracer(service="naive")
logger = Logger(service="naive")
metrics = Metrics(namespace="Naive", service="naive")
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ["SLA_TABLE_NAME"])
client = boto3.client("dynamodb")
secret = parameters.get_secret(os.environ["SLA_SECRET_ARN"])
policy = load_policy()
service = WebhookService(
    policy=policy,
    store=DynamoTicketStore(os.environ["SLA_TABLE_NAME"], policy, client=client),
    sources={"tickets": StandardWebhooksSource(policy, StaticSecrets(str(secret)))},
    body_limit=256 * 1024,
)
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/webhooks/tickets")
@tracer.capture_method
def receive():  # no annotation: request validation must resolve the return type
    event = app.current_event
    result = service.ingest(
        event.headers, event.body, bool(event.is_base64_encoded), datetime.now(UTC)
    )
    view = result.view.model_dump(mode="json", exclude={"history"}) if result.view else {}
    return Response(200, "application/json", json.dumps(view))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
