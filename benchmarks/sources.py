"""What the helpdesk sources cost, side by side with the canonical source, in one run.

* In process: for each helpdesk, ``verify`` then ``events`` on each of its recorded payloads
  (tests/fixtures/helpdesks/<source>/, signed as the helpdesk signs them), beside the canonical
  Standard Webhooks source on a twin body of similar size: the sample ticket body with the
  helpdesk's payload under one more key, which the canonical schema ignores but still parses.
  Warm (untimed rounds first), then rounds in which every payload and its twin take turns (which
  goes first alternates). Per payload the median of the rounds; per source the median and the
  slowest of those.
* Cold start: fresh processes, each importing functions/webhook/app.py and handling one signed
  canonical webhook against a moto server, as benchmarks/cold_start.py does (its child process
  is reused, with the CPU time it took beside its wall-clock times), with and without the four
  ``SLA_<SOURCE>_SECRET`` variables and a mapping file, interleaved. Beside it, in process and
  warm, what enabling adds to the first request: building the webhook's service with the
  sources enabled (their secrets read, the mapping file loaded and checked) and without.
* The first helpdesk delivery: with the sources enabled, the first Zendesk delivery after a
  canonical one (it imports and builds the source) against the five deliveries after it, and
  how much of it the registry's ``helpdesk_source`` took.

    .venv/bin/python -m benchmarks.sources [--rounds 300] [--samples 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.cold_start import CHILD, ROOT, moto_stack
from local.payloads import latest_instant, ticket_body
from local.signing import TEST_SECRET, helpdesk_headers, signature_headers, signed_webhook_event
from sla.core.policy import load_policy
from sla.core.signature import parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources.canonical import StandardWebhooksSource
from sla.sources.mapping import load_mappings
from sla.sources.registry import HELPDESKS, helpdesk_source

FIXTURES = ROOT / "tests" / "fixtures" / "helpdesks"
# recorded payloads that are not the source's own shape: another receiver's template
FOREIGN = {("freshdesk", "zulip_ticket_created")}
SECRETS = {name: f"{name}-secret-for-benchmarks" for name in HELPDESKS}
MAPPING = ROOT / "local" / "mapping.toml"  # the local stack's: every source, Freshdesk's zone
FIRST_SOURCE = "zendesk"
FIRST_PAYLOAD = "event-ticket-created.json"
BUDGET_US = 1000.0
COLD_BUDGET = 1.05


# -- in process -----------------------------------------------------------------------------------


@dataclass
class Timed:
    """One call of verify then events, repeated; the microseconds of each part."""

    call: Callable[[], tuple[int, int]]
    verify_us: list[float] = field(default_factory=list)
    events_us: list[float] = field(default_factory=list)
    total_us: list[float] = field(default_factory=list)

    def once(self) -> None:
        verify_ns, events_ns = self.call()
        self.verify_us.append(verify_ns / 1e3)
        self.events_us.append(events_ns / 1e3)
        self.total_us.append((verify_ns + events_ns) / 1e3)


@dataclass
class Case:
    source: str
    name: str
    size: int
    helpdesk: Timed
    twin: Timed


def payloads(source: str) -> list[Path]:
    """The source's recorded payloads, without body templates and foreign shapes."""
    return sorted(
        p
        for p in (FIXTURES / source).glob("*.json")
        if "template" not in p.stem and (source, p.stem) not in FOREIGN
    )


def clock_for(body: bytes, floor: datetime) -> datetime:
    """A clock just past the body's latest instant (and not before ``floor``): the sources refuse
    instants more than 5 minutes ahead of their clock, and recorded payloads carry their own."""
    latest = latest_instant(body)
    return floor if latest is None else max(floor, latest + timedelta(minutes=1))


def timed(source: Any, headers: dict[str, str], raw: bytes, now: datetime) -> Timed:
    def call() -> tuple[int, int]:
        t0 = time.perf_counter_ns()
        delivery = source.verify(headers, raw, now)
        t1 = time.perf_counter_ns()
        source.events(raw, delivery, now)
        t2 = time.perf_counter_ns()
        return t1 - t0, t2 - t1

    return Timed(call)


