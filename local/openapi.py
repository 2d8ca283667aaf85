"""docs/openapi.json: the API's OpenAPI document, generated from the webhook handler's routes.

    .venv/bin/python -m local.openapi          # rewrite docs/openapi.json (make openapi)
    .venv/bin/python -m local.openapi --check  # fail if it differs from what this writes

On AWS the document is this build artifact, not a route of the API; the local stack serves the
same document at /openapi.json and Swagger UI at /swagger.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check docs/openapi.json.")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    from functions.webhook.app import openapi_document

    document = openapi_document()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != document:
            print(f"stale {DOCUMENT.name} (run make openapi)", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
