"""The layer's requirements and the project's runtime dependencies stay the same pins."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_layer_requirements_equal_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "layers/sla/requirements.txt").read_text().splitlines()
    layer = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(layer) == sorted(project)
    assert all("==" in pin for pin in layer), "every runtime dependency is pinned"


LAYER = ROOT / "layers/sla/sla"
CLOCK_READS = ("datetime.now(", ".utcnow(", "time.time(", "date.today(")


def _imports(path: Path) -> set[str]:
    """The modules a file imports (absolute names; relative imports are not used here)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_core_imports_no_aws_and_reads_no_clock_or_environment() -> None:
    for path in sorted((LAYER / "core").glob("*.py")):
        imported = _imports(path)
        for name in imported:
            assert not name.startswith(
                ("boto3", "botocore", "sla.aws", "sla.app", "sla.runtime")
            ), f"core/{path.name} imports {name}"
        assert "os" not in imported, f"core/{path.name} reads the environment"
        text = path.read_text()
        for forbidden in CLOCK_READS:
            assert forbidden not in text, f"core/{path.name} reads the clock ({forbidden})"


def test_boto3_and_botocore_only_under_aws() -> None:
    for path in sorted(LAYER.rglob("*.py")):
        if path.parent.name == "aws":
            continue
        for name in _imports(path):
            assert not name.startswith(("boto3", "botocore")), f"{path} imports {name}"


def test_imports_run_one_way() -> None:
    """core, then ports and sources, then app and aws, then runtime and tools: nothing points
    back up."""
    rank = {"core": 0, "ports": 1, "fakes": 1, "sources": 1, "app": 2, "aws": 2, "runtime": 3}
    for path in sorted(LAYER.rglob("*.py")):
        here = path.parent.name if path.parent != LAYER else path.stem
        if here not in rank:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "sla" or len(parts) < 2 or parts[1] not in rank:
                continue
            there = parts[1]
            assert rank[there] <= rank[here] or there == here, f"{path} imports {name}"
            assert not (here == "app" and there == "aws"), f"{path} imports {name}"
            assert not (here == "aws" and there == "app"), f"{path} imports {name}"


_COLD_IMPORT = """
import os, sys
import functions.webhook.app as app
from sla.runtime.observability import tracer
loaded = {m for m in sys.modules if m.split(".")[0] in ("aws_xray_sdk", "boto3", "botocore")}
loaded |= {m for m in sys.modules if m.startswith(("holidays.countries", "sla."))}
print(type(tracer.provider).__module__, " ".join(sorted(loaded)))
"""


def _cold_import(**env: str) -> tuple[str, set[str]]:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _COLD_IMPORT],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={
            "PYTHONPATH": f"{ROOT / 'layers/sla'}{os.pathsep}{ROOT}",
            "AWS_DEFAULT_REGION": "eu-central-1",
            **env,
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    provider, _, modules = done.stdout.strip().partition(" ")
    return provider, set(modules.split())


def test_the_webhook_module_loads_no_aws_sdk_no_tracer_and_no_notifier() -> None:
    """Cold start: importing the webhook handler loads no boto3 or botocore (clients come with the
    first request), no X-Ray SDK while tracing is off, no country holidays, and none of the
    notifier's modules."""
    provider, modules = _cold_import(POWERTOOLS_TRACE_DISABLED="true")
    assert provider == "sla.runtime.observability"
    # Powertools imports the bare botocore package (for its version) and the X-Ray SDK's switch
    sla = {m for m in modules if m.startswith("sla")}
    # Powertools imports the bare botocore package (for its version) and the X-Ray SDK's switch
    assert modules - sla == {"botocore", "aws_xray_sdk", "aws_xray_sdk.sdk_config"}
    assert "sla.aws.clients" in sla  # it imports boto3 only when a client is made
    notifier_side = {
        "sla.app.notifier",
        "sla.app.timersync",
        "sla.app.sweeper",
        "sla.aws.scheduler",
        "sla.aws.sns",
        "sla.aws.secrets",  # Secrets Manager is loaded with the first request that needs it
        "sla.fakes",
        "sla.tools.cli",
    }
    assert not sla & notifier_side, sla & notifier_side


def test_tracing_on_in_lambda_uses_the_x_ray_sdk() -> None:
    provider, modules = _cold_import(LAMBDA_TASK_ROOT="/var/task")
    assert provider.startswith("aws_xray_sdk")
    assert "aws_xray_sdk.core" in modules


def test_when_tracing_is_on() -> None:
    from sla.runtime.observability import tracing_on

    assert tracing_on({"LAMBDA_TASK_ROOT": "/var/task"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"})
    assert tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"})
    assert not tracing_on({})  # outside Lambda there is no X-Ray daemon to send to
