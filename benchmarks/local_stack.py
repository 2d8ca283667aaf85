"""The local stack under a thousand signed webhooks in a row: start-up time, throughput, latency
percentiles, and the stack process's memory as the run goes, side by side with the same stack on
moto as released (``SLA_LOCAL_PLAIN_MOTO=1``: its TransactWriteItems copies the whole table on
every call, which local/moto_patches.py replaces with an item-level rollback).

    .venv/bin/python -m benchmarks.local_stack [--n 1000] [--tickets 100]

The figures say how the local stack behaves for trying things out, not how fast DynamoDB is.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.signing import signature_headers

ROOT = Path(__file__).resolve().parents[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run(n: int, tickets: int, plain: bool) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp()) / "state.json"
    env = {**os.environ, "PORT": "0", "SLA_LOCAL_STATE": str(state), "SLA_WEBHOOK_SECRET": ""}
    env["SLA_LOCAL_PLAIN_MOTO"] = "1" if plain else ""
    env.pop("AWS_ENDPOINT_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not state.exists():
        if process.poll() is not None:
            raise SystemExit("the local stack did not start")
        time.sleep(0.02)
    ready = time.perf_counter() - started
    settings = json.loads(state.read_text())
    url, secret = settings["url"], settings["secret"]

    def send(i: int) -> tuple[float, int]:
        ticket_id = f"B-{i % tickets}"
        now = datetime.now(UTC)
        body = json.dumps(
            {
                "type": "ticket.created" if i < tickets else "ticket.updated",
                "occurred_at": now.isoformat(),
                "ticket": {
                    "id": ticket_id,
                    "created_at": "2026-11-25T08:59:00Z",
                    "plan": "professional",
                    "priority": 1 + i % 3,
                },
                "actor": {"type": "customer"},
            }
        ).encode()
        headers = signature_headers(body, int(now.timestamp()), secret=secret, msg_id=f"bench-{i}")
        request = urllib.request.Request(f"{url}/webhooks/tickets", data=body, headers=headers)
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
            response.read()
        return time.perf_counter() - t0, status

    for i in range(20):  # warm up: imports, first calendar year, first clients
        send(10_000_000 + i)
    series = [rss_kib(process.pid)]
    latencies, errors = [], 0
    t0 = time.perf_counter()
    for i in range(n):
        latency, status = send(i)
        latencies.append(latency)
        errors += status != 200
        if (i + 1) % (n // 4) == 0:
            series.append(rss_kib(process.pid))
    elapsed = time.perf_counter() - t0
    time.sleep(5)  # let the pumps drain the stream
    series.append(rss_kib(process.pid))
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    q = statistics.quantiles(latencies, n=100)
    return {
        "ready_s": ready,
        "errors": errors,
        "rate": n / elapsed,
        "p50": q[49] * 1e3,
        "p95": q[94] * 1e3,
        "p99": q[98] * 1e3,
        "max": max(latencies) * 1e3,
        "rss_mib": [kib / 1024 for kib in series],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=100)
    args = parser.parse_args()
    results = {
        "local stack": run(args.n, args.tickets, plain=False),
        "on moto as released": run(args.n, args.tickets, plain=True),
    }
    print(f"{args.n} signed webhooks over {args.tickets} tickets, in a row, one at a time\n")
    columns = ["stack", "ready", "errors", "webhooks/s", "p50 / p95 / p99 / max"]
    print("| " + " | ".join([*columns, "RSS: warm, each quarter, drained"]) + " |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name, r in results.items():
        rss = " / ".join(f"{m:.0f}" for m in r["rss_mib"])
        print(
            f"| {name} | {r['ready_s']:.2f} s | {r['errors']} | {r['rate']:.0f} "
            f"| {r['p50']:.0f} / {r['p95']:.0f} / {r['p99']:.0f} / {r['max']:.0f} ms "
            f"| {rss} MiB |"
        )
    ours, plain = results["local stack"], results["on moto as released"]
    growth = (ours["rss_mib"][-1] - ours["rss_mib"][0], plain["rss_mib"][-1] - plain["rss_mib"][0])
    print(
        f"\nthroughput {ours['rate'] / plain['rate']:.1f}x, p50 latency "
        f"{ours['p50'] / plain['p50']:.2f}x, memory growth {growth[0]:.0f} vs {growth[1]:.0f} MiB "
        f"({growth[0] / growth[1]:.2f}x)"
    )
    return 1 if ours["errors"] or plain["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
