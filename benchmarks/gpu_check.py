"""The course on a GPU: every notebook run in the student and full profiles on the GPU, each notebook's wall time,
the course CNN's time to 99.2 % and its final test accuracy, and the speed-up over the same machine's CPU.

Usage (from the repository root, MNIST in ../shared/data or $MNIST_COURSE_DATA)::

    python benchmarks/gpu_check.py [--backend jax|torch] [--profiles student full] [--no-cpu] [--out runs/gpu]

On a machine without a GPU it says so and runs the same path on the CPU in the ci profile (seconds per notebook), so
the script itself is checked end to end anywhere. The backend is ``--backend``, else ``$KERAS_BACKEND``, else the first
of jax, torch, tensorflow that imports. The device each notebook ran on is read from its setup line ("Keras backend:
jax, on the GPU (...)") and a GPU run on the CPU is a failure. The CPU figures come from the same notebooks with the
GPU hidden (``CUDA_VISIBLE_DEVICES=""``, ``JAX_PLATFORMS=cpu``).

A GPU machine may have JAX or PyTorch with CUDA, NumPy and matplotlib but nothing else and no internet: carry the
course's other dependencies as wheels. On a machine with internet, for the GPU machine's Python (here 3.11)::

    pip download --only-binary=:all: --python-version 3.11 -d wheels keras papermill nbformat nbclient ipykernel \
        jupyter_client jupyter_core ipython ipywidgets anywidget pooch filelock psutil requests scipy namex optree \
        h5py ml_dtypes rich absl-py tenacity tqdm entrypoints pyyaml traitlets pyzmq tornado comm nest_asyncio \
        jsonschema fastjsonschema

then on the GPU machine ``pip install --no-index --find-links wheels keras papermill ...`` and
``pip install --no-deps -e .`` (TensorFlow is not needed there: the course imports it only under its backend).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.992
DEVICE_LINE = re.compile(r"Keras backend: (\w+), on the (CPU|GPU[^.]*)\.")


def pick_backend(wanted: str | None) -> str:
    if wanted:
        return wanted
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for name in ("jax", "torch", "tensorflow"):
        if importlib.util.find_spec(name) is not None:
            return name
    raise SystemExit("no Keras backend installed: pip install jax (or torch)")


def environment(backend: str, *, cpu: bool) -> dict[str, str]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if cpu:
        env |= {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    return env


def device_of(backend: str, *, cpu: bool) -> str:
    """What ``mnist_course.backend.device()`` says in a fresh process with this environment."""
    code = "from mnist_course import backend; backend.import_quietly(); print(backend.device())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment(backend, cpu=cpu), capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"cannot start the {backend} backend: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip().splitlines()[-1]


def run_notebooks(backend: str, profile: str, out: Path, *, cpu: bool) -> list[dict]:
    """Every notebook in ``profile``; returns the runner's report rows with the device each one ran on."""
    cmd = [sys.executable, "-m", "mnist_course.course.cli", "run", "--profile", profile, "-o", str(out)]
    env = environment(backend, cpu=cpu) | {"MNIST_COURSE_CACHE": str(out / "cache")}
    subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    rows = json.loads((out / "report.json").read_text())
    for row in rows:
        text = Path(row["output"]).read_text() if Path(row["output"]).is_file() else ""
        found = DEVICE_LINE.search(text)
        row["device"] = found.group(2) if found else "unknown"
    return rows


def time_to_target(backend: str, *, cpu: bool) -> dict:
    """The course CNN trained by its recipe on all 60,000 images, scored on the test set after every epoch."""
    code = """
import json, time, keras
from mnist_course.data import load_mnist
from mnist_course.models import get_recipe, train
from mnist_course.predict import probabilities
(x, y), (xt, yt) = load_mnist()
marks, start = [], time.perf_counter()
class Score(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        paused = time.perf_counter()
        acc = float((probabilities(self.model, xt).argmax(1) == yt).mean())
        marks.append([epoch + 1, round(paused - start, 2), acc])
        globals()["start"] = start + (time.perf_counter() - paused)  # scoring is outside the training clock
train("course-cnn", x, y, seed=42, verbose=0, callbacks=[Score()])
print(json.dumps(marks))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment(backend, cpu=cpu), capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    reached = next((m for m in marks if m[2] >= TARGET), None)
    return {"epochs": marks, "to_target_s": reached[1] if reached else None, "final": marks[-1][2]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("jax", "torch", "tensorflow"))
    parser.add_argument("--profiles", nargs="+", default=["student", "full"])
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU baseline")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu-check")
    args = parser.parse_args(argv)
    backend = pick_backend(args.backend)
    device = device_of(backend, cpu=False)
    on_gpu = device.startswith("GPU")
    print(f"backend {backend}; device: {device}")
    profiles = args.profiles if on_gpu else ["ci"]
    if not on_gpu:
        print("no GPU found: running the same path on the CPU in the ci profile to check the script itself")
    sides = [("gpu" if on_gpu else "cpu", False)] + ([("cpu", True)] if on_gpu and not args.no_cpu else [])
    seconds: dict[tuple[str, str, str], float] = {}
    failed = False
    for profile in profiles:
        for side, cpu in sides:
            started = time.perf_counter()
            rows = run_notebooks(backend, profile, args.out / f"{profile}-{side}", cpu=cpu)
            for row in rows:
                stem = Path(row["notebook"]).stem
                seconds[(profile, side, stem)] = row["seconds"]
                wrong = side == "gpu" and not row["device"].startswith("GPU")
                failed |= row["status"] != "ok" or wrong
                print(f"{profile:8} {side} {stem:26} {row['status']:6} {row['seconds']:7.1f} s  on {row['device']}")
            print(f"{profile:8} {side} all notebooks: {time.perf_counter() - started:.0f} s")
    if len(sides) == 2:
        for (profile, side, stem), gpu_s in sorted(seconds.items()):
            if side == "gpu" and seconds.get((profile, "cpu", stem)):
                print(f"speed-up {profile:8} {stem:26} {seconds[(profile, 'cpu', stem)] / gpu_s:5.1f}x")
    if on_gpu:
        for side, cpu in sides:
            result = time_to_target(backend, cpu=cpu)
            print(f"course CNN on the {side}: {json.dumps(result)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
