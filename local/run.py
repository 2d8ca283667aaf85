"""``make run``: the local stack in the foreground until Ctrl-C.

PORT=3000 SLA_WEBHOOK_SECRET=whsec_... .venv/bin/python -m local.run

It writes its URL and secret to ``.local-stack.json`` (``SLA_LOCAL_STATE`` to change) for
``make send`` and the README's curl recipe, with the secret of each helpdesk route
(``helpdesk_secrets``: generated, or ``SLA_<HELPDESK>_SECRET``) and the helpdesk mapping file it
uses (``mapping_file``: ``SLA_MAPPING_FILE``, else ``local/mapping.toml``). The stack's clock
starts at real time, or at ``SLA_LOCAL_NOW`` (an ISO instant with a timezone, e.g.
``2026-11-27T15:50:00Z``) to try a given day and hour; only ``POST /_local/clock`` moves it, and
only forward.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from local.stack import LocalStack
from sla.core.errors import ConfigurationError


def banner(stack: LocalStack, state: str) -> str:
    url = stack.url
    now = stack.clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    since = "from SLA_LOCAL_NOW" if os.environ.get("SLA_LOCAL_NOW") else "real time"
    commands = [
        ("make send EVENT=events/ticket-created.json", "the sample ticket, created at this clock;"),
        ("", "it prints the deadline and how to get past it"),
        (f"curl -s {url}/_local/schedules", "its timers"),
        (f"curl -s {url}/tickets/T-1001/sla", "the SLA view with its history"),
        (f"curl -s {url}/_local/notifications", "what was published"),
        (f'curl -s -X POST {url}/_local/clock -d \'{{"advance": "1h"}}\'', "move time forward"),
        (f'curl -s "{url}/sla/quote?plan=professional&priority=1"', "a quote"),
        (f"open {url}/swagger", "the API in Swagger UI"),
    ]
    width = max(len(command) for command, _ in commands if len(command) < 56) + 2
    lines = "\n".join(
        f"  {command:<{width}}{what}"
        if len(command) < width
        else f"  {command}\n  {'':<{width}}{what}"
        for command, what in commands
    )
    routes = "\n".join(
        f"  POST {url}/webhooks/{name:<10} secret {secret}"
        for name, secret in stack.helpdesk_secrets.items()
    )
    return f"""
sla-keeper local stack on {url}  (moto server at {os.environ["AWS_ENDPOINT_URL"]})
signing secret: {stack.secret}  (URL and secret also in {state})
clock: {now} ({since}), running; POST /_local/clock moves it forward

{lines}

Helpdesk webhooks, each signed as its helpdesk signs (setting one up: docs/helpdesks/<name>.md),
with the mapping {_shown(stack.mapping_file)}; the secrets are also in {state}:
{routes}
  make send EVENT=events/zendesk/ticket-created.json  a helpdesk's sample, signed as it signs

Notifications are printed here as they are published. Ctrl-C stops everything.
"""


def _shown(path: str) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # on another drive
        return path
    return path if relative.startswith("..") else relative


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    try:
        stack = LocalStack(port=port, secret=os.environ.get("SLA_WEBHOOK_SECRET") or None).start()
    except ConfigurationError as exc:  # a bad policy, mapping file or secret: one clear line
        print(f"make run: {exc.detail}", file=sys.stderr)
        return 2
    state = os.environ.get("SLA_LOCAL_STATE", ".local-stack.json")
    with open(f"{state}.tmp", "w") as handle:  # for make send and the README's curl recipe
        json.dump(
            {
                "url": stack.url,
                "secret": stack.secret,
                "helpdesk_secrets": stack.helpdesk_secrets,
                "mapping_file": stack.mapping_file,
            },
            handle,
        )
    os.replace(f"{state}.tmp", state)  # whoever waits for the file never reads half of it
    print(banner(stack, state), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    # a timed wait: a signal may land on another thread, and Python runs its handler only when
    # the main thread wakes; an untimed wait could then sleep through Ctrl-C for good
    while not stopped.wait(0.2):
        pass
    print("stopping...", flush=True)
    stack.stop()
    os.remove(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
