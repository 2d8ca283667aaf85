"""``sla report --events`` over 100,000 and 1,000,000 events: events per second and peak memory,
side by side in one run, to show that memory grows with tickets, not with events.

Three exports from ``local.report_sample`` (tickets arriving over eight weeks, plausible lives,
one event in a thousand delivered up to a day late, out of order):

* 100k events of about 24,000 tickets (about 4 events a ticket);
* 1M events of the same 24,000 tickets (each with about 38 more customer edits);
* 1M events of about 240,000 tickets.

Each is reported in a fresh process (the whole report: reading, folding, tallying, CSV and HTML),
timed from the first line read to the page written, by the wall clock and by the CPU time of the
process and its workers (on a shared machine the first counts other work too). Memory is the
peak, sampled every half second, of the proportional set size (PSS: shared pages divided among
the processes sharing them) of the process and its workers, minus what the process held before
reading (Python, the layer and the policy loaded). Both 1M exports are reported in one process
(``--jobs 1``) and in two (``--jobs 2``), in the same run, so that their ratio holds on a busy
machine; the machine's CPUs are printed. The 1M/240k export is also reported with a what-if
(two folds per event), and the 100k export through the webhook's own parsing instead of the
fast path. Last, where the time of one event goes: parsing, the core's fold
(``TicketFold.add``), and the state, outcomes plus tally per ticket.

    .venv/bin/python -m benchmarks.report [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
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


def _pss_kib(pid: int | str = "self") -> int:
    """A process's proportional set size (KiB), 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _tree_pss_kib(pid: int) -> int:
    """The PSS of a process and its children (the report's workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return _pss_kib(pid) + sum(_pss_kib(child) for child in children)


def child(path: str, what_if: str | None, validated: bool, jobs: int) -> dict[str, Any]:
    """One report in this process (and ``jobs`` workers); its figures."""
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
    before = _pss_kib()
    start, times = time.perf_counter(), os.times()
    report = report_from_events(
        path,
        sides,
        Period(),
        END,
        warn=lambda m: print(m, file=sys.stderr),
        parse=validated_event if validated else fast_event,
        jobs=jobs,
    )
    write_csv(report, io.StringIO())
    render(report)
    elapsed, done = time.perf_counter() - start, os.times()
    cpu = sum(done[i] - times[i] for i in range(4))  # user and system, its own and its workers'
    lines = int(report.source.split(": ")[1].split(" lines")[0].replace(",", ""))
    tickets = int(report.source.rsplit(", ", 1)[1].split(" tickets")[0].replace(",", ""))
    return {
        "lines": lines,
        "tickets": tickets,
        "seconds": elapsed,
        "rate": lines / elapsed,
        "cpu_rate": lines / cpu,
        "before_kib": before,
        "problems": report.problems,
    }


def share_alone(path: str, jobs: int) -> dict[str, float]:
    """The first of ``jobs`` shares of the tickets read, folded and tallied alone in this
    process, as one worker of ``--jobs N`` does: its seconds, and the events per second of the
    whole export if every share had a CPU of its own (a projection)."""
    from zoneinfo import ZoneInfo

    from sla import load_policy
    from sla.tools.report import EventsReader, Tally, outcomes

    policy = load_policy()
    policy.deadline(END, plan="professional", priority=2)
    tally = Tally(ZoneInfo(policy.config.calendar.timezone))
    gc.disable()
    start = time.perf_counter()
    reader = EventsReader([policy], ["p"], END, warn=print, share=(0, jobs))
    reader.read(path)
    for at, state in reader.placed_states(0):
        for outcome in outcomes(state, policy, END):
            tally.add(outcome, at)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "rate": reader.lines / elapsed, "events": reader.events}


def breakdown(path: str, limit: int = 100_000) -> dict[str, float]:
    """µs per event to parse (fast path, and the webhook's parsing) and to fold as the report
    folds (:class:`TicketFold`, every cycle kept), µs per ticket for its state, outcomes and
    tally."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from sla import load_policy
    from sla.core.state import TicketFold
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
    folds: dict[str, TicketFold] = {}
    start = time.perf_counter()
    for event in sorted(events, key=lambda e: e.order_key):
        fold = folds.get(event.ticket.id)
        if fold is None:
            fold = folds[event.ticket.id] = TicketFold(policy, keep=None)
        fold.add(event)
    folded = time.perf_counter() - start
    tally = Tally(ZoneInfo("Europe/Bratislava"))
    start = time.perf_counter()
    for fold in folds.values():
        for outcome in outcomes(fold.state(), policy, END.astimezone(UTC)):
            tally.add(outcome)
    tallied = time.perf_counter() - start
    gc.enable()
    return {
        "parse_us": parse / len(lines) * 1e6,
        "validated_us": validated / len(lines) * 1e6,
        "fold_us": folded / len(events) * 1e6,
        "tally_us_per_ticket": tallied / len(folds) * 1e6,
        "events_per_ticket": len(events) / len(folds),
    }


def _run_child(*args: str) -> dict[str, Any]:
    """A child's figures, with the peak memory of it and its workers, sampled from here."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.report", "--child", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_pss_kib(process.pid))
        time.sleep(0.5)
    out = process.stdout.read() if process.stdout is not None else ""
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, process.args, out)
    result: dict[str, Any] = json.loads(out)
    if "before_kib" in result:
        result["memory_mib"] = (peak - result["before_kib"]) / 1024
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
        path, mode, jobs = args.child[0], args.child[1], int(args.child[2])
        if mode == "breakdown":
            print(json.dumps(breakdown(path)))
        elif mode == "share":
            print(json.dumps(share_alone(path, jobs)))
        else:
            what_if = args.child[3] if mode == "what-if" else None
            print(json.dumps(child(path, what_if, mode == "validated", jobs)))
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
        small, long, wide = (str(exports[name][0]) for name in ("small", "long", "wide"))
        what_if = ("what-if", str(proposed))
        rows = [
            ("fast path", "small", 1, _run_child(small, "plain", "1")),
            ("fast path", "long", 1, _run_child(long, "plain", "1")),
            ("fast path", "long", 2, _run_child(long, "plain", "2")),
            ("fast path", "wide", 1, _run_child(wide, "plain", "1")),
            ("fast path", "wide", 2, _run_child(wide, "plain", "2")),
            (WHAT_IF, "wide", 1, _run_child(wide, what_if[0], "1", what_if[1])),
            (WHAT_IF, "wide", 2, _run_child(wide, what_if[0], "2", what_if[1])),
            (WEBHOOK, "small", 1, _run_child(small, "validated", "1")),
        ]
        alone = {jobs: _run_child(wide, "share", str(jobs)) for jobs in (4, 8)}
        parts = {
            name: _run_child(path, "breakdown", "1")
            for name, path in (("small", small), ("long", long))
        }
    _print(rows, parts, alone)
    problems = sum(r["problems"] for *_, r in rows)
    if problems:
        print(f"{problems} problems reported while reading", file=sys.stderr)
        return 1
    return 0


WHAT_IF = "fast path, with a what-if"
WEBHOOK = "the webhook's parsing"
Row = tuple[str, str, int, dict[str, Any]]  # path, export, processes, figures


def _print(
    rows: list[Row], parts: dict[str, dict[str, float]], alone: dict[int, dict[str, Any]]
) -> None:
    affinity = len(os.sched_getaffinity(0))
    print(f"CPUs: {affinity} this process may use, {os.cpu_count()} in the machine\n")
    print(
        "| export | events | tickets | path | processes | events/s | events per CPU second "
        "| seconds | peak memory | per ticket |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, name, jobs, r in rows:
        per_ticket = r["memory_mib"] * 1024 * 1024 / r["tickets"]
        print(
            f"| {name} | {r['lines']:,} | {r['tickets']:,} | {label} | {jobs} | {r['rate']:,.0f} "
            f"| {r['cpu_rate']:,.0f} | {r['seconds']:.1f} | {r['memory_mib']:,.0f} MiB "
            f"| {per_ticket:,.0f} B |"
        )
    by = {(label, name, jobs): r for label, name, jobs, r in rows}
    small, long, wide = (by[("fast path", name, 1)] for name in ("small", "long", "wide"))
    print(
        f"\nmemory, 10x the events on the same tickets: "
        f"{long['memory_mib'] / small['memory_mib']:.2f}x; "
        f"10x the events on 10x the tickets: {wide['memory_mib'] / small['memory_mib']:.2f}x"
    )
    for label, name in (("fast path", "long"), ("fast path", "wide"), (WHAT_IF, "wide")):
        one, two = by[(label, name, 1)], by[(label, name, 2)]
        print(
            f"2 processes against 1 ({name}, {label}): {two['rate'] / one['rate']:.2f}x the "
            f"events/s, {two['cpu_rate'] / one['cpu_rate']:.2f}x the events per CPU second, "
            f"{two['memory_mib'] / one['memory_mib']:.2f}x the memory"
        )
    webhook = by[(WEBHOOK, "small", 1)]
    print(
        f"fast path against the webhook's parsing (100k events): "
        f"{small['rate'] / webhook['rate']:.2f}x the events/s"
    )
    for name, part in parts.items():
        per_event = (
            part["parse_us"]
            + part["fold_us"]
            + part["tally_us_per_ticket"] / part["events_per_ticket"]
        )
        print(
            f"where an event's time goes (first 100k events of the {name} export, "
            f"{part['events_per_ticket']:.1f} events a ticket): parse {part['parse_us']:.1f} µs "
            f"(the webhook's parsing {part['validated_us']:.1f} µs), fold (TicketFold.add) "
            f"{part['fold_us']:.1f} µs ({part['fold_us'] / per_event:.0%} of the three), "
            f"state, outcomes and tally {part['tally_us_per_ticket']:.1f} µs a ticket"
        )
    for jobs, share in alone.items():
        print(
            f"one of {jobs} shares of the wide export read, folded and tallied alone: "
            f"{share['seconds']:.1f} s ({share['events']:,} events): {share['rate']:,.0f} "
            f"events/s if each of {jobs} shares had a CPU of its own (a projection)"
        )
    for name, what in (("long", "24,000 long tickets"), ("wide", "240,000 short tickets")):
        rate, jobs = max(
            (r["rate"], jobs) for label, n, jobs, r in rows if label == "fast path" and n == name
        )
        verdict = "met" if rate >= GOAL_RATE else "NOT met"
        print(
            f"goal of {GOAL_RATE:,} events/s over 1M events of {what}: {verdict} "
            f"(best: {rate:,.0f} events/s, {jobs} processes, on {affinity} CPUs)"
        )


if __name__ == "__main__":
    sys.exit(main())