def cases(mapping_file: Path) -> list[Case]:
    policy = load_policy()
    mappings = load_mappings(mapping_file)
    canonical = StandardWebhooksSource(policy, StaticSecrets(TEST_SECRET))
    floor = datetime.now(UTC).replace(microsecond=0)
    built = []
    for name in HELPDESKS:
        secrets = StaticSecrets(SECRETS[name], parse=parse_text_secrets)
        source = helpdesk_source(name, policy, secrets, mappings[name])
        for path in payloads(name):
            raw = path.read_bytes()
            twin = json.dumps({**ticket_body(), "helpdesk": json.loads(raw)}).encode()
            now = clock_for(twin, floor)  # the twin holds the payload: one clock for both
            headers = helpdesk_headers(name, SECRETS[name], raw, now, f"{path.stem}-1")
            twin_headers = signature_headers(twin, int(now.timestamp()), msg_id=f"{path.stem}-1")
            helpdesk = timed(source, headers, raw, now)
            helpdesk.call()  # fails here, before any timing, if a payload is not accepted
            built.append(
                Case(name, path.stem, len(raw), helpdesk, timed(canonical, twin_headers, twin, now))
            )
    return built


def measure(all_cases: list[Case], rounds: int, warm: int) -> None:
    for round_ in range(warm + rounds):
        for case in all_cases:  # each payload beside its twin, the order alternating
            pair = (case.helpdesk, case.twin) if round_ % 2 else (case.twin, case.helpdesk)
            for side in pair:
                if round_ < warm:
                    side.call()
                else:
                    side.once()


