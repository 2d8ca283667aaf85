"""The `sla` command (contract section 5), run in-process and once as the installed script."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sla.tools.cli import main


def run(
    argv: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    mp = monkeypatch or pytest.MonkeyPatch()
    mp.setattr(sys, "stdin", io.StringIO(stdin))
    mp.setattr(sys, "stdout", out)
    mp.setattr(sys, "stderr", err)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    finally:
        if monkeypatch is None:
            mp.undo()
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--plan", "professional", "--priority", "2", "--created-at", "2026-11-25T16:30:00Z"],
            "2026-11-26T14:00:00Z",
        ),  # 17:30 CET: counts from Thu 09:00
        (
            [
                "--plan",
                "professional",
                "--priority",
                "1",
                "--created-at",
                "2026-11-27T16:30:00+01:00",
            ],
            "2026-11-30T10:30:00Z",
        ),
        (
            [
                "--plan",
                "professional",
                "--priority",
                "1",
                "--created-at",
                "2026-11-25T08:00:00Z",
                "--environment",
                "staging",
            ],
            "2026-11-26T09:00:00Z",
        ),  # classified 3: 9 h
        (
            [
                "--plan",
                "advanced",
                "--priority",
                "1",
                "--created-at",
                "2026-11-25T08:00:00Z",
                "--product-stage",
                "beta",
            ],
            "none",
        ),
        (["--plan", "basic", "--created-at", "2026-11-25T08:00:00Z"], "none"),
        (
            ["--plan", "advanced", "--priority", "1", "--created-at", "2026-11-25T08:00:00.5Z"],
            "2026-11-25T09:00:00.500000Z",
        ),
    ],
)
def test_deadline(args: list[str], expected: str) -> None:
    assert run(["deadline", *args]) == (0, expected + "\n", "")


def jsonl(lines: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """``sla deadline --jsonl`` over these lines: the exit status and the lines it wrote."""
    code, out, _ = run(["deadline", "--jsonl"], "\n".join(lines) + "\n")
    return code, [json.loads(line) for line in out.splitlines()]


def test_deadline_jsonl_keeps_going_after_bad_lines() -> None:
    lines = [
        '{"created_at": "2026-11-25T08:59:00Z", "plan": "professional", "priority": 2, "ref": "a"}',
        "not json",
        '{"created_at": "2026-11-25T08:59:00", "plan": "professional"}',
        "",
        '{"created_at": "2026-11-25T08:59:00Z", "plan": "basic"}',
        '{"created_at": "2026-11-25T08:59:00Z", "plan": "professional", "priority": 9}',
        "[1, 2]",
        '{"plan": "professional"}',
    ]
    code, rows = jsonl(lines)
    assert code == 1
    assert rows[0] == {
        "created_at": "2026-11-25T08:59:00Z",
        "plan": "professional",
        "priority": 2,
        "ref": "a",
        "deadline": "2026-11-25T14:59:00Z",
    }
    assert rows[1]["line"] == 2 and "not JSON" in rows[1]["error"]
    assert rows[2]["line"] == 3 and "timezone" in rows[2]["error"]
    assert rows[3]["deadline"] is None
    assert rows[4]["line"] == 6 and "priority" in rows[4]["error"]
    assert rows[5] == {"line": 7, "error": "expected a JSON object"}
    assert rows[6] == {"line": 8, "error": "created_at: required"}


def test_deadline_jsonl_all_good_exits_zero() -> None:
    code, out, _ = run(
        ["deadline", "--jsonl"], '{"created_at": "2026-11-25T08:59:00Z", "plan": "advanced"}\n'
    )
    assert code == 0 and json.loads(out)["deadline"] == "2026-11-25T14:59:00Z"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2026-11-27T15:00:00Z", "2026-11-30T10:00:00Z", "10800"),
        ("2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", "0"),
        ("2026-11-25T08:00:00Z", "2026-11-25T08:00:01.25Z", "1.25"),
        ("2026-11-30T10:00:00Z", "2026-11-27T15:00:00Z", "-10800"),
    ],
)
def test_business_time(a: str, b: str, expected: str) -> None:
    assert run(["business-time", "--from", a, "--to", b]) == (0, expected + "\n", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["deadline", "--plan", "professional"],
        ["deadline", "--plan", "gold", "--created-at", "2026-11-25T08:00:00Z"],
        [
            "deadline",
            "--plan",
            "professional",
            "--priority",
            "x",
            "--created-at",
            "2026-11-25T08:00:00Z",
        ],
        ["deadline", "--plan", "professional", "--created-at", "2026-11-25T08:00:00"],
        ["deadline", "--plan", "professional", "--created-at", "yesterday"],
        ["business-time", "--from", "2026-11-25T08:00:00Z"],
        ["business-time", "--from", "2026-11-25T08:00:00Z", "--to", "2026-11-26"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_exit_2_with_a_message_and_no_traceback(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert code == 2 and out == ""
    assert "error" in err and "Traceback" not in err


def test_other_policy_file(tmp_path: Path) -> None:
    default = Path(__file__).parents[3] / "layers/sla/sla/policy.toml"
    text = default.read_text().replace('timezone = "Europe/Bratislava"', 'timezone = "UTC"')
    path = tmp_path / "utc.toml"
    path.write_text(text)
    args = [
        "deadline",
        "--plan",
        "professional",
        "--priority",
        "1",
        "--created-at",
        "2026-11-25T09:00:00Z",
    ]
    assert run([*args, "--policy", str(path)]) == (0, "2026-11-25T12:00:00Z\n", "")


def test_broken_policy_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("default_priority = 'x'\n")
    code, _, err = run(
        [
            "business-time",
            "--from",
            "2026-11-25T08:00:00Z",
            "--to",
            "2026-11-26T08:00:00Z",
            "--policy",
            str(path),
        ]
    )
    assert code == 2 and "default_priority" in err


def test_installed_console_script() -> None:
    script = shutil.which("sla", path=str(Path(sys.executable).parent))
    assert script, "the project installs `sla` into its virtual environment"
    done = subprocess.run(
        [
            script,
            "deadline",
            "--plan",
            "professional",
            "--priority",
            "2",
            "--created-at",
            "2026-11-25T08:59:00Z",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "2026-11-25T14:59:00Z\n")


def test_a_deadline_past_the_year_9999_is_a_clear_error_not_a_traceback() -> None:
    args = "deadline --plan professional --priority 2 --created-at 9999-12-31T23:00:00Z"
    code, out, err = run(args.split())
    assert (code, out) == (2, "")
    assert err == "sla deadline: error: the deadline would fall after the year 9999\n"


def test_jsonl_goes_on_after_a_line_whose_deadline_is_past_the_year_9999() -> None:
    lines = [
        '{"created_at": "9999-12-31T23:00:00Z", "plan": "professional", "priority": 2}',
        '{"created_at": "9999-12-31T23:30:00Z", "plan": "advanced", "priority": 1}',
        '{"created_at": "2026-11-25T08:59:00Z", "plan": "advanced", "priority": 1}',
    ]
    code, rows = jsonl(lines)
    assert code == 1
    assert rows[0] == {"line": 1, "error": "the deadline would fall after the year 9999"}
    assert rows[1] == {"line": 2, "error": "the deadline would fall after the year 9999"}
    assert rows[2]["deadline"] == "2026-11-25T09:59:00Z"


# -- deadlines of the other metrics (issue 11) ----------------------------------------------------

ALL_METRICS = str(Path(__file__).parents[3] / "layers/sla/sla/policies/all-metrics.toml")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Wednesday 17:30 CET, after hours: each business clock counts from Thursday 09:00 CET
        ("--metric first_response --plan professional --priority 2", "2026-11-26T14:00:00Z"),
        ("--plan professional --priority 2", "2026-11-26T14:00:00Z"),  # the default metric
        # a customer writing then: 8 business hours, Thursday 09:00-17:00 CET
        ("--metric next_reply --plan professional --priority 2", "2026-11-26T16:00:00Z"),
        # 40 business hours: Thu, Fri, Mon, Tue, Wed 2 December to 17:00 CET
        ("--metric resolution --plan professional --priority 2", "2026-12-02T16:00:00Z"),
        ("--metric next_reply --plan advanced --priority 1", "2026-11-25T18:30:00Z"),  # 2 h, 24/7
        ("--metric resolution --plan basic", "none"),
        ("--metric next_reply --plan advanced --priority 1 --product-stage beta", "none"),
    ],
)
def test_deadline_of_a_metric(args: str, expected: str) -> None:
    argv = ["deadline", "--policy", ALL_METRICS, "--created-at", "2026-11-25T16:30:00Z"]
    assert run([*argv, *args.split()]) == (0, expected + "\n", "")


def test_a_metric_the_policy_does_not_define_is_an_error_naming_its_metrics() -> None:
    """Given the default policy (first response only), asking for next reply is a usage error
    that says which metrics the policy has, rather than a silent ``none``."""
    argv = "deadline --metric next_reply --plan professional --created-at 2026-11-25T16:30:00Z"
    assert run(argv.split()) == (
        2,
        "",
        "sla deadline: error: the policy has no next_reply targets; its metrics: first_response\n",
    )


def test_an_unknown_metric_is_a_usage_error_listing_the_metrics() -> None:
    argv = "deadline --metric reply --plan professional --created-at 2026-11-25T16:30:00Z"
    code, out, err = run(argv.split())
    assert (code, out) == (2, "")
    assert "invalid choice: 'reply'" in err
    assert "first_response" in err and "next_reply" in err and "resolution" in err


def test_deadline_jsonl_takes_each_lines_metric_or_the_options() -> None:
    """Given --metric resolution, a line without "metric" gets the resolution deadline and a line
    with one gets that metric's; a line naming a metric the policy lacks is an error line."""
    lines = [
        '{"created_at": "2026-11-25T16:30:00Z", "plan": "professional", "priority": 2}',
        '{"created_at": "2026-11-25T16:30:00Z", "plan": "professional", "priority": 2,'
        ' "metric": "next_reply"}',
        '{"created_at": "2026-11-25T16:30:00Z", "plan": "professional", "metric": "reply"}',
        '{"created_at": "2026-11-25T16:30:00Z", "plan": "professional", "metric": 2}',
        '{"created_at": "2026-11-25T16:30:00Z", "plan": "basic", "metric": "next_reply"}',
    ]
    code, out, _ = run(
        ["deadline", "--jsonl", "--policy", ALL_METRICS, "--metric", "resolution"],
        "\n".join(lines) + "\n",
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert rows[0]["deadline"] == "2026-12-02T16:00:00Z" and "metric" not in rows[0]
    assert rows[1]["deadline"] == "2026-11-26T16:00:00Z" and rows[1]["metric"] == "next_reply"
    assert rows[2] == {
        "line": 3,
        "error": "metric: unknown metric; the policy's metrics: "
        "first_response, next_reply, resolution",
    }
    assert rows[3] == {"line": 4, "error": "metric: expected a string"}
    assert rows[4]["deadline"] is None


def test_deadline_jsonl_lines_naming_a_metric_the_policy_lacks_are_error_lines() -> None:
    code, rows = jsonl(
        [
            '{"created_at": "2026-11-25T08:59:00Z", "plan": "professional",'
            ' "metric": "resolution"}',
            '{"created_at": "2026-11-25T08:59:00Z", "plan": "professional"}',
        ]
    )
    assert code == 1
    assert rows[0] == {
        "line": 1,
        "error": "metric: the policy has no resolution targets; its metrics: first_response",
    }
    assert rows[1]["deadline"] == "2026-11-26T09:59:00Z"


def test_deadline_jsonl_with_a_metric_the_policy_lacks_stops_before_reading() -> None:
    code, out, err = run(
        ["deadline", "--jsonl", "--metric", "next_reply"],
        '{"created_at": "2026-11-25T08:59:00Z", "plan": "professional"}\n',
    )
    assert (code, out) == (2, "")
    assert err == (
        "sla deadline: error: the policy has no next_reply targets; its metrics: first_response\n"
    )
