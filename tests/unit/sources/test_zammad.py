"""Zammad webhooks: ``X-Hub-Signature: sha1=<hex>`` as Zammad computes it, and its default
payload turned into canonical events. The payloads are Zammad's documented default payload and
payloads derived from it field by field (tests/fixtures/helpdesks/zammad/SOURCES.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from sla import load_policy, reduce_events
from sla.core.errors import BadRequestError, UnauthorizedError, UnprocessableError
from sla.core.events import TicketEvent
from sla.core.signature import SigningSecret, parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources.mapping import SourceMapping
from sla.sources.zammad import ZammadSource, parse_instant
from tests.unit.helpers import utc
from tests.unit.sources.common import without_origin

FIXTURES = Path(__file__).parents[2] / "fixtures" / "helpdesks" / "zammad"
TOKEN = "s3cr3t-t0k3n"  # the token of Zammad's own spec/jobs/trigger_webhook_job_spec.rb
DELIVERY = "6b3a0a5e-9d43-4c1e-8f0e-2b7d4f3c1a90"  # an ActiveJob id
NOW = utc("2020-11-15T00:00:00Z")
PLAN = SourceMapping(plan_field="plan")  # the derived fixtures give the organisation a plan


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> Any:
    return json.loads(raw(name))


def source(mapping: SourceMapping | None = None, secret: str = TOKEN) -> ZammadSource:
    return ZammadSource(
        load_policy(), StaticSecrets(secret, parse=parse_text_secrets), mapping or SourceMapping()
    )


def sign(body: bytes, token: str = TOKEN) -> str:
    return "sha1=" + hmac.new(token.encode(), body, hashlib.sha1).hexdigest()


def headers(body: bytes, delivery: str = DELIVERY) -> dict[str, str]:
    """What Zammad sends (app/jobs/trigger_webhook_job.rb, lib/user_agent.rb)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zammad User Agent",
        "X-Zammad-Trigger": "SLA keeper",
        "X-Zammad-Delivery": delivery,
        "X-Hub-Signature": sign(body),
    }


def events(
    body: bytes | Any, mapping: SourceMapping = PLAN, delivery: str = DELIVERY
) -> list[TicketEvent]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return without_origin(source(mapping).events(data, "zammad:" + delivery, NOW))


def created(default_plan: str = "basic") -> list[TicketEvent]:
    """The documented creation, delivered by another job than the change under test."""
    mapping = SourceMapping(plan_field="plan", default_plan=default_plan)
    return events(raw("docs-sample.json"), mapping, delivery="creation-job")


# the ticket of every fixture: #81 (number 10081), created 2020-11-13T14:34:35.282Z
CREATED_AT = "2020-11-13T14:34:35.282Z"
TICKET: dict[str, Any] = {
    "id": "zammad:81",
    "created_at": CREATED_AT,
    "plan": "advanced",
    "priority": 3,  # "2 normal"
    "environment": "production",
    "product_stage": "ga",
    "status": "open",
    "fields": None,
}


def expected(
    event_id: str, kind: str, at: str, actor: str, actor_id: str | None, **ticket: Any
) -> TicketEvent:
    return TicketEvent.model_validate(
        {
            "event_id": "zammad:" + DELIVERY + event_id,
            "type": kind,
            "occurred_at": at,
            "ticket": TICKET | ticket,
            "actor": {"type": actor, "id": actor_id},
        }
    )


def locs(error: UnprocessableError) -> list[Any]:
    """Where the errors are (the locations only)."""
    return [e["loc"] for e in error.errors or []]


# -- signatures -----------------------------------------------------------------------------------

# The documented default payload, compact as Rails' to_json writes it; the expected value was
# computed with OpenSSL, as Zammad computes it (OpenSSL::HMAC.hexdigest('sha1', token, body)):
#   openssl dgst -sha1 -hmac 's3cr3t-t0k3n' wire-docs-sample.json
WIRE = raw("wire-docs-sample.json")
WIRE_SIGNATURE = "sha1=673a959620cb8713aa5d30cb466efcd87347b9f2"
SMALL = b'{"ticket":{"id":1},"article":{}}'
SMALL_SIGNATURE = "sha1=ab65752a52f8d20d1f0a28408a98cc53ef3ce37a"  # the same way, from stdin


