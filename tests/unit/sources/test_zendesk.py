"""The Zendesk source: Zendesk's signature in the order Zendesk sends it, every rejection one
uniform 401, and Zendesk's event-subscription and trigger payloads turned into exact canonical
events.

Fixtures and their sources: ``tests/fixtures/helpdesks/zendesk/SOURCES.md``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla import load_policy, reduce_events
from sla.core.errors import BadRequestError, UnauthorizedError, UnprocessableError
from sla.core.events import Actor, TicketEvent, TicketSnapshot
from sla.core.signature import SigningSecret, parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources.mapping import SourceMapping
from sla.sources.zendesk import ZendeskSource, parse_instant, signature
from tests.unit.sources.common import without_origin

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "helpdesks" / "zendesk"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "helpdesks" / "zendesk.md"
POLICY = load_policy()

SECRET = "zd-signing-secret-for-the-tests"
NOW = datetime(2025, 1, 13, tzinfo=UTC)  # after every fixture's instants
STAMP = "2025-01-12T23:59:30Z"
INVOCATION = "8350205582"  # the invocation id of Zendesk's "anatomy of a webhook request" page
DELIVERY = f"zendesk:{INVOCATION}"
WITH_PLAN = SourceMapping(default_plan="professional")
ALLOWED = (BadRequestError, UnprocessableError)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def source(mapping: SourceMapping = WITH_PLAN, secret: str = SECRET) -> ZendeskSource:
    return ZendeskSource(POLICY, StaticSecrets(secret, parse=parse_text_secrets), mapping)


def signed(
    raw: bytes,
    secret: str = SECRET,
    stamp: str = STAMP,
    invocation: str = INVOCATION,
) -> dict[str, str]:
    return {
        "X-Zendesk-Webhook-Signature": signature(secret.encode(), stamp, raw),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Invocation-Id": invocation,
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Account-Id": "22129848",
    }


def deliver(raw: bytes, mapping: SourceMapping = WITH_PLAN) -> list[TicketEvent]:
    """What the route does: verify the raw bytes, then read them."""
    zendesk = source(mapping)
    delivery = zendesk.verify(signed(raw), raw, NOW)
    return without_origin(zendesk.events(raw, delivery, NOW))


def edited(name: str, change: Any) -> bytes:
    """A fixture with a change made in the test (the file stays as its source gave it)."""
    body = json.loads(fixture(name))
    change(body)
    return json.dumps(body).encode()


def snap(**changes: Any) -> TicketSnapshot:
    """The fixtures' ticket 5158 as the event gives it, with the default plan."""
    fields: dict[str, Any] = {
        "id": "zendesk:5158",
        "created_at": at("2025-01-08T10:12:07Z"),
        "plan": "professional",
        "priority": 2,
        "environment": "production",
        "product_stage": "ga",
        "status": "open",
    }
    return TicketSnapshot(**{**fields, **changes})


def event(
    kind: str,
    occurred_at: str,
    actor: Actor,
    ticket: TicketSnapshot | None = None,
    reason: str | None = None,
    event_id: str = DELIVERY,
) -> TicketEvent:
    return TicketEvent.model_validate(
        {
            "event_id": event_id,
            "type": kind,
            "occurred_at": at(occurred_at),
            "ticket": ticket or snap(),
            "actor": actor,
            "reason": reason,
        }
    )


def unprocessable(raw: bytes, mapping: SourceMapping = WITH_PLAN) -> list[dict[str, Any]]:
    with pytest.raises(UnprocessableError) as caught:
        source(mapping).events(raw, DELIVERY, NOW)
    assert caught.value.errors is not None
    return caught.value.errors


def locations(errors: list[dict[str, Any]]) -> list[list[Any]]:
    return [e["loc"] for e in errors]


AGENT = Actor(type="agent", id="8447388090495")
REQUESTER = Actor(type="customer", id="8447388090494")
ZENDESK = Actor(type="system", id="-1")
RECLASSIFIED = "priority changed by an agent in Zendesk"

# -- signatures ------------------------------------------------------------------------------------

# Zendesk's published example (the older copy of "Verifying webhook authenticity"): its secret,
# body, timestamp and signature. That page wrote the order as "(BODY)(TIMESTAMP)"; the current page
# writes base64(HMACSHA256(TIMESTAMP + BODY)).
DOC_SECRET = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA="
DOC_BODY = b'{"say": "hello"}'
DOC_STAMP = "2021-07-25T10:00:00Z"
DOC_SIGNATURE = "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="
# the same inputs signed timestamp first, the order Zendesk sends (computed, not published)
DOC_INPUTS_TIMESTAMP_FIRST = "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
DOC_NOW = at(DOC_STAMP)


def doc_headers(sig: str) -> dict[str, str]:
    return {
        "x-zendesk-webhook-signature": sig,
        "x-zendesk-webhook-signature-timestamp": DOC_STAMP,
        "x-zendesk-webhook-invocation-id": INVOCATION,
    }


