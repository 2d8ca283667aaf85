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
