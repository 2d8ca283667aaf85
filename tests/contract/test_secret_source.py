"""The secret source's contract (``sla.ports.SecretSource``): ``StaticSecrets(text)`` and
``SecretsManagerSecrets`` over a secret holding the same text give the same secrets, and refuse
the same bad values. Caching and the refresh's rate limit over time are in
``tests/integration/test_secrets_and_privacy.py``."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from sla.core.errors import ConfigurationError
from sla.ports import SecretSource

KEY_1 = b"contract-suite-signing-key-0001"
KEY_2 = b"contract-suite-signing-key-0002"
B64_1 = base64.b64encode(KEY_1).decode()
B64_2 = base64.b64encode(KEY_2).decode()

Factory = Callable[[str], SecretSource]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (f"whsec_{B64_1}", [KEY_1]),
        (B64_1, [KEY_1]),  # bare base64
        (f"whsec_{B64_1.rstrip('=')}", [KEY_1]),  # padding left off
        (f"whsec_{B64_2} whsec_{B64_1}", [KEY_2, KEY_1]),  # a rotation: the new one first
        (f"\n  whsec_{B64_2}\n\twhsec_{B64_1}\n", [KEY_2, KEY_1]),
    ],
    ids=["prefixed", "bare", "unpadded", "two", "whitespace"],
)
def test_the_same_value_gives_the_same_secrets_in_order(
    secrets_from: Factory, text: str, keys: list[bytes]
) -> None:
    assert [s.key for s in secrets_from(text).current()] == keys


@pytest.mark.parametrize(
    "text",
    [
        " \n ",
        "whsec_not*base64!",
        "whsec_" + base64.b64encode(b"fifteen bytes!!").decode(),
        f"whsec_{B64_1} whsec_???",
    ],
    ids=["blank", "not-base64", "short-key", "one-bad-of-two"],
)
def test_a_bad_value_is_a_configuration_error(secrets_from: Factory, text: str) -> None:
    """A value that holds no usable secret is a ConfigurationError by the time secrets are read
    (the static source raises when made, the managed one when it reads the value)."""
    with pytest.raises(ConfigurationError):
        secrets_from(text).current()


def test_a_refresh_gives_the_current_secrets_or_none_and_never_twice_in_a_row(
    secrets_from: Factory,
) -> None:
    """Refreshes are rate-limited (forged traffic must not force a fetch per request): a refresh
    gives the secrets, or None when none is due, and a refresh right after a refresh gives None.
    (The static source never has a refresh due; the managed one has after its interval.)"""
    source = secrets_from(f"whsec_{B64_1}")
    first = source.refreshed()
    assert first is None or [s.key for s in first] == [KEY_1]
    assert source.refreshed() is None
    assert [s.key for s in source.current()] == [KEY_1]
