"""Builds each function's collaborators from its validated environment, once per cold start.

Nothing here runs at import: the first request pays for it, and tests clear the cache to build
again with another environment.
"""

from __future__ import annotations

import os
from functools import cache

from sla.policy import load_policy
from sla.secrets import SecretsManagerSecrets, SecretSource, StaticSecrets
from sla.service import WebhookService
from sla.settings import WebhookSettings
from sla.store import DynamoTicketStore

__all__ = ["webhook_service"]


@cache
def webhook_service() -> WebhookService:
    settings = WebhookSettings.from_env(os.environ)
    secrets: SecretSource
    if settings.secret_arn:
        secrets = SecretsManagerSecrets(settings.secret_arn, max_age=settings.secret_max_age)
    else:
        assert settings.webhook_secret is not None
        secrets = StaticSecrets(settings.webhook_secret)
    return WebhookService(
        policy=load_policy(settings.policy_file),
        store=DynamoTicketStore(settings.table_name),
        secrets=secrets,
        body_limit=settings.body_limit,
    )