@pytest.mark.parametrize(("body", "signature"), [(WIRE, WIRE_SIGNATURE), (SMALL, SMALL_SIGNATURE)])
def test_known_answers_computed_with_openssl_verify(body: bytes, signature: str) -> None:
    sent = {"X-Hub-Signature": signature, "X-Zammad-Delivery": DELIVERY}

    assert source().verify(sent, body, NOW) == "zammad:" + DELIVERY


def test_header_names_compare_in_any_case() -> None:
    sent = {"x-hub-signature": WIRE_SIGNATURE, "X-ZAMMAD-DELIVERY": DELIVERY}

    assert source().verify(sent, WIRE, NOW) == "zammad:" + DELIVERY


def _flip(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


SHA256 = "sha256=" + hmac.new(TOKEN.encode(), WIRE, hashlib.sha256).hexdigest()
REJECTED = [
    pytest.param({"X-Hub-Signature": _flip(WIRE_SIGNATURE)}, WIRE, id="one-character-forgery"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE}, WIRE[:-2] + b" }", id="body-one-byte-off"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE}, raw("docs-sample.json"), id="reserialised"),
    pytest.param({}, WIRE, id="missing-header"),
    pytest.param({"X-Hub-Signature": ""}, WIRE, id="empty-header"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE[5:]}, WIRE, id="hex-without-scheme"),
    pytest.param({"X-Hub-Signature": "sha1" + WIRE_SIGNATURE[5:]}, WIRE, id="no-equals"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE.upper()}, WIRE, id="upper-case"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE[:-1]}, WIRE, id="39-digits"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE + "0"}, WIRE, id="41-digits"),
    pytest.param({"X-Hub-Signature": SHA256}, WIRE, id="sha256-where-sha1-is-due"),
    pytest.param({"X-Hub-Signature": "sha256=" + WIRE_SIGNATURE[5:]}, WIRE, id="sha256-label"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE + "," + SHA256}, WIRE, id="two-values"),
    pytest.param({"X-Hub-Signature": sign(WIRE, "jira-secret-1234")}, WIRE, id="other-secret"),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE}, b"", id="empty-body"),
    pytest.param(
        {"X-Hub-Signature": WIRE_SIGNATURE, "X-Zammad-Delivery": "has space"}, WIRE, id="bad-id"
    ),
    pytest.param(
        {"X-Hub-Signature": WIRE_SIGNATURE, "X-Zammad-Delivery": "x" * 201}, WIRE, id="long-id"
    ),
    pytest.param({"X-Hub-Signature": WIRE_SIGNATURE, "X-Zammad-Delivery": ""}, WIRE, id="empty-id"),
    pytest.param(
        {"X-Hub-Signature": WIRE_SIGNATURE, "X-Zammad-Delivery": "a\x00b"}, WIRE, id="nul-in-id"
    ),
]


@pytest.mark.parametrize(("sent", "body"), REJECTED)
def test_every_rejection_is_the_same_unauthorized_error(sent: dict[str, str], body: bytes) -> None:
    with pytest.raises(UnauthorizedError) as info:
        source().verify(sent, body, NOW)

    assert info.value.detail == "The webhook signature could not be verified."


def test_no_timestamp_is_signed_so_a_delivery_of_any_age_verifies() -> None:
    # Zammad signs the body only: replay protection is the dedupe on X-Zammad-Delivery
    sent = {"X-Hub-Signature": WIRE_SIGNATURE, "X-Zammad-Delivery": DELIVERY}

    assert source().verify(sent, WIRE, utc("2030-01-01T00:00:00Z")) == "zammad:" + DELIVERY