def test_zendesks_published_signature_is_the_hmac_of_body_then_timestamp() -> None:
    # Given Zendesk's published example, When its signature is recomputed in both orders,
    # Then it is the body-first one: the example and the documented order disagree
    key = DOC_SECRET.encode()
    body_first = hmac.new(key, DOC_BODY + DOC_STAMP.encode(), hashlib.sha256).digest()
    assert base64.b64encode(body_first).decode() == DOC_SIGNATURE
    assert signature(key, DOC_STAMP, DOC_BODY) != DOC_SIGNATURE


def test_the_published_inputs_signed_timestamp_first_are_accepted() -> None:
    # Given Zendesk's example inputs signed as Zendesk sends them (timestamp, then body)
    assert signature(DOC_SECRET.encode(), DOC_STAMP, DOC_BODY) == DOC_INPUTS_TIMESTAMP_FIRST
    # When verified, Then the delivery id is the invocation id, named for the source
    zendesk = source(secret=DOC_SECRET)
    assert zendesk.verify(doc_headers(DOC_INPUTS_TIMESTAMP_FIRST), DOC_BODY, DOC_NOW) == DELIVERY


def test_the_published_body_first_signature_is_rejected() -> None:
    with pytest.raises(UnauthorizedError):
        source(secret=DOC_SECRET).verify(doc_headers(DOC_SIGNATURE), DOC_BODY, DOC_NOW)


def test_a_receivers_known_answer_for_zendesks_test_secret_reproduces() -> None:
    # aaronellington/zendesk-go signs Zendesk's static test secret, timestamp "1234" and its
    # event fixture (byte for byte) timestamp first, and gets this value
    raw = fixture("zendesk-go-group-membership-created.json")
    test_secret = b"dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    assert signature(test_secret, "1234", raw) == "10IqYzYTLHRftNsNE+im0DeOM6/JactIRuy0XCHJ9B8="


BODY = fixture("event-ticket-created.json")
GOOD = signed(BODY)
GOOD_SIG = GOOD["X-Zendesk-Webhook-Signature"]


def replaced(**changes: str | None) -> dict[str, str]:
    names = {
        "sig": "X-Zendesk-Webhook-Signature",
        "stamp": "X-Zendesk-Webhook-Signature-Timestamp",
        "invocation": "X-Zendesk-Webhook-Invocation-Id",
    }
    headers = dict(GOOD)
    for short, value in changes.items():
        if value is None:
            del headers[names[short]]
        else:
            headers[names[short]] = value
    return headers


def forged_first_character(sig: str) -> str:
    return ("B" if sig[0] == "A" else "A") + sig[1:]


def hmac_hex(key: bytes, message: bytes, algorithm: str) -> str:
    return hmac.new(key, message, algorithm).hexdigest()


MESSAGE = STAMP.encode() + BODY


@pytest.mark.parametrize(
    ("headers", "raw"),
    [
        pytest.param(replaced(sig=forged_first_character(GOOD_SIG)), BODY, id="one-character"),
        pytest.param(GOOD, json.dumps(json.loads(BODY)).encode(), id="re-serialised-body"),
        pytest.param(GOOD, BODY + b" ", id="body-with-a-byte-more"),
        pytest.param(replaced(sig=None), BODY, id="no-signature"),
        pytest.param(replaced(stamp=None), BODY, id="no-timestamp"),
        pytest.param(replaced(invocation=None), BODY, id="no-invocation-id"),
        pytest.param(replaced(sig=""), BODY, id="empty-signature"),
        pytest.param(replaced(sig="!!!"), BODY, id="signature-not-base64"),
        pytest.param(replaced(sig=GOOD_SIG.rstrip("=")), BODY, id="padding-dropped"),
        pytest.param(
            replaced(sig="sha256=" + hmac_hex(SECRET.encode(), MESSAGE, "sha256")),
            BODY,
            id="sha256-hex-scheme",
        ),
        pytest.param(
            replaced(sig=hmac_hex(SECRET.encode(), MESSAGE, "sha256")), BODY, id="hex-digest"
        ),
        pytest.param(
            replaced(
                sig=base64.b64encode(hmac.new(SECRET.encode(), MESSAGE, "sha1").digest()).decode()
            ),
            BODY,
            id="sha1-base64",
        ),
        pytest.param(
            replaced(sig="sha1=" + hmac_hex(SECRET.encode(), MESSAGE, "sha1")),
            BODY,
            id="sha1-hex-scheme",
        ),
        pytest.param(replaced(sig="v1," + GOOD_SIG), BODY, id="standard-webhooks-scheme"),
        pytest.param(
            replaced(
                sig=base64.b64encode(
                    hmac.new(SECRET.encode(), BODY + STAMP.encode(), hashlib.sha256).digest()
                ).decode()
            ),
            BODY,
            id="body-then-timestamp",
        ),
        pytest.param(signed(BODY, secret="jira-secret-of-another-source"), BODY, id="other-secret"),
        pytest.param(
            signed(BODY, stamp="2025-01-12T23:54:59Z"), BODY, id="timestamp-301-seconds-old"
        ),
        pytest.param(
            signed(BODY, stamp="2025-01-13T00:05:01Z"), BODY, id="timestamp-301-seconds-ahead"
        ),
        pytest.param(signed(BODY, stamp="1736726370"), BODY, id="timestamp-epoch-seconds"),
        pytest.param(signed(BODY, stamp="2025-01-12T23:59:30"), BODY, id="timestamp-no-zone"),
        pytest.param(signed(BODY, stamp="2025-13-12T23:59:30Z"), BODY, id="timestamp-month-13"),
        pytest.param(signed(BODY, stamp=""), BODY, id="timestamp-empty"),
        pytest.param(replaced(stamp="2025-01-12T23:59:31Z"), BODY, id="timestamp-not-signed"),
        pytest.param(signed(BODY, invocation=""), BODY, id="invocation-id-empty"),
        pytest.param(signed(BODY, invocation="83 50"), BODY, id="invocation-id-with-space"),
        pytest.param(signed(BODY, invocation="x" * 201), BODY, id="invocation-id-too-long"),
    ],
)
def test_every_rejection_is_the_same_unauthorized(headers: dict[str, str], raw: bytes) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        source().verify(headers, raw, NOW)
    assert caught.value.detail == UnauthorizedError().detail


