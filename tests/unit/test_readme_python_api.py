"""The README's Python API section runs as written (with its free names bound)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_the_python_api_example_runs_and_says_what_it_shows() -> None:
    section = README.read_text().split("## The Python API of the layer", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    names: dict[str, object] = {
        "created_at": datetime(2026, 11, 25, 16, 30, tzinfo=UTC),
        "start": datetime(2026, 11, 25, 16, 30, tzinfo=UTC),
        "a": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        "b": datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        "t": datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        "now": datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
    }
    exec(code.group(1), names)  # the README's own example
    view = names["view"]
    assert view.deadline == datetime(2026, 11, 25, 14, 59, tzinfo=UTC)  # type: ignore[attr-defined]
    assert view.status == "running"  # type: ignore[attr-defined]
