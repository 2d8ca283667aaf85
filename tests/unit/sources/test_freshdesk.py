"""The Freshdesk source: HTTP Basic authentication, and the automation rules' rendered template
(tests/fixtures/helpdesks/freshdesk, each value's source in SOURCES.md there) turned into
canonical events."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sla
from sla.core.errors import (
    BadRequestError,
    ConfigurationError,
    UnauthorizedError,
    UnprocessableError,
)
from sla.core.events import Actor, TicketEvent
from sla.core.signature import SigningSecret, parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources.freshdesk import FreshdeskSource, parse_instant, parse_triggered_event
from sla.sources.mapping import SourceMapping
from tests.unit.helpers import utc
from tests.unit.sources.common import RotatingSecrets, without_origin

FIXTURES = Path(__file__).parents[2] / "fixtures" / "helpdesks" / "freshdesk"
POLICY = sla.load_policy()
SECRET = "fd-7f3c9a1e2b4d6f80"
OTHER_SECRET = "zd-secret-of-another-source"
# the helpdesk's zone: the rendered times are Indian Standard Time (UTC+05:30), as in the
# receiver the created_on example comes from (SOURCES.md)
MAPPING = SourceMapping(
    timezone="Asia/Kolkata", plan_field="sla_plan", environment_field="environment"
)
NOW = utc("2026-03-11T12:00:00+00:00")
TICKET = "freshdesk:11"
CREATED = utc("2026-03-11T07:14:19+00:00")  # 12:44:19 in Kolkata


def source(
    mapping: SourceMapping = MAPPING, secret: str = SECRET, secrets: Any = None
) -> FreshdeskSource:
    return FreshdeskSource(
        POLICY, secrets or StaticSecrets(secret, parse=parse_text_secrets), mapping
    )


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def body(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw(name))
    return value


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def events(data: bytes | dict[str, Any], mapping: SourceMapping = MAPPING) -> list[TicketEvent]:
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    src = source(mapping)
    delivery = src.verify(basic("sla-keeper", SECRET), payload, NOW)
    return without_origin(src.events(payload, delivery, NOW))


def only(data: bytes | dict[str, Any], mapping: SourceMapping = MAPPING) -> TicketEvent:
    result = events(data, mapping)
    assert len(result) == 1
    return result[0]


def delivery_id(payload: bytes) -> str:
    return "freshdesk:" + hashlib.sha256(payload).hexdigest()


# -- authentication: HTTP Basic, the password is the secret ---------------------------------


class Fixed:
    """Secrets as they are, spaces included (configured secrets are whitespace-separated, so
    a configured secret has none; RFC 7617's examples do)."""

    def __init__(self, *texts: str) -> None:
        self._secrets = tuple(SigningSecret(t.encode()) for t in texts)

    def current(self) -> tuple[SigningSecret, ...]:
        return self._secrets

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        return None


def test_rfc_7617_known_answer_is_accepted_and_the_delivery_id_hashes_the_body() -> None:
    # Given the secret "open sesame" and RFC 7617's example credentials for it
    src = source(secrets=Fixed("open sesame"))
    headers = {"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}  # Aladdin:open sesame
    # When a delivery arrives with them
    result = src.verify(headers, raw("ticket_created"), NOW)
    # Then it is authenticated, and its id is the hash of the raw body
    assert result == delivery_id(raw("ticket_created"))


def test_rfc_7617_utf8_known_answer_is_accepted() -> None:
    # Given RFC 7617's UTF-8 example: user "test", password "123£" (dGVzdDoxMjPCow==)
    src = source(secrets=Fixed("123£"))
    # Then its password's UTF-8 bytes are compared with the secret's
    assert src.verify({"authorization": "Basic dGVzdDoxMjPCow=="}, b"{}", NOW).startswith(
        "freshdesk:"
    )


@pytest.mark.parametrize("user", ["sla-keeper", "freshdesk", "", "any name at all"])
def test_any_user_name_is_accepted_with_the_password(user: str) -> None:
    assert source().verify(basic(user, SECRET), b"{}", NOW) == delivery_id(b"{}")


def test_header_name_and_scheme_compare_case_insensitively() -> None:
    token = basic("sla-keeper", SECRET)["Authorization"].split(" ", 1)[1]
    assert source().verify({"AUTHORIZATION": f"basic {token}"}, b"{}", NOW)


def test_a_password_with_a_colon_is_read_whole() -> None:
    # RFC 7617: the user id ends at the first colon; the password may contain colons
    src = source(secret="pass:word:with:colons")
    assert src.verify(basic("sla-keeper", "pass:word:with:colons"), b"{}", NOW)


@pytest.mark.parametrize(
    "headers",
    [
        basic("sla-keeper", SECRET[:-1] + "1"),  # one character forged
        basic("sla-keeper", SECRET + " "),
        basic("sla-keeper", SECRET.upper()),
        basic("sla-keeper", ""),  # no password
        basic(SECRET, "x"),  # the secret as the user name (Freshdesk's API-key style)
        basic("sla-keeper", OTHER_SECRET),  # the other source's secret
        {},  # no header
        {"Authorization": ""},
        {"Authorization": "Basic"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(SECRET.encode()).decode()},  # no colon
        {"Authorization": "Basic " + base64.b64encode(b"u:\xff\xfe").decode()},  # not UTF-8
        {"Authorization": "Basic " + basic("u", SECRET)["Authorization"][6:-2]},  # unpadded
        {"Authorization": "Bearer " + SECRET},  # the wrong scheme
        {"Authorization": "Digest " + basic("u", SECRET)["Authorization"][6:]},
        {"Authorization": SECRET},
        {"Authorization": "Basic " + "A" * 5000},  # over the header limit
        {"X-Freshdesk-Secret": SECRET},  # not where Freshdesk puts it
        {"Authorization": "Basic éé"},  # not ASCII
    ],
)
def test_every_other_credential_is_one_uniform_401(headers: dict[str, str]) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        source().verify(headers, raw("agent_reply"), NOW)
    assert caught.value.detail == UnauthorizedError().detail


def test_basic_authentication_vouches_for_the_sender_not_the_body() -> None:
    # Given the right password and the body re-serialised (Freshdesk signs nothing: TLS is the
    # body's only protection, see the docs' pitfalls)
    reserialised = json.dumps(body("agent_reply"), separators=(",", ":")).encode()
    # Then it is authenticated, under another delivery id (the body's hash)
    result = source().verify(basic("sla-keeper", SECRET), reserialised, NOW)
    assert result == delivery_id(reserialised) != delivery_id(raw("agent_reply"))


def test_there_is_no_timestamp_so_an_old_delivery_is_not_stale() -> None:
    # Freshdesk sends no timestamp header: a delivery postponed for hours is still accepted
    later = utc("2026-03-12T11:00:00+00:00")
    assert source().verify(basic("sla-keeper", SECRET), raw("agent_reply"), later)


@pytest.mark.parametrize("password", ["new-secret-2026", "old-secret-2025"])
def test_during_a_rotation_either_secret_works(password: str) -> None:
    src = source(secret="new-secret-2026 old-secret-2025")
    assert src.verify(basic("sla-keeper", password), b"{}", NOW) == delivery_id(b"{}")


def test_a_rotated_secret_newer_than_the_cache_is_tried_once_after_a_refresh() -> None:
    secrets = RotatingSecrets(current="old-secret-2025", fresh="new-secret-2026")
    src = source(secrets=secrets)
    assert src.verify(basic("sla-keeper", "new-secret-2026"), b"{}", NOW)
    assert secrets.refreshes == 1


def test_a_wrong_password_is_401_after_one_refresh_and_none_when_not_due() -> None:
    secrets = RotatingSecrets(current="old-secret-2025", fresh=None)
    with pytest.raises(UnauthorizedError):
        source(secrets=secrets).verify(basic("sla-keeper", "guess-guess"), b"{}", NOW)
    assert secrets.refreshes == 1


def test_a_malformed_header_does_not_ask_for_a_refresh() -> None:
    secrets = RotatingSecrets(current="old-secret-2025", fresh="new-secret-2026")
    with pytest.raises(UnauthorizedError):
        source(secrets=secrets).verify({"Authorization": "Bearer x"}, b"{}", NOW)
    assert secrets.refreshes == 0


def test_the_log_says_why_but_never_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="sla.sources.freshdesk")
    with pytest.raises(UnauthorizedError):
        source().verify(basic("sla-keeper", "guess-guess-guess"), b"{}", NOW)
    assert [r.__dict__["reason"] for r in caplog.records] == ["wrong password"]
    assert "guess" not in caplog.text


# -- configuration ------------------------------------------------------------------------


def test_without_a_timezone_the_source_does_not_start() -> None:
    # Given a mapping without the helpdesk's zone: no Freshdesk time could be placed, so it is
    # the deployment that is wrong (a ConfigurationError at start), not each delivery (a 422)
    with pytest.raises(ConfigurationError, match="timezone"):
        source(SourceMapping())


@pytest.mark.parametrize(
    "mapping",
    [
        SourceMapping(timezone="UTC", default_plan="platinum"),
        SourceMapping(timezone="UTC", default_environment="moon"),
        SourceMapping(timezone="UTC", default_product_stage="alpha"),
        SourceMapping(timezone="UTC", priorities={"urgent": 4}),
    ],
)
def test_a_mapping_the_policy_does_not_allow_does_not_start(mapping: SourceMapping) -> None:
    with pytest.raises(ConfigurationError):
        source(mapping)


# -- normalisation from the rendered template ------------------------------------------------


def test_ticket_created_is_a_complete_snapshot_in_utc() -> None:
    src = source()
    payload = raw("ticket_created")
    (event,) = src.events(payload, src.verify(basic("sla-keeper", SECRET), payload, NOW), NOW)
    assert event.event_id == delivery_id(raw("ticket_created"))
    assert event.type == "ticket.created"
    assert event.occurred_at == CREATED
    assert event.ticket.model_dump() == {
        "id": TICKET,
        "created_at": CREATED,
        "plan": "professional",
        "priority": 2,  # High
        "environment": "production",
        "product_stage": "ga",
        "status": "open",
        "fields": None,
        # where the plan and the priority came from (shown in the view)
        "origin": {"priority": "freshdesk priority High", "plan": "field sla_plan"},
    }
    assert event.actor == Actor()  # the creation rule does not say who created the ticket


def test_a_reply_sent_by_an_agent_stops_the_clock_at_the_reply_time() -> None:
    event = only(raw("agent_reply"))
    assert event.type == "ticket.responded"
    # {{ticket.modified_on}}: Freshdesk sets the ticket's update time to the reply's
    assert event.occurred_at == utc("2026-03-11T07:32:05+00:00")
    assert event.actor == Actor(type="agent")
    assert event.ticket.created_at == CREATED and event.ticket.fields is None


@pytest.mark.parametrize("name", ["private_note", "public_note"])
def test_a_note_never_stops_the_clock(name: str) -> None:
    # Given a note reaching a reply rule (a rule that also lists "Note is added")
    # Then nothing happens: the delivery is acknowledged and the clock keeps running
    assert events(raw(name)) == []


def test_a_customer_reply_starts_a_next_reply_cycle() -> None:
    event = only(raw("customer_reply"))
    assert event.type == "ticket.customer_replied"
    assert event.occurred_at == utc("2026-03-11T08:40:42+00:00")
    assert event.actor == Actor(type="customer")


def test_a_priority_changed_by_an_agent_is_a_reclassification() -> None:
    event = only(raw("priority_by_agent"))
    assert (event.type, event.actor) == ("ticket.updated", Actor(type="agent"))
    assert event.ticket.priority == 3  # Low
    assert event.occurred_at == utc("2026-03-11T07:50:00+00:00")


def test_a_priority_changed_by_an_automation_is_not_an_agent_choice() -> None:
    event = only(raw("priority_by_system"))
    assert (event.type, event.actor) == ("ticket.updated", Actor(type="system"))
    assert event.ticket.priority == 1  # Urgent: Freshdesk's scale runs the other way


@pytest.mark.parametrize(
    ("name", "kind", "status", "at"),
    [
        ("status_pending", "ticket.updated", "pending", "2026-03-11T09:15:31+00:00"),
        ("status_resolved", "ticket.solved", "solved", "2026-03-11T10:00:10+00:00"),
        ("status_closed", "ticket.closed", "closed", "2026-03-11T10:32:44+00:00"),
        # {status:{from:4,to:6}}: from Resolved to "Waiting on Customer"
        ("status_reopened", "ticket.reopened", "pending", "2026-03-11T10:20:00+00:00"),
    ],
)
def test_status_changes(name: str, kind: str, status: str, at: str) -> None:
    event = only(raw(name))
    assert (event.type, event.ticket.status, event.occurred_at) == (kind, status, utc(at))
    assert event.actor.type != "agent"


def test_a_status_change_without_its_own_time_falls_back_to_the_update_time() -> None:
    data = body("status_resolved")
    data["ticket"]["status_changed_on"] = ""  # a placeholder the helpdesk does not render
    data["ticket"]["modified_on"] = "2026-03-11 15:31:00"
    assert only(data).occurred_at == utc("2026-03-11T10:01:00+00:00")


def test_without_the_status_name_the_status_rule_reads_the_new_status_id() -> None:
    # a template without {{ticket.status}}: {status:{from:3,to:4}} still says Resolved
    data = body("status_resolved")
    del data["ticket"]["status"]
    event = only(data)
    assert (event.type, event.ticket.status) == ("ticket.solved", "solved")


def test_a_custom_status_is_not_carried_and_keeps_the_earlier_one() -> None:
    data = body("status_pending")
    data["triggered_event"] = "{status:{from:2,to:8}}"
    data["ticket"]["status"] = "Awaiting Parts"
    event = only(data)
    assert event.type == "ticket.updated" and event.ticket.status is None
    assert event.ticket.fields is not None and "status" not in event.ticket.fields


def test_a_custom_status_the_mapping_names_is_carried() -> None:
    data = body("status_pending")
    data["triggered_event"] = "{status:{from:2,to:8}}"
    data["ticket"]["status"] = "Awaiting Parts"
    mapping = MAPPING.model_copy(update={"statuses": {"awaiting parts": "on_hold"}})
    event = only(data, mapping)
    assert (event.type, event.ticket.status) == ("ticket.updated", "on_hold")


def test_a_plan_field_value_the_mapping_translates_is_the_plan() -> None:
    """Freshdesk's "Account tier" values are not plan names: ``plan_values`` translates them."""
    data = body("ticket_created")
    data["fields"]["sla_plan"] = "Enterprise"
    mapping = MAPPING.model_copy(update={"plan_values": {"enterprise": "advanced"}})
    assert only(data, mapping).ticket.plan == "advanced"


def test_a_ticket_updated_rule_carries_the_fields_the_mapping_reads() -> None:
    data = body("priority_by_agent")
    data["sla_rule"] = "ticket_updated"
    data["fields"]["environment"] = "Staging"
    event = only(data)
    assert (event.type, event.actor) == ("ticket.updated", Actor())
    assert event.ticket.environment == "staging"


def test_the_foreign_zulip_template_is_not_ours() -> None:
    with pytest.raises(UnprocessableError) as caught:
        events(raw("zulip_ticket_created"))
    assert caught.value.errors == [
        {"loc": ["body", "sla_rule"], "msg": "is required", "type": "missing"}
    ]


def test_an_unknown_rule_is_acknowledged_and_ignored() -> None:
    # e.g. a reply performed by the System that someone wired to the product
    data = body("agent_reply")
    data["sla_rule"] = "system_reply"
    assert events(data) == []


# -- Freshdesk's pitfalls ---------------------------------------------------------------------


def test_times_without_offset_are_the_helpdesks_local_time_including_summer_time() -> None:
    zone = SourceMapping(timezone="Europe/Bratislava", plan_field="sla_plan")
    summer = only(raw("ticket_created"), zone)  # 12:44:19 CET is 11:44:19Z
    assert summer.ticket.created_at == utc("2026-03-11T11:44:19+00:00")
    data = body("ticket_created")
    data["ticket"]["created_on"] = data["ticket"]["modified_on"] = "2026-07-01 12:44:19"
    later = NOW.replace(month=7, day=2)
    src = source(zone)
    event = src.events(json.dumps(data).encode(), "d", later)[0]
    assert event.occurred_at == utc("2026-07-01T10:44:19+00:00")  # CEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-11 12:44:19", "2026-03-11T07:14:19+00:00"),  # as rendered
        ("2026-03-11T12:44:19", "2026-03-11T07:14:19+00:00"),
        ("2026-03-11 12:44", "2026-03-11T07:14:00+00:00"),
        ("2026-03-11 12:44:19.123456789", "2026-03-11T07:14:19.123456+00:00"),
        ("2026-03-11 12:44:19 +0530", "2026-03-11T07:14:19+00:00"),  # an offset wins
        ("2026-03-11 07:14:19 UTC", "2026-03-11T07:14:19+00:00"),
        ("2026-03-11T07:14:19Z", "2026-03-11T07:14:19+00:00"),
        ("2026-03-11T09:14:19+02:00", "2026-03-11T07:14:19+00:00"),
        ("  2026-03-11 12:44:19 ", "2026-03-11T07:14:19+00:00"),
    ],
)
def test_instant_formats(text: str, expected: str) -> None:
    assert parse_instant(text, MAPPING_ZONE) == datetime.fromisoformat(expected)


