"""Shared fixtures. The environment is made safe before anything imports boto3: fake
credentials, a fixed region, no endpoint override, tracing off. Tests never reach AWS."""

from __future__ import annotations

import os

for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "SLA_SECRET_ARN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "SlaKeeper",
        "POWERTOOLS_SERVICE_NAME": "sla-keeper",
    }
)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import sla  # noqa: E402
from sla import Policy, load_policy  # noqa: E402

# the shipped policy with all three metrics (contract section 1b)
ALL_METRICS_FILE = Path(sla.__file__).parent / "policies" / "all-metrics.toml"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="session")
def all_metrics() -> Policy:
    """The shipped policy with first response, next reply and resolution."""
    return load_policy(ALL_METRICS_FILE)
