"""The one way the adapters make an AWS client.

Every client comes from boto3's default session, so a cold start loads botocore's endpoint,
retry and model data once for all of them (a session of its own costs about 30 ms), with
standard retry mode and three attempts. boto3 is imported on first use only: importing a
handler creates no client.
"""

from __future__ import annotations

from typing import Any

__all__ = ["client"]


def client(service: str, **config: Any) -> Any:
    """A client of ``service``; ``config`` adds botocore ``Config`` options (timeouts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, config=Config(retries={"mode": "standard", "max_attempts": 3}, **config)
    )