MAPPING_ZONE = source().zone


@pytest.mark.parametrize(
    "text",
    ["", "11/03/2026 12:44", "March 11 2026 at 12:44 PM IST", "2026-13-11 12:44:19",
     "2026-03-11 25:00:00", "2026-03-11 12:44:19 +0599", "9999-12-31 23:59:59 -2359",
     "0001-01-01 00:00:00 +2359", "{{ticket.created_on}}"],
)  # fmt: skip
def test_anything_else_is_not_an_instant(text: str) -> None:
    with pytest.raises(ValueError, match="date and time"):
        parse_instant(text, MAPPING_ZONE)


def test_an_unrendered_time_is_a_422_at_its_field() -> None:
    data = body("agent_reply")
    data["ticket"]["modified_on"] = "{{ticket.modified_on}}"
    with pytest.raises(UnprocessableError) as caught:
        events(data)
    assert [e["loc"] for e in caught.value.errors or []] == [["body", "ticket", "modified_on"]]
    assert "{{" not in json.dumps(caught.value.errors)  # no submitted value echoed


def test_a_reply_without_its_time_is_a_422() -> None:
    data = body("agent_reply")
    del data["ticket"]["modified_on"]
    with pytest.raises(UnprocessableError) as caught:
        events(data)
    assert caught.value.errors == [
        {
            "loc": ["body", "ticket", "modified_on"],
            "msg": "is required for sla_rule agent_reply",
            "type": "missing",
        }
    ]


