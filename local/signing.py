"""Sign ticket webhooks and wrap them as API Gateway HTTP API (payload v2) events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from sla.core.signature import parse_secrets, sign

# The documented test secret (the Standard Webhooks spec's example). Never use it in production.
TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the public test vector
# The documented test secrets of the helpdesk samples in events/<helpdesk>/, one per helpdesk, as
# the helpdesk would show them. Never use them in production.
HELPDESK_TEST_SECRETS = {
    "zendesk": "zendesk-test-secret",
    "jira": "jira-test-secret",
    "freshdesk": "freshdesk-test-secret",
    "zammad": "zammad-test-secret",
}
# the header that carries a helpdesk's delivery id (Freshdesk sends none)
DELIVERY_HEADERS = {
    "zendesk": "x-zendesk-webhook-invocation-id",
    "jira": "x-atlassian-webhook-identifier",
    "zammad": "x-zammad-delivery",
}


def signature_headers(
    body: bytes, timestamp: int, secret: str = TEST_SECRET, msg_id: str | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    key = parse_secrets(secret)[0]
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }


def helpdesk_headers(
    source: str, secret: str, body: bytes, now: datetime, delivery_id: str | None = None
) -> dict[str, str]:
    """The headers a helpdesk sends with ``body``, signed as it signs (contract section 2b), with
    its delivery id where it sends one. ``secret`` is the secret as the helpdesk shows it."""
    key = secret.encode("utf-8")
    delivery_id = delivery_id or uuid.uuid4().hex
    headers = {"content-type": "application/json"}
    if source == "zendesk":
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        mac = hmac.new(key, stamp.encode() + body, hashlib.sha256).digest()
        headers["x-zendesk-webhook-signature"] = base64.b64encode(mac).decode("ascii")
        headers["x-zendesk-webhook-signature-timestamp"] = stamp
    elif source == "jira":
        headers["x-hub-signature"] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    elif source == "zammad":
        headers["x-hub-signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
    elif source == "freshdesk":  # Freshdesk signs nothing: Basic authentication on the rule
        credentials = base64.b64encode(b"sla-keeper:" + key).decode("ascii")
        headers["authorization"] = f"Basic {credentials}"
    else:
        raise ValueError(f"not a helpdesk: {source}")
    if source in DELIVERY_HEADERS:
        headers[DELIVERY_HEADERS[source]] = delivery_id
    return headers


def api_gateway_path(sent: str) -> str:
    """The path as API Gateway HTTP API hands it to Lambda: percent-decoded (UTF-8), in
    ``rawPath`` and ``requestContext.http.path`` alike (docs/api-paths.md). ``sent`` is the path
    as the client sent it, percent-encoded."""
    return unquote(sent)


def http_api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    route_key: str | None = None,
    time_epoch_ms: int = 0,
) -> dict[str, Any]:
    """An HTTP API payload v2 event as API Gateway sends it: header names lower-cased, ``path``
    and ``query`` decoded (``path`` as :func:`api_gateway_path` gives it), ``rawQueryString``
    percent-encoded."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}, quote_via=quote),
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "timeEpoch": time_epoch_ms,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def signed_webhook_event(
    payload: dict[str, Any] | bytes,
    timestamp: int,
    *,
    secret: str = TEST_SECRET,
    msg_id: str | None = None,
) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return http_api_event(
        "POST",
        "/webhooks/tickets",
        headers=signature_headers(body, timestamp, secret, msg_id),
        body=body,
        route_key="ANY /webhooks/tickets",
        time_epoch_ms=timestamp * 1000,
    )
