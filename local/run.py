"""``make run``: the local stack in the foreground until Ctrl-C.

PORT=3000 SLA_WEBHOOK_SECRET=whsec_... .venv/bin/python -m local.run
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from local.stack import LocalStack


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    stack = LocalStack(port=port, secret=os.environ.get("SLA_WEBHOOK_SECRET") or None).start()
    url = stack.url
    print(
        f"""
sla-keeper local stack on {url}  (moto server at {os.environ["AWS_ENDPOINT_URL"]})
signing secret: {stack.secret}

  make send EVENT=events/ticket-created.json          sign and post a sample event
  curl -s "{url}/tickets/T-1001/sla"                   the SLA view with its history
  curl -s "{url}/sla/quote?plan=professional&priority=1"
  curl -s -X POST "{url}/_local/clock" -d '{{"advance": "5h"}}'   move time forward
  curl -s "{url}/_local/notifications"                 what was published
  open {url}/swagger                                   the API in Swagger UI

Notifications are printed here as they are published. Ctrl-C stops everything.
""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    state = os.environ.get("SLA_LOCAL_STATE", ".local-stack.json")
    with open(state, "w") as handle:  # for make send: where, and with what, to sign
        json.dump({"url": url, "secret": stack.secret}, handle)
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