@pytest.mark.parametrize(
    "stamp", ["2025-01-12T23:55:00Z", "2025-01-13T00:05:00Z", "2025-01-13T01:05:00+01:00"]
)
def test_a_timestamp_up_to_five_minutes_either_way_is_accepted(stamp: str) -> None:
    assert source().verify(signed(BODY, stamp=stamp), BODY, NOW) == DELIVERY


def test_header_names_compare_case_insensitively() -> None:
    lower = {name.lower(): value for name, value in GOOD.items()}
    upper = {name.upper(): value for name, value in GOOD.items()}
    assert source().verify(lower, BODY, NOW) == source().verify(upper, BODY, NOW) == DELIVERY


@pytest.mark.parametrize("secret", ["zd-new-signing-secret", "zd-old-signing-secret"])
def test_either_of_two_secrets_verifies_during_a_rotation(secret: str) -> None:
    zendesk = source(secret="zd-new-signing-secret zd-old-signing-secret")
    assert zendesk.verify(signed(BODY, secret=secret), BODY, NOW) == DELIVERY


class RotatingSecrets:
    """A secret source whose cache is behind: the new secret comes only with a refresh."""

    def __init__(self, cached: str, fresh: str | None) -> None:
        self.cached = parse_text_secrets(cached)
        self.fresh = parse_text_secrets(fresh) if fresh else None
        self.refreshes = 0

    def current(self) -> tuple[SigningSecret, ...]:
        return self.cached

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        self.refreshes += 1
        return self.fresh


def test_a_secret_newer_than_the_cache_is_fetched_once_and_verifies() -> None:
    secrets = RotatingSecrets("zd-old-signing-secret", "zd-new-signing-secret")
    zendesk = ZendeskSource(POLICY, secrets, WITH_PLAN)
    assert zendesk.verify(signed(BODY, secret="zd-new-signing-secret"), BODY, NOW) == DELIVERY
    assert secrets.refreshes == 1


def test_malformed_or_stale_headers_never_cause_a_secret_refresh() -> None:
    secrets = RotatingSecrets("zd-old-signing-secret", "zd-new-signing-secret")
    zendesk = ZendeskSource(POLICY, secrets, WITH_PLAN)
    for headers in (replaced(sig="!!!"), signed(BODY, stamp="2025-01-12T23:00:00Z")):
        with pytest.raises(UnauthorizedError):
            zendesk.verify(headers, BODY, NOW)
    assert secrets.refreshes == 0


def test_a_rejection_logs_its_reason_and_never_the_secret_or_the_header(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sla.sources.zendesk")
    forged = forged_first_character(GOOD_SIG)
    with pytest.raises(UnauthorizedError):
        source().verify(replaced(sig=forged), BODY, NOW)
    assert [getattr(r, "reason", None) for r in caplog.records] == ["no matching signature"]
    assert SECRET not in caplog.text
    assert forged not in caplog.text
    assert GOOD_SIG not in caplog.text


@settings(max_examples=200, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "X-Zendesk-Webhook-Signature",
                "x-zendesk-webhook-signature-timestamp",
                "X-Zendesk-Webhook-Invocation-Id",
                "content-type",
            ]
        )
        | st.text(max_size=20),
        st.text(max_size=60) | st.sampled_from([GOOD_SIG, STAMP, INVOCATION]),
    ),
    raw=st.binary(max_size=200) | st.just(BODY),
)
def test_no_header_set_gives_anything_but_unauthorized(headers: dict[str, str], raw: bytes) -> None:
    try:
        delivery = source().verify(headers, raw, NOW)
    except UnauthorizedError:
        return
    # only Zendesk's signature of these very bytes gets through
    assert headers["X-Zendesk-Webhook-Signature"] == signature(SECRET.encode(), STAMP, raw)
    assert delivery.startswith("zendesk:")


# -- event subscriptions: the fixtures -------------------------------------------------------------


def test_a_created_ticket_is_created_at_the_envelopes_instant() -> None:
    assert deliver(fixture("event-ticket-created.json")) == [
        event("ticket.created", "2025-01-08T10:12:07.672717Z", REQUESTER)
    ]


