"""Shared fixtures: the default policy is loaded once per test session."""

from __future__ import annotations

import pytest
from sla import Policy, load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()
