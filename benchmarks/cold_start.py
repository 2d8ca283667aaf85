"""Cold start of the webhook function against a naive Powertools handler, side by side.

A moto server runs in this process; each sample is a fresh Python process pointed at it with
AWS_ENDPOINT_URL, which imports the handler module (timed) and handles one signed
``ticket.created`` webhook (timed). Four handlers: ours (tracing off, the default), ours with
X-Ray on, the naive one, and the floor (the same AWS calls with no SLA code at all, see
benchmarks/floor_webhook.py). Nothing is imported before the timer starts, so boto3's own
import cost lands where each handler pays it. One more run per handler counts the AWS calls
through botocore (that run patches botocore first, so it is not timed).

    .venv/bin/python -m benchmarks.cold_start [--samples 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from local.payloads import ticket_body
from local.signing import TEST_SECRET, signed_webhook_event
from local.template import table_kwargs

ROOT = Path(__file__).resolve().parents[1]
# name: (module, environment changes); X-Ray on runs as in Lambda for a request its sampling left
# out (an unsampled trace header): the SDK is loaded and set up, and nothing is sent
XRAY_ON = {
    "POWERTOOLS_TRACE_DISABLED": "false",
    "LAMBDA_TASK_ROOT": "/var/task",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;"
    "Parent=53995c3f42cd8ad8;Sampled=0",
}
# as on Lambda without precompiled bytecode: our modules from a copy without __pycache__, with
# nothing written back (the dependencies keep theirs, as pip compiles them)
NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1", "SOURCE_COPY": "1"}
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "ours": ("functions.webhook.app", {}),
    "ours, without bytecode for our modules": ("functions.webhook.app", NO_BYTECODE),
    "ours, X-Ray on": ("functions.webhook.app", XRAY_ON),
    "naive": ("benchmarks.naive_webhook", {}),
    "floor": ("benchmarks.floor_webhook", {}),
}

CHILD = r"""
import json, sys, time
module_name, event_json, count = sys.argv[1], sys.argv[2], sys.argv[3] == "count"
calls = []
if count:
    from botocore.client import BaseClient
    original = BaseClient._make_api_call
    def counting(self, operation, params):
        calls.append(operation)
        return original(self, operation, params)
    BaseClient._make_api_call = counting

class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"

import importlib, io, contextlib
event = json.loads(event_json)
t0 = time.perf_counter()
module = importlib.import_module(module_name)
t1 = time.perf_counter()
init_calls = list(calls); calls.clear()
with contextlib.redirect_stdout(io.StringIO()):
    response = module.lambda_handler(event, Context())
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_request_ms": (t2 - t1) * 1e3,
                  "init_calls": init_calls, "request_calls": calls}))
"""


def source_copy() -> Path:
    """The layer's package and the functions, copied without bytecode."""
    folder = Path(tempfile.mkdtemp(prefix="sla-cold-"))
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "layers" / "sla" / "sla", folder / "sla", ignore=ignore)
    shutil.copytree(ROOT / "functions", folder / "functions", ignore=ignore)
    return folder


def run(module: str, env: dict[str, str], ticket: int, count: bool = False) -> dict[str, object]:
    cwd = ROOT
    if env.get("SOURCE_COPY"):
        cwd = source_copy()
        env = {**env, "PYTHONPATH": f"{cwd}:{ROOT}"}
    payload = ticket_body(id=f"T-{ticket}")
    event = signed_webhook_event(payload, int(time.time()), msg_id=f"msg-{ticket}")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, module, json.dumps(event), "count" if count else "time"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )
    if cwd != ROOT:
        shutil.rmtree(cwd)
    if done.returncode != 0:
        raise SystemExit(f"{module} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def moto_stack(secret_name: str) -> tuple[ThreadedMotoServer, dict[str, str]]:
    """A moto server with the table and the signing secret, and the environment a fresh handler
    process needs to use them."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'layers' / 'sla'}:{ROOT}",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "SLA_TABLE_NAME": "bench-tickets",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    boto3.client("dynamodb").create_table(**table_kwargs("TicketsTable", "bench-tickets"))
    env["SLA_SECRET_ARN"] = boto3.client("secretsmanager").create_secret(
        Name=secret_name, SecretString=TEST_SECRET
    )["ARN"]
    return server, env


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    server, env = moto_stack("bench")
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in VARIANTS}
    ticket = 0
    for _ in range(args.samples):  # interleaved, so machine noise hits all alike
        for name, (module, changes) in VARIANTS.items():
            ticket += 1
            runs[name].append(run(module, {**env, **changes}, ticket))
    counted = {
        name: run(VARIANTS[name][0], env, 10_000 + i, count=True)
        for i, name in enumerate(("ours", "naive"))
    }
    server.stop()

    med = {
        name: {
            key: statistics.median(float(r[key]) for r in rs)
            for key in ("import_ms", "first_request_ms")
        }  # type: ignore[arg-type]
        for name, rs in runs.items()
    }
    for m in med.values():
        m["total_ms"] = m["import_ms"] + m["first_request_ms"]
    print(f"median of {args.samples} fresh processes each, against a local moto server\n")
    print("| handler | import | first request | import + first request |")
    print("| --- | ---: | ---: | ---: |")
    for name in VARIANTS:
        m = med[name]
        print(
            f"| {name} | {m['import_ms']:.0f} ms | {m['first_request_ms']:.0f} ms "
            f"| {m['total_ms']:.0f} ms |"
        )
    print()
    for name in VARIANTS:
        if name != "naive":
            ratio = {k: med[name][k] / med["naive"][k] for k in ("import_ms", "total_ms")}
            print(
                f"{name} / naive: import {ratio['import_ms']:.2f}x, "
                f"import + first request {ratio['total_ms']:.2f}x"
            )
    for name, r in counted.items():
        print(f"AWS calls, {name}: at import {r['init_calls']}, first webhook {r['request_calls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