@pytest.mark.parametrize(
    ("modified", "kind"),
    [("2026-03-11 17:36:00", "future_instant"), ("1999-12-31 23:59:59", "past_instant")],
)
def test_instants_far_ahead_or_before_2000_are_422(modified: str, kind: str) -> None:
    data = body("agent_reply")
    data["ticket"]["modified_on"] = modified  # 12:06Z: 6 minutes ahead of now
    with pytest.raises(UnprocessableError) as caught:
        events(data)
    assert [e["type"] for e in caught.value.errors or []] == [kind]


@pytest.mark.parametrize(
    ("rendered", "ours"),
    [("Urgent", 1), ("URGENT", 1), ("high", 2), (" Medium ", 3), ("Low", 3), ("4", 1), (3, 2)],
)
def test_priority_names_ids_and_case(rendered: Any, ours: int) -> None:
    data = body("priority_by_agent")
    data["ticket"]["priority"] = rendered
    assert only(data).ticket.priority == ours


def test_an_empty_priority_on_a_priority_rule_reads_the_new_priority_id() -> None:
    data = body("priority_by_system")  # {priority:{from:2,to:4}}: to Urgent
    data["ticket"]["priority"] = ""
    assert only(data).ticket.priority == 1


def test_a_translated_priority_maps_through_the_mapping() -> None:
    data = body("priority_by_agent")
    data["ticket"]["priority"] = "Dringend"
    assert only(data).ticket.priority is None  # unmapped: the policy's default
    mapping = MAPPING.model_copy(update={"priorities": {"dringend": 1}})
    assert only(data, mapping).ticket.priority == 1


