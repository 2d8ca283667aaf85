"""The webhook signing secrets from Secrets Manager (on AWS; locally they come from the
environment: ``sla.fakes.StaticSecrets``).

The secret's value is one or more whitespace-separated ``whsec_<base64>`` secrets (the first is
the current one; during a rotation put the new one first and keep the old one after it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sla.aws import clients
from sla.core.errors import ConfigurationError, TransientError
from sla.core.signature import SigningSecret, parse_secrets

__all__ = ["SecretsManagerSecrets"]


class SecretsManagerSecrets:
    """Secrets from Secrets Manager through Powertools Parameters, cached for ``max_age`` seconds;
    after a failed verification a fresh fetch happens at most once per ``refresh_interval``."""

    def __init__(
        self,
        secret_id: str,
        max_age: int = 300,
        refresh_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        parse: Callable[[str], tuple[SigningSecret, ...]] = parse_secrets,
    ) -> None:
        """``parse`` reads the secret's value: Standard Webhooks' ``whsec_`` secrets by default,
        ``parse_text_secrets`` for a helpdesk's."""
        self.parse = parse
        self.secret_id = secret_id
        self.max_age = max_age
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_refresh = float("-inf")
        self._provider: Any = None

    @property
    def provider(self) -> Any:
        """Powertools' Secrets Manager provider (and its cache), made on first use with a client
        of boto3's default session, which the DynamoDB client shares: a session of its own, as
        ``parameters.get_secret`` makes, loads botocore's endpoint and retry data a second time
        (about 30 ms of a cold start)."""
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            client = clients.client("secretsmanager", connect_timeout=2, read_timeout=5)
            self._provider = SecretsProvider(boto3_client=client)
        return self._provider

    def _fetch(self, force: bool) -> tuple[SigningSecret, ...]:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self.provider.get(self.secret_id, max_age=self.max_age, force_fetch=force)
        except GetParameterError as exc:
            raise TransientError("The signing secret is not available; retry.") from exc
        if not isinstance(value, str):
            raise ConfigurationError("The signing secret must be a string.")
        try:
            return self.parse(value)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def current(self) -> tuple[SigningSecret, ...]:
        return self._fetch(force=False)

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        with self._lock:
            now = self._clock()
            if now - self._last_refresh < self.refresh_interval:
                return None
            self._last_refresh = now
        return self._fetch(force=True)
