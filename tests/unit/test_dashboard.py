"""The CloudWatch dashboard in template.yaml, held against what the code emits: every metric the
functions count is on it, under the namespace and exactly the dimensions they are emitted with,
so renaming a metric or a dimension on either side breaks a test here."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template, resource
from sla.runtime import observability
from sla.runtime.observability import NOTICE_METRICS, SLA_METRICS, count, metrics

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("functions/*/app.py"), *(ROOT / "layers/sla/sla").rglob("*.py")])
PSEUDO = {"AWS::Region": "eu-central-1", "AWS::StackName": "sla", "AWS::AccountId": "123456789012"}
ATTRIBUTES = {"AWS::SQS::Queue": {"QueueName", "Arn", "QueueUrl"}}


# -- the dashboard, as CloudFormation would hand it to CloudWatch ---------------------------------


def substitute(template: str) -> str:
    """``Fn::Sub`` of the body: ``${Name}``/``${Name.Attr}`` of a resource of the template or a
    pseudo parameter; ``${!x}`` is the literal ``${x}`` (CloudWatch's dynamic labels)."""
    resources = load_template()["Resources"]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in PSEUDO:
            return PSEUDO[name]
        logical, _, attribute = name.partition(".")
        assert logical in resources, f"${{{name}}} names no resource of the template"
        if attribute:
            kind = resources[logical]["Type"]
            assert attribute in ATTRIBUTES.get(kind, set()), f"{kind} has no {attribute}"
        return f"<{name}>"

    return re.sub(r"\$\{([^}]+)\}", value, template)


def body() -> dict[str, Any]:
    sub = resource("SlaDashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(sub, str), "the body is one !Sub string, with no variable map"
    parsed: dict[str, Any] = json.loads(substitute(sub))
    return parsed


def metric_widgets() -> list[dict[str, Any]]:
    return [w for w in body()["widgets"] if w["type"] == "metric"]


@dataclass(frozen=True)
class Query:
    """One metric a widget asks for: an explicit metric, or a SEARCH of a metric schema."""

    widget: str
    namespace: str
    name: str  # exact, or a partial search term when ``partial``
    dimensions: frozenset[str]
    values: tuple[tuple[str, str], ...]  # dimension values asked for
    partial: bool = False
    visible: bool = True

    def covers(self, name: str) -> bool:
        """Whether this query finds metric ``name`` (a partial term finds any name it is a token
        of, as CloudWatch's search does; tokens split at non-alphanumerics only here)."""
        if self.partial:
            return self.name in re.split(r"[^A-Za-z0-9]+", name)
        return self.name == name


SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s*(.*?)'\s*,\s*'(\w+)'")
TERM = re.compile(r'(\w+)=(?:"([^"]*)"|(\S+))')


def queries() -> Iterator[Query]:
    for widget in metric_widgets():
        title = widget["properties"]["title"]
        for row in widget["properties"]["metrics"]:
            options = row[-1] if isinstance(row[-1], dict) else {}
            visible = options.get("visible", True)
            if "expression" in options:
                for schema, terms, _stat in SEARCH.findall(options["expression"]):
                    namespace, *dims = [part.strip() for part in schema.split(",")]
                    found = {key: (exact, loose) for key, exact, loose in TERM.findall(terms)}
                    exact, loose = found.pop("MetricName")
                    yield Query(
                        title,
                        namespace,
                        exact or loose,
                        frozenset(dims),
                        tuple(sorted((k, e or v) for k, (e, v) in found.items())),
                        partial=not exact,
                        visible=visible,
                    )
            else:
                namespace, name, *pairs = [part for part in row if isinstance(part, str)]
                values = tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True)))
                yield Query(
                    title, namespace, name, frozenset(k for k, _ in values), values, False, visible
                )


# -- what the code emits ----------------------------------------------------------------------


@dataclass(frozen=True)
class Emitted:
    name: str  # the whole name, or the constant head of an f-string name
    kind: str  # "count" (by plan, priority and metric) or "metrics" (the handler's own)
    prefix: bool = False


def emitted_names() -> set[Emitted]:
    """The names passed to ``count()`` and ``add_metric()`` in the functions and the layer, and the
    notice counts of ``count_published``."""
    found = {Emitted(name, "count") for name in NOTICE_METRICS.values()}
    unresolved = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        counts = path.name == "observability.py" or any(
            isinstance(node, ast.ImportFrom)
            and node.module == "sla.runtime.observability"
            and "count" in {alias.name for alias in node.names}
            for node in ast.walk(tree)
        )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "add_metric":
                kind = "metrics"
            elif counts and isinstance(node.func, ast.Name) and node.func.id == "count":
                kind = "count"
            else:
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            arg = keywords.get("name", node.args[0] if node.args else None)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(Emitted(arg.value, kind))
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                found.add(Emitted(str(arg.values[0].value), kind, prefix=True))
            else:
                unresolved.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    # the one name not written at its call: count_published's NOTICE_METRICS[kind], added above
    assert [u for u in unresolved if "NOTICE_METRICS[" not in u] == []
    return found


