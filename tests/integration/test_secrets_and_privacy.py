"""The signing secret from Secrets Manager (cached, refreshes rate-limited) and canary values that
must never show up in logs or error bodies."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from local.signing import TEST_SECRET, http_api_event, signature_headers
from sla.aws.secrets import SecretsManagerSecrets
from sla.runtime.wiring import webhook_service
from sla.sources.canonical import StandardWebhooksSource
from tests.integration.conftest import Api, payload

NEW_SECRET = "whsec_" + "bmV3LXNpZ25pbmcta2V5LWZvci1yb3RhdGlvbg=="


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return calls


def canonical_source() -> StandardWebhooksSource:
    source = webhook_service().sources["tickets"]
    assert isinstance(source, StandardWebhooksSource)
    return source


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def managed(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[str, FakeClock]:
    arn = boto3.client("secretsmanager").create_secret(
        Name="sla-webhook", SecretString=TEST_SECRET
    )["ARN"]
    monkeypatch.delenv("SLA_WEBHOOK_SECRET")
    monkeypatch.setenv("SLA_SECRET_ARN", arn)
    webhook_service.cache_clear()
    clock = FakeClock()
    canonical_source().secrets = SecretsManagerSecrets(arn, max_age=300, clock=clock)
    return arn, clock


def test_forged_traffic_cannot_force_a_fetch_per_request(
    api: Api, managed: tuple[str, FakeClock], aws_calls: list[str]
) -> None:
    for i in range(50):
        assert (
            api.post(
                payload(), secret="whsec_" + "Zm9yZ2VkLWtleS1mb3ItdGVzdHM=", msg_id=f"f{i}"
            ).status
            == 401
        )
    assert aws_calls.count("GetSecretValue") == 2  # the first fetch and one rate-limited refresh
    assert api.post(payload(), msg_id="good").status == 200
    assert aws_calls.count("GetSecretValue") == 2


def test_rotation_two_secrets_and_a_refresh(api: Api, managed: tuple[str, FakeClock]) -> None:
    arn, clock = managed
    assert api.post(payload(), msg_id="old-1").status == 200  # caches the old secret
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=f"{NEW_SECRET} {TEST_SECRET}"
    )
    # signed with the new secret: the cache is stale, one refresh picks up the rotation
    assert api.post(payload(), secret=NEW_SECRET, msg_id="new-1").status == 200
    assert api.post(payload(), msg_id="old-2").status == 200  # the old one still works
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=NEW_SECRET)
    clock.now += 61
    secrets = canonical_source().secrets
    assert isinstance(secrets, SecretsManagerSecrets)
    secrets.provider.clear_cache()  # the 300 s cache age has passed
    assert api.post(payload(), msg_id="old-3").status == 401
    assert api.post(payload(), secret=NEW_SECRET, msg_id="new-2").status == 200


CANARIES = {
    "email": "canary.requester@example.com",
    "subject": "CANARY-SUBJECT-91b2",
    "secret": TEST_SECRET,
    "key_material": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


def test_canaries_never_reach_logs_or_error_bodies(
    api: Api, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from sla.runtime.observability import logger

    logger.setLevel("DEBUG")
    body = payload()
    body["ticket"]["subject"] = CANARIES["subject"]
    body["requester"] = {"email": CANARIES["email"]}
    raw = json.dumps(body).encode()
    headers = signature_headers(raw, int(api.now.timestamp()))
    signature = headers["webhook-signature"]
    first = signature[3]  # the first base64 character of the MAC, all six bits of it significant
    forged = signature[:3] + ("B" if first == "A" else "A") + signature[4:]
    answers = [
        api.invoke(http_api_event("POST", "/webhooks/tickets", headers=headers, body=raw)),
        api.invoke(
            http_api_event(
                "POST",
                "/webhooks/tickets",
                headers={**headers, "webhook-signature": forged},
                body=raw,
            )
        ),
        api.invoke(
            http_api_event(
                "POST",
                "/webhooks/tickets",
                headers={**headers, "content-type": "text/plain"},
                body=raw,
            )
        ),
        api.post(payload(plan=CANARIES["subject"], created_at=CANARIES["email"])),
    ]
    store = webhook_service().store
    store._client = None  # type: ignore[attr-defined]
    store.table_name = "missing-table-" + CANARIES["subject"]  # type: ignore[attr-defined]
    answers.append(api.post(body, msg_id="boom"))
    assert [a.status for a in answers] == [200, 401, 415, 422, 500]
    logs = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert logs, "the handler logs something"
    everything = logs + "".join(a.raw for a in answers[1:])
    for name, canary in {**CANARIES, "signature": signature.split(",", 1)[1]}.items():
        assert canary not in everything, name


def test_the_secret_and_table_clients_share_one_session(
    api: Api, managed: tuple[str, FakeClock]
) -> None:
    """One botocore session (and its loaded endpoint and retry data) per cold start, not two."""
    assert api.post(payload(), msg_id="shared").status == 200
    secrets = canonical_source().secrets
    assert isinstance(secrets, SecretsManagerSecrets)
    assert secrets.provider.client._loader is webhook_service().store.client._loader  # type: ignore[attr-defined]
