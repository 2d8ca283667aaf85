"""The local stack: the real handlers on an embedded AWS (moto server), with what AWS would do
between them done here.

* a moto server on loopback, with the resources ``template.yaml`` declares (the table with its
  stream and index from the template itself; the schedule group, topic, queues and secret), and
  moto's transactions made to roll back item by item (``local/moto_patches.py``);
* an HTTP server (``local/server.py``, werkzeug) that does what API Gateway does in front of the
  webhook function: requests become HTTP API (v2) events for the real handler, whose responses go
  back unchanged; CORS as the template declares it; oversized and malformed requests refused;
* a stream pump feeding the table's stream to the real timers handler in batches, retrying the
  records it reports as failed, and parking a record that keeps failing in the stream failure
  queue, as the event source mapping would;
* a scheduler pump firing due one-time schedules into the real notifier with their exact input
  (deleted after completion; two retries, then the notifier failure queue, as Lambda would);
* the sweeper every minute, and every SNS publication captured, printed as one line and listed at
  ``GET /_local/notifications``;
* a clock that can be moved forward (``POST /_local/clock``), so warnings and breaches can be
  watched without waiting hours. Local-only routes live under ``/_local/``.

One process tree; ``stop()`` (or Ctrl-C in ``make run``) ends it cleanly.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from local.pumps import StreamReader, due_schedules
from local.server import Cors, LocalServer
from local.template import load_template, table_kwargs

REGION = "eu-central-1"
ACCOUNT = "123456789012"
TABLE = "sla-tickets"
GROUP = "sla-local"


class Clock:
    """Real time plus an offset that only ever grows (``/_local/clock``).

    It starts at real time, or at ``SLA_LOCAL_NOW`` (an ISO instant with a timezone) when that is
    set: a local-only setting, for trying (and testing) the stack on a chosen day and hour.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        start = os.environ.get("SLA_LOCAL_NOW")
        if start:
            instant = datetime.fromisoformat(start)
            if instant.tzinfo is None:
                raise ValueError("SLA_LOCAL_NOW needs a timezone, e.g. 2027-03-28T00:30:00Z")
            self._offset = instant - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the local clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()


