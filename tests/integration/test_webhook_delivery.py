"""At-least-once, any-order delivery: duplicates, races, permutations and AWS faults."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.signing import TEST_SECRET, signature_headers
from sla import load_policy
from sla.app.api import WebhookService
from sla.aws.store import DynamoTicketStore
from sla.fakes import StaticSecrets
from sla.runtime.wiring import webhook_service
from sla.sources.canonical import StandardWebhooksSource
from tests.integration.conftest import NOW, TABLE, Api, FlakyClient, payload

LIFE = [
    ("d1", payload("ticket.created", "2026-11-25T08:59:00Z", priority=1, environment="staging")),
    ("d2", payload("ticket.updated", "2026-11-25T08:59:30Z", priority=1)),
    (
        "d3",
        payload(
            "ticket.updated",
            "2026-11-25T08:59:40Z",
            actor="agent",
            priority=2,
            reason="workaround exists",
        ),
    ),
    ("d4", payload("ticket.responded", "2026-11-25T08:59:50Z", actor="agent", priority=2)),
    ("d5", payload("ticket.solved", "2026-11-25T08:59:55Z", actor="agent", priority=2)),
]


def items(dynamodb: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return result


def ticket_item(dynamodb: Any) -> dict[str, Any]:
    return next(i for i in items(dynamodb) if i["sk"]["S"] == "TICKET")


def test_the_same_delivery_ten_times_changes_state_once(api: Api, dynamodb: Any) -> None:
    answers = [api.post(payload(), msg_id="msg-dup") for _ in range(10)]
    assert {a.status for a in answers} == {200}
    assert all(a.body == answers[0].body for a in answers)
    assert ticket_item(dynamodb)["version"]["N"] == "1"
    assert len(items(dynamodb)) == 2  # the ticket and one delivery


class SerialMoto:
    """One moto call at a time: moto's in-process mock is not made for concurrent requests (its
    TransactWriteItems checks conditions and writes without a lock). DynamoDB gives each request
    that atomicity; the requests of different instances still interleave between calls (read,
    reduce, write), which is the race under test."""

    lock = threading.Lock()

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.real, name)

        def locked(**kwargs: Any) -> Any:
            with self.lock:
                return target(**kwargs)

        return locked


def instances(n: int) -> list[WebhookService]:
    """Concurrent Lambda instances: each has its own service and client, all share the table.
    (One Lambda process serves one request at a time, so the handler module is never entered
    by two threads; Powertools' resolver keeps the current event in module state.)"""
    policy = load_policy()
    source = StandardWebhooksSource(policy, StaticSecrets(TEST_SECRET))
    return [
        WebhookService(
            policy,
            DynamoTicketStore(TABLE, policy, client=SerialMoto(boto3.client("dynamodb"))),
            {"tickets": source},
            256 * 1024,
        )
        for _ in range(n)
    ]


def deliver(service: WebhookService, msg_id: str, body: dict[str, Any]) -> str:
    raw = json.dumps(body).encode()
    headers = signature_headers(raw, int(NOW.timestamp()), msg_id=msg_id)
    return service.ingest(headers, raw.decode(), False, NOW).outcome


def test_concurrent_duplicates_apply_once_and_never_fail(api: Api, dynamodb: Any) -> None:
    services = instances(8)
    barrier = threading.Barrier(len(services))

    def send(service: WebhookService) -> str:
        barrier.wait()
        return deliver(service, "msg-race", payload())

    with ThreadPoolExecutor(len(services)) as pool:
        outcomes = list(pool.map(send, services))
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 7
    assert ticket_item(dynamodb)["version"]["N"] == "1"
    assert len(items(dynamodb)) == 2


def test_concurrent_different_deliveries_all_apply(api: Api, dynamodb: Any) -> None:
    for _ in range(5):
        for item in items(dynamodb):
            dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
        services = instances(len(LIFE) * 2)
        barrier = threading.Barrier(len(services))

        def send(
            job: tuple[WebhookService, tuple[str, dict[str, Any]]],
            barrier: threading.Barrier = barrier,
        ) -> str:
            service, (msg_id, body) = job
            barrier.wait()
            return deliver(service, msg_id, body)

        with ThreadPoolExecutor(len(services)) as pool:
            outcomes = list(pool.map(send, zip(services, LIFE * 2, strict=True)))
        assert sorted(outcomes) == ["applied"] * len(LIFE) + ["duplicate"] * len(LIFE)
        assert ticket_item(dynamodb)["version"]["N"] == str(len(LIFE))
        in_order = api.sla("T-1001").body
        assert (in_order["priority_reason"], in_order["status"]) == ("agent", "met")


def final_view(api: Api, order: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    for msg_id, body in order:
        assert api.post(body, msg_id=msg_id).status == 200
    view: dict[str, Any] = api.sla("T-1001").body
    return view


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(LIFE), repeats=st.lists(st.sampled_from(LIFE), max_size=3))
def test_any_order_with_duplicates_gives_the_in_order_state(
    api: Api, dynamodb: Any, order: list[tuple[str, dict[str, Any]]], repeats: list[Any]
) -> None:
    for item in items(dynamodb):
        dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
    expected = {
        "ticket_id": "T-1001",
        "plan": "professional",
        "requested_priority": 1,
        "priority": 2,
        "priority_reason": "agent",
        "target": {"hours": 6, "clock": "business"},
        "status": "met",
        "clock_started_at": "2026-11-25T08:59:00Z",
        "warning_at": "2026-11-25T13:29:00Z",
        "deadline": "2026-11-25T14:59:00Z",
        "first_response_at": "2026-11-25T08:59:50Z",
        "clock_stopped_at": "2026-11-25T08:59:50Z",
        "current": {
            "plan": "professional",
            "requested_priority": 1,
            "priority": 2,
            "priority_reason": "agent",
            "kind": "targeted",
        },
        "origin": {},
    }
    view = final_view(api, [*order, *repeats])
    history = view.pop("history")
    assert view == expected
    assert [h["event_id"] for h in history] == ["d1", "d2", "d3", "d4", "d5"]


def test_event_for_an_unseen_ticket_creates_it(api: Api) -> None:
    answer = api.post(payload("ticket.responded", "2026-11-25T08:59:30Z", actor="agent"))
    assert answer.status == 200
    assert answer.body["status"] == "met"


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("transact_write_items", "ProvisionedThroughputExceededException"),
        ("transact_write_items", "ThrottlingException"),
        ("get_item", "ProvisionedThroughputExceededException"),
        ("get_item", "InternalServerError"),
        ("transact_write_items", "ServiceUnavailable"),
    ],
)
def test_throttling_is_503_with_retry_after_and_the_retry_applies_once(
    api: Api, dynamodb: Any, operation: str, code: str
) -> None:
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    flaky = FlakyClient(store.client, operation, code, times=1)
    store.client = flaky
    first = api.post(payload(), msg_id="msg-throttled")
    assert first.status == 503
    assert first.headers["Retry-After"] == "5"
    assert first.headers["Content-Type"] == "application/problem+json"
    assert items(dynamodb) == []
    retry = api.post(payload(), msg_id="msg-throttled")
    again = api.post(payload(), msg_id="msg-throttled")
    assert (retry.status, again.status) == (200, 200)
    assert ticket_item(dynamodb)["version"]["N"] == "1"