def test_a_priority_change_by_an_agent_is_a_reclassification() -> None:
    assert deliver(fixture("event-priority-changed-by-agent.json")) == [
        event(
            "ticket.updated",
            "2025-01-08T11:30:15.456789Z",
            AGENT,
            snap(priority=1),
            reason=RECLASSIFIED,
        )
    ]


def test_a_priority_change_by_the_requester_is_not_a_reclassification() -> None:
    assert deliver(fixture("event-priority-changed.json")) == [
        event("ticket.updated", "2025-01-08T11:30:15.456789Z", REQUESTER, snap(priority=1))
    ]


def test_a_priority_change_by_zendesk_itself_is_systems() -> None:
    raw = edited(
        "event-priority-changed-by-agent.json", lambda b: b["detail"].update(actor_id="-1")
    )
    assert deliver(raw) == [
        event("ticket.updated", "2025-01-08T11:30:15.456789Z", ZENDESK, snap(priority=1))
    ]


def test_the_change_itself_gives_the_new_priority() -> None:
    # Given a detail that still shows the old priority, Then the event's current value wins
    raw = edited("event-priority-changed.json", lambda b: b["detail"].update(priority="HIGH"))
    assert deliver(raw)[0].ticket.priority == 1


def test_a_public_agent_comment_is_a_reply_at_the_envelopes_instant() -> None:
    # comments carry no time of their own: the envelope's, nanoseconds cut to microseconds
    assert deliver(fixture("event-comment-agent-public.json")) == [
        event("ticket.responded", "2025-01-08T14:25:30.123456Z", AGENT)
    ]


def test_an_internal_note_is_no_event_and_the_clock_keeps_running() -> None:
    assert deliver(fixture("event-comment-internal-note.json")) == []


def test_a_public_customer_comment_is_a_customer_reply() -> None:
    assert deliver(fixture("event-comment-customer.json")) == [
        event("ticket.customer_replied", "2025-01-08T15:02:10.000100Z", REQUESTER)
    ]


def test_a_comment_by_zendesk_itself_is_never_a_reply() -> None:
    assert deliver(fixture("event-comment-system.json")) == []


def test_a_comment_whose_author_is_not_placed_is_never_a_reply() -> None:
    raw = edited(
        "event-comment-agent-public.json",
        lambda b: b["event"]["comment"]["author"].pop("is_staff"),
    )
    assert deliver(raw) == []


def test_solving_stops_at_the_envelopes_instant() -> None:
    assert deliver(fixture("event-status-solved.json")) == [
        event("ticket.solved", "2025-01-08T16:45:20.987654Z", REQUESTER, snap(status="solved"))
    ]


def test_closing_is_closed() -> None:
    assert deliver(fixture("event-status-closed.json")) == [
        event("ticket.closed", "2025-01-12T16:45:21.123456Z", ZENDESK, snap(status="closed"))
    ]


def test_leaving_solved_is_a_reopening() -> None:
    assert deliver(fixture("event-status-reopened.json")) == [
        event("ticket.reopened", "2025-01-09T09:00:05Z", REQUESTER)
    ]


def test_another_status_change_is_an_update_with_the_status_and_never_an_agents() -> None:
    assert deliver(fixture("event-status-pending.json")) == [
        event(
            "ticket.updated",
            "2025-01-08T14:25:31.5Z",
            Actor(type="system", id="8447388090495"),
            snap(status="pending"),
        )
    ]


@pytest.mark.parametrize("status", ["DELETED", "ARCHIVED", "SCRUBBED"])
def test_a_ticket_leaving_the_statuses_the_sla_measures_is_ignored(status: str) -> None:
    raw = edited(
        "event-status-solved.json",
        lambda b: (b["event"].update(current=status), b["detail"].update(status=status)),
    )
    assert deliver(raw) == []


def test_a_tag_change_updates_the_plan_from_a_plan_tag() -> None:
    assert deliver(fixture("event-tags-changed.json")) == [
        event("ticket.updated", "2025-01-08T10:12:08.1Z", ZENDESK, snap(plan="advanced"))
    ]


@pytest.mark.parametrize(
    "name", ["event-agent-assignment-changed.json", "event-user-active-changed.json"]
)
def test_events_the_sla_does_not_need_are_acknowledged_and_ignored(name: str) -> None:
    assert deliver(fixture(name)) == []


# -- event subscriptions: the pitfalls -------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "ours"),
    [("URGENT", 1), ("HIGH", 2), ("NORMAL", 3), ("LOW", 3), ("urgent", 1), (None, None)],
)
def test_upper_case_priorities_map_and_no_priority_is_none(priority: str, ours: int) -> None:
    raw = edited("event-ticket-created.json", lambda b: b["detail"].update(priority=priority))
    assert deliver(raw)[0].ticket == snap(priority=ours)


def test_a_priority_zendesk_does_not_know_is_the_policys_default() -> None:
    raw = edited("event-ticket-created.json", lambda b: b["detail"].update(priority="Hoch"))
    assert deliver(raw)[0].ticket.priority is None


