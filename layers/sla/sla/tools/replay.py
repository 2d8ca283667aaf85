"""Replaying dead letters (RELIABILITY.md invariant 4): ``sla replay``.

Three queues can hold failures, and each message says which kind it is:

* the Scheduler dead-letter queue: the timer's own input -> the notifier is invoked with it;
* the notifier's on-failure destination: ``requestPayload`` is the timer input -> likewise;
* the stream's on-failure destination: ``DDBStreamBatchInfo`` names a batch (the records stay in
  the stream for 24 h only) -> the sweeper runs once in full mode, which re-arms every missing
  timer and judges everything overdue, whatever the lost batch held.

Each message is deleted only after its replay succeeded; the notifier is idempotent, so replaying
a message twice publishes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReplayReport", "Replayer", "lambda_invoker"]

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class ReplayReport:
    replayed: int = 0
    sweeps: int = 0
    failed: list[str] = field(default_factory=list)


def lambda_invoker(client: Any) -> Invoke:
    """Invoke a function synchronously and raise if it failed."""

    def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload)
        )
        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise RuntimeError(f"{function} failed: {body[:500]!r}")
        result: dict[str, Any] = json.loads(body or b"{}")
        return result

    return invoke


class Replayer:
    def __init__(self, sqs: Any, invoke: Invoke, notifier: str, sweeper: str) -> None:
        self.sqs = sqs
        self.invoke = invoke
        self.notifier = notifier
        self.sweeper = sweeper

    def replay(self, queue_url: str, max_messages: int = 1000) -> ReplayReport:
        report = ReplayReport()
        stream_batches: list[str] = []
        seen = 0
        while seen < max_messages:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                seen += 1
                handle = message["ReceiptHandle"]
                try:
                    body = json.loads(message["Body"])
                except json.JSONDecodeError:
                    report.failed.append(message["MessageId"])
                    continue
                if "DDBStreamBatchInfo" in body:
                    stream_batches.append(handle)
                    continue
                timer = body.get("requestPayload", body)
                try:
                    self.invoke(self.notifier, timer)
                except Exception:  # kept in the queue for the next replay
                    report.failed.append(message["MessageId"])
                    continue
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
                report.replayed += 1
        if stream_batches:
            try:
                self.invoke(self.sweeper, {"full": True})
            except Exception:
                report.failed.extend(f"stream batch {i}" for i in range(len(stream_batches)))
            else:
                report.sweeps += 1
                for handle in stream_batches:
                    self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
                report.replayed += len(stream_batches)
        return report