@pytest.mark.parametrize(("rendered", "expected"), [("11", "freshdesk:11"), (11, "freshdesk:11")])
def test_ticket_ids_as_strings_or_numbers(rendered: Any, expected: str) -> None:
    data = body("ticket_created")
    data["ticket"]["id"] = rendered
    assert only(data).ticket.id == expected


@pytest.mark.parametrize("rendered", ["", "#11", "{{ticket.id}}", -1, 0, True, 1.5, None])
def test_anything_but_a_ticket_number_is_422(rendered: Any) -> None:
    data = body("ticket_created")
    data["ticket"]["id"] = rendered
    with pytest.raises(UnprocessableError) as caught:
        events(data)
    assert [e["loc"] for e in caught.value.errors or []] == [["body", "ticket", "id"]]


def test_the_plan_comes_from_a_plan_tag_when_no_field_is_configured() -> None:
    data = body("ticket_created")
    data["ticket"]["tags"] = "vip, plan_Advanced, billing"
    mapping = SourceMapping(timezone="Asia/Kolkata")
    assert only(data, mapping).ticket.plan == "advanced"


def test_without_a_plan_the_snapshot_is_partial_and_keeps_the_earlier_plan() -> None:
    mapping = SourceMapping(timezone="Asia/Kolkata")  # no plan field, no tag, no default plan
    event = only(raw("agent_reply"), mapping)
    assert event.ticket.plan is None
    assert event.ticket.fields == frozenset(
        {"created_at", "priority", "status", "environment", "product_stage"}
    )