def test_ids_as_numbers_read_as_ids_as_strings() -> None:
    def numbers(body: dict[str, Any]) -> None:
        for key in ("id", "actor_id", "requester_id"):
            body["detail"][key] = int(body["detail"][key])

    assert deliver(edited("event-ticket-created.json", numbers)) == deliver(
        fixture("event-ticket-created.json")
    )


def test_fields_the_payload_does_not_carry_make_a_partial_snapshot() -> None:
    def strip(body: dict[str, Any]) -> None:
        for key in ("created_at", "priority"):
            del body["detail"][key]

    [created] = deliver(edited("event-ticket-created.json", strip))
    assert created.ticket == TicketSnapshot(
        id="zendesk:5158",
        plan="professional",
        status="open",
        fields=frozenset({"plan", "environment", "product_stage", "status"}),
    )


def test_without_a_default_plan_and_a_plan_tag_the_plan_is_not_carried() -> None:
    [created] = deliver(fixture("event-ticket-created.json"), SourceMapping())
    assert created.ticket.plan is None
    assert created.ticket.fields == frozenset(
        {"created_at", "priority", "environment", "product_stage", "status"}
    )


def test_a_plan_tag_wins_over_the_default_plan() -> None:
    raw = edited("event-ticket-created.json", lambda b: b["detail"]["tags"].append("plan_Basic"))
    assert deliver(raw)[0].ticket.plan == "basic"


def test_an_unknown_plan_tag_is_unprocessable_at_the_tags_without_the_value() -> None:
    raw = edited("event-ticket-created.json", lambda b: b["detail"]["tags"].append("plan_gold"))
    errors = unprocessable(raw)
    assert locations(errors) == [["body", "detail", "tags"]]
    assert "gold" not in json.dumps(errors)


def test_an_environment_field_is_not_carried_by_events() -> None:
    # events carry no custom fields: a configured environment field keeps its earlier value
    [created] = deliver(
        fixture("event-ticket-created.json"),
        SourceMapping(default_plan="professional", environment_field="environment"),
    )
    assert created.ticket.fields == frozenset(
        {"created_at", "plan", "priority", "product_stage", "status"}
    )


@pytest.mark.parametrize(
    ("time", "utc"),
    [
        ("2025-01-08T10:12:07.672717030Z", "2025-01-08T10:12:07.672717Z"),
        ("2025-01-08T11:12:07.5+01:00", "2025-01-08T10:12:07.5Z"),
        ("2025-01-08T05:12:07-0500", "2025-01-08T10:12:07Z"),
        ("2025-01-08T10:12Z", "2025-01-08T10:12:00Z"),
    ],
)
def test_every_timestamp_format_zendesk_writes_is_read_in_utc(time: str, utc: str) -> None:
    raw = edited("event-ticket-created.json", lambda b: b.update(time=time))
    assert deliver(raw)[0].occurred_at == at(utc)


@pytest.mark.parametrize(
    "time",
    ["2025-01-08T10:12:07", "2025-01-08", "2025-W02-3T10:12Z", "1736331127", "", "soon"],
)
def test_an_instant_without_a_zone_or_not_iso_is_unprocessable(time: str) -> None:
    raw = edited("event-ticket-created.json", lambda b: b.update(time=time))
    assert locations(unprocessable(raw)) == [["body", "time"]]


@pytest.mark.parametrize(
    ("where", "value", "kind"),
    [
        ("time", "2025-01-13T00:05:01Z", "future_instant"),
        ("time", "1999-12-31T23:59:59Z", "past_instant"),
        ("created_at", "2025-01-13T00:05:01Z", "future_instant"),
    ],
)
def test_instants_far_in_the_future_or_before_2000_are_unprocessable(
    where: str, value: str, kind: str
) -> None:
    def change(body: dict[str, Any]) -> None:
        (body if where == "time" else body["detail"])[where] = value

    errors = unprocessable(edited("event-ticket-created.json", change))
    assert [e["type"] for e in errors] == [kind]
    assert errors[0]["loc"] == (["body", "time"] if where == "time" else ["body", "detail", where])


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b"[1, 2]", ["body"]),
        (b'"zen:event-type:ticket.created"', ["body"]),
        (b'{"detail": {"id": "5158"}}', ["body", "type"]),
        (b'{"type": "ticket.created"}', ["body", "type"]),
        (b'{"type": 7}', ["body", "type"]),
    ],
)
def test_json_that_is_not_a_zendesk_body_is_unprocessable(raw: bytes, loc: list[str]) -> None:
    assert locations(unprocessable(raw)) == [loc]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda b: b["detail"].pop("id"), ["body", "detail", "id"]),
        (lambda b: b["detail"].update(id="ZD-5158"), ["body", "detail", "id"]),
        (lambda b: b["detail"].update(id=True), ["body", "detail", "id"]),
        (lambda b: b.pop("detail"), ["body", "detail"]),
        (lambda b: b["detail"].update(tags="mobile login"), ["body", "detail", "tags"]),
    ],
)
def test_a_ticket_event_without_a_ticket_id_or_of_another_shape_is_unprocessable(
    change: Any, loc: list[str]
) -> None:
    assert loc in locations(unprocessable(edited("event-ticket-created.json", change)))


