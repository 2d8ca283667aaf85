"""After `sam build`: every Python source in the build ships with an unchecked-hash .pyc.

Lambda's code directories are read-only, so a module without usable bytecode is compiled again
at every cold start; timestamp-checked bytecode can look stale after the zip round trip (zip
keeps mtimes to two seconds), hence unchecked hashes. `make build` compiles; this checks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, not checked against the source


def main(root: Path) -> int:
    missing = []
    sources = sorted(root.rglob("*.py"))
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.exists():
            missing.append(str(source))
            continue
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        if flags != UNCHECKED_HASH:
            missing.append(str(source))
    if missing:
        print(f"{len(missing)} of {len(sources)} modules lack unchecked-hash bytecode, e.g.:")
        print("\n".join(missing[:10]))
        return 1
    print(f"bytecode: all {len(sources)} modules of the build are precompiled")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")))
