"""Standard Webhooks (standardwebhooks.com) signature verification, on the raw body bytes.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, several
space-separated entries allowed; the key is the base64 after ``whsec_``. Every failure raises the
same :class:`SignatureError` so that callers answer one uniform 401; the reason stays in
``SignatureError.reason`` for logs. Comparison is constant-time; nothing here ever raises anything
else, whatever the input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "TOLERANCE_SECONDS",
    "SignatureError",
    "SigningSecret",
    "parse_secrets",
    "parse_text_secrets",
    "sign",
    "verify",
]

TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,10}")  # unsigned integer seconds, no sign, no fraction
_MAX_ID = 256
_MAX_SIGNATURES = 16


class SignatureError(Exception):
    """Signature verification failed; ``reason`` is for logs, never for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__("signature verification failed")
        self.reason = reason


@dataclass(frozen=True, slots=True, repr=False)
class SigningSecret:
    """One signing key (the decoded bytes of ``whsec_<base64>``). Its repr hides the key."""

    key: bytes

    def __repr__(self) -> str:
        return "SigningSecret(***)"


def parse_secrets(text: str) -> tuple[SigningSecret, ...]:
    """Secrets from configuration: whitespace-separated, each ``whsec_<base64>`` or bare base64.

    Several secrets are accepted during key rotation; the first is the current one.
    """
    secrets = []
    for token in text.split():
        raw = token.removeprefix("whsec_")
        try:
            key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a webhook signing secret is not valid base64") from None
        if len(key) < 16:
            raise ValueError("a webhook signing secret must have at least 16 bytes of key")
        secrets.append(SigningSecret(key))
    if not secrets:
        raise ValueError("no webhook signing secret configured")
    return tuple(secrets)


def parse_text_secrets(text: str) -> tuple[SigningSecret, ...]:
    """A helpdesk's secrets from configuration: whitespace-separated, each used as the text the
    helpdesk shows (its UTF-8 bytes are the HMAC key, or the Basic password). Several are accepted
    during a rotation; the first is the current one."""
    secrets = tuple(SigningSecret(token.encode("utf-8")) for token in text.split())
    if not secrets:
        raise ValueError("no signing secret configured")
    if any(len(s.key) < 8 for s in secrets):
        raise ValueError("a signing secret must have at least 8 characters")
    return secrets


def sign(secret: SigningSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of a message."""
    mac = hmac.new(secret.key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"missing header {name}")


def verify(
    secrets: Iterable[SigningSecret], headers: Mapping[str, str], body: bytes, now: float
) -> str:
    """Check the signature headers against the raw body; return the ``webhook-id``.

    ``now`` is the current Unix time in seconds (time is an argument, as everywhere in the core).
    """
    msg_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")
    if not msg_id or len(msg_id) > _MAX_ID or not msg_id.isprintable():
        raise SignatureError("bad webhook-id")
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise SignatureError("bad webhook-timestamp")
    timestamp = int(timestamp_text)
    if now - timestamp > TOLERANCE_SECONDS:
        raise SignatureError("timestamp too old")
    if timestamp - now > TOLERANCE_SECONDS:
        raise SignatureError("timestamp too new")
    candidates = []
    for entry in signature_header.split(" ")[:_MAX_SIGNATURES]:
        version, sep, encoded = entry.partition(",")
        if version != "v1" or not sep:
            continue
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # canonical base64 only: a MAC has one spelling, and a second one (other padding bits,
        # which a lenient decoder drops) is not a valid signature
        if base64.b64encode(decoded).decode("ascii") == encoded:
            candidates.append(decoded)
    if not candidates:
        raise SignatureError("no v1 signature")
    signed = f"{msg_id}.{timestamp_text}.".encode() + body
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.key, signed, hashlib.sha256).digest()
        for candidate in candidates:
            # no early exit: every candidate is compared, in constant time each
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no matching signature")
    return msg_id