def test_a_comment_event_without_its_comment_is_unprocessable() -> None:
    raw = edited("event-comment-agent-public.json", lambda b: b.update(event={}))
    assert locations(unprocessable(raw)) == [["body", "event", "comment"]]


def test_errors_never_echo_submitted_values() -> None:
    canary = "CANARY-9f1c"
    raw = edited("event-ticket-created.json", lambda b: b["detail"].update(id=canary))
    assert canary not in json.dumps(unprocessable(raw))


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe{}", '{"a": "\u00e9"}'.encode("utf-16")])
def test_a_body_that_is_not_json_in_utf8_is_a_bad_request(raw: bytes) -> None:
    with pytest.raises(BadRequestError):
        source().events(raw, DELIVERY, NOW)


# -- trigger webhooks: the template ----------------------------------------------------------------

TEMPLATE = (FIXTURES / "trigger-template.json").read_text(encoding="utf-8")
PLACEHOLDERS = {
    "ticket.id": "5158",
    "ticket.created_at_with_timestamp": "2025-01-08T10:12Z",
    "ticket.updated_at_with_timestamp": "2025-01-08T14:25Z",
    "ticket.priority": "High",
    "ticket.status": "Open",
    "ticket.tags": "login mobile plan_professional",
    "ticket.latest_comment.is_public": "true",
    "ticket.latest_comment.author.id": "8447388090495",
    "ticket.latest_comment.author.role": "Agent",
    "current_user.id": "8447388090495",
    "current_user.role": "Agent",
}
END_USER = {
    "ticket.latest_comment.author.id": "8447388090494",
    "ticket.latest_comment.author.role": "End-user",
    "current_user.id": "8447388090494",
    "current_user.role": "End-user",
}


def render(trigger: str, **values: str) -> bytes:
    """The template as Zendesk renders it for a trigger: each placeholder replaced by its value
    (the template uses plain placeholders only, no Liquid logic)."""
    text = TEMPLATE.replace('"event": "created"', f'"event": "{trigger}"')
    merged = {**PLACEHOLDERS, **values}
    return re.sub(r"\{\{([a-z_.]+)\}\}", lambda m: merged[m.group(1)], text).encode()


def tsnap(**changes: Any) -> TicketSnapshot:
    """Ticket 5158 as the template gives it: minute precision, the plan from a tag."""
    return snap(created_at=at("2025-01-08T10:12:00Z"), **changes)


def test_the_docs_give_the_template_the_tests_render() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert json.loads(TEMPLATE) in [json.loads(block) for block in blocks]


def test_the_rendered_example_is_the_template_rendered() -> None:
    rendered = json.loads(render("public_comment"))
    assert rendered == json.loads(fixture("trigger-rendered-public-comment.json"))


def test_a_rendered_public_agent_comment_is_a_reply_at_the_end_of_its_minute() -> None:
    # minute precision: a reply is read as the minute's last instant, never earlier than it was
    assert deliver(fixture("trigger-rendered-public-comment.json")) == [
        event("ticket.responded", "2025-01-08T14:25:59.999999Z", AGENT, tsnap())
    ]


def test_a_reply_time_with_seconds_is_used_as_given() -> None:
    raw = render("public_comment", **{"ticket.updated_at_with_timestamp": "2025-01-08T14:25:30Z"})
    assert deliver(raw)[0].occurred_at == at("2025-01-08T14:25:30Z")


def test_a_rendered_public_customer_comment_is_a_customer_reply_at_its_minute() -> None:
    assert deliver(render("public_comment", **END_USER)) == [
        event("ticket.customer_replied", "2025-01-08T14:25:00Z", REQUESTER, tsnap())
    ]


def test_a_rendered_internal_note_is_no_event() -> None:
    assert deliver(render("public_comment", **{"ticket.latest_comment.is_public": "false"})) == []


def test_a_comment_authors_role_falls_back_to_the_current_users_when_they_wrote_it() -> None:
    raw = render("public_comment", **{"ticket.latest_comment.author.role": ""})
    assert [e.type for e in deliver(raw)] == ["ticket.responded"]


def test_a_comment_by_someone_else_without_a_role_is_never_a_reply() -> None:
    raw = render(
        "public_comment",
        **{"ticket.latest_comment.author.role": "", "ticket.latest_comment.author.id": "42"},
    )
    assert deliver(raw) == []


@pytest.mark.parametrize("role", ["", "Light agent", "-"])
def test_an_update_by_zendesk_or_an_unknown_role_is_never_a_reply(role: str) -> None:
    raw = render(
        "public_comment",
        **{"ticket.latest_comment.author.role": role, "current_user.role": role},
    )
    assert deliver(raw) == []


def test_a_ticket_created_by_a_customer_is_created_at_its_creation_minute() -> None:
    raw = render("created", **{**END_USER, "ticket.updated_at_with_timestamp": "2025-01-08T10:12Z"})
    assert deliver(raw) == [event("ticket.created", "2025-01-08T10:12:00Z", REQUESTER, tsnap())]


