"""The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
network, readable on screen and in print.

Per metric: the key figures, achievement by week of creation, achievement by plan and priority,
the table of counts and times, the distribution of response times against the target (one small
histogram per plan and priority), and the breaches. With a what-if policy every chart and table
shows it beside the current one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sla.tools.report import Group, Outcome, Report, Side, group_label, period_text

__all__ = ["BREACHES_SHOWN", "render"]

BREACHES_SHOWN = 1000  # per metric and policy; the rest are counted
_HOUR_US = 3_600_000_000
_COLORS = ("#1f5fa8", "#e07b00")  # current, what-if: apart in hue and in grey
_TARGETS = ("#1d2329", "#e07b00")  # the target lines of the histograms
_LATE = "#b8322a"
_NONE = "\u2013"  # an en dash: nothing to show

_CSS = """
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --rule: #d5dbe0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: var(--muted); margin: 0; }
.legend { display: flex; gap: 16px; margin: 8px 0; color: var(--muted); }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px;
  margin-right: 6px; vertical-align: -1px; background: var(--swatch); }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.kpi { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.kpi b { display: block; font-size: 20px; }
.kpi small { color: var(--muted); }
figure { margin: 16px 0; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
svg .axis { stroke: var(--ink); stroke-width: 1; }
svg .grid { stroke: var(--rule); stroke-width: 1; }
.multiples { display: flex; flex-wrap: wrap; gap: 8px 20px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--rule); text-align: right;
  white-space: nowrap; }
th { border-bottom: 1px solid var(--ink); }
th:first-child, td:first-child, td.text { text-align: left; }
tr.total td { font-weight: 600; border-top: 1px solid var(--ink); }
tr.whatif td { background: #fbf3e8; }
td[rowspan] { vertical-align: top; }
.empty { padding: 24px; border: 1px dashed var(--rule); color: var(--muted); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-before: page; }
  section:first-of-type h2 { break-before: auto; }
  tr { break-inside: avoid; }
  table { font-size: 8pt; }
  th, td { padding: 2px 4px; white-space: normal; }
}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pct(value: float | None) -> str:
    return _NONE if value is None else f"{value * 100:.1f}%"


def _hours(value: float | None) -> str:
    return _NONE if value is None else f"{value:.1f} h"


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return _NONE if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _metric_title(metric: str) -> str:
    return metric.replace("_", " ").capitalize()


# -- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    label: str
    color: str
    values: Sequence[float | None]  # 0..1, None: nothing to show
    notes: Sequence[str]  # the tooltip of each bar


def _bar_chart(categories: Sequence[str], series: Sequence[_Series], *, label_values: bool) -> str:
    """Grouped vertical bars of fractions (0..100%), one group per category."""
    n, k = len(categories), len(series)
    longest = max((len(c) for c in categories), default=0)
    # rotated labels reach down and to the left of their bar: room for the longest
    left, right, top, bottom = max(44, int(longest * 5.2)), 12, 16, 24 + int(longest * 3.8)
    slot = max(18.0, min(80.0, 900.0 / max(n, 1)))
    width = int(left + right + slot * n)
    height = 190 + bottom
    plot_h = height - top - bottom
    bar_w = max(3.0, (slot * 0.8) / k)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{int(tick * 100)}%</text>'
        )
    every = max(1, math.ceil(n / 30))  # at most about 30 category labels
    for i, category in enumerate(categories):
        x0 = left + slot * i + slot * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = plot_h * value
            x = x0 + bar_w * j
            y = top + plot_h - h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{s.color}"><title>{_e(s.notes[i])}</title>'
                "</rect>"
            )
            if label_values:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                    f'font-size="9">{value * 100:.0f}</text>'
                )
        if i % every == 0:
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {top + plot_h + 14})">{_e(category)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/></svg>'
    )
    return "".join(parts)


