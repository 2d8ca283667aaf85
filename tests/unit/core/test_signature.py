"""Standard Webhooks verification: the spec's known answer and every rejection case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from sla.core.signature import SignatureError, parse_secrets, sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
GOOD = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEYS = parse_secrets(SECRET)


def headers(
    signature: str = GOOD, timestamp: str = str(TS), msg_id: str = MSG_ID
) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}


def test_known_answer() -> None:
    assert sign(KEYS[0], MSG_ID, TS, BODY) == GOOD
    assert verify(KEYS, headers(), BODY, now=TS) == MSG_ID


def test_secret_without_prefix_or_padding_is_the_same_key() -> None:
    assert parse_secrets("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == KEYS
    assert parse_secrets("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw==") == KEYS


@pytest.mark.parametrize(
    ("hdrs", "body", "now"),
    [
        (headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), BODY, TS),  # one character
        # the same MAC spelt with other padding bits (E and F differ only there): not canonical
        (headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="), BODY, TS),
        (headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"), BODY, TS),  # padding dropped
        (headers(), b'{"test":2432232314}', TS),  # re-serialised: we verify raw bytes
        (headers("v2," + GOOD[3:]), BODY, TS),  # wrong version, right bytes
        (headers("v1"), BODY, TS),
        (headers("invalid_signature"), BODY, TS),
        (headers("v1,!!!"), BODY, TS),
        (headers(""), BODY, TS),
        ({"webhook-timestamp": str(TS), "webhook-signature": GOOD}, BODY, TS),
        ({"webhook-id": MSG_ID, "webhook-signature": GOOD}, BODY, TS),
        ({"webhook-id": MSG_ID, "webhook-timestamp": str(TS)}, BODY, TS),
        (headers(), BODY, TS + 301),  # 301 s old
        (headers(), BODY, TS - 301),  # 301 s ahead
        (headers(timestamp=f"{TS}.0"), BODY, TS),
        (headers(timestamp="-1"), BODY, TS),
        (headers(timestamp="abc"), BODY, TS),
        (headers(timestamp="16142653300"), BODY, TS),  # 11 digits
        (headers(timestamp=""), BODY, TS),
        (headers(msg_id=""), BODY, TS),
        (headers(msg_id="x" * 300), BODY, TS),
    ],
)
def test_rejections_raise_one_error(hdrs: dict[str, str], body: bytes, now: int) -> None:
    with pytest.raises(SignatureError) as info:
        verify(KEYS, hdrs, body, now=now)
    assert str(info.value) == "signature verification failed"


@pytest.mark.parametrize("delta", [-300, 0, 300])
def test_tolerance_is_five_minutes_both_ways(delta: int) -> None:
    assert verify(KEYS, headers(), BODY, now=TS + delta) == MSG_ID


def test_several_signatures_one_valid() -> None:
    many = f"v1,AAAA v2,{GOOD[3:]} v1,!!! {GOOD} v1a,xyz"
    assert verify(KEYS, headers(many), BODY, now=TS) == MSG_ID


def test_either_of_two_secrets_during_rotation() -> None:
    new = parse_secrets("whsec_" + "A" * 43)[0]
    rotating = (new, KEYS[0])
    assert verify(rotating, headers(), BODY, now=TS) == MSG_ID
    signed_with_new = sign(new, MSG_ID, TS, BODY)
    assert verify(rotating, headers(signed_with_new), BODY, now=TS) == MSG_ID
    with pytest.raises(SignatureError):
        verify(KEYS, headers(signed_with_new), BODY, now=TS)


def test_header_names_are_case_insensitive() -> None:
    mixed = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TS), "Webhook-Signature": GOOD}
    assert verify(KEYS, mixed, BODY, now=TS) == MSG_ID


@given(
    body=st.binary(max_size=512),
    msg_id=st.text(min_size=1, max_size=40).filter(str.isprintable),
    ts=st.integers(min_value=0, max_value=9_999_999_999),
)
def test_agrees_with_the_reference_library(body: bytes, msg_id: str, ts: int) -> None:
    text = body.decode("utf-8", errors="replace").encode()
    reference = Webhook(SECRET).sign(msg_id, datetime.fromtimestamp(ts, UTC), text.decode())
    assert sign(KEYS[0], msg_id, ts, text) == reference


@given(
    signature=st.text(max_size=200), timestamp=st.text(max_size=20), msg_id=st.text(max_size=300)
)
def test_malformed_input_never_raises_anything_else(
    signature: str, timestamp: str, msg_id: str
) -> None:
    with pytest.raises(SignatureError):
        verify(KEYS, headers(signature, timestamp, msg_id), BODY, now=TS)


@pytest.mark.parametrize("bad", ["", "   ", "whsec_!!!!", "whsec_QUJD"])
def test_bad_configured_secrets(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_secrets(bad)


def test_secret_repr_hides_the_key() -> None:
    assert "MfKQ" not in repr(KEYS) and repr(KEYS[0]) == "SigningSecret(***)"