def test_a_ticket_an_agent_opens_with_a_public_message_is_created_and_answered() -> None:
    # two events from one delivery: the delivery id with a stable index
    raw = render("created", **{"ticket.updated_at_with_timestamp": "2025-01-08T10:12Z"})
    assert deliver(raw) == [
        event("ticket.created", "2025-01-08T10:12:00Z", AGENT, tsnap(), event_id=f"{DELIVERY}#0"),
        event(
            "ticket.responded",
            "2025-01-08T10:12:59.999999Z",
            AGENT,
            tsnap(),
            event_id=f"{DELIVERY}#1",
        ),
    ]


def test_a_rendered_priority_change_by_an_agent_is_a_reclassification() -> None:
    raw = render("priority_changed", **{"ticket.priority": "Urgent"})
    assert deliver(raw) == [
        event(
            "ticket.updated", "2025-01-08T14:25:00Z", AGENT, tsnap(priority=1), reason=RECLASSIFIED
        )
    ]


def test_a_rendered_priority_change_by_a_trigger_or_automation_is_systems() -> None:
    raw = render("priority_changed", **{"ticket.priority": "Urgent", "current_user.role": ""})
    assert deliver(raw) == [
        event(
            "ticket.updated",
            "2025-01-08T14:25:00Z",
            Actor(type="system", id="8447388090495"),
            tsnap(priority=1),
        )
    ]


@pytest.mark.parametrize(
    ("status", "kind", "occurred_at", "ours"),
    [
        ("Solved", "ticket.solved", "2025-01-08T14:25:59.999999Z", "solved"),
        ("Closed", "ticket.closed", "2025-01-08T14:25:59.999999Z", "closed"),
        ("Pending", "ticket.updated", "2025-01-08T14:25:00Z", "pending"),
        ("On-hold", "ticket.updated", "2025-01-08T14:25:00Z", "on_hold"),
    ],
)
def test_a_rendered_status_change(status: str, kind: str, occurred_at: str, ours: str) -> None:
    [changed] = deliver(render("status_changed", **{"ticket.status": status}))
    actor = AGENT if kind != "ticket.updated" else Actor(type="system", id=AGENT.id)
    assert changed == event(kind, occurred_at, actor, tsnap(status=ours))


def test_status_names_the_mapping_gives_come_first() -> None:
    # a translated status name, as a German account may render it
    mapping = SourceMapping(default_plan="professional", statuses={"Gelöst": "solved"})
    [solved] = deliver(render("status_changed", **{"ticket.status": "Gelöst"}), mapping)
    assert (solved.type, solved.ticket.status) == ("ticket.solved", "solved")
    # without it the name is unknown: the status is not carried, and the change is an update
    [unknown] = deliver(render("status_changed", **{"ticket.status": "Gelöst"}))
    assert (unknown.type, unknown.ticket.fields) == (
        "ticket.updated",
        frozenset({"created_at", "plan", "priority", "environment", "product_stage"}),
    )


def test_a_plan_fields_value_maps_through_plan_values() -> None:
    mapping = SourceMapping(plan_field="tier", plan_values={"Enterprise": "advanced"})
    body = json.loads(render("public_comment", **{"ticket.tags": "login"}))
    body["ticket"]["fields"] = {"tier": "Enterprise"}
    assert deliver(json.dumps(body).encode(), mapping)[0].ticket.plan == "advanced"


def test_a_rendered_reopening() -> None:
    assert deliver(render("reopened", **END_USER)) == [
        event("ticket.reopened", "2025-01-08T14:25:00Z", REQUESTER, tsnap())
    ]


def test_custom_fields_in_the_template_give_environment_and_plan() -> None:
    mapping = SourceMapping(plan_field="plan", environment_field="environment")

    def with_fields(env: str) -> bytes:
        body = json.loads(render("public_comment"))
        body["ticket"]["fields"] = {"environment": env, "plan": "Advanced"}
        return json.dumps(body).encode()

    assert deliver(with_fields("staging"), mapping)[0].ticket == tsnap(
        plan="advanced", environment="staging"
    )
    # an empty field is the mapping's default environment
    assert deliver(with_fields(""), mapping)[0].ticket.environment == "production"
    errors = unprocessable(with_fields("qa"), mapping)
    assert locations(errors) == [["body", "ticket", "fields", "environment"]]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda b: b.update(sla_keeper_trigger=2), ["body", "sla_keeper_trigger"]),
        (lambda b: b.update(sla_keeper_trigger=True), ["body", "sla_keeper_trigger"]),
        (lambda b: b.update(sla_keeper_trigger="1"), ["body", "sla_keeper_trigger"]),
        (lambda b: b.update(event="comment"), ["body", "event"]),
        (lambda b: b["ticket"].update(updated_at=""), ["body", "ticket", "updated_at"]),
        (lambda b: b["ticket"].update(updated_at="14:25"), ["body", "ticket", "updated_at"]),
        (lambda b: b["ticket"].pop("id"), ["body", "ticket", "id"]),
        (lambda b: b["latest_comment"].update(is_public="yes"), ["body", "latest_comment"]),
    ],
)
def test_a_trigger_body_not_as_the_template_gives_it_is_unprocessable(
    change: Any, loc: list[str]
) -> None:
    body = json.loads(render("public_comment"))
    change(body)
    errors = unprocessable(json.dumps(body).encode())
    assert any(e["loc"][: len(loc)] == loc for e in errors)