@dataclass
class Context:
    """Enough of a Lambda context for Powertools."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"


class LocalStack:
    def __init__(
        self,
        port: int = 3000,
        secret: str | None = None,
        echo: Callable[[str], None] | None = None,
        pump_interval: float = 0.2,
    ) -> None:
        self.port = port
        self.secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.echo = echo or (lambda line: print(line, flush=True))
        self.pump_interval = pump_interval
        self.clock = Clock()
        self.notifications: list[dict[str, Any]] = []
        # one instance per function, so each handles one event at a time; functions run in parallel
        self.locks = {
            name: threading.Lock() for name in ("webhook", "timers", "notifier", "sweeper")
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._failed_records: dict[str, int] = {}
        # the pump thread and POST /_local/clock both pump; a round is not safe to run twice at once
        self._pump_lock = threading.Lock()
        self._last_sweep = 0.0

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        from local.moto_patches import install

        if os.environ.get("SLA_LOCAL_PLAIN_MOTO") != "1":  # 1: moto as released (benchmarks)
            install()  # transactions roll back the items they touched, not a copy of the table

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, moto_port = self.moto.get_host_and_port()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://{host}:{moto_port}",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "1",
                "POWERTOOLS_METRICS_DISABLED": "1",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                "POWERTOOLS_SERVICE_NAME": "sla-keeper",
                "SLA_LOCAL": "1",  # the handler serves /openapi.json and /swagger
                "POWERTOOLS_METRICS_NAMESPACE": "SlaKeeper",
            }
        )
        self._create_resources()
        self._load_handlers()
        self.http = LocalServer(self, self.port, Cors.from_template()).start()
        self.port = self.http.port
        self._spawn(self._pump_forever)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.http.stop()
        for thread in self._threads:
            thread.join(timeout=15)  # the pump ends its current invocation before moto goes
        self.moto.stop()

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- resources, as template.yaml declares them --------------------------------------------

    def _create_resources(self) -> None:
        import boto3

        resources = load_template()["Resources"]
        assert resources["TicketsTable"]["Type"] == "AWS::DynamoDB::Table"
        self.dynamodb = boto3.client("dynamodb")
        self.dynamodb.create_table(**table_kwargs("TicketsTable", TABLE))
        self.scheduler = boto3.client("scheduler")
        self.scheduler.create_schedule_group(Name=GROUP)
        self.sqs = boto3.client("sqs")
        self.queues = {}
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::SQS::Queue":
                url = self.sqs.create_queue(QueueName=logical_id)["QueueUrl"]
                self.queues[logical_id] = url
        self.sns = boto3.client("sns")
        topic = self.sns.create_topic(Name="NotificationsTopic")["TopicArn"]
        inbox = self.sqs.create_queue(QueueName="local-subscriber")["QueueUrl"]
        self.inbox = inbox
        self.sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=self._queue_arn(inbox),
            Attributes={"RawMessageDelivery": "false"},
        )
        secret_arn = boto3.client("secretsmanager").create_secret(
            Name="WebhookSecret", SecretString=self.secret
        )["ARN"]
        os.environ.update(
            {
                "SLA_TABLE_NAME": TABLE,
                "SLA_WEBHOOK_SECRET": self.secret,
                "SLA_TOPIC_ARN": topic,
                "SLA_SCHEDULE_GROUP": GROUP,
                "SLA_NOTIFIER_ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:local-notifier",
                "SLA_SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/sla-local-scheduler",
                "SLA_SCHEDULER_DLQ_ARN": self._queue_arn(self.queues["SchedulerDeadLetterQueue"]),
            }
        )
        os.environ.pop("SLA_SECRET_ARN", None)
        self.secret_arn = secret_arn
        # the helpdesk routes (POST /webhooks/<name>), each enabled by its secret: the one set in
        # SLA_<NAME>_SECRET, else a fresh one; the mapping of SLA_MAPPING_FILE, else local/'s
        from sla.sources.registry import HELPDESKS

        self.helpdesk_secrets = {
            name: os.environ.get(f"SLA_{name.upper()}_SECRET") or secrets.token_urlsafe(24)
            for name in HELPDESKS
        }
        for name, secret in self.helpdesk_secrets.items():
            os.environ[f"SLA_{name.upper()}_SECRET"] = secret
            os.environ.pop(f"SLA_{name.upper()}_SECRET_ARN", None)
        local_mapping = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mapping.toml")
        self.mapping_file = os.environ.get("SLA_MAPPING_FILE") or local_mapping
        os.environ["SLA_MAPPING_FILE"] = self.mapping_file
        self.streams = StreamReader(self.dynamodb, boto3.client("dynamodbstreams"), TABLE)

    def _queue_arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn: str = attributes["Attributes"]["QueueArn"]
        return arn

    def _load_handlers(self) -> None:
        from sla.runtime import clock, wiring

        wiring.reset()
        # the configuration (policy, mapping file, secrets) is checked now, with a clear error,
        # not at the first request
        wiring.webhook_service()
        from functions.notifier import app as notifier
        from functions.sweeper import app as sweeper
        from functions.timers import app as timers
        from functions.webhook import app as webhook

        self.handlers: dict[str, ModuleType] = {
            "webhook": webhook,
            "timers": timers,
            "notifier": notifier,
            "sweeper": sweeper,
        }
        clock.use(self.clock.now)  # the movable clock, for every handler

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        with self.locks[name]:
            try:
                return self.handlers[name].lambda_handler(event, Context(f"sla-local-{name}"))
            finally:
                # metrics are off locally, but Powertools still buffers them until 100 values
                self.handlers[name].metrics.clear_metrics()

    def schedules(self) -> list[dict[str, Any]]:
        """The live schedules of the group with their ``at()`` and input (``/_local/schedules``)."""
        names = self.scheduler.list_schedules(GroupName=GROUP).get("Schedules", [])
        details = [self.scheduler.get_schedule(Name=s["Name"], GroupName=GROUP) for s in names]
        return [
            {
                "name": d["Name"],
                "at": d["ScheduleExpression"],
                "input": json.loads(d["Target"]["Input"]),
            }
            for d in details
        ]

    # -- pumps ------------------------------------------------------------------------------------

    def _pump_forever(self) -> None:
        while not self._stop.wait(self.pump_interval):
            try:
                self.pump()
            except Exception as exc:  # a pump must survive whatever a handler does
                if not self._stop.is_set():  # stopping may cut a round short: not an error
                    self.echo(f"[local] pump error: {type(exc).__name__}: {exc}")

    def pump(self) -> None:
        """One round of everything AWS would do: stream, schedules, sweeper, notifications."""
        with self._pump_lock:
            self._pump_round()

    def _pump_round(self) -> None:
        from moto.core.model_instances import reset_model_data

        # moto keeps every model object it ever made for its web dashboard, including the copy
        # of the whole table that each TransactWriteItems takes: without this, memory grows by
        # megabytes per webhook. Dropping the dashboard's references changes no AWS state.
        reset_model_data()
        self._pump_stream()
        self._fire_schedules()
        if time.monotonic() - self._last_sweep > 60:
            self._last_sweep = time.monotonic()
            self.invoke("sweeper", {})
            self._pump_stream()
        self._collect_notifications()

    def _pump_stream(self) -> None:
        """Everything new on the stream, read 100 records at a time (a backlog is worked off in
        steps, as an event source mapping does, so a burst never sits in memory twice)."""
        while True:
            fresh = self._pump_stream_step(100)
            if len(fresh) < 100 or self._stop.is_set():
                return

    def _pump_stream_step(self, limit: int) -> list[dict[str, Any]]:
        pending = getattr(self, "_pending_records", [])
        fresh = self.streams.poll(limit=limit)
        if fresh:
            self._trim_stream(int(fresh[-1]["dynamodb"]["SequenceNumber"]))
        elif self.streams.positions():
            self._trim_stream(0)
        records = pending + fresh
        self._pending_records: list[dict[str, Any]] = []
        for start in range(0, len(records), 25):
            if self._stop.is_set():
                return fresh
            batch = records[start : start + 25]
            result = self.invoke("timers", {"Records": batch})
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            for record in batch:
                sequence = record["dynamodb"]["SequenceNumber"]
                if sequence not in failed:
                    continue
                attempts = self._failed_records.get(sequence, 0) + 1
                self._failed_records[sequence] = attempts
                if attempts < 10:
                    self._pending_records.append(record)
                else:  # the mapping's on-failure destination
                    self.sqs.send_message(
                        QueueUrl=self.queues["StreamFailureQueue"],
                        MessageBody=json.dumps(
                            {
                                "DDBStreamBatchInfo": {
                                    "startSequenceNumber": sequence,
                                    "endSequenceNumber": sequence,
                                }
                            }
                        ),
                    )
        return fresh

    def _trim_stream(self, through: int) -> None:
        """Drop stream records already read, as DynamoDB drops them after 24 hours. moto keeps
        them forever (and as released copies them on every transaction): without this, memory
        grows with every webhook. (The local stack runs moto in this process, so its backend is
        at hand.)"""
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        # moto also keeps every shard iterator ever handed out, each holding the table object of
        # its time (moto as released swaps table objects when it rolls back): keep the live ones
        iterators = dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators
        live = set(self.streams.positions())
        for arn in [arn for arn in iterators if arn not in live]:
            del iterators[arn]
        table = dynamodb_backends[ACCOUNT][REGION].tables[TABLE]
        shard = table.stream_shard
        if shard is None:
            return
        consumed = through - shard.starting_sequence_number + 1
        if consumed > 0:
            del shard.items[:consumed]
            shard.starting_sequence_number += consumed

    def _fire_schedules(self) -> None:
        for _, payload in due_schedules(self.scheduler, GROUP, self.clock.now()):
            if self._stop.is_set():
                return
            for attempt in range(3):  # Lambda's asynchronous invoke: two retries
                try:
                    self.invoke("notifier", payload)
                    break
                except Exception as exc:
                    if attempt == 2:
                        self.sqs.send_message(
                            QueueUrl=self.queues["NotifierFailureQueue"],
                            MessageBody=json.dumps(
                                {
                                    "requestPayload": payload,
                                    "responseContext": {"error": type(exc).__name__},
                                }
                            ),
                        )
            self._pump_stream()

    def _collect_notifications(self) -> None:
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return
            for message in messages:
                envelope = json.loads(message["Body"])
                body = json.loads(envelope["Message"])
                self.notifications.append(body)
                self.echo(self._describe(body))
                self.sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])

    @staticmethod
    def _describe(body: dict[str, Any]) -> str:
        sla = body["sla"]
        return (
            f"[{body['type']}] {body['ticket_id']} {sla['plan']} P{sla['priority']} "
            f"for {body['for']}: status {sla['status']}, deadline {sla['deadline']} "
            f"(id {body['notification_id'][:8]})"
        )