@pytest.fixture
def emitted_dimensions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[str, dict[str, str]]]:
    """Per kind, the namespace and the dimension names/values of a document really emitted, with
    the service name and namespace the template gives the functions."""
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", variables["POWERTOOLS_SERVICE_NAME"])
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", variables["POWERTOOLS_METRICS_NAMESPACE"])
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    count("Probe", "professional", 2, metric="next_reply")
    metrics.add_metric(name="Probe", unit="Count", value=1)
    metrics.flush_metrics()
    documents = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    found = {}
    for kind, document in zip(("count", "metrics"), documents, strict=True):
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        (names,) = directive["Dimensions"]
        found[kind] = (directive["Namespace"], {name: document[name] for name in names})
    assert found["count"][0] == observability.NAMESPACE
    return found


# -- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_body_is_json_once_its_variables_are_substituted() -> None:
    dashboard = resource("SlaDashboard")
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    assert dashboard["Properties"]["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-sla"}
    widgets = body()["widgets"]
    assert len(metric_widgets()) >= 10
    assert all(w["properties"]["region"] == PSEUDO["AWS::Region"] for w in metric_widgets())
    # every widget inside the 24-column grid, none over another
    cells: set[tuple[int, int]] = set()
    for widget in widgets:
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24
        area = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not area & cells, f"{widget['properties'].get('title')} overlaps another widget"
        cells |= area


def test_an_unknown_variable_in_the_body_is_refused() -> None:
    with pytest.raises(AssertionError, match="names no resource"):
        substitute('{"x": "${NoSuchQueue.QueueName}"}')
    with pytest.raises(AssertionError, match="has no QueueLength"):
        substitute('{"x": "${StreamFailureQueue.QueueLength}"}')


def test_every_metric_the_code_emits_is_on_the_dashboard() -> None:
    names = emitted_names()
    assert {"DeadlinesSet", "Met", "StaleTimers", "Repairs", "MalformedTimers"} <= {
        e.name for e in names
    }, "the source scan finds the counts"
    on_dashboard = [q for q in queries() if q.namespace == observability.NAMESPACE]
    missing = sorted(
        e.name for e in names if not any(q.visible and q.covers(e.name) for q in on_dashboard)
    )
    assert missing == [], f"emitted but on no widget: {missing}"


def test_each_slakeeper_query_names_the_dimensions_the_code_emits(
    emitted_dimensions: dict[str, tuple[str, dict[str, str]]],
) -> None:
    names = emitted_names()
    slakeeper = [q for q in queries() if q.namespace == observability.NAMESPACE]
    assert slakeeper
    for query in slakeeper:
        kinds = {e.kind for e in names if query.covers(e.name)}
        assert len(kinds) == 1, f"{query.widget}: {query.name} is not emitted (or twice)"
        (kind,) = kinds
        namespace, dimensions = emitted_dimensions[kind]
        assert query.namespace == namespace
        assert query.dimensions == set(dimensions), f"{query.widget}: {query.name}"
        for key, value in query.values:
            if key == "metric":
                assert value in SLA_METRICS, f"{query.widget}: metric={value}"
            else:
                assert dimensions[key] == value, f"{query.widget}: {key}={value}"


def test_the_sla_counts_are_shown_by_plan_priority_and_metric() -> None:
    wanted = {"DeadlinesSet", "Warnings", "Breaches", "Met", "Retractions", "StaleTimers"}
    shown = {
        q.name
        for q in queries()
        if q.visible and not q.values and {"plan", "metric"} <= q.dimensions
    }
    assert wanted <= shown


@pytest.mark.parametrize(
    "title", ["Achievement, % met per hour", "Achievement over the time range"]
)
def test_achievement_is_met_over_the_outcomes_of_each_sla_metric(title: str) -> None:
    """Met / (Met + Breaches - Retractions): a retracted breach's ticket is counted as met."""
    (widget,) = [w for w in metric_widgets() if w["properties"]["title"].startswith(title)]
    rows = [row[0] for row in widget["properties"]["metrics"]]
    hidden = {row["id"]: row["expression"] for row in rows if row.get("visible") is False}
    lines = [row for row in rows if row.get("visible", True)]
    assert len(lines) == len(SLA_METRICS)
    for metric, line in zip(SLA_METRICS, lines, strict=True):
        ids = re.fullmatch(r"100 \* (\w+) / \((\w+) \+ (\w+) - (\w+)\)", line["expression"])
        assert ids is not None, line["expression"]
        met, met_again, breaches, retractions = ids.groups()
        assert met == met_again
        for ref, name in ((met, "Met"), (breaches, "Breaches"), (retractions, "Retractions")):
            assert f'MetricName="{name}" metric="{metric}"' in hidden[ref]
            assert hidden[ref].startswith("FILL(SUM(SEARCH(")


def test_the_dashboard_watches_every_failure_queue_and_the_webhook() -> None:
    resources = load_template()["Resources"]
    explicit = {(q.namespace, q.name, q.values) for q in queries() if not q.partial}
    for logical, res in resources.items():
        if res["Type"] == "AWS::SQS::Queue":
            assert (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                (("QueueName", f"<{logical}.QueueName>"),),
            ) in explicit, logical
    for name in ("4xx", "5xx"):
        assert ("AWS/ApiGateway", name, (("ApiId", "<HttpApi>"),)) in explicit
    for name in ("Errors", "Throttles"):
        assert ("AWS/Lambda", name, (("FunctionName", "<WebhookFunction>"),)) in explicit


def test_an_output_gives_the_dashboard_url() -> None:
    url = load_template()["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.endswith("#dashboards:name=${SlaDashboard}")