def test_an_unrendered_template_is_unprocessable_at_the_ticket_id() -> None:
    # the template pasted somewhere that renders no placeholders
    raw = TEMPLATE.encode()
    assert ["body", "ticket", "id"] in locations(unprocessable(raw))


def test_the_events_fold_into_the_tickets_sla_in_any_order() -> None:
    # Given a ticket's deliveries without a default plan: created, a reply, then the plan tag
    names = [
        "event-comment-agent-public.json",
        "event-tags-changed.json",
        "event-ticket-created.json",
    ]
    events: list[TicketEvent] = []
    zendesk = source(SourceMapping())
    for n, name in enumerate(names):
        raw = fixture(name)
        events += zendesk.events(
            raw, zendesk.verify(signed(raw, invocation=f"i{n}"), raw, NOW), NOW
        )
    # When folded in any order, Then the plan comes from the tag and the reply is the first response
    for ordering in (events, events[::-1]):
        state = reduce_events(ordering, POLICY)
        assert (state.plan, state.priority) == ("advanced", 2)
        assert state.first_response_at == at("2025-01-08T14:25:30.123456Z")


# -- dedupe ----------------------------------------------------------------------------------------


def test_the_same_delivery_twice_gives_the_same_event_ids() -> None:
    raw = render("created")
    assert [e.event_id for e in deliver(raw)] == [e.event_id for e in deliver(raw)]


def test_two_deliveries_never_share_an_event_id() -> None:
    zendesk = source()
    ids: list[str] = []
    for n, name in enumerate(sorted(p.name for p in FIXTURES.glob("event-*.json"))):
        raw = fixture(name)
        delivery = zendesk.verify(signed(raw, invocation=f"{INVOCATION}{n}"), raw, NOW)
        ids += [e.event_id for e in zendesk.events(raw, delivery, NOW)]
    raw = render("created")
    ids += [e.event_id for e in zendesk.events(raw, zendesk.verify(signed(raw), raw, NOW), NOW)]
    assert len(ids) == len(set(ids)) > 10


# -- nothing Zendesk may send gives another error --------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
SAMPLES = [
    *sorted(p.name for p in FIXTURES.glob("event-*.json")),
    "trigger-rendered-public-comment.json",
]
NEAR_VALUES = (
    JSON
    | st.sampled_from(
        ["", "-1", "5158", "URGENT", "SOLVED", "true", "2025-01-08T10:12Z", "plan_gold", "Agent"]
    )
    | st.integers(min_value=-(10**30), max_value=10**30)
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def read(raw: bytes, mapping: SourceMapping = WITH_PLAN) -> None:
    try:
        events = source(mapping).events(raw, DELIVERY, NOW)
    except ALLOWED:
        return
    assert all(isinstance(e, TicketEvent) for e in events)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(body=JSON)
def test_any_json_is_events_or_a_4xx(body: Any) -> None:
    read(json.dumps(body).encode())


@FAST
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_events_or_a_4xx(raw: bytes) -> None:
    read(raw)


@FAST
@given(name=st.sampled_from(SAMPLES), data=st.data(), value=NEAR_VALUES)
def test_a_real_body_with_any_field_replaced_is_events_or_a_4xx(
    name: str, data: st.DataObject, value: Any
) -> None:
    body = json.loads(fixture(name))
    path = data.draw(st.sampled_from(paths(body)))
    if not path:
        body = value
    else:
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    read(json.dumps(body).encode())
    read(
        json.dumps(body).encode(),
        SourceMapping(plan_field="plan", environment_field="environment", default_plan="basic"),
    )


@FAST
@given(body=JSON | st.sampled_from([json.loads(fixture(n)) for n in SAMPLES]))
def test_a_signed_delivery_of_any_json_is_events_or_a_4xx(body: Any) -> None:
    raw = json.dumps(body).encode()
    zendesk = source()
    delivery = zendesk.verify(signed(raw), raw, NOW)
    try:
        events = zendesk.events(raw, delivery, NOW)
    except ALLOWED:
        return
    assert all(e.event_id.startswith(delivery) for e in events)


def test_parse_instant_keeps_the_minute_precision_flag() -> None:
    assert parse_instant("2013-12-12T05:35Z") == (at("2013-12-12T05:35:00Z"), True)
    assert parse_instant("2021-03-25T05:09:27Z") == (at("2021-03-25T05:09:27Z"), False)
    assert parse_instant("2021-03-25T05:09:27") is None
    assert parse_instant("2021-03-25T05:09.5Z") is None  # a fraction needs seconds
    assert parse_instant("2021-02-30T05:09:27Z") is None


def test_an_event_on_the_tolerance_border_is_accepted() -> None:
    raw = edited(
        "event-ticket-created.json",
        lambda b: b.update(time=(NOW + timedelta(minutes=5)).isoformat()),
    )
    assert deliver(raw)[0].occurred_at == NOW + timedelta(minutes=5)
