"""The Jira source (contract 2b): admin webhooks verified as Jira signs them, and real Jira
deliveries turned into canonical events.

Fixtures are real deliveries (tests/fixtures/helpdesks/jira/SOURCES.md says where each comes
from). Where a case needs a value no public capture shows (an internal note, a customer's
comment, a "Resolved" transition), the test changes that one value in a real delivery and says so.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import sla
from sla.core.errors import BadRequestError, UnauthorizedError, UnprocessableError
from sla.core.events import Actor, TicketEvent, TicketSnapshot
from sla.core.signature import SigningSecret, parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources.jira import JiraSource
from sla.sources.mapping import SourceMapping
from tests.unit.helpers import utc
from tests.unit.sources.common import RotatingSecrets, without_origin

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "helpdesks" / "jira"
SECRET = "jira-webhook-secret-0001"
OTHER_SECRET = "zammad-signature-token-0002"  # another source's secret
NOW = utc("2026-05-01T00:00:00Z")  # after every fixture's instants
DELIVERY = "0b6c5d51-4c3b-4f5e-9d0a-3c1d2e8f7a60"
POLICY = sla.load_policy()


def source(mapping: SourceMapping | None = None, secret: str = SECRET) -> JiraSource:
    secrets = StaticSecrets(secret, parse=parse_text_secrets)
    return JiraSource(POLICY, secrets, mapping or SourceMapping(default_plan="professional"))


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    value = json.loads(raw(name))
    assert isinstance(value, dict)
    return value


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def sign(data: bytes, secret: str = SECRET, scheme: str = "sha256") -> str:
    return f"{scheme}=" + hmac.new(secret.encode(), data, getattr(hashlib, scheme)).hexdigest()


def headers(data: bytes, secret: str = SECRET, delivery: str = DELIVERY) -> dict[str, str]:
    return {"X-Hub-Signature": sign(data, secret), "X-Atlassian-Webhook-Identifier": delivery}


def events(
    payload: dict[str, Any] | bytes, mapping: SourceMapping | None = None
) -> list[TicketEvent]:
    data = payload if isinstance(payload, bytes) else body(payload)
    return without_origin(source(mapping).events(data, "jira:" + DELIVERY, NOW))


def errors_of(call: Callable[[], object]) -> list[Any]:
    with pytest.raises(UnprocessableError) as caught:
        call()
    assert caught.value.errors
    return [e["loc"] for e in caught.value.errors]


def event(
    kind: str,
    at: str,
    ticket: dict[str, Any],
    actor: tuple[str, str | None],
    event_id: str = "jira:" + DELIVERY,
) -> TicketEvent:
    return TicketEvent(
        event_id=event_id,
        type=kind,
        occurred_at=utc(at),
        ticket=TicketSnapshot.model_validate(ticket),
        actor=Actor(type=actor[0], id=actor[1]),
    )


def with_status(payload: dict[str, Any], name: str, category: str, was: str) -> dict[str, Any]:
    """A real issue_updated delivery, its status transition changed to ``was`` -> ``name``."""
    changed = copy.deepcopy(payload)
    status = changed["issue"]["fields"]["status"]
    status["name"] = name
    status["statusCategory"]["key"] = category
    changed["changelog"]["items"][0].update(fromString=was, toString=name)
    return changed


AGENT_LEO = ("agent", "99:e2f12cf6-839d-4ea2-ae07-e1a59cb009c8")
SYSTEM_ADMIN = ("system", "99:b8d8a054-2e12-4839-bd5f-5f2b7c5f5e3a")
TEST_1 = {  # jira:TEST-1 as the zulip captures of 2014 and 2017 carry it
    "id": "jira:TEST-1",
    "plan": "professional",
    "priority": 3,
    "environment": "production",
    "product_stage": "ga",
}


# -- signatures ------------------------------------------------------------------------------------


def test_known_answer_vector_of_the_websub_sha256_scheme() -> None:
    # Atlassian publishes no test vector; GitHub's documented one is the same construction
    # (sha256=<hex HMAC-SHA256 of the raw body>, the secret's text as the key).
    key = SigningSecret(b"It's a Secret to Everybody")
    jira = JiraSource(POLICY, RotatingSecrets((key,)), SourceMapping())
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    sent = {"X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": DELIVERY}

    assert jira.verify(sent, b"Hello, World!", NOW) == "jira:" + DELIVERY


@pytest.mark.parametrize(
    "names",
    [
        ("X-Hub-Signature", "X-Atlassian-Webhook-Identifier"),  # as Atlassian documents them
        ("x-hub-signature", "x-atlassian-webhook-identifier"),  # as HTTP APIs deliver them
    ],
)
def test_a_real_delivery_signed_with_the_secret_is_accepted(names: tuple[str, str]) -> None:
    data = raw("comment_created.json")
    sent = {names[0]: sign(data), names[1]: DELIVERY}

    assert source().verify(sent, data, NOW) == "jira:" + DELIVERY


def _forged(data: bytes) -> str:
    good = sign(data)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


REJECTED: list[tuple[str, Callable[[bytes], dict[str, str]], Callable[[bytes], bytes]]] = [
    ("one character forged", lambda d: headers(d) | {"X-Hub-Signature": _forged(d)}, bytes),
    (
        "re-serialised body",
        headers,
        lambda d: json.dumps(json.loads(d), separators=(",", ":")).encode(),
    ),
    ("body changed after signing", headers, lambda d: d.replace(b"SB-1", b"SB-2")),
    ("missing signature", lambda d: {"X-Atlassian-Webhook-Identifier": DELIVERY}, bytes),
    ("empty signature", lambda d: headers(d) | {"X-Hub-Signature": ""}, bytes),
    ("bare hex", lambda d: headers(d) | {"X-Hub-Signature": sign(d)[7:]}, bytes),
    (
        "sha1 where sha256 is due",
        lambda d: headers(d) | {"X-Hub-Signature": sign(d, scheme="sha1")},
        bytes,
    ),
    (
        "upper-case scheme",
        lambda d: headers(d) | {"X-Hub-Signature": "SHA256=" + sign(d)[7:]},
        bytes,
    ),
    ("truncated digest", lambda d: headers(d) | {"X-Hub-Signature": sign(d)[:-2]}, bytes),
    ("digest not hex", lambda d: headers(d) | {"X-Hub-Signature": "sha256=" + "zz" * 32}, bytes),
    ("two digests", lambda d: headers(d) | {"X-Hub-Signature": sign(d) + "," + sign(d)}, bytes),
    (
        "GitHub's header name instead of Jira's",
        lambda d: {"X-Hub-Signature-256": sign(d), "X-Atlassian-Webhook-Identifier": DELIVERY},
        bytes,
    ),
    ("the other source's secret", lambda d: headers(d, secret=OTHER_SECRET), bytes),
    ("control character in the delivery id", lambda d: headers(d, delivery="a\nb"), bytes),
    ("delivery id too long", lambda d: headers(d, delivery="x" * 201), bytes),
    ("empty delivery id", lambda d: headers(d, delivery=" "), bytes),
]


@pytest.mark.parametrize(
    ("make_headers", "change"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_every_bad_signature_is_one_uniform_401(
    make_headers: Callable[[bytes], dict[str, str]], change: Callable[[bytes], bytes]
) -> None:
    data = raw("comment_created.json")
    sent = make_headers(data)
    received = change(data)

    with pytest.raises(UnauthorizedError) as caught:
        source().verify(sent, received, NOW)
    assert caught.value.detail == "The webhook signature could not be verified."


def test_jira_signs_no_timestamp_so_an_old_delivery_still_verifies() -> None:
    # The scheme has no timestamp to be stale (retries come up to 30 minutes late); replays are
    # the delivery id's business: a retry keeps X-Atlassian-Webhook-Identifier, so it dedupes.
    data = raw("issue_updated_status.json")  # a delivery of 2017

    assert source().verify(headers(data), data, NOW) == "jira:" + DELIVERY


@pytest.mark.parametrize("signer", ["jira-webhook-secret-new", "jira-webhook-secret-old"])
def test_during_a_rotation_either_secret_verifies(signer: str) -> None:
    jira = source(secret="jira-webhook-secret-new jira-webhook-secret-old")
    data = raw("issue_created.json")

    assert jira.verify(headers(data, secret=signer), data, NOW) == "jira:" + DELIVERY


def test_a_secret_rotated_since_the_cache_was_read_is_fetched_once() -> None:
    secrets = RotatingSecrets("jira-webhook-secret-old", fresh="jira-secret-new")
    jira = JiraSource(POLICY, secrets, SourceMapping())
    data = raw("issue_created.json")

    assert jira.verify(headers(data, secret="jira-secret-new"), data, NOW) == "jira:" + DELIVERY
    assert secrets.refreshes == 1


def test_a_forgery_with_no_refresh_due_is_rejected_without_a_second_look() -> None:
    secrets = RotatingSecrets(SECRET, fresh=None)
    jira = JiraSource(POLICY, secrets, SourceMapping())
    data = raw("issue_created.json")

    with pytest.raises(UnauthorizedError):
        jira.verify(headers(data, secret=OTHER_SECRET), data, NOW)
    assert secrets.refreshes == 1


def test_a_rejection_is_logged_without_the_secret_or_the_header(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = raw("issue_created.json")
    sent = headers(data, secret=OTHER_SECRET)

    with caplog.at_level(logging.INFO, logger="sla.sources.jira"), pytest.raises(UnauthorizedError):
        source().verify(sent, data, NOW)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "rejected" in logged
    assert SECRET not in logged and OTHER_SECRET not in logged
    assert sent["X-Hub-Signature"][7:] not in logged


def test_without_a_delivery_header_the_id_is_a_hash_of_the_body() -> None:
    data = raw("issue_created.json")
    sent = {"X-Hub-Signature": sign(data)}

    assert source().verify(sent, data, NOW) == "jira:" + hashlib.sha256(data).hexdigest()


# -- normalisation: issues -------------------------------------------------------------------------


def test_an_issue_created_is_a_complete_snapshot() -> None:
    created = events(raw("issue_created.json"))

    assert created == [
        event(
            "ticket.created",
            "2026-04-25T13:05:14.106Z",  # the envelope's epoch milliseconds
            {
                "id": "jira:KAN-3",
                "created_at": utc("2026-04-25T13:05:13.605Z"),  # 18:35:13.605+0530
                "plan": "professional",  # the mapping's default plan: no field, no label
                "priority": 3,  # priority id "3" (Medium)
                "environment": "production",
                "product_stage": "ga",
                "status": "new",
                "fields": None,
            },
            ("agent", "712020:28d10afc-d4b0-47f2-b86f-74d9a5f29c81"),
        )
    ]


def test_the_plan_comes_from_a_select_field_option() -> None:
    payload = load("issue_created.json")
    payload["issue"]["fields"]["customfield_10071"]["value"] = "Advanced"  # was "Medium"

    (created,) = events(payload, SourceMapping(plan_field="customfield_10071"))

    assert created.ticket.plan == "advanced"


def test_the_plan_comes_from_a_text_field() -> None:
    payload = load("issue_created.json")
    payload["issue"]["fields"]["customfield_10070"] = "Basic"  # was "Testing"

    (created,) = events(payload, SourceMapping(plan_field="customfield_10070"))

    assert created.ticket.plan == "basic"


def test_an_unknown_plan_in_the_plan_field_is_422_at_that_field() -> None:
    # the real delivery's select value "Medium" is no plan of the policy
    mapping = SourceMapping(plan_field="customfield_10071")

    locs = errors_of(lambda: events(raw("issue_created.json"), mapping))

    assert locs == [["body", "issue", "fields", "customfield_10071"]]


def test_the_plan_comes_from_a_plan_label() -> None:
    payload = load("issue_created.json")
    payload["issue"]["fields"]["labels"] = ["customer-x", "plan_Advanced"]

    (created,) = events(payload, SourceMapping())

    assert created.ticket.plan == "advanced"


def test_without_a_plan_or_a_default_the_complete_snapshot_says_none() -> None:
    (created,) = events(raw("issue_created.json"), SourceMapping())

    assert created.ticket.plan is None and created.ticket.fields is None
    assert not created.ticket.complete  # pending until a plan is known


def test_the_environment_comes_from_its_field() -> None:
    payload = load("issue_created.json")
    payload["issue"]["fields"]["customfield_10071"]["value"] = "Staging"
    mapping = SourceMapping(default_plan="basic", environment_field="customfield_10071")

    (created,) = events(payload, mapping)

    assert created.ticket.environment == "staging"


def test_an_unknown_environment_is_422_at_its_field() -> None:
    mapping = SourceMapping(default_plan="basic", environment_field="customfield_10070")

    locs = errors_of(lambda: events(raw("issue_created.json"), mapping))  # "Testing"

    assert locs == [["body", "issue", "fields", "customfield_10070"]]


def test_a_priority_changed_by_an_agent_is_a_reclassification() -> None:
    payload = load("issue_updated_priority.json")
    payload["user"]["accountType"] = "atlassian"  # Jira Cloud sends it since 2019; 2014 had none

    assert events(payload) == [
        event(
            "ticket.updated",
            "2014-02-26T19:57:13.145Z",
            TEST_1 | {"created_at": utc("2013-09-06T15:07:19.972Z"), "status": "new"},
            AGENT_LEO,
        )
    ]


@pytest.mark.parametrize("account_type", ["app", None])
def test_a_priority_changed_by_automation_or_an_unknown_user_is_system(
    account_type: str | None,
) -> None:
    payload = load("issue_updated_priority.json")  # the 2014 capture: no accountType
    if account_type is not None:
        payload["user"]["accountType"] = account_type

    (updated,) = events(payload)

    assert updated.type == "ticket.updated" and updated.ticket.priority == 3
    assert updated.actor == Actor(type="system", id=AGENT_LEO[1])


def test_a_priority_is_mapped_by_id_and_else_by_name_case_insensitively() -> None:
    payload = load("issue_updated_priority.json")
    payload["issue"]["fields"]["priority"].update(id="10100", name="URGENT")  # a site's own
    mapping = SourceMapping(default_plan="professional", priorities={"urgent": 1})

    (updated,) = events(payload, mapping)

    assert updated.ticket.priority == 1


def test_an_unmapped_priority_is_none_so_the_policy_default_applies() -> None:
    payload = load("issue_updated_priority.json")
    payload["issue"]["fields"]["priority"].update(id="10100", name="Blocker")

    (updated,) = events(payload)

    assert updated.ticket.priority is None


def test_a_status_change_is_an_update_with_the_new_status_never_by_an_agent() -> None:
    payload = load("issue_updated_status.json")  # To Do -> In Progress
    payload["user"]["accountType"] = "atlassian"

    assert events(payload) == [
        event(
            "ticket.updated",
            "2017-01-30T17:32:14.721Z",
            TEST_1 | {"created_at": utc("2017-01-30T17:30:41.962Z"), "status": "open"},
            SYSTEM_ADMIN,  # only a priority change by an agent is a reclassification
        )
    ]


def test_waiting_for_customer_is_pending_although_its_category_is_in_progress() -> None:
    payload = with_status(
        load("issue_updated_status.json"), "Waiting for customer", "indeterminate", "In Progress"
    )

    (updated,) = events(payload)

    assert (updated.type, updated.ticket.status) == ("ticket.updated", "pending")


def test_a_localised_status_name_is_mapped_by_the_mapping_first() -> None:
    """A German "Warten auf Kunden" is in progress by category; the mapping says it is pending."""
    payload = with_status(
        load("issue_updated_status.json"), "Warten auf Kunden", "indeterminate", "In Arbeit"
    )
    mapping = SourceMapping(statuses={"Warten auf Kunden": "pending"})

    (unmapped,) = events(payload)
    (mapped,) = events(payload, mapping)

    assert (unmapped.ticket.status, mapped.ticket.status) == ("open", "pending")


@pytest.mark.parametrize(
    ("name", "category", "kind"),
    [
        ("Resolved", "done", "ticket.solved"),
        ("Done", "done", "ticket.solved"),
        ("Completed", "done", "ticket.solved"),  # any name in the Done category
        ("Closed", "done", "ticket.closed"),
        ("Canceled", "done", "ticket.closed"),
    ],
)
def test_a_transition_into_done_solves_or_closes(name: str, category: str, kind: str) -> None:
    payload = load("issue_updated_status.json")
    payload["user"]["accountType"] = "atlassian"
    payload = with_status(payload, name, category, "In Progress")

    (stop,) = events(payload)

    assert stop == event(
        kind,
        "2017-01-30T17:32:14.721Z",
        TEST_1
        | {"created_at": utc("2017-01-30T17:30:41.962Z"), "status": kind.removeprefix("ticket.")},
        ("agent", SYSTEM_ADMIN[1]),
    )


def test_a_transition_out_of_resolved_reopens() -> None:
    payload = with_status(
        load("issue_updated_status.json"), "Waiting for support", "indeterminate", "Resolved"
    )

    (reopened,) = events(payload)

    assert (reopened.type, reopened.ticket.status) == ("ticket.reopened", "open")


def test_a_cleared_resolution_reopens_whatever_the_old_status_was_called() -> None:
    payload = with_status(load("issue_updated_status.json"), "Reopened", "new", "Fertig")
    payload["changelog"]["items"].append(
        {"field": "resolution", "fieldtype": "jira", "from": "10000", "to": None}
    )

    (reopened,) = events(payload)

    assert reopened.type == "ticket.reopened"


def test_a_priority_change_and_a_resolution_in_one_delivery_are_two_ordered_events() -> None:
    payload = with_status(load("issue_updated_status.json"), "Resolved", "done", "In Progress")
    payload["user"]["accountType"] = "atlassian"
    payload["changelog"]["items"].append(
        {"field": "priority", "fieldtype": "jira", "from": "3", "to": "2", "toString": "High"}
    )
    payload["issue"]["fields"]["priority"].update(id="2", name="High")

    updated, solved = events(payload)

    assert (updated.type, updated.actor.type, updated.ticket.priority) == (
        "ticket.updated",
        "agent",
        2,
    )
    assert solved.type == "ticket.solved"
    assert (updated.event_id, solved.event_id) == (f"jira:{DELIVERY}#0", f"jira:{DELIVERY}#1")
    assert updated.order_key < solved.order_key


def test_a_change_the_sla_does_not_depend_on_is_ignored() -> None:
    payload = load("issue_updated_status.json")
    payload["changelog"]["items"] = [
        {"field": "description", "fieldtype": "jira", "fieldId": "description", "to": None}
    ]

    assert events(payload) == []


def test_a_mapped_custom_field_is_recognised_by_its_field_id() -> None:
    payload = load("issue_updated_status.json")
    payload["issue"]["fields"]["customfield_10112"] = "Advanced"  # was "Not started"
    payload["changelog"]["items"] = [
        {"field": "Plan", "fieldtype": "custom", "fieldId": "customfield_10112", "to": None}
    ]

    (updated,) = events(payload, SourceMapping(plan_field="customfield_10112"))

    assert (updated.type, updated.ticket.plan) == ("ticket.updated", "advanced")


# -- normalisation: comments -----------------------------------------------------------------------


def test_a_public_agent_reply_responds_at_the_replys_own_time() -> None:
    assert events(raw("comment_created.json")) == [
        event(
            "ticket.responded",
            "2024-07-31T07:38:13.985Z",  # comment.created, 14:38:13.985+0700
            {"id": "jira:SB-1", "priority": 3, "status": "new", "fields": {"priority", "status"}},
            ("agent", "619a4432ebce470067f20384"),
        )
    ]


def test_an_edited_agent_reply_keeps_the_time_it_was_first_made() -> None:
    (responded,) = events(raw("comment_updated.json"))

    assert responded.type == "ticket.responded"
    assert responded.occurred_at == utc("2019-08-16T14:00:17.153Z")  # created, not updated


@pytest.mark.parametrize(
    "change",
    [
        {"jsdPublic": False},  # an internal note in a service project
        {"jsdPublic": "false"},  # anything but true or absent counts as internal
        {"visibility": {"type": "role", "value": "Administrators"}},  # restricted to a role
    ],
)
def test_an_internal_note_gives_no_event_so_the_clock_runs_on(change: dict[str, Any]) -> None:
    payload = load("comment_created.json")
    payload["comment"].update(change)

    assert events(payload) == []


def test_a_customers_public_comment_is_a_customer_reply() -> None:
    payload = load("comment_created.json")
    payload["comment"]["author"]["accountType"] = "customer"

    (replied,) = events(payload)

    assert (replied.type, replied.actor.type) == ("ticket.customer_replied", "customer")
    assert replied.occurred_at == utc("2024-07-31T07:38:13.985Z")


def test_an_apps_or_automations_comment_never_responds() -> None:
    payload = load("comment_created.json")
    payload["comment"]["author"]["accountType"] = "app"

    assert events(payload) == []


def test_a_comment_whose_author_has_no_account_type_is_not_taken_for_an_agent() -> None:
    # a capture of 2019, before Jira Cloud sent accountType
    assert events(raw("comment_created_2019.json")) == []


def test_an_offset_of_minus_three_thirty_is_read() -> None:
    payload = load("comment_created_2019.json")
    payload["comment"]["author"]["accountType"] = "customer"

    (replied,) = events(payload)

    assert replied.occurred_at == utc("2019-01-07T20:25:51.184Z")  # 16:55:51.184-0330


def test_a_comment_snapshot_is_partial_and_keeps_what_earlier_events_said() -> None:
    (created,) = events(raw("issue_created.json"))
    payload = load("comment_created.json")
    payload["issue"]["key"] = "KAN-3"  # the same ticket
    (responded,) = events(payload)

    merged = responded.ticket.merged_onto(created.ticket)

    assert merged.created_at == created.ticket.created_at and merged.plan == "professional"
    assert merged.fields is None and merged.complete


def test_a_comment_event_with_a_plan_field_mapped_still_carries_no_plan() -> None:
    mapping = SourceMapping(plan_field="customfield_10071", default_plan="basic")

    (responded,) = events(raw("comment_created.json"), mapping)

    assert responded.ticket.fields is not None
    assert sorted(responded.ticket.fields) == ["priority", "status"]


# -- what the product does not need, and what is not Jira's shape ----------------------------------


@pytest.mark.parametrize(
    "kind", ["jira:issue_deleted", "comment_deleted", "worklog_created", "attachment_created"]
)
def test_events_the_product_does_not_need_are_acknowledged_and_ignored(kind: str) -> None:
    payload = load("comment_created.json") | {"webhookEvent": kind}

    assert events(payload) == []


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ([{"webhookEvent": "comment_created"}], ["body"]),
        ({"timestamp": 1722411493985}, ["body", "webhookEvent"]),
        ({"webhookEvent": "comment_created", "comment": {}}, ["body", "issue"]),
        ({"webhookEvent": "jira:issue_created", "issue": {"key": 7}}, ["body", "issue", "key"]),
        ({"webhookEvent": "jira:issue_created", "issue": {"key": ""}}, ["body", "issue", "key"]),
        (
            {"webhookEvent": "jira:issue_created", "issue": {"key": "A-1", "fields": []}},
            ["body", "issue", "fields"],
        ),
        ({"webhookEvent": "comment_created", "issue": {"key": "A-1"}}, ["body", "comment"]),
    ],
)
def test_json_that_is_not_a_jira_webhook_is_422_at_the_field(payload: Any, loc: list[str]) -> None:
    data = json.dumps(payload).encode()

    assert errors_of(lambda: events(data)) == [loc]


@pytest.mark.parametrize(
    ("created", "problem"),
    [
        ("2026-05-01T00:05:01.000+0000", "future_instant"),  # more than 5 minutes ahead
        ("1999-12-31T23:59:59.000+0000", "past_instant"),
        ("2024-07-31T14:38:13.985", "timezone_aware"),  # no offset
        ("31/07/2024 14:38", "datetime_parsing"),
        ("9999-12-31T23:59:59.000-1200", "datetime_parsing"),  # past datetime's range in UTC
        (True, "datetime_type"),
    ],
)
def test_a_bad_reply_time_is_422_at_it(created: Any, problem: str) -> None:
    payload = load("comment_created.json")
    payload["comment"]["created"] = created

    with pytest.raises(UnprocessableError) as caught:
        events(payload)
    assert [(e["loc"], e["type"]) for e in caught.value.errors or []] == [
        (["body", "comment", "created"], problem)
    ]


def test_a_time_in_epoch_milliseconds_is_read() -> None:
    payload = load("comment_created.json")
    payload["comment"]["created"] = 1722411493985

    (responded,) = events(payload)

    assert responded.occurred_at == utc("2024-07-31T07:38:13.985Z")


def test_an_error_never_quotes_the_submitted_value() -> None:
    payload = load("issue_created.json")
    payload["issue"]["fields"]["customfield_10071"]["value"] = "Secret-Plan-Name"
    mapping = SourceMapping(plan_field="customfield_10071")

    with pytest.raises(UnprocessableError) as caught:
        events(payload, mapping)
    assert "secret-plan-name" not in json.dumps(caught.value.errors).lower()


def test_a_body_that_is_not_json_is_400() -> None:
    with pytest.raises(BadRequestError):
        events(b"webhookEvent=comment_created")


# -- dedupe ----------------------------------------------------------------------------------------


def test_the_same_delivery_twice_gives_the_same_event_ids() -> None:
    jira = source()
    data = raw("comment_created.json")
    first = jira.events(data, jira.verify(headers(data), data, NOW), NOW)
    again = jira.events(data, jira.verify(headers(data), data, NOW), NOW)

    assert [e.event_id for e in first] == [e.event_id for e in again] == ["jira:" + DELIVERY]


def test_two_deliveries_never_share_an_event_id() -> None:
    jira = source()
    one, two = raw("comment_created.json"), raw("issue_created.json")
    ids = {
        jira.verify(headers(one, delivery="delivery-1"), one, NOW),
        jira.verify(headers(two, delivery="delivery-2"), two, NOW),
        jira.verify({"X-Hub-Signature": sign(one)}, one, NOW),
        jira.verify({"X-Hub-Signature": sign(two)}, two, NOW),
    }

    assert len(ids) == 4


# -- nothing Jira may send gives another exception ------------------------------------------------

FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))
MAPPING = SourceMapping(
    default_plan="basic",
    plan_field="customfield_10071",
    environment_field="customfield_10070",
    product_stage_field="customfield_10112",
)


def test_every_real_delivery_gives_the_events_its_name_says() -> None:
    kinds = {name: [e.type for e in events(raw(name))] for name in FIXTURE_NAMES}

    assert kinds == {
        "comment_created.json": ["ticket.responded"],
        "comment_created_2019.json": [],
        "comment_updated.json": ["ticket.responded"],
        "issue_created.json": ["ticket.created"],
        "issue_updated_priority.json": ["ticket.updated"],
        "issue_updated_status.json": ["ticket.updated"],
    }


def test_time_is_utc_whatever_the_offset() -> None:
    for name in FIXTURE_NAMES:
        for e in events(raw(name)):
            assert e.occurred_at.tzinfo is UTC
            assert e.occurred_at <= NOW and e.occurred_at >= datetime(2000, 1, 1, tzinfo=UTC)
