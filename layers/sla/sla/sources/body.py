"""Reading a webhook body, whatever its source: the size limit (checked before anything else),
base64 transport encoding, the media type, and strict JSON in UTF-8 with a depth limit."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from sla.core.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = ["MAX_JSON_DEPTH", "check_json_media_type", "header", "parse_json", "raw_body"]

MAX_JSON_DEPTH = 32


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, its name compared case-insensitively (HTTP APIs lower-case names, REST
    APIs keep the sender's)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def raw_body(body: str | None, is_base64: bool, limit: int) -> bytes:
    """The body's bytes as sent, or PayloadTooLargeError / BadRequestError."""
    text = body or ""
    if is_base64:
        if len(text) > (limit + 2) // 3 * 4 + 4:
            raise PayloadTooLargeError(f"The body is over {limit} bytes.")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("The body encoding is invalid.") from None
    else:
        if len(text) > limit:  # characters <= bytes: a cheap first check
            raise PayloadTooLargeError(f"The body is over {limit} bytes.")
        raw = text.encode("utf-8", errors="surrogateescape")
    if len(raw) > limit:
        raise PayloadTooLargeError(f"The body is over {limit} bytes.")
    return raw


def check_json_media_type(headers: Mapping[str, str]) -> None:
    media = (header(headers, "content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaTypeError("The body must be application/json.")


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def parse_json(raw: bytes) -> Any:
    """JSON in UTF-8 only (``json.loads`` on bytes would also take UTF-16 and UTF-32), nested at
    most ``MAX_JSON_DEPTH`` levels; BadRequestError otherwise."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text)
    # ValueError covers bad JSON, bad UTF-8, a BOM and numbers past Python's 4,300-digit limit
    except (ValueError, RecursionError):
        raise BadRequestError("The body is not valid JSON in UTF-8.") from None
    if not _depth_within(value, MAX_JSON_DEPTH):
        raise BadRequestError("The body is nested too deeply.")
    return value
