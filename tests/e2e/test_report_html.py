"""The report's HTML page in a real browser (headless Chromium): every chart is drawn, with its
bars and target lines at a size, the page needs nothing from the network, and it prints.

The page itself has no script. To read the layout, the test adds one to its own copy of the page
that measures every chart and writes the sizes into the DOM, which ``--dump-dom`` returns."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.report_screenshot import CHROMIUM, chromium, sample_report

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian package `chromium`)"
)

MEASURE = """
<pre id="measured"></pre>
<script>
const size = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
// a bar has an area; a target line is vertical: its box has a height only
const bars = svg => [...svg.querySelectorAll("rect.bar")]
  .filter(e => size(e)[0] > 0 && size(e)[1] > 0).length;
const lines = svg => [...svg.querySelectorAll("line.target")].filter(e => size(e)[1] > 0).length;
const charts = [...document.querySelectorAll("figure.chart")].map(figure => {
  const svg = figure.querySelector("svg");
  return {
    kind: figure.classList[1],
    caption: figure.querySelector("figcaption").textContent,
    size: size(svg),
    bars: bars(svg),
    targets: lines(svg),
  };
});
const breaches = document.querySelectorAll("table.breaches tbody tr").length;
document.getElementById("measured").textContent = JSON.stringify({charts, breaches});
</script>
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_report(tmp_path_factory.mktemp("report"), tickets=600, weeks=6)


@pytest.fixture(scope="module")
def measured(page: Path) -> dict[str, Any]:
    copy = page.with_name("measured.html")
    copy.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    done = chromium("--virtual-time-budget=5000", "--dump-dom", copy.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, "the measuring script ran"
    result: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return result


def charts(measured: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in measured["charts"] if c["kind"] == kind]


def test_the_page_has_no_script_and_loads_nothing(page: Path) -> None:
    html = page.read_text()
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", html), "no resource to fetch"


def test_achievement_by_week_is_drawn_with_a_bar_per_week_and_policy(
    measured: dict[str, Any],
) -> None:
    [weekly] = charts(measured, "weekly")
    width, height = weekly["size"]
    assert width > 300 and height > 150
    # six weeks of tickets (and the Monday the sample ends on), current and what-if
    assert weekly["bars"] >= 2 * 6


def test_achievement_by_plan_and_priority_is_drawn(measured: dict[str, Any]) -> None:
    [groups] = charts(measured, "groups")
    assert groups["size"][0] > 200 and groups["size"][1] > 150
    # the six plan and priority groups with a target, under both policies
    assert groups["bars"] == 2 * 6


def test_response_times_are_drawn_against_their_targets(measured: dict[str, Any]) -> None:
    histograms = charts(measured, "histogram")
    # nine plan and priority groups answered: three without a target
    assert len(histograms) == 9
    for chart in histograms:
        assert chart["size"][0] > 200 and chart["size"][1] > 100, chart["caption"]
        assert chart["bars"] > 0, chart["caption"]
    with_targets = {c["caption"]: c["targets"] for c in histograms if "none" not in c["caption"]}
    assert len(with_targets) == 6
    assert set(with_targets.values()) == {2}  # the current target and the what-if's


def test_the_breaches_are_listed(measured: dict[str, Any]) -> None:
    assert measured["breaches"] > 0


def test_the_page_prints(page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    done = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2  # pages, not one endless one