def test_a_default_plan_applies_only_where_the_payload_carries_the_plan_places() -> None:
    mapping = SourceMapping(timezone="Asia/Kolkata", default_plan="basic")
    assert only(raw("agent_reply"), mapping).ticket.plan == "basic"
    data = body("agent_reply")
    del data["ticket"]["tags"]
    del data["fields"]
    event = only(data, mapping)
    assert event.ticket.plan is None and "plan" not in (event.ticket.fields or ())


def test_a_trimmed_template_gives_a_partial_snapshot() -> None:
    data = {
        "sla_rule": "agent_reply",
        "ticket": {"id": "11", "modified_on": "2026-03-11 13:02:05"},
    }
    event = only(data)
    assert event.type == "ticket.responded"
    # only the product stage, which no field gives (the mapping's default): every other field
    # keeps its earlier value
    assert event.ticket.fields == frozenset({"product_stage"})


def test_a_field_the_template_does_not_send_is_not_carried() -> None:
    data = body("ticket_created")
    data["fields"] = {"sla_plan": "Advanced"}  # no environment field in this template
    event = only(data)
    assert event.ticket.plan == "advanced"
    assert event.ticket.fields is not None and "environment" not in event.ticket.fields


def test_an_empty_company_field_means_no_plan_and_the_default_environment() -> None:
    data = body("ticket_created")
    data["fields"] = {"sla_plan": "", "environment": ""}  # a ticket without a company
    event = only(data)
    assert event.ticket.plan is None and event.ticket.environment == "production"


