"""The one way the e2e tests start the local stack: ``python -m local.run`` in its own process,
as ``make run`` starts it, on a free port with a fresh secret, its output in a file (a pipe
nobody reads would block the stack once full). Leaving the context stops it with Ctrl-C and
checks that it stopped cleanly and that its pumps and HTTP server never reported an error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    url: str
    secret: str
    process: subprocess.Popen[str]
    output: Path
    state: Path
    env: dict[str, str]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request over HTTP: the status, the headers and the JSON body (None if empty)."""
        req = urllib.request.Request(
            self.url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                status, head, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, head, raw = error.code, dict(error.headers), error.read()
        return status, head, json.loads(raw) if raw else None


@contextmanager
def running_stack(folder: Path, **env: str) -> Iterator[Running]:
    state, output = folder / ".local-stack.json", folder / "output.log"
    python_path = [str(ROOT / "layers" / "sla"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    full = {
        **os.environ,
        "PORT": "0",
        "SLA_LOCAL_STATE": str(state),
        "SLA_WEBHOOK_SECRET": "",  # a fresh one, as `make run` makes
        "PYTHONPATH": os.pathsep.join(p for p in python_path if p),
        **env,
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "SLA_URL"):
        full.pop(name, None)
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"],
            cwd=ROOT,
            env=full,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    started = time.monotonic()
    while not state.exists():
        if process.poll() is not None or time.monotonic() - started > 60:
            process.kill()
            raise RuntimeError(f"the local stack did not start:\n{output.read_text()}")
        time.sleep(0.1)
    settings = json.loads(state.read_text())
    try:
        yield Running(settings["url"], settings["secret"], process, output, state, full)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
        print(output.read_text())  # shown by pytest for a failing test
    assert code == 0, "Ctrl-C stops the stack cleanly"
    errors = [line for line in output.read_text().splitlines() if line.startswith("[local]")]
    assert errors == [], "the stack's pumps and HTTP server never failed"
    assert not state.exists()