@pytest.mark.parametrize("token", ["new-token-2026", "old-token-2025"])
def test_during_a_rotation_either_secret_verifies(token: str) -> None:
    zammad = source(secret="new-token-2026 old-token-2025")
    sent = {"X-Hub-Signature": sign(WIRE, token), "X-Zammad-Delivery": DELIVERY}

    assert zammad.verify(sent, WIRE, NOW) == "zammad:" + DELIVERY


class RotatedSecrets:
    """Secrets cached before a rotation: the new one only comes with a refresh."""

    def __init__(self, fresh: str | None) -> None:
        self.fresh = fresh
        self.refreshes = 0

    def current(self) -> tuple[SigningSecret, ...]:
        return parse_text_secrets("old-token-2025")

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        self.refreshes += 1
        return None if self.fresh is None else parse_text_secrets(self.fresh)


def test_a_secret_newer_than_the_cache_verifies_after_one_refresh() -> None:
    secrets = RotatedSecrets("new-token-2026")
    zammad = ZammadSource(load_policy(), secrets, SourceMapping())

    delivery = zammad.verify({"X-Hub-Signature": sign(WIRE, "new-token-2026")}, WIRE, NOW)

    assert delivery.startswith("zammad:")
    assert secrets.refreshes == 1


def test_no_refresh_due_means_unauthorized() -> None:
    zammad = ZammadSource(load_policy(), RotatedSecrets(None), SourceMapping())

    with pytest.raises(UnauthorizedError):
        zammad.verify({"X-Hub-Signature": sign(WIRE, "new-token-2026")}, WIRE, NOW)


def test_a_malformed_header_never_costs_a_refresh() -> None:
    secrets = RotatedSecrets("new-token-2026")
    zammad = ZammadSource(load_policy(), secrets, SourceMapping())

    with pytest.raises(UnauthorizedError):
        zammad.verify({"X-Hub-Signature": "sha1=nothex"}, WIRE, NOW)
    assert secrets.refreshes == 0


def test_without_a_delivery_header_the_id_is_the_body_hash() -> None:
    zammad = source()
    small = zammad.verify({"X-Hub-Signature": SMALL_SIGNATURE}, SMALL, NOW)
    wire = zammad.verify({"X-Hub-Signature": WIRE_SIGNATURE}, WIRE, NOW)

    assert small == "zammad:" + hashlib.sha256(SMALL).hexdigest()
    assert small != wire


# -- the deliveries, as events --------------------------------------------------------------------


def test_the_documented_payload_is_a_creation_logged_by_an_agent() -> None:
    # Zammad's docs: a phone ticket an agent (Chris, Admin + Agent) logged for Emily; article 104
    # is the ticket's first and only article, so this is the creation (created_at 14:34:35.282,
    # updated_at 14:34:35.333: the article touched the ticket, so the two are not equal).
    # Its organisation has no plan attribute: the snapshot leaves the plan out.
    got = events(raw("docs-sample.json"))

    fields = frozenset({"created_at", "priority", "environment", "product_stage", "status"})
    assert got == [
        expected("", "ticket.created", CREATED_AT, "agent", "3", plan=None, fields=fields)
    ]


def test_the_documented_payload_with_a_default_plan_is_complete() -> None:
    got = events(raw("docs-sample.json"), SourceMapping(plan_field="plan", default_plan="basic"))

    assert got == [expected("", "ticket.created", CREATED_AT, "agent", "3", plan="basic")]


def test_a_public_agent_reply_responds_at_the_reply_time() -> None:
    # Emma (Agent) answers by email: the ticket change, then the reply at its own instant
    got = events(raw("agent-reply.json"))

    assert got == [
        expected("#0", "ticket.updated", "2020-11-13T15:02:10.561Z", "agent", "5"),
        expected("#1", "ticket.responded", "2020-11-13T15:02:10.517Z", "agent", "5"),
    ]


def test_an_internal_note_is_no_response_and_the_clock_keeps_running() -> None:
    got = events(raw("internal-note.json"))

    assert got == [expected("", "ticket.updated", "2020-11-13T14:41:07.133Z", "agent", "3")]
    state = reduce_events([*created(), *got], load_policy())
    assert (state.events, state.first_response_at, state.clock_stopped_at) == (2, None, None)


