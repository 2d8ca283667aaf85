"""The one place that turns botocore errors into ours.

``call`` makes one AWS call and translates what it raises: a transaction cancelled with its
reasons, the codes an adapter wants to handle itself, throttling and transient faults (a retry will
likely work: ``TransientError``), and everything else (``StoreError``). The codes are those of
every service we call; botocore has already retried each of them (standard mode) before we see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sla.core.errors import StoreError, TransientError

__all__ = ["TRANSIENT_CODES", "TRANSIENT_REASONS", "Cancelled", "call"]

TRANSIENT_CODES = frozenset(
    {
        # DynamoDB
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
        # Scheduler
        "InternalServerException",
        "ServiceQuotaExceededException",
        # SNS
        "Throttled",
        "InternalError",
        "KMSThrottlingException",
    }
)
# cancellation reasons of a transaction that a retry may get past
TRANSIENT_REASONS = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    }
)


class Cancelled(Exception):
    """A transaction was cancelled; ``reasons`` has one code per item, in order."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons

    def at(self, index: int) -> str:
        return self.reasons[index] if index < len(self.reasons) else "None"

    def raise_transient_or_fatal(self, service: str) -> None:
        if any(code in TRANSIENT_REASONS for code in self.reasons):
            raise TransientError(f"{service} is busy; retry.") from None
        raise StoreError(f"{service} refused the write.") from None


def call(
    client: Any,
    service: str,
    operation: str,
    handled: Mapping[str, type[Exception]] | None = None,
    **kwargs: Any,
) -> Any:
    """``client.<operation>(**kwargs)``, with its errors translated. ``handled`` maps error codes
    the caller deals with to the (argument-less) exception to raise for them."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if handled and code in handled:
            raise handled[code]() from exc
        if code == "TransactionCanceledException":
            reasons = exc.response.get("CancellationReasons") or []
            raise Cancelled([r.get("Code", "None") for r in reasons]) from exc
        if code in TRANSIENT_CODES:
            raise TransientError(f"{service} is busy; retry.") from exc
        raise StoreError(f"{service} {operation} failed: {code}") from exc
    except (ConnectionError, HTTPClientError) as exc:
        raise TransientError(f"{service} could not be reached; retry.") from exc
    except BotoCoreError as exc:
        raise StoreError(f"{service} {operation} failed") from exc
