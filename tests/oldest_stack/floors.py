"""Print each direct dependency's floor in pyproject.toml next to the version this environment has installed.

``ENV/bin/python tests/oldest_stack/floors.py pyproject.toml`` after installing the lowest allowed versions: a
dependency installed above its floor is one whose floor the resolver could not use (another package needs more),
so the floor is untested; ``--strict`` makes that a failure. A dependency not installed at all always fails.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version


def floor(requirement: Requirement) -> Version | None:
    """The lowest version a requirement admits by a ``>=`` or ``==`` bound, or None when it has none."""
    bounds = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(bounds) if bounds else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--strict", action="store_true", help="fail when a dependency is installed above its floor")
    args = parser.parse_args(argv)
    deps = tomllib.loads(args.pyproject.read_text())["project"]["dependencies"]
    missing, above = [], []
    print(f"  {'dependency':<14} {'floor':<9} installed")
    for text in deps:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        low = floor(req)
        try:
            have = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(req.name)
            print(f"  {req.name:<14} {str(low):<9} NOT INSTALLED")
            continue
        note = ""
        if low is not None and Version(have) != low:
            above.append(f"{req.name} {have} (floor {low})")
            note = "  <- above the floor: the floor itself is not what was tested"
        print(f"  {req.name:<14} {str(low):<9} {have}{note}")
    if missing:
        print(f"oldest-stack: FAILED floors: {', '.join(missing)} not installed in the oldest environment")
        return 1
    if above and args.strict:
        print(f"oldest-stack: FAILED floors: installed above the floor: {', '.join(above)}; raise those floors")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