def test_an_unknown_plan_or_environment_is_a_422_at_its_field() -> None:
    data = body("ticket_created")
    data["fields"] = {"sla_plan": "Premium", "environment": "Moon"}
    with pytest.raises(UnprocessableError) as caught:
        events(data)
    assert [e["loc"] for e in caught.value.errors or []] == [
        ["body", "fields", "sla_plan"],
        ["body", "fields", "environment"],
    ]
    assert "Premium" not in json.dumps(caught.value.errors)


@pytest.mark.parametrize(
    ("text", "name", "value", "old", "new"),
    [
        ("{ticket_action:created}", "ticket_action", "created", None, None),
        ("{priority:{from:3,to:1}}", "priority", None, "3", "1"),
        ("{status:{from:4,to:6}}", "status", None, "4", "6"),
        ("{note_type:public}", "note_type", "public", None, None),
        ("{reply_sent:sent}", "reply_sent", "sent", None, None),
        ('{"priority"=>{"from"=>3, "to"=>1}}', "priority", None, "3", "1"),  # Ruby's inspect
        ("{ status : { from : 4 , to : 5 } }", "status", None, "4", "5"),
        ("{:note_type=>:private}", "note_type", "private", None, None),
    ],
)
def test_triggered_event_is_read_leniently(
    text: str, name: str, value: str | None, old: str | None, new: str | None
) -> None:
    event = parse_triggered_event(text)
    assert event is not None
    assert (event.name, event.value, event.old, event.new) == (name, value, old, new)


@pytest.mark.parametrize("text", ["", "{}", "{:}", "  ", "{,}"])
def test_an_empty_triggered_event_says_nothing(text: str) -> None:
    assert parse_triggered_event(text) is None


