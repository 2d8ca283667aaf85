"""The local stack: the real handlers on an embedded AWS (moto server), with what AWS would do
between them done here.

* a moto server on loopback, with the resources ``template.yaml`` declares (the table with its
  stream and index from the template itself; the schedule group, topics, queues and secret), and
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

from local.pumps import ScheduleBook, StreamReader, live_schedules
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
        clock_wait: float = 5.0,
    ) -> None:
        self.port = port
        self.secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.echo = echo or (lambda line: print(line, flush=True))
        self.pump_interval = pump_interval
        self.clock_wait = clock_wait  # how long POST /_local/clock waits for its pump round
        self.clock = Clock()
        self.notifications: list[dict[str, Any]] = []
        # one instance per function, so each handles one event at a time; functions run in parallel
        self.locks = {
            name: threading.Lock() for name in ("webhook", "timers", "notifier", "sweeper")
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._failed_records: dict[str, int] = {}
        # rounds are run by the pump thread alone; pump() asks for one and waits for it
        self._wake = threading.Event()
        self._rounds = threading.Condition()
        self._rounds_started = 0
        self._rounds_done = 0
        self._last_sweep = 0.0
        # the instant up to which the scheduler pump has fired everything due: the sweeper's
        # clock (see _sweep)
        self._fired_until = self.clock.now()
        # the subscriber inbox is drained after every function that may publish; the pump thread
        # drains it, and so may a caller of collect_notifications()
        self._inbox_lock = threading.Lock()

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
        self._wake.set()
        with self._rounds:
            self._rounds.notify_all()  # a POST /_local/clock waiting for its round answers now
        self.http.stop()
        for thread in self._threads:
            # the pump stops between two steps of a backlog: it ends the invocation under way
            # (at most one batch of 25 stream records or one timer) before moto goes
            thread.join(timeout=15)
        self.moto.stop()

    @property
    def stopped(self) -> bool:
        """stop() was called and every thread of the stack has ended."""
        return self._stop.is_set() and not any(t.is_alive() for t in self._threads)

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
        assert resources["ChatNotificationsTopic"]["Type"] == "AWS::SNS::Topic"
        chat_topic = self.sns.create_topic(Name="ChatNotificationsTopic")["TopicArn"]
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
                "SLA_CHAT_TOPIC_ARN": chat_topic,
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
        self.book = ScheduleBook(self.scheduler, GROUP, cancelled=self._stop.is_set)

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
            wrote_schedules = name != "webhook"  # the webhook writes state only
            try:
                result = self.handlers[name].lambda_handler(event, Context(f"sla-local-{name}"))
                if name == "sweeper" and not result.get("rearmed"):
                    wrote_schedules = False  # it writes a schedule only to re-arm one
                return result
            finally:
                # metrics are off locally, but Powertools still buffers them until 100 values
                self.handlers[name].metrics.clear_metrics()
                if wrote_schedules:
                    self.book.changed()

    def report(self, start: str | None = None, end: str | None = None) -> str:
        """The SLA report of the stack's own tickets (``GET /_local/report``): ``sla report
        --table`` on the stack's table at the stack's clock, the same HTML page. ``start`` and
        ``end`` as ``--from`` and ``--to``; ValueError for a malformed one."""
        from zoneinfo import ZoneInfo

        from sla import load_policy
        from sla.tools.report import Period, Side, TableReader, Tally, parse_bound
        from sla.tools.report import report_from_table as build
        from sla.tools.report_html import render

        path = os.environ.get("SLA_POLICY_FILE") or None
        policy = load_policy(path)
        zone = ZoneInfo(policy.config.calendar.timezone)
        period = Period(
            parse_bound(start, zone) if start else None, parse_bound(end, zone) if end else None
        )
        side = Side(path or "default policy", policy, Tally(zone))
        reader = TableReader(TABLE, policy, self.dynamodb)
        warn = lambda message: self.echo(f"[report] {message}")  # noqa: E731
        return render(build(reader, [side], period, self.clock.now(), warn=warn))

    def schedules(self) -> list[dict[str, Any]]:
        """The live schedules with their ``at()`` and input (``GET /_local/schedules``), every
        page of them."""
        return [
            {"name": s.name, "at": s.expression, "input": s.input}
            for s in live_schedules(self.scheduler, GROUP)
        ]

    def _sweep(self) -> None:
        """The sweeper repairs what Scheduler failed to fire. Scheduler fires on time; here the
        scheduler pump catches up with a clock that jumped, schedule by schedule. A sweeper on
        the jumped clock would see every schedule the pump has not reached yet as a failure, and
        publish the whole backlog in one invocation as "repairs". So it sees the instant up to
        which the pump has fired everything."""
        from sla.runtime import clock

        with clock.in_this_thread(lambda: self._fired_until):
            self.invoke("sweeper", {})

    # -- pumps ------------------------------------------------------------------------------------

    def _pump_forever(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.pump_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._rounds:
                self._rounds_started += 1
                number = self._rounds_started
            try:
                self._pump_round()
            except Exception as exc:  # a pump must survive whatever a handler does
                if not self._stop.is_set():  # stopping may cut a round short: not an error
                    self.echo(f"[local] pump error: {type(exc).__name__}: {exc}")
            with self._rounds:
                self._rounds_done = number
                self._rounds.notify_all()

    def pump(self, wait: float | None = None) -> bool:
        """Have the pump thread run a round of everything AWS would do (stream, schedules,
        sweeper, notifications) with the clock as it is now, and wait for it up to ``wait``
        seconds (``clock_wait`` unless given). True when that round is done: everything that
        fell due has fired and its notifications are collected. False when it is still at work
        (a clock jump over thousands of tickets): the pump thread carries on, step by step,
        notifications keep arriving, and every other request is answered meanwhile."""
        with self._rounds:
            target = self._rounds_started + 1  # a round that starts after this call
            self._wake.set()
            return (
                self._rounds.wait_for(
                    lambda: self._rounds_done >= target or self._stop.is_set(),
                    timeout=self.clock_wait if wait is None else wait,
                )
                and not self._stop.is_set()
            )

    def _pump_round(self) -> None:
        from moto.core.model_instances import reset_model_data

        # moto keeps every model object it ever made for its web dashboard, including the copy
        # of the whole table that each TransactWriteItems takes: without this, memory grows by
        # megabytes per webhook. Dropping the dashboard's references changes no AWS state.
        reset_model_data()
        self._pump_stream()
        self._fire_schedules()
        if self._stop.is_set():
            return
        if time.monotonic() - self._last_sweep > 60:
            self._last_sweep = time.monotonic()
            self._sweep()
            self.collect_notifications()
            self._pump_stream()
        self.collect_notifications()

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
            self.collect_notifications()  # it judges at once what is due already
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
        """Fire what is due, oldest first, in steps of 25: after each step the stream is pumped
        and the notifications collected; a stop ends the round before the next schedule."""
        now = self.clock.now()
        due = self.book.due(now)
        for start in range(0, len(due), 25):
            for schedule in due[start : start + 25]:
                if self._stop.is_set():
                    return
                payload = self.book.take(schedule.name, now)
                if payload is not None:
                    self._fire(payload)
            self.collect_notifications()
            self._pump_stream()
        self._fired_until = now

    def _fire(self, payload: dict[str, Any]) -> None:
        for attempt in range(3):  # Lambda's asynchronous invoke: two retries
            try:
                self.invoke("notifier", payload)
                return
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

    def collect_notifications(self) -> None:
        """Move what the topic delivered to the subscriber inbox into ``notifications``. Called
        after every function that may publish, so the inbox stays short: moto's SQS counts the
        whole queue on every send and every message received, which made a backlog of thousands
        of notices take minutes."""
        with self._inbox_lock:
            while True:
                messages = self.sqs.receive_message(
                    QueueUrl=self.inbox, MaxNumberOfMessages=10
                ).get("Messages", [])
                if not messages:
                    return
                for message in messages:
                    envelope = json.loads(message["Body"])
                    body = json.loads(envelope["Message"])
                    self.notifications.append(body)
                    self.echo(self._describe(body))
                self.sqs.delete_message_batch(
                    QueueUrl=self.inbox,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )

    @staticmethod
    def _describe(body: dict[str, Any]) -> str:
        sla = body["sla"]
        return (
            f"[{body['type']}] {body['ticket_id']} {sla['plan']} P{sla['priority']} "
            f"for {body['for']}: status {sla['status']}, deadline {sla['deadline']} "
            f"(id {body['notification_id'][:8]})"
        )