def test_a_customer_email_is_a_customer_reply() -> None:
    got = events(raw("customer-reply.json"))

    assert got == [
        expected("#0", "ticket.updated", "2020-11-13T16:20:44.902Z", "customer", "8"),
        expected("#1", "ticket.customer_replied", "2020-11-13T16:20:44.870Z", "customer", "8"),
    ]


def test_an_agent_raising_the_priority_is_a_reclassification() -> None:
    got = events(raw("priority-changed.json"))

    assert got == [
        expected("", "ticket.updated", "2020-11-13T14:52:31.406Z", "agent", "3", priority=1)
    ]
    state = reduce_events([*created("advanced"), *got], load_policy())
    assert (state.requested, state.agent_priority, state.priority) == (3, 1, 1)


def test_closed_is_closed() -> None:
    got = events(raw("closed.json"))

    assert got == [
        expected("", "ticket.closed", "2020-11-13T17:05:12.250Z", "agent", "5", status="closed")
    ]


def test_pending_close_is_a_pending_status_not_a_stop() -> None:
    got = events(raw("pending-close.json"))

    assert got == [
        expected("", "ticket.updated", "2020-11-13T15:03:40.011Z", "agent", "5", status="pending")
    ]


def test_a_custom_state_the_mapping_names_gets_its_status() -> None:
    body = load("pending-close.json")
    body["ticket"]["state"] = "waiting for parts"
    mapping = PLAN.model_copy(update={"statuses": {"waiting for parts": "on_hold"}})

    (got,) = events(body, mapping)

    assert (got.type, got.ticket.status) == ("ticket.updated", "on_hold")


def test_a_trigger_auto_reply_is_no_response() -> None:
    # the System article of Zammad's auto-reply trigger, written as user 1
    got = events(raw("system-auto-reply.json"))

    assert got == [expected("", "ticket.updated", "2020-11-13T14:34:36.020Z", "system", "1")]


def test_a_merge_closes_the_ticket_and_its_merged_note_is_no_response() -> None:
    # Ticket#merge_to writes a public note "merged" as sender Agent, then sets state merged
    got = events(raw("merged.json"))

    assert got == [
        expected("", "ticket.closed", "2020-11-13T15:30:02.800Z", "agent", "3", status="closed")
    ]


def test_a_customer_reopening_a_closed_ticket_brings_the_status_back() -> None:
    closed = events(raw("closed.json"), delivery="close-job")
    reopens = events(raw("customer-reopens.json"))

    assert reopens == [
        expected("#0", "ticket.updated", "2020-11-14T09:12:55.366Z", "customer", "8"),
        expected("#1", "ticket.customer_replied", "2020-11-14T09:12:55.318Z", "customer", "8"),
    ]
    state = reduce_events([*closed, *reopens], load_policy())
    assert state.snapshot.status == "open"
    assert state.history is not None
    assert [h.changes.get("status") for h in state.history] == [
        (None, "closed"),
        ("closed", "open"),  # the customer's message, the first of the reopening delivery
        None,
    ]


def test_the_docs_sample_of_2020_to_2023_is_invalid_json_and_a_400() -> None:
    # manage/webhook/payload.rst had trailing commas until 2023-07-26
    with pytest.raises(BadRequestError):
        events(raw("docs-sample-2023-04-trailing-commas.json.txt"))


# -- pitfalls -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2020-11-13T14:34:35.282Z", "2020-11-13T14:34:35.282+00:00"),  # the default payload
        ("2019-10-08 15:24:47 UTC", "2019-10-08T15:24:47+00:00"),  # #{...} in a custom payload
        ("2019-10-08 17:24:47 +0200", "2019-10-08T15:24:47+00:00"),  # the same, another zone
        ("2019-10-08T17:24:47+02:00", "2019-10-08T15:24:47+00:00"),
        ("2019-10-08T15:24:47.123456789Z", "2019-10-08T15:24:47.123456+00:00"),
    ],
)
def test_zammad_timestamps_are_read_in_utc(text: str, instant: str) -> None:
    assert parse_instant(text) == utc(instant)


