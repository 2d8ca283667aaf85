"""The local stack under a thousand signed webhooks in a row: start-up time, throughput, latency
percentiles, and the stack process's memory before and after.

    .venv/bin/python -m benchmarks.local_stack [--n 1000] [--tickets 100]

moto's TransactWriteItems copies the whole table on every call, so these figures say how the
local stack behaves for trying things out, not how fast DynamoDB is.
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

from local.signing import signature_headers

ROOT = Path(__file__).resolve().parents[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=100)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp()) / "state.json"
    env = {**os.environ, "PORT": "0", "SLA_LOCAL_STATE": str(state), "SLA_WEBHOOK_SECRET": ""}
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
        ticket_id = f"B-{i % args.tickets}"
        now = datetime.now(UTC)
        body = json.dumps(
            {
                "type": "ticket.created" if i < args.tickets else "ticket.updated",
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
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
            response.read()
        return time.perf_counter() - t0, status

    for i in range(20):  # warm up: imports, first calendar year, first clients
        send(10_000_000 + i)
    before = rss_kib(process.pid)
    latencies, errors = [], 0
    t0 = time.perf_counter()
    for i in range(args.n):
        latency, status = send(i)
        latencies.append(latency)
        errors += status != 200
    elapsed = time.perf_counter() - t0
    time.sleep(2)  # let the pumps drain the stream
    after = rss_kib(process.pid)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)

    q = statistics.quantiles(latencies, n=100)
    print(f"ready in {ready:.2f} s; {args.n} signed webhooks over {args.tickets} tickets, in a row")
    print(f"errors: {errors}; throughput {args.n / elapsed:.0f} webhooks/s")
    print(
        f"latency p50 {q[49] * 1e3:.1f} ms, p95 {q[94] * 1e3:.1f} ms, p99 {q[98] * 1e3:.1f} ms, "
        f"max {max(latencies) * 1e3:.1f} ms"
    )
    print(f"stack RSS {before / 1024:.0f} MiB after warm-up, {after / 1024:.0f} MiB after the run")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