def in_process_report(all_cases: list[Case], rounds: int) -> list[bool]:
    print(
        f"verify + events, µs: per payload the median of {rounds} warm rounds; per source the "
        "median and the slowest of those (canonical: the sample ticket body carrying the "
        "payload under one more key)\n"
    )
    print(
        "| source | payloads | bytes (median) | verify | events | verify + events "
        "| slowest payload | canonical twin | difference | under 1 ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    met = []
    for name in HELPDESKS:
        mine = [c for c in all_cases if c.source == name]
        verify = statistics.median(statistics.median(c.helpdesk.verify_us) for c in mine)
        totals = {c.name: statistics.median(c.helpdesk.total_us) for c in mine}
        total = statistics.median(totals.values())
        events = statistics.median(statistics.median(c.helpdesk.events_us) for c in mine)
        slowest = max(totals, key=totals.__getitem__)
        twin = statistics.median(statistics.median(c.twin.total_us) for c in mine)
        size = statistics.median(c.size for c in mine)
        ok = totals[slowest] < BUDGET_US
        met.append(ok)
        print(
            f"| {name} | {len(mine)} | {size:,.0f} | {verify:.0f} | {events:.0f} | {total:.0f} "
            f"| {totals[slowest]:.0f} ({slowest}) | {twin:.0f} | {total - twin:+.0f} "
            f"| {'yes' if ok else 'NO'} |"
        )
    print()
    return met


def enabling_cost(mapping_file: Path, rounds: int) -> tuple[float, float]:
    """The webhook's service as its first request builds it, warm, in µs (medians): canonical
    only, and with the four sources enabled (their secrets read, the mapping file loaded and
    checked); what enabling adds to a cold start beyond that is nothing until a delivery."""
    from sla.runtime.wiring import webhook_service

    base = {"SLA_TABLE_NAME": "bench-tickets", "SLA_WEBHOOK_SECRET": TEST_SECRET}
    enabled = {
        **base,
        "SLA_MAPPING_FILE": str(mapping_file),
        **{f"SLA_{name.upper()}_SECRET": secret for name, secret in SECRETS.items()},
    }
    saved = dict(os.environ)
    times: dict[str, list[float]] = {"base": [], "enabled": []}
    try:
        for round_ in range(rounds + 10):
            order = ("base", "enabled") if round_ % 2 else ("enabled", "base")
            for name in order:
                os.environ.clear()
                os.environ.update(saved | (base if name == "base" else enabled))
                webhook_service.cache_clear()
                t0 = time.perf_counter_ns()
                service = webhook_service()
                elapsed = time.perf_counter_ns() - t0
                assert len(service.sources) == (1 if name == "base" else 1 + len(HELPDESKS))
                if round_ >= 10:
                    times[name].append(elapsed / 1e3)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        webhook_service.cache_clear()
    return statistics.median(times["base"]), statistics.median(times["enabled"])


# -- cold start -----------------------------------------------------------------------------------

# benchmarks/cold_start.py's child as it is, and the CPU time the process spent in it (its import
# and first request), which other work on the machine disturbs far less than the wall clock
CPU_CHILD = f"""
import contextlib, io, json, sys, time
out = io.StringIO()
cpu = time.process_time()
with contextlib.redirect_stdout(out):
    exec(compile({CHILD!r}, "child", "exec"))
cpu = time.process_time() - cpu
result = json.loads(out.getvalue().strip().splitlines()[-1])
print(json.dumps({{**result, "cpu_ms": cpu * 1e3}}))
"""


def cold_run(env: dict[str, str], ticket: int) -> dict[str, float]:
    """One fresh process: import the webhook function, handle one signed canonical webhook."""
    event = signed_webhook_event(ticket_body(id=f"T-{ticket}"), int(time.time()))
    args = ["-c", CPU_CHILD, "functions.webhook.app", json.dumps(event), "time"]
    result = child(args, env, "cold start")
    return {key: float(result[key]) for key in ("import_ms", "first_request_ms", "cpu_ms")}


def child(args: list[str], env: dict[str, str], what: str) -> dict[str, Any]:
    """Run a fresh Python process; the JSON object its last line prints."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False, cwd=ROOT, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


FIRST_DELIVERY = r"""
import json, sys, time
from datetime import UTC, datetime
event, helpdesk, count = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = open(sys.argv[4], "rb").read()
secret = sys.argv[5]

class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"

import io, contextlib
from functions.webhook import app
from local.signing import helpdesk_headers, http_api_event
module = f"sla.sources.{helpdesk}"

def deliver(number):
    headers = helpdesk_headers(helpdesk, secret, body, datetime.now(UTC), f"bench-{number}")
    request = http_api_event("POST", f"/webhooks/{helpdesk}", headers=headers, body=body,
                             path_parameters={"source": helpdesk},
                             route_key="ANY /webhooks/{source}")
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        response = app.lambda_handler(request, Context())
    elapsed = (time.perf_counter() - t0) * 1e3
    assert response["statusCode"] == 200, response
    return elapsed

with contextlib.redirect_stdout(io.StringIO()):
    response = app.lambda_handler(event, Context())
assert response["statusCode"] == 200, response
# the part of the first delivery that imports and builds the source (the registry's function,
# which the wiring looks up when that delivery arrives)
from sla.sources import registry
built_ms = []
original = registry.helpdesk_source
def building(*args, **kwargs):
    t0 = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        built_ms.append((time.perf_counter() - t0) * 1e3)
registry.helpdesk_source = building
before_first = module in sys.modules
loaded = set(sys.modules)
first = deliver(0)
imported = sorted(m for m in set(sys.modules) - loaded if m.startswith("sla"))
later = [deliver(n) for n in range(1, count + 1)]
print(json.dumps({"first_ms": first, "later_ms": later, "imported_before": before_first,
                  "built_ms": built_ms,
                  "imported": imported}))
"""


def first_delivery(env: dict[str, str], ticket: int, later: int) -> dict[str, Any]:
    """The first helpdesk delivery after a canonical one, and ``later`` deliveries after it."""
    payload = ticket_body(id=f"T-{ticket}")
    event = signed_webhook_event(payload, int(time.time()), msg_id=f"msg-{ticket}")
    payload_file = str(FIXTURES / FIRST_SOURCE / FIRST_PAYLOAD)
    args = ["-c", FIRST_DELIVERY, json.dumps(event), FIRST_SOURCE, str(later), payload_file]
    return child([*args, SECRETS[FIRST_SOURCE]], env, "first delivery")


def cold_start(
    samples: int, first_samples: int, mapping_file: Path, building: tuple[float, float]
) -> bool:
    server, env = moto_stack("bench-sources")
    enabled = {
        **env,
        "SLA_MAPPING_FILE": str(mapping_file),
        **{f"SLA_{name.upper()}_SECRET": secret for name, secret in SECRETS.items()},
    }
    variants = {"canonical only": env, "four helpdesk sources enabled": enabled}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    ticket = 0
    for name in variants:  # untimed: bytecode written, files in the page cache
        ticket += 1
        cold_run(variants[name], ticket)
    for sample in range(samples):  # interleaved, the order alternating
        order = list(variants) if sample % 2 == 0 else list(reversed(variants))
        for name in order:
            ticket += 1
            runs[name].append(cold_run(variants[name], ticket))
    firsts = []
    for _ in range(first_samples):
        ticket += 1
        firsts.append(first_delivery(enabled, ticket, later=5))
    server.stop()

    for rs in runs.values():
        for r in rs:
            r["total_ms"] = r["import_ms"] + r["first_request_ms"]
    keys = ("import_ms", "first_request_ms", "total_ms", "cpu_ms")
    med = {
        name: {key: statistics.median(r[key] for r in rs) for key in keys}
        for name, rs in runs.items()
    }
    print(
        f"cold start of the canonical webhook: median of {samples} fresh processes each, "
        "interleaved, against a local moto server\n"
    )
    print("| webhook function | import | first request | import + first request | CPU time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, m in med.items():
        print(
            f"| {name} | {m['import_ms']:.0f} ms | {m['first_request_ms']:.0f} ms "
            f"| {m['total_ms']:.0f} ms | {m['cpu_ms']:.0f} ms |"
        )
    base, on = med["canonical only"], med["four helpdesk sources enabled"]
    ratio = {key: on[key] / base[key] for key in keys}
    paired = statistics.median(
        b["total_ms"] / a["total_ms"]
        for a, b in zip(runs["canonical only"], runs["four helpdesk sources enabled"], strict=True)
    )
    print(
        f"\nenabled / canonical only: import {ratio['import_ms']:.3f}x, first request "
        f"{ratio['first_request_ms']:.3f}x, import + first request {ratio['total_ms']:.3f}x "
        f"(the median of the {samples} paired ratios {paired:.3f}x), CPU time "
        f"{ratio['cpu_ms']:.3f}x"
    )
    added = building[1] - building[0]
    print(
        f"building the webhook's service on the first request, warm, in process: "
        f"{building[0]:.0f} µs canonical only, {building[1]:.0f} µs enabled: {added:+.0f} µs, "
        f"{added / 1e3 / base['total_ms']:.2%} of the canonical cold start"
    )
    extra = [f["first_ms"] - statistics.median(f["later_ms"]) for f in firsts]
    print(
        f"\nfirst {FIRST_SOURCE} delivery after the canonical one ({FIRST_PAYLOAD}), median of "
        f"{first_samples} fresh processes: "
        f"{statistics.median(f['first_ms'] for f in firsts):.0f} ms, the 5 after it "
        f"{statistics.median(statistics.median(f['later_ms']) for f in firsts):.0f} ms: "
        f"{statistics.median(extra):.0f} ms extra for the first"
    )
    built = statistics.median(sum(f["built_ms"]) for f in firsts)
    print(f"  of which importing and building the source: {built:.0f} ms")
    print(f"  loaded before its first delivery: {any(f['imported_before'] for f in firsts)}")
    print(f"  our modules its first delivery imports: {', '.join(firsts[0]['imported'])}")
    print()
    return ratio["total_ms"] <= COLD_BUDGET


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--first-samples", type=int, default=5)
    args = parser.parse_args()
    all_cases = cases(MAPPING)
    measure(all_cases, args.rounds, warm=max(args.rounds // 10, 10))
    in_process = in_process_report(all_cases, args.rounds)
    building = enabling_cost(MAPPING, args.rounds)
    cold = cold_start(args.samples, args.first_samples, MAPPING, building)
    print(
        "goal: verify + events at most 1 ms per delivery, every source's slowest payload: "
        f"{'met' if all(in_process) else 'NOT met'}"
    )
    print(
        "goal: enabling the sources slows the canonical cold start (import + first request) "
        f"by at most 5%: {'met' if cold else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
