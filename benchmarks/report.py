"""``sla report --events`` over 100,000 and 1,000,000 events: events per second and peak memory,
side by side in one run, to show that memory grows with tickets, not with events.

Three exports from ``local.report_sample`` (tickets arriving over eight weeks, plausible lives,
one event in a thousand delivered up to a day late, out of order):

* 100k events of about 24,000 tickets (about 4 events a ticket);
* 1M events of the same 24,000 tickets (each with about 38 more customer edits);
* 1M events of about 240,000 tickets.

Each is reported in a fresh process (the whole report: reading, folding, tallying, CSV and HTML),
timed from the first line read to the page written, by the wall clock and by the process's CPU
time (on a shared machine the first counts other work too); memory is the process's peak
resident set minus what it held before reading (Python, the layer and the policy loaded). The
1M/240k export is also reported with a what-if (two folds per event), and the 100k export
through the webhook's own parsing instead of the fast path. Last, where the time of one event
goes: parsing, the core's fold (``apply_event``), and outcomes plus tally per ticket.

    .venv/bin/python -m benchmarks.report [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from local.report_sample import END, sample_lines

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POLICY = ROOT / "layers" / "sla" / "sla" / "policy.toml"
P2 = '2 = { hours = 6, clock = "business" }'
GOAL_RATE = 50_000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child(path: str, what_if: str | None, validated: bool) -> dict[str, Any]:
    """One report in this process; its figures."""
    from zoneinfo import ZoneInfo

    from sla import load_policy
    from sla.tools.report import (
        Period,
        Side,
        Tally,
        fast_event,
        report_from_events,
        validated_event,
        write_csv,
    )
    from sla.tools.report_html import render

    policies = [load_policy()] + ([load_policy(what_if)] if what_if else [])
    zone = ZoneInfo(policies[0].config.calendar.timezone)
    sides = [Side(f"p{i}", p, Tally(zone)) for i, p in enumerate(policies)]
    for p in policies:  # the calendar's years, as any first deadline builds them
        p.deadline(END, plan="professional", priority=2)
    gc.collect()
    before = _rss_kib()
    start, cpu = time.perf_counter(), time.process_time()
    report = report_from_events(
        path,
        sides,
        Period(),
        END,
        warn=lambda m: print(m, file=sys.stderr),
        parse=validated_event if validated else fast_event,
    )
    write_csv(report, io.StringIO())
    render(report)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    lines = int(report.source.split(": ")[1].split(" lines")[0].replace(",", ""))
    tickets = int(report.source.rsplit(", ", 1)[1].split(" tickets")[0].replace(",", ""))
    return {
        "lines": lines,
        "tickets": tickets,
        "seconds": elapsed,
        "rate": lines / elapsed,
        "cpu_rate": lines / cpu,
        "memory_mib": (peak - before) / 1024,
        "problems": report.problems,
    }


def breakdown(path: str, limit: int = 100_000) -> dict[str, float]:
    """µs per event to parse (fast path, and the webhook's parsing) and to fold, µs per ticket
    for outcomes and tally."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from sla import load_policy
    from sla.core.state import apply_event
    from sla.tools.report import Tally, fast_event, outcomes, validated_event

    policy = load_policy()
    with open(path, "rb") as stream:
        lines = [line for _, line in zip(range(limit), stream, strict=False)]
    gc.disable()
    start = time.perf_counter()
    events = [e for e in (fast_event(line, policy, END) for line in lines) if e is not None]
    parse = time.perf_counter() - start
    start = time.perf_counter()
    for line in lines:
        validated_event(line, policy, END)
    validated = time.perf_counter() - start
    states: dict[str, Any] = {}
    start = time.perf_counter()
    for event in sorted(events, key=lambda e: e.order_key):
        states[event.ticket.id] = apply_event(states.get(event.ticket.id), event, policy)
    fold = time.perf_counter() - start
    tally = Tally(ZoneInfo("Europe/Bratislava"))
    start = time.perf_counter()
    for state in states.values():
        for outcome in outcomes(state, policy, END.astimezone(UTC)):
            tally.add(outcome)
    tallied = time.perf_counter() - start
    gc.enable()
    return {
        "parse_us": parse / len(lines) * 1e6,
        "validated_us": validated / len(lines) * 1e6,
        "fold_us": fold / len(events) * 1e6,
        "tally_us_per_ticket": tallied / len(states) * 1e6,
        "events_per_ticket": len(events) / len(states),
    }


def _run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", "--child", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _export(path: Path, tickets: int, padding: int) -> None:
    with path.open("w") as out:
        for line in sample_lines(tickets, padding=padding, late=0.001):
            out.write(line + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of every size (quick runs)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, mode = args.child[0], args.child[1]
        if mode == "breakdown":
            print(json.dumps(breakdown(path)))
        else:
            what_if = args.child[2] if mode == "what-if" else None
            print(json.dumps(child(path, what_if, validated=mode == "validated")))
        return 0

    few, many = round(24_000 * args.scale), round(240_000 * args.scale)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        proposed = base / "p2-in-4-hours.toml"
        proposed.write_text(
            DEFAULT_POLICY.read_text().replace(P2, '2 = { hours = 4, clock = "business" }')
        )
        exports = {
            "small": (base / "small.jsonl", few, 0),
            "long": (base / "long.jsonl", few, 38),
            "wide": (base / "wide.jsonl", many, 0),
        }
        for path, tickets, padding in exports.values():
            started = time.perf_counter()
            _export(path, tickets, padding)
            print(
                f"generated {path.name}: {tickets:,} tickets in "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        rows = [
            ("fast path", "small", _run_child(str(exports["small"][0]), "plain")),
            ("fast path", "long", _run_child(str(exports["long"][0]), "plain")),
            ("fast path", "wide", _run_child(str(exports["wide"][0]), "plain")),
            (
                "fast path, with a what-if",
                "wide",
                _run_child(str(exports["wide"][0]), "what-if", str(proposed)),
            ),
            ("the webhook's parsing", "small", _run_child(str(exports["small"][0]), "validated")),
        ]
        parts = _run_child(str(exports["small"][0]), "breakdown")

    print(
        "| export | events | tickets | path | events/s | events per CPU second | seconds "
        "| peak memory | per ticket |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for label, name, r in rows:
        per_ticket = r["memory_mib"] * 1024 * 1024 / r["tickets"]
        print(
            f"| {name} | {r['lines']:,} | {r['tickets']:,} | {label} | {r['rate']:,.0f} | "
            f"{r['cpu_rate']:,.0f} | "
            f"{r['seconds']:.1f} | {r['memory_mib']:,.0f} MiB | {per_ticket:,.0f} B |"
        )
    small, long, wide = rows[0][2], rows[1][2], rows[2][2]
    print(
        f"\nmemory, 10x the events on the same tickets: "
        f"{long['memory_mib'] / small['memory_mib']:.2f}x; "
        f"10x the events on 10x the tickets: {wide['memory_mib'] / small['memory_mib']:.2f}x"
    )
    print(
        f"fast path against the webhook's parsing (100k events): "
        f"{small['rate'] / rows[4][2]['rate']:.2f}x the events/s"
    )
    print(
        f"where an event's time goes (first 100k events of the small export, "
        f"{parts['events_per_ticket']:.1f} events a ticket): parse {parts['parse_us']:.1f} µs "
        f"(the webhook's parsing {parts['validated_us']:.1f} µs), "
        f"fold (apply_event) {parts['fold_us']:.1f} µs; outcomes and tally "
        f"{parts['tally_us_per_ticket']:.1f} µs a ticket"
    )
    met = all(r["rate"] >= GOAL_RATE for _, name, r in rows[1:3])
    print(f"goal of {GOAL_RATE:,} events/s over 1M events: {'met' if met else 'NOT met'}")
    problems = sum(r["problems"] for _, _, r in rows)
    if problems:
        print(f"{problems} problems reported while reading", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