def _histogram(
    times_us: Sequence[int],
    targets: Sequence[tuple[float, str, str]],  # hours, color, label
    clock: str,
) -> str:
    """Counts of response times in 20 bins from 0 to twice the largest target (or to the
    largest time without a target); the last bin holds everything beyond. The targets are
    vertical lines; bins past the current target are drawn in the colour of lateness."""
    width, height = 320, 150
    left, right, top, bottom = 34, 10, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    hours = [t / _HOUR_US for t in times_us]
    limit = 2 * max((t[0] for t in targets), default=0.0)
    if limit <= 0:
        limit = max(hours, default=1.0) or 1.0
    bins = 20
    step = limit / bins
    counts = [0] * bins
    for value in hours:
        counts[min(bins - 1, max(0, int(value / step)))] += 1
    peak = max(counts) or 1
    first_target = targets[0][0] if targets else None
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        if not count:
            continue
        h = plot_h * count / peak
        late = first_target is not None and (i + 1) * step > first_target + 1e-9
        color = _LATE if late else _COLORS[0]
        low, high = i * step, (i + 1) * step
        span = f"{_num(low)}{_NONE}{_num(high)} h" if i < bins - 1 else f"≥ {_num(low)} h"
        parts.append(
            f'<rect class="bar" x="{left + i * bar_w + 0.5:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{count} tickets: {span}</title></rect>"
        )
    for index, (target, color, label) in enumerate(targets):
        x = left + plot_w * min(target / limit, 1.0)
        dash = ' stroke-dasharray="4 3"' if index else ""
        parts.append(
            f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{top + plot_h}" '
            f'stroke="{color}" stroke-width="2"{dash}><title>{_e(label)}</title></line>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
        f'<text x="{left}" y="{height - 14}" text-anchor="middle">0</text>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 14}" text-anchor="middle">'
        f"{_num(limit / 2)}</text>"
        f'<text x="{left + plot_w}" y="{height - 14}" text-anchor="end">{_num(limit)} h</text>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 2}" text-anchor="middle" '
        f'fill="#5b6670">{_e(clock)} hours</text>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>'
        "</svg>"
    )
    return "".join(parts)


# -- sections -------------------------------------------------------------------------------


def _legend(report: Report) -> str:
    if report.what_if is None:
        return ""
    items = "".join(
        f'<span style="--swatch:{_COLORS[i]}">{_e(side.label)}</span>'
        for i, side in enumerate(report.sides)
    )
    return f'<div class="legend">{items}</div>'