def test_cancelled_transaction_for_throttling_is_503(api: Api, dynamodb: Any) -> None:
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    real = store.client

    class Cancelling(FlakyClient):
        def __getattr__(self, name: str) -> Any:
            if name != "transact_write_items" or self.times == 0:
                return getattr(self.real, name)
            self.times -= 1

            def cancel(**_: Any) -> Any:
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                        "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}],
                    },
                    "TransactWriteItems",
                )

            return cancel

    store.client = Cancelling(real, "transact_write_items", "", times=1)
    assert api.post(payload(), msg_id="m").status == 503
    assert items(dynamodb) == []
    assert api.post(payload(), msg_id="m").status == 200


def test_a_lost_version_race_is_retried_not_an_error(api: Api, dynamodb: Any) -> None:
    api.post(LIFE[0][1], msg_id=LIFE[0][0])
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    original_load = store.load
    sneaked = {"done": False}

    def load_then_race(ticket_id: str) -> Any:
        stored = original_load(ticket_id)
        if not sneaked["done"]:
            sneaked["done"] = True
            store.load = original_load  # type: ignore[method-assign]
            assert api.post(LIFE[1][1], msg_id=LIFE[1][0]).status == 200  # another writer wins
        return stored

    store.load = load_then_race  # type: ignore[method-assign]
    assert api.post(LIFE[2][1], msg_id=LIFE[2][0]).status == 200
    assert ticket_item(dynamodb)["version"]["N"] == "3"
    assert [h["event_id"] for h in api.sla("T-1001").body["history"]] == ["d1", "d2", "d3"]


def test_access_denied_is_a_500_problem_without_details(api: Api, dynamodb: Any) -> None:
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    store.client = FlakyClient(store.client, "get_item", "AccessDeniedException", 1)
    answer = api.post(payload())
    assert answer.status == 500
    assert answer.body["detail"] == "An unexpected error occurred."
    assert "AccessDenied" not in answer.raw


def test_a_new_ticket_costs_two_dynamodb_calls(api: Api) -> None:
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    counting = FlakyClient(store.client, "none", "", 0)
    store.client = counting
    api.post(payload(), msg_id="n1")
    assert counting.calls == ["get_item", "transact_write_items"]
    counting.calls.clear()
    api.post(payload(), msg_id="n1")
    assert counting.calls == ["get_item"]  # a duplicate is answered from one read


def test_late_reply_history_and_view(api: Api) -> None:
    api.now += timedelta(hours=8)
    api.post(payload(), msg_id="c")
    late = api.post(payload("ticket.responded", "2026-11-25T16:00:00Z", actor="agent"), msg_id="r")
    assert late.body["status"] == "breached"
    history = api.sla("T-1001").body["history"]
    assert history[-1]["actor"] == {"type": "agent", "id": "agent-42"}
    assert history[-1]["changes"]["first_response_at"] == [None, "2026-11-25T16:00:00Z"]
    assert json.dumps(history)