@pytest.mark.parametrize(
    "text", ["2019-10-08 15:24:47", "2019-10-08", "yesterday", "2019-13-01 00:00:00 UTC", ""]
)
def test_timestamps_without_a_zone_or_date_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a timestamp with a time zone"):
        parse_instant(text)


def minimal(**ticket: Any) -> dict[str, Any]:
    """The shape a custom payload built from #{...} variables gives: ids may be strings, times
    in Rails' to_s format, no organisation."""
    return {
        "ticket": {
            "id": "81",
            "number": "10081",
            "created_at": "2020-11-13 14:34:35 UTC",
            "updated_at": "2020-11-13 14:52:31 UTC",
            "state": "open",
            "priority": "3 HIGH",
            "priority_id": "3",
        }
        | ticket,
        "article": {},
    }


def test_string_ids_to_s_times_and_upper_case_priorities_give_a_partial_snapshot() -> None:
    got = events(minimal(), SourceMapping(plan_field="plan", default_plan="basic"))

    # no organisation and no tags: the plan's places are not in the payload, so no default plan
    fields = frozenset({"created_at", "priority", "environment", "product_stage", "status"})
    assert got == [
        expected(
            "",
            "ticket.updated",
            "2020-11-13T14:52:31Z",
            "unknown",
            None,
            created_at="2020-11-13T14:34:35Z",
            plan=None,
            priority=1,
            fields=fields,
        )
    ]


def test_missing_state_and_priority_are_left_out_of_the_snapshot() -> None:
    payload = minimal()
    del payload["ticket"]["state"], payload["ticket"]["priority"], payload["ticket"]["priority_id"]

    (got,) = events(payload)

    assert got.ticket.fields == frozenset({"created_at", "environment", "product_stage"})


def test_the_ticket_is_its_internal_id_not_its_number() -> None:
    (got,) = events(raw("closed.json"))

    assert got.ticket.id == "zammad:81"  # number "10081" is a display number


@pytest.mark.parametrize(
    ("priority", "mapping", "ours"),
    [
        ({"id": 3, "name": "3 high"}, {}, 1),
        ({"id": 1, "name": "1 low"}, {}, 3),
        ({"id": 3, "name": "P1 urgent"}, {}, 1),  # renamed: the seeded id still maps
        ({"id": 2, "name": "3 high"}, {}, 3),  # renamed to another seeded name: the id decides
        ({"id": 4, "name": "4 urgent"}, {}, None),  # added: unmapped, the policy's default
        ({"id": 4, "name": "4 urgent"}, {"4 urgent": 1}, 1),
        ({"id": 2, "name": "2 normal"}, {"2 normal": 2}, 2),  # configured name beats default id
        ({"id": 2, "name": "2 normal"}, {"2": 2}, 2),  # configured id beats default name
    ],
)
def test_priorities_by_configured_key_then_seeded_id(
    priority: dict[str, Any], mapping: dict[str, int], ours: int | None
) -> None:
    payload = load("priority-changed.json")
    payload["ticket"]["priority"] |= priority
    payload["ticket"]["priority_id"] = priority["id"]

    (got,) = events(payload, SourceMapping(plan_field="plan", priorities=mapping))

    assert got.ticket.priority == ours
    assert got.ticket.fields is None  # carried, even when unmapped


def test_a_priority_the_policy_lacks_is_a_422() -> None:
    with pytest.raises(UnprocessableError) as info:
        events(raw("priority-changed.json"), SourceMapping(priorities={"3 high": 7}))

    assert [(e["loc"], e["type"]) for e in info.value.errors or []] == [
        (["body", "ticket", "priority"], "value_error")
    ]


def test_the_plan_comes_from_the_ticket_when_the_organisation_has_none() -> None:
    payload = load("docs-sample.json")
    payload["ticket"]["plan"] = "Professional"

    (got,) = events(payload)

    assert (got.ticket.plan, got.ticket.fields) == ("professional", None)


