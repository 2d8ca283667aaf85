"""The README's screenshot of the report (docs/report.png), and the one way the tests drive the
headless browser: the sample export (``local.report_sample``), reported under the default policy
with a what-if of 4 business hours for Professional P2, drawn by headless Chromium (the Debian
package ``chromium``).

    python -m local.report_screenshot [--out docs/report.png] [--height 1500]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from local.report_sample import END, sample_lines
from sla import load_policy
from sla.tools.report import Period, Side, Tally, report_from_events
from sla.tools.report_html import render

__all__ = ["CHROMIUM", "chromium", "sample_report"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POLICY = ROOT / "layers" / "sla" / "sla" / "policy.toml"
CHROMIUM = shutil.which("chromium")
P2_SIX_HOURS = '2 = { hours = 6, clock = "business" }'


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throwaway profile, nothing fetched behind the page's back."""
    if CHROMIUM is None:
        raise RuntimeError("no chromium on PATH (Debian package `chromium`)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(  # noqa: S603 - the browser on PATH, our arguments
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def sample_report(folder: Path, tickets: int = 2000, weeks: int = 8) -> Path:
    """The sample export reported as a page in ``folder``, with the what-if; the page's path."""
    events = folder / "sample.jsonl"
    with events.open("w") as out:
        for line in sample_lines(tickets, weeks=weeks):
            out.write(line + "\n")
    proposed = folder / "p2-in-4-hours.toml"
    text = DEFAULT_POLICY.read_text()
    assert text.count(P2_SIX_HOURS) == 1, "the default policy's Professional P2 line moved"
    proposed.write_text(text.replace(P2_SIX_HOURS, '2 = { hours = 4, clock = "business" }'))
    current = load_policy()
    zone = ZoneInfo(current.config.calendar.timezone)
    sides = [
        Side("default policy", current, Tally(zone)),
        Side(proposed.name, load_policy(proposed), Tally(zone)),
    ]
    report = report_from_events(events, sides, Period(), END, warn=print)
    page = folder / "report.html"
    page.write_text(render(report), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "report.png"))
    parser.add_argument("--height", type=int, default=1500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        page = sample_report(Path(folder))
        done = chromium(
            f"--window-size=1200,{args.height}",
            f"--screenshot={Path(args.out).resolve()}",
            page.as_uri(),
        )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
