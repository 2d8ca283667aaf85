"""Deadline throughput: our ``policy.deadline`` against businesstimedelta and pandas, in one run.

The same Professional P2 deadlines (6 business hours, Mon-Fri 09:00-17:00 Europe/Bratislava,
Slovak holidays) from the same creation instants, with every result checked against ours.

    .venv/bin/python benchmarks/deadlines.py [--n 100000] [--seed 1]

Also reports what building the calendar costs a cold start: loading the policy, the first
deadline (which builds that year's timeline and its holidays) and the memory it holds.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from zoneinfo import ZoneInfo

ZONE_NAME = "Europe/Bratislava"
YEARS = range(2025, 2029)


def instants(n: int, seed: int, whole_seconds: bool) -> list[datetime]:
    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    span = 2 * 365 * 86_400
    out = []
    for _ in range(n):
        offset = timedelta(seconds=rng.randrange(span))
        if not whole_seconds:
            offset += timedelta(microseconds=rng.randrange(1, 1_000_000))
        out.append(base + offset)
    return out


def ours() -> Callable[[datetime], datetime | None]:
    from sla import load_policy

    policy = load_policy()

    def run(created_at: datetime) -> datetime | None:
        return policy.deadline(created_at, plan="professional", priority=2)

    return run


def businesstimedelta_() -> Callable[[datetime], datetime]:
    # The package's documented usage: a WorkDayRule and a HolidayRule fed by `holidays`.
    import businesstimedelta
    import holidays
    import pytz

    tz = pytz.timezone(ZONE_NAME)
    workday = businesstimedelta.WorkDayRule(
        start_time=wall(9), end_time=wall(17), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    sk = businesstimedelta.HolidayRule(holidays.country_holidays("SK", years=YEARS), tz=tz)
    six_hours = businesstimedelta.BusinessTimeDelta(businesstimedelta.Rules([workday, sk]), hours=6)

    def run(created_at: datetime) -> datetime:
        result: datetime = created_at + six_hours
        return result

    return run


def pandas_() -> Callable[[datetime], datetime]:
    # CustomBusinessHour works on wall time: convert to local naive, add, localise back.
    import holidays
    import pandas as pd

    sk = sorted(holidays.country_holidays("SK", years=YEARS))
    offset = pd.offsets.CustomBusinessHour(
        n=6, start="09:00", end="17:00", holidays=sk, weekmask="Mon Tue Wed Thu Fri"
    )

    def run(created_at: datetime) -> datetime:
        local = pd.Timestamp(created_at).tz_convert(ZONE_NAME).tz_localize(None)
        result: datetime = (local + offset).tz_localize(ZONE_NAME).tz_convert("UTC").to_pydatetime()
        return result

    return run


def timed(
    fn: Callable[[datetime], datetime | None], data: list[datetime], repeat: int
) -> tuple[float, list[datetime | None]]:
    fn(data[0])  # warm: imports, first-year build
    best = float("inf")
    results: list[datetime | None] = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        results = [fn(t) for t in data]
        best = min(best, time.perf_counter() - start)
    return len(data) / best, results


def agreement(
    reference: list[datetime | None], other: list[datetime | None], allow_roll: bool
) -> tuple[int, int]:
    """(exact matches, matches only after rolling our 17:00 deadline to the next opening)."""
    from sla import load_policy

    cal = load_policy().calendar
    zone = ZoneInfo(ZONE_NAME)
    exact = rolled = 0
    for ours_, theirs in zip(reference, other, strict=True):
        if ours_ == theirs:
            exact += 1
        elif (
            allow_roll
            and ours_ is not None
            and ours_.astimezone(zone).time() == wall(17)
            and theirs == cal.next_opening(ours_)
        ):
            rolled += 1
    return exact, rolled


COLD = """
import time, tracemalloc
t0 = time.perf_counter()
from sla import load_policy
t1 = time.perf_counter()
policy = load_policy()
t2 = time.perf_counter()
tracemalloc.start()
from datetime import datetime, timezone
policy.deadline(datetime(2026, 11, 25, 8, 59, tzinfo=timezone.utc), plan="professional", priority=2)
t3 = time.perf_counter()
size, _ = tracemalloc.get_traced_memory()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "load_ms": (t2 - t1) * 1e3,
                  "first_deadline_ms": (t3 - t2) * 1e3, "first_year_kib": size / 1024}))
"""


def cold_start(samples: int = 5) -> dict[str, float]:
    runs = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", "import json\n" + COLD],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data = instants(args.n, args.seed, whole_seconds=True)
    fine = instants(args.n, args.seed, whole_seconds=False)
    print(
        f"{args.n:,} Professional P2 deadlines, "
        f"created {data[0].year}-{data[-1].year} (whole seconds)\n"
    )

    ours_rate, ours_results = timed(ours(), data, repeat=3)
    fine_rate, _ = timed(ours(), fine, repeat=3)
    btd_rate, btd_results = timed(businesstimedelta_(), data, repeat=1)
    pd_rate, pd_results = timed(pandas_(), data, repeat=1)
    btd_exact, _ = agreement(ours_results, btd_results, allow_roll=False)
    pd_exact, pd_rolled = agreement(ours_results, pd_results, allow_roll=True)

    rows = [
        ("sla `policy.deadline`", ours_rate, "reference", ""),
        ("sla, microsecond instants", fine_rate, "-", "remainders rarely repeat"),
        ("businesstimedelta 1.0.1", btd_rate, f"{btd_exact:,}/{args.n:,} equal", ""),
        (
            "pandas CustomBusinessHour",
            pd_rate,
            f"{pd_exact:,}/{args.n:,} equal",
            f"{pd_rolled:,} rolled 17:00 to next opening",
        ),
    ]
    print("| implementation | deadlines/s | ours is | agreement | note |")
    print("| --- | ---: | ---: | --- | --- |")
    for name, rate, agree, note in rows:
        ratio = "1x" if rate == ours_rate else f"{ours_rate / rate:,.1f}x"
        print(f"| {name} | {rate:,.0f} | {ratio} | {agree} | {note} |")
    at_closing = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wed 11:00 CET + 6 h = 17:00 CET
    print(
        f"\n17:00 case, created {at_closing:%Y-%m-%dT%H:%MZ}: "
        f"sla {ours()(at_closing):%Y-%m-%dT%H:%MZ}, "
        f"businesstimedelta {businesstimedelta_()(at_closing).astimezone(UTC):%Y-%m-%dT%H:%MZ}, "
        f"pandas {pandas_()(at_closing):%Y-%m-%dT%H:%MZ} (rolled to the next opening)"
    )
    cold = cold_start()
    print()
    print(
        "cold start (median of 5 fresh processes): "
        f"import sla {cold['import_ms']:.0f} ms, load_policy {cold['load_ms']:.1f} ms, "
        f"first deadline (builds the year) {cold['first_deadline_ms']:.1f} ms, "
        f"memory it allocated {cold['first_year_kib']:.0f} KiB"
    )
    mismatches = args.n - btd_exact + (args.n - pd_exact - pd_rolled)
    if mismatches:
        print(f"\n{mismatches} results disagree beyond the documented pandas roll", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