def test_an_unrendered_triggered_event_is_no_note_and_changes_nothing() -> None:
    data = body("agent_reply")
    data["triggered_event"] = "{{triggered_event}}"
    assert only(data).type == "ticket.responded"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ([], ["body"]),
        ("agent_reply", ["body"]),
        ({"sla_rule": 7}, ["body", "sla_rule"]),
        ({"sla_rule": "agent_reply"}, ["body", "ticket"]),
        ({"sla_rule": "agent_reply", "ticket": []}, ["body", "ticket"]),
        ({"sla_rule": "agent_reply", "triggered_event": {}}, ["body", "triggered_event"]),
    ],
)  # fmt: skip
def test_json_that_is_not_the_template_is_422_with_its_location(
    payload: Any, loc: list[str]
) -> None:
    with pytest.raises(UnprocessableError) as caught:
        events(json.dumps(payload).encode())
    assert loc in [e["loc"] for e in caught.value.errors or []]


def test_a_body_that_is_not_json_is_400() -> None:
    # Freshdesk pastes placeholder values into the template as they are: a value that breaks
    # the JSON (see the docs' pitfalls) is a malformed body
    with pytest.raises(BadRequestError):
        events(b'{"sla_rule": "agent_reply", "ticket": {"id": "1"1}}')


# -- dedupe -----------------------------------------------------------------------------------

ALL = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith("zulip"))


def test_the_same_delivery_twice_gives_the_same_event_ids() -> None:
    for name in ALL:
        assert events(raw(name)) == events(raw(name))


def test_two_different_events_never_share_an_id() -> None:
    ids = [e.event_id for name in ALL for e in events(raw(name))]
    assert len(ids) == len(set(ids)) == len(ALL) - 2  # the two notes give none


# -- nothing any sender may send is a 500 ----------------------------------------------------

ALLOWED = (UnauthorizedError, BadRequestError, UnprocessableError)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "2026-03-11 12:44:19", "Urgent", "Resolved", "{priority:{from:3,to:1}}"]),
)
VALUES = JSON | TEXTS


def run(headers: dict[str, str], payload: bytes) -> None:
    src = source()
    with contextlib.suppress(*ALLOWED):
        src.events(payload, src.verify(headers, payload, NOW), NOW)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.dictionaries(
        st.sampled_from(["Authorization", "authorization", "X-Other"]) | st.text(max_size=20),
        st.text(max_size=60)
        | st.builds(lambda t: "Basic " + t, st.text(max_size=60))
        | st.builds(
            lambda b: "Basic " + base64.b64encode(b).decode("ascii"), st.binary(max_size=40)
        ),
        max_size=3,
    )
)
def test_no_header_set_is_anything_but_a_401(headers: dict[str, str]) -> None:
    with contextlib.suppress(UnauthorizedError):
        source().verify(headers, b"{}", NOW)


@settings(max_examples=150)
@given(payload=st.binary(max_size=200))
def test_random_bytes_are_never_a_500(payload: bytes) -> None:
    run(basic("sla-keeper", SECRET), payload)


@settings(max_examples=150)
@given(payload=JSON)
def test_random_json_is_never_a_500(payload: Any) -> None:
    run(basic("sla-keeper", SECRET), json.dumps(payload).encode())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(ALL),
    where=st.sampled_from(
        [(), ("ticket",), ("fields",)]
    ),
    key=st.sampled_from(
        ["sla_rule", "triggered_event", "ticket", "fields", "id", "created_on", "modified_on",
         "status_changed_on", "status", "priority", "tags", "sla_plan", "environment"]
    ),
    value=VALUES,
)  # fmt: skip
def test_real_fixtures_with_any_field_replaced_are_never_a_500(
    name: str, where: tuple[str, ...], key: str, value: Any
) -> None:
    data = copy.deepcopy(body(name))
    target = data
    for part in where:
        target = target[part]
    target[key] = value
    run(basic("sla-keeper", SECRET), json.dumps(data).encode())


def test_events_are_independent_of_the_arrival_time() -> None:
    # the same delivery read an hour later says the same: occurred_at is the helpdesk's instant
    later = NOW.replace(hour=13)
    src = source()
    payload = raw("agent_reply")
    assert src.events(payload, "d", NOW) == src.events(payload, "d", later)
    assert src.events(payload, "d", NOW)[0].occurred_at.tzinfo == UTC
