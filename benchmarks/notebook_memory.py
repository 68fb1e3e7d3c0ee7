"""Wall time and peak memory of every notebook under a profile (default full), against Binder's budget.

mybinder.org restarts a kernel at 2 GiB; the course keeps every notebook at or under 1.5 GiB of resident memory.
Usage: MNIST_COURSE_DATA=../shared/data python benchmarks/notebook_memory.py [--profile full] [NOTEBOOK ...]
Runs with an empty temporary model cache (so models are trained, the worst case) unless --keep-cache is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from mnist_course.course import runner

BUDGET_MIB = 1.5 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all)")
    parser.add_argument("--profile", default="full", choices=("ci", "full"))
    parser.add_argument("--keep-cache", action="store_true", help="reuse the course cache (trained models)")
    args = parser.parse_args()
    notebooks = runner.discover(args.names)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.keep_cache:
            os.environ["MNIST_COURSE_CACHE"] = str(Path(tmp) / "cache")
        results = runner.run_batch(notebooks, Path(tmp) / "out", args.profile, {}, echo=lambda *_: None)
    print(f"profile {args.profile}, {'kept' if args.keep_cache else 'empty'} model cache, budget {BUDGET_MIB:.0f} MiB")
    print(f"{'notebook':34} {'status':7} {'seconds':>8} {'peak MiB':>9}  budget")
    over = 0
    for r in results:
        fits = r.peak_rss_mib <= BUDGET_MIB
        over += not fits
        verdict = "ok" if fits else "OVER"
        print(f"{Path(r.notebook).stem:34} {r.status:7} {r.seconds:8.1f} {r.peak_rss_mib:9.0f}  {verdict}")
    print(f"total {sum(r.seconds for r in results):.0f} s; max {max(r.peak_rss_mib for r in results):.0f} MiB")
    return 1 if over or any(r.status != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