def test_the_organisation_plan_wins_over_the_ticket_attribute() -> None:
    payload = load("closed.json")
    payload["ticket"]["plan"] = "basic"

    (got,) = events(payload)

    assert got.ticket.plan == "advanced"


def test_a_plan_tag_where_a_payload_carries_tags() -> None:
    # Zammad's default payload carries no tags; a payload that does is read the same way
    (got,) = events(minimal(tags=["vip", "plan_Professional"]), SourceMapping())

    assert got.ticket.plan == "professional"


def test_an_unknown_plan_is_a_422_at_its_place_without_its_value() -> None:
    payload = load("closed.json")
    payload["ticket"]["organization"]["plan"] = "platinum-secret"

    with pytest.raises(UnprocessableError) as info:
        events(payload)

    assert locs(info.value) == [["body", "ticket", "organization", "plan"]]
    assert "platinum-secret" not in repr(info.value.errors) + info.value.detail


@pytest.mark.parametrize(("value", "environment"), [("Staging", "staging"), (None, "production")])
def test_the_environment_from_an_organisation_attribute(
    value: str | None, environment: str
) -> None:
    payload = load("closed.json")
    payload["ticket"]["organization"]["environment"] = value

    (got,) = events(payload, SourceMapping(plan_field="plan", environment_field="environment"))

    assert got.ticket.environment == environment


def test_an_unknown_environment_is_a_422_at_its_place() -> None:
    payload = load("closed.json")
    payload["ticket"]["environment"] = "moon"

    with pytest.raises(UnprocessableError) as info:
        events(payload, SourceMapping(plan_field="plan", environment_field="environment"))

    assert locs(info.value) == [["body", "ticket", "environment"]]


@pytest.mark.parametrize(
    "change",
    [
        {"type": "note", "type_id": 10},  # a public note: not a message to the customer
        {"internal": True},
        {"internal": None},  # the payload does not say it is public
        {"created_by_id": 1},  # written by Zammad's system user
        {"sender": "System", "sender_id": 3},
    ],
)
def test_agent_articles_that_are_no_reply(change: dict[str, Any]) -> None:
    payload = load("agent-reply.json")
    payload["article"] |= change

    assert [e.type for e in events(payload)] == ["ticket.updated"]


@pytest.mark.parametrize("article", [{}, None, "absent"])
def test_a_change_without_an_article_is_only_the_ticket(article: Any) -> None:
    payload = load("agent-reply.json")
    if article == "absent":
        del payload["article"]
    else:
        payload["article"] = article

    assert [e.type for e in events(payload)] == ["ticket.updated"]


def test_an_agent_logging_a_customer_call_replies_for_that_customer() -> None:
    payload = load("customer-reply.json")
    payload["article"] |= {"created_by_id": 3, "origin_by_id": 8}

    assert events(payload)[1].actor.model_dump() == {"type": "customer", "id": "8"}


def test_a_ticket_created_closed_is_created_and_closed() -> None:
    # an agent logs a finished call: the creation and the stop, each at its own instant
    payload = load("docs-sample.json")
    payload["ticket"] |= {"state": "closed", "state_id": 4}

    got = events(payload, SourceMapping(default_plan="basic"))

    assert got == [
        expected("#0", "ticket.created", CREATED_AT, "agent", "3", plan="basic", status="closed"),
        expected(
            "#1",
            "ticket.closed",
            "2020-11-13T14:34:35.333Z",
            "agent",
            "3",
            plan="basic",
            status="closed",
        ),
    ]


