"""The one way the adapters make an AWS client.

Every client comes from boto3's default session, so a cold start loads botocore's endpoint,
retry and model data once for all of them (a session of its own costs about 30 ms), with
standard retry mode and three attempts. boto3 is imported on first use only: importing a
handler creates no client.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LazyClient", "client"]


def client(service: str, **config: Any) -> Any:
    """A client of ``service``; ``config`` adds botocore ``Config`` options (timeouts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, config=Config(retries={"mode": "standard", "max_attempts": 3}, **config)
    )


class LazyClient:
    """An adapter's ``client`` attribute: the client handed to its constructor (tests pass a moto
    or fault-injecting one), else one made on first use, never at import."""

    def __init__(self, service: str, **config: Any) -> None:
        self.service = service
        self.config = config

    def __get__(self, adapter: Any, owner: type | None = None) -> Any:
        if adapter is None:
            return self
        made = adapter.__dict__.get("_client")
        if made is None:
            made = adapter.__dict__["_client"] = client(self.service, **self.config)
        return made

    def __set__(self, adapter: Any, value: Any) -> None:
        adapter.__dict__["_client"] = value
