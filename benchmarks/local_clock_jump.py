"""The local stack's clock jumped over a backlog: thousands of running tickets, then one
``POST /_local/clock`` that makes every warning and breach due at once.

    .venv/bin/python -m benchmarks.local_clock_jump [--tickets 300,2000,6000] [--advance 5h]

For each size: the stack runs in this process; the tickets (Advanced P1: one hour elapsed, the
warning at 45 minutes) are written through the real webhook handler, and the benchmark waits
until the timers function has armed both schedules of each. Then the clock moves forward, and
it measures how long the clock request takes, how long until every owed notice has been
published (two per ticket), the slowest answer to ``GET /_local/clock`` sent every quarter of a
second meanwhile, and how long ``stop()`` takes when it is called while the backlog is worked
(a second stack with the same backlog, stopped one second into the jump) and when it is idle.

The figures say how the local stack behaves for trying things out, not how fast AWS is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

from local.signing import signed_webhook_event
from local.stack import ACCOUNT, GROUP, REGION, LocalStack


def _live_schedules() -> int:
    from moto.scheduler.models import scheduler_backends

    return len(scheduler_backends[ACCOUNT][REGION].schedule_groups[GROUP].schedules)


def _backlog(stack: LocalStack, tickets: int) -> None:
    """``tickets`` running tickets, each with its warning and breach armed."""
    created = stack.clock.now().replace(microsecond=0)
    for i in range(tickets):
        now = stack.clock.now()
        event = signed_webhook_event(
            {
                "type": "ticket.created",
                "occurred_at": created.isoformat(),
                "ticket": {
                    "id": f"J-{i}",
                    "created_at": created.isoformat(),
                    "plan": "advanced",
                    "priority": 1,
                },
                "actor": {"type": "customer"},
            },
            int(now.timestamp()),
            secret=stack.secret,
            msg_id=f"jump-{i}",
        )
        answer = stack.invoke("webhook", event)
        if answer["statusCode"] != 200:
            raise SystemExit(f"ticket {i}: {answer['statusCode']} {answer.get('body')}")
    while _live_schedules() < 2 * tickets:  # the pump thread arms them from the stream
        time.sleep(0.2)


def _post(url: str, document: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(document).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=7200) as response:
        return json.loads(response.read())


def _probe(url: str, stop: threading.Event, latencies: list[float]) -> None:
    while not stop.wait(0.25):
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{url}/_local/clock", timeout=7200) as response:
                response.read()
        except OSError:
            return  # the stack is stopping
        latencies.append(time.perf_counter() - t0)


def measure(tickets: int, advance: str, stop_after: float | None) -> dict[str, Any]:
    """One stack in this process; ``stop_after``: call ``stop()`` that long into the jump."""
    stack = LocalStack(port=0, echo=lambda line: None)
    errors: list[str] = []
    stack.echo = lambda line: errors.append(line) if line.startswith("[local]") else None
    stack.start()
    t0 = time.perf_counter()
    _backlog(stack, tickets)
    figures: dict[str, Any] = {"backlog_s": time.perf_counter() - t0}
    if stop_after is not None:
        jump = threading.Thread(
            target=_swallow, args=(f"{stack.url}/_local/clock", {"advance": advance})
        )
        jump.start()
        time.sleep(stop_after)
        t0 = time.perf_counter()
        stack.stop()
        figures["stop_busy_s"] = time.perf_counter() - t0
        return figures
    stop_probing, latencies = threading.Event(), list[float]()
    prober = threading.Thread(target=_probe, args=(stack.url, stop_probing, latencies))
    prober.start()
    t0 = time.perf_counter()
    _post(f"{stack.url}/_local/clock", {"advance": advance})
    figures["clock_s"] = time.perf_counter() - t0
    while len(stack.notifications) < 2 * tickets and time.perf_counter() - t0 < 7200:
        time.sleep(0.05)
    figures["published_s"] = time.perf_counter() - t0
    figures["published"] = len(stack.notifications)
    figures["unique"] = len({n["notification_id"] for n in stack.notifications})
    stop_probing.set()
    prober.join()
    figures["slowest_probe_s"] = max(latencies, default=0.0)
    figures["probes"] = len(latencies)
    t0 = time.perf_counter()
    stack.stop()
    figures["stop_idle_s"] = time.perf_counter() - t0
    figures["errors"] = errors
    return figures


def _swallow(url: str, document: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the stack stopped under the request: expected here
        _post(url, document)


def _child(tickets: int, advance: str, stop_after: float | None) -> dict[str, Any]:
    """A fresh process per measurement: moto's backends and the handlers' caches are global."""
    command = [sys.executable, "-m", "benchmarks.local_clock_jump", "--one", str(tickets)]
    command += ["--advance", advance]
    if stop_after is not None:
        command += ["--stop-after", str(stop_after)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", default="300,2000,6000")
    parser.add_argument("--advance", default="5h")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stop-after", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.advance, args.stop_after)))
        return 0
    rows = []
    for tickets in (int(n) for n in args.tickets.split(",")):
        full = _child(tickets, args.advance, None)
        busy = _child(tickets, args.advance, 1.0)
        rows.append((tickets, full, busy))
        print(tickets, full, busy, file=sys.stderr, flush=True)
    print(f"The clock moved {args.advance} over N running tickets, two notices owed each\n")
    print(
        "| tickets | clock request | all notices published | slowest GET meanwhile "
        "| stop() 1 s into the jump | stop() idle |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    failed = 0
    for tickets, full, busy in rows:
        print(
            f"| {tickets:,} | {full['clock_s']:.1f} s | {full['published_s']:.1f} s "
            f"({full['published']:,}) | {full['slowest_probe_s']:.2f} s "
            f"| {busy['stop_busy_s']:.1f} s | {full['stop_idle_s']:.1f} s |"
        )
        failed += full["unique"] != 2 * tickets or full["published"] != 2 * tickets
        failed += bool(full["errors"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