def test_a_ticket_never_updated_after_its_creation_is_a_creation() -> None:
    (got,) = events(minimal(updated_at="2020-11-13 14:34:35 UTC"))

    assert (got.type, got.occurred_at) == ("ticket.created", utc("2020-11-13T14:34:35Z"))


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"updated_at": "2020-11-15T00:05:01Z"}, ["body", "ticket", "updated_at"]),  # > 5 min
        ({"created_at": "1999-12-31T23:59:59Z"}, ["body", "ticket", "created_at"]),
        ({"updated_at": "2020-11-13 14:52:31"}, ["body", "ticket", "updated_at"]),  # naive
        ({"updated_at": None}, ["body", "ticket", "updated_at"]),
        ({"id": None}, ["body", "ticket", "id"]),
        ({"id": "T-81"}, ["body", "ticket", "id"]),
        ({"id": True}, ["body", "ticket", "id"]),
        ({"organization": "Awesome Customer Inc."}, ["body", "ticket", "organization"]),
        ({"priority_id": 2.5}, ["body", "ticket", "priority_id"]),
        ({"state": ["open"]}, ["body", "ticket", "state"]),
    ],
)
def test_a_ticket_that_cannot_be_read_is_a_422_naming_the_field(
    change: dict[str, Any], loc: list[str]
) -> None:
    payload = load("closed.json")
    payload["ticket"] |= change

    with pytest.raises(UnprocessableError) as info:
        events(payload)

    assert locs(info.value) == [loc]


def test_the_five_minute_tolerance_holds_for_article_times() -> None:
    payload = load("agent-reply.json")
    payload["article"]["created_at"] = "2020-11-15T00:05:00Z"  # five minutes ahead: accepted

    assert events(payload)[1].occurred_at == utc("2020-11-15T00:05:00Z")


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ([{"ticket": {"id": 81}}], ["body"]),
        ({"error": "Invalid JSON payload"}, ["body", "ticket"]),  # a broken custom payload
        ({"text": "Ticket#10081 updated"}, ["body", "ticket"]),  # a pre-defined (Slack) one
        ({"ticket": [81]}, ["body", "ticket"]),
        ({"ticket": {"id": 81, "updated_at": CREATED_AT}, "article": "104"}, ["body", "article"]),
    ],
)
def test_json_that_is_no_zammad_webhook_is_a_422(payload: Any, loc: list[str]) -> None:
    with pytest.raises(UnprocessableError) as info:
        events(payload)

    assert locs(info.value) == [loc]


# -- dedupe ---------------------------------------------------------------------------------------


def test_the_same_delivery_twice_gives_the_same_event_ids() -> None:
    zammad = source(PLAN)
    body = raw("agent-reply.json")
    first = zammad.events(body, zammad.verify(headers(body), body, NOW), NOW)
    again = zammad.events(body, zammad.verify(headers(body), body, NOW), NOW)

    assert first == again
    assert [e.event_id for e in first] == ["zammad:" + DELIVERY + "#0", "zammad:" + DELIVERY + "#1"]


FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))


def test_different_deliveries_never_share_an_event_id() -> None:
    zammad = source(PLAN)
    ids = []
    for n, name in enumerate(FIXTURE_NAMES):
        body = raw(name)
        delivery = zammad.verify(headers(body, delivery=f"job-{n}"), body, NOW)
        ids += [e.event_id for e in zammad.events(body, delivery, NOW)]

    assert len(ids) == len(set(ids)) > len(FIXTURE_NAMES)


# (what nothing Zammad may send may raise: tests/unit/sources/test_laws.py, for every source)


def test_every_fixture_is_read_in_full() -> None:
    kinds = {name: [e.type for e in events(raw(name))] for name in FIXTURE_NAMES}

    assert kinds == {
        "agent-reply.json": ["ticket.updated", "ticket.responded"],
        "closed.json": ["ticket.closed"],
        "customer-reopens.json": ["ticket.updated", "ticket.customer_replied"],
        "customer-reply.json": ["ticket.updated", "ticket.customer_replied"],
        "docs-sample.json": ["ticket.created"],
        "internal-note.json": ["ticket.updated"],
        "merged.json": ["ticket.closed"],
        "pending-close.json": ["ticket.updated"],
        "priority-changed.json": ["ticket.updated"],
        "system-auto-reply.json": ["ticket.updated"],
        "wire-docs-sample.json": ["ticket.created"],
    }
