"""The floor of any webhook function here, for the cold-start comparison only: what no design can
avoid with the fixed choices (Powertools' Logger, Metrics and event handler; boto3; a Secrets
Manager client through Powertools Parameters and a DynamoDB client, made on the first request),
and the same three AWS calls as a new ticket, with no SLA code at all: no policy, no calendar, no
holidays, no pydantic models, no signature check.
"""

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

logger = Logger(service="floor")
metrics = Metrics(namespace="Floor", service="floor")
app = APIGatewayHttpResolver()
_clients: dict[str, Any] = {}


@app.post("/webhooks/tickets")
def receive() -> Response[str]:
    if not _clients:
        import boto3
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        _clients["dynamodb"] = boto3.client("dynamodb")
        _clients["secrets"] = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
    _clients["secrets"].get(os.environ["SLA_SECRET_ARN"])
    body = json.loads(app.current_event.body or "{}")
    table, key = os.environ["SLA_TABLE_NAME"], {"pk": {"S": f"T#{body['ticket']['id']}"}}
    key["sk"] = {"S": "TICKET"}
    _clients["dynamodb"].get_item(TableName=table, Key=key)
    _clients["dynamodb"].transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key, "body": {"S": json.dumps(body)}}}},
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": key["pk"], "sk": {"S": "DELIVERY#floor"}},
                }
            },
        ]
    )
    return Response(200, "application/json", json.dumps(body["ticket"]))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
