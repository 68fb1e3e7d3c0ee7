"""How long load_mnist() takes from the course cache (goal <= 0.3 s) and from the four IDX .gz files.

Usage: MNIST_COURSE_DATA=../shared/data python benchmarks/load_time.py [--repeat 5]
The real copy is taken from $MNIST_COURSE_DATA (default ../shared/data); a temporary cache is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from mnist_course.data import load_mnist, update_cache
from mnist_course.data.verify import IDX_FILES

GOAL_CACHE_SECONDS = 0.3


def timed(repeat: int, **kwargs) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        load_mnist(**kwargs)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    source = Path(os.environ.pop("MNIST_COURSE_DATA", "") or Path(__file__).resolve().parents[2] / "shared" / "data")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MNIST_COURSE_CACHE"] = str(Path(tmp) / "cache")
        os.environ["KERAS_HOME"] = str(Path(tmp) / "keras")
        update_cache(source / "mnist.npz")  # the course cache, as `mnist-course data fetch --from` fills it
        idx_dir = Path(tmp) / "idx"
        idx_dir.mkdir()
        for gz_name, _ in IDX_FILES.values():
            (idx_dir / gz_name).symlink_to(source.resolve() / gz_name)
        rows = [
            ("course cache (compressed npz)", timed(args.repeat)),
            ("four IDX .gz files", timed(args.repeat, path=idx_dir)),
            ("the given mnist.npz", timed(args.repeat, path=source / "mnist.npz")),
            ("course cache, verify=False", timed(args.repeat, verify=False)),
        ]
    print(f"load_mnist() wall time over {args.repeat} runs (verification by content included unless noted)")
    print(f"{'source':34} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, times in rows:
        print(f"{name:34} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")
    cache_median = statistics.median(rows[0][1])
    verdict = "meets" if cache_median <= GOAL_CACHE_SECONDS else "MISSES"
    print(f"cache load {cache_median:.3f} s {verdict} the goal of {GOAL_CACHE_SECONDS} s")


if __name__ == "__main__":
    main()