def _kpis(report: Report, metric: str) -> str:
    cards = []
    for i, side in enumerate(report.sides):
        total = side.tally.totals.get(metric)
        if total is None:
            continue
        suffix = f" <small>({_e(side.label)})</small>" if report.what_if is not None else ""
        style = f' style="border-left: 4px solid {_COLORS[i]}"' if report.what_if else ""
        cards.append(
            f'<div class="kpi"{style}><b>{_pct(total.achievement)}</b>'
            f"<small>achievement{suffix}</small></div>"
            f'<div class="kpi"{style}><b>{total.breached:,}</b><small>breached{suffix}</small>'
            "</div>"
        )
    current = report.current.tally.totals.get(metric)
    if current is not None:
        cards.insert(
            0,
            f'<div class="kpi"><b>{current.tickets:,}</b><small>tickets</small></div>'
            f'<div class="kpi"><b>{current.met:,}</b><small>met</small></div>'
            f'<div class="kpi"><b>{current.running:,}</b><small>running</small></div>'
            f'<div class="kpi"><b>{_hours(current.quantile_hours(0.5))}</b>'
            f"<small>median ({_e(current.clock)})</small></div>"
            f'<div class="kpi"><b>{_hours(current.quantile_hours(0.9))}</b>'
            f"<small>90th percentile</small></div>",
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def _achievement_note(label: str, group: Group | None) -> str:
    if group is None or group.achievement is None:
        return f"{label}: nothing judged"
    judged = group.met + group.breached
    return f"{label}: {_pct(group.achievement)} ({group.met:,} met of {judged:,})"


def _achievement_series(
    report: Report, places: list[str], groups_of: Callable[[Side], list[Group | None]]
) -> list[_Series]:
    """One bar series per side: the achievement of its group at each place, with a note."""
    series = []
    for i, side in enumerate(report.sides):
        groups = groups_of(side)
        series.append(
            _Series(
                side.label,
                _COLORS[i],
                [g.achievement if g is not None else None for g in groups],
                [
                    _achievement_note(f"{place}, {side.label}", g)
                    for place, g in zip(places, groups, strict=True)
                ],
            )
        )
    return series


def _weekly(report: Report, metric: str) -> str:
    weeks = report.weeks(metric)
    if not weeks:
        return ""
    series = _achievement_series(
        report,
        [f"week of {week.isoformat()}" for week in weeks],
        lambda side: [side.tally.weeks.get((metric, week)) for week in weeks],
    )
    labels = [week.strftime("%d %b %Y") for week in weeks]
    chart = _bar_chart(labels, series, label_values=len(weeks) <= 16)
    return (
        '<figure class="chart weekly"><figcaption>Achievement by week of creation '
        f"(weeks from Monday, {_e(report.zone.key)})</figcaption>{chart}</figure>"
    )


def _by_group(report: Report, metric: str) -> str:
    keys = [
        k
        for k in report.group_keys(metric)
        if any(
            (g := side.tally.groups.get(k)) is not None and g.achievement is not None
            for side in report.sides
        )
    ]
    if not keys:
        return ""
    series = _achievement_series(
        report,
        [group_label(k[1], k[2]) for k in keys],
        lambda side: [side.tally.groups.get(k) for k in keys],
    )
    chart = _bar_chart([group_label(k[1], k[2]) for k in keys], series, label_values=True)
    return (
        '<figure class="chart groups"><figcaption>Achievement by plan and priority'
        f"</figcaption>{chart}</figure>"
    )


def _target_text(group: Group | None) -> str:
    target = group.target if group is not None else None
    return "none" if target is None else f"{_num(target[0])} h {target[1]}"


_HEADS = (
    "tickets",
    "met",
    "breached",
    "running",
    "exempt",
    "no target",
    "achievement",
    "target",
    "median",
    "p90",
)


def _cells(group: Group | None, *, total: bool = False) -> str:
    if group is None:
        return "".join(f"<td>{_NONE}</td>" for _ in _HEADS)
    values = [
        f"{group.tickets:,}",
        f"{group.met:,}",
        f"{group.breached:,}",
        f"{group.running:,}",
        f"{group.exempt:,}",
        f"{group.no_target:,}",
        _pct(group.achievement),
        _NONE if total else _target_text(group),
        _hours(group.quantile_hours(0.5)),
        _hours(group.quantile_hours(0.9)),
    ]
    return "".join(f"<td>{_e(v)}</td>" for v in values)


def _table(report: Report, metric: str) -> str:
    """One row per plan and priority (with a what-if: one per policy, the what-if's shaded)."""
    both = report.what_if is not None
    head = "<th>plan and priority</th>" + ("<th>policy</th>" if both else "")
    head += "".join(f"<th>{h}</th>" for h in _HEADS)
    rows = []
    groups = [(group_label(k[1], k[2]), k) for k in report.group_keys(metric)]
    for label, key in [*groups, ("all", None)]:
        css = ' class="total"' if key is None else ""
        for i, side in enumerate(report.sides):
            tally = side.tally
            group = tally.totals.get(metric) if key is None else tally.groups.get(key)
            cells = _cells(group, total=key is None)
            if not both:
                rows.append(f"<tr{css}><td>{_e(label)}</td>{cells}</tr>")
            elif i == 0:
                rows.append(
                    f'<tr{css}><td rowspan="2">{_e(label)}</td>'
                    f'<td class="text">{_e(side.label)}</td>{cells}</tr>'
                )
            else:
                rows.append(
                    f'<tr class="whatif"><td class="text">{_e(side.label)}</td>{cells}</tr>'
                )
    return (
        f'<table class="groups"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _distribution(report: Report, metric: str) -> str:
    charts = []
    for key in report.group_keys(metric):
        group = report.current.tally.groups.get(key)
        if group is None or not group.times():
            continue
        targets = []
        for i, side in enumerate(report.sides):
            g = side.tally.groups.get(key)
            target = g.target if g is not None else None
            if target is not None and target[1] == group.clock:
                targets.append((target[0], _TARGETS[i], f"{side.label}: {_num(target[0])} h"))
        title = f"{group_label(key[1], key[2])}: target {_target_text(group)}"
        if report.what_if is not None:
            other = report.what_if.tally.groups.get(key)
            if _target_text(other) != _target_text(group):
                title += f", what-if {_target_text(other)}"
        charts.append(
            f'<figure class="chart histogram"><figcaption>{_e(title)}</figcaption>'
            f"{_histogram(group.times(), targets, group.clock)}</figure>"
        )
    if not charts:
        return ""
    return (
        "<h3>Response times against the target</h3>"
        '<p class="meta">Tickets whose clock stopped, by time taken in the target\'s clock; '
        "the line is the target (dashed: the what-if's), bars past it are late.</p>"
        f'<div class="multiples">{"".join(charts)}</div>'
    )


def _late(outcome: Outcome, side: Side, now: datetime) -> timedelta | None:
    if outcome.deadline is None:
        return None
    if outcome.took is not None and outcome.target_hours is not None:
        return outcome.took - timedelta(hours=outcome.target_hours)
    stop = outcome.stopped_at or now
    if outcome.clock == "elapsed":
        return stop - outcome.deadline
    return side.policy.calendar.business_time_between(outcome.deadline, stop)


def _breaches(report: Report, metric: str) -> str:
    parts = []
    for side in report.sides:
        found = sorted(
            side.tally.breaches.get(metric, []),
            key=lambda o: (o.deadline or report.now, o.ticket_id, o.cycle),
        )
        title = "Breaches" + (f" under {side.label}" if report.what_if is not None else "")
        parts.append(f"<h3>{_e(title)} ({len(found):,})</h3>")
        if not found:
            parts.append('<p class="meta">None.</p>')
            continue
        rows = []
        zone = report.zone
        for o in found[:BREACHES_SHOWN]:
            late = _late(o, side, report.now)
            late_text = _NONE if late is None else _hours(late.total_seconds() / 3600)
            took = "open" if o.took is None else _hours(o.took.total_seconds() / 3600)
            rows.append(
                f'<tr><td class="text">{_e(o.ticket_id)}</td>'
                f'<td class="text">{_e(group_label(o.plan, o.priority))}</td>'
                f"<td>{_local(o.created_at, zone)}</td><td>{_local(o.deadline, zone)}</td>"
                f"<td>{_local(o.stopped_at, zone)}</td><td>{_e(took)}</td>"
                f"<td>{_e(late_text)}</td></tr>"
            )
        more = len(found) - BREACHES_SHOWN
        note = f'<p class="meta">And {more:,} more, not shown.</p>' if more > 0 else ""
        parts.append(
            '<table class="breaches"><thead><tr><th>ticket</th><th>plan and priority</th>'
            f"<th>created ({_e(zone.key)})</th><th>deadline</th><th>stopped</th><th>took</th>"
            f"<th>late by</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"
        )
    return "".join(parts)


def render(report: Report) -> str:
    """The whole page."""
    now = report.now.isoformat().replace("+00:00", "Z")
    policies = " beside ".join(_e(s.label) for s in report.sides)
    head = (
        "<header><h1>SLA report</h1>"
        f'<p class="meta">{_e(_first_upper(period_text(report)))} · judged at {_e(now)} · '
        f"{_e(report.source)} · policy: {policies}</p>{_legend(report)}</header>"
    )
    body = []
    if report.current.tickets == 0:
        body.append('<p class="empty">No tickets were created in this period.</p>')
    for metric in report.metrics() if report.current.tickets else []:
        body.append(
            f'<section id="{_e(metric)}"><h2>{_e(_metric_title(metric))}</h2>'
            f"{_kpis(report, metric)}{_weekly(report, metric)}{_by_group(report, metric)}"
            f"{_table(report, metric)}{_distribution(report, metric)}"
            f"{_breaches(report, metric)}</section>"
        )
    notes = []
    if report.undated:
        notes.append(
            f"{report.undated:,} pending tickets without a creation time are in no period."
        )
    if report.problems:
        notes.append(f"{report.problems:,} problems were reported while reading.")
    footer = (
        "<footer>Achievement is met / (met + breached). Times are in each target's clock "
        "(business hours of the policy's calendar, or elapsed time); the median and the 90th "
        f"percentile interpolate between ranks. {' '.join(_e(n) for n in notes)}</footer>"
    )
    title = f"SLA report: {period_text(report)}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"{head}{''.join(body)}{footer}</body></html>\n"
    )
