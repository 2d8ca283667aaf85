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


PURE = (
    "calendar",
    "policy",
    "ticket",
    "signature",
    "errors",
    "service",
    "settings",
    "notices",
    "notifier",
    "timersync",
)


def test_sla_core_imports_no_aws_and_reads_no_clock() -> None:
    for name in PURE:
        path = ROOT / "layers/sla/sla" / f"{name}.py"
        text = path.read_text()
        for forbidden in (
            "import boto3",
            "import botocore",
            "datetime.now(",
            ".utcnow(",
            "time.time(",
        ):
            assert forbidden not in text, f"{path.name} uses {forbidden}"


_COLD_IMPORT = """
import os, sys
import functions.webhook.app as app
from sla.observability import tracer
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
    assert provider == "sla.observability"
    # Powertools imports the bare botocore package (for its version) and the X-Ray SDK's switch
    assert modules - {"botocore", "aws_xray_sdk", "aws_xray_sdk.sdk_config"} == {
        "sla.aws",  # imports boto3 only when a client is made
        "sla.calendar",
        "sla.errors",
        "sla.notices",
        "sla.observability",
        "sla.policy",
        "sla.secrets",
        "sla.service",
        "sla.settings",
        "sla.signature",
        "sla.store",
        "sla.ticket",
        "sla.wiring",
    }


def test_tracing_on_in_lambda_uses_the_x_ray_sdk() -> None:
    provider, modules = _cold_import(LAMBDA_TASK_ROOT="/var/task")
    assert provider.startswith("aws_xray_sdk")
    assert "aws_xray_sdk.core" in modules


def test_when_tracing_is_on() -> None:
    from sla.observability import tracing_on

    assert tracing_on({"LAMBDA_TASK_ROOT": "/var/task"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"})
    assert tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"})
    assert not tracing_on({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"})
    assert not tracing_on({})  # outside Lambda there is no X-Ray daemon to send to
