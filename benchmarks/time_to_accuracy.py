"""Time-to-accuracy on real MNIST: the course CNN against the keras.io convnet and the MLP recipes.

Every model trains by its recipe in this one process; the test set is scored after each epoch by a
callback whose time is excluded from the training seconds (a benchmark, not a model choice: the course chooses on
validation data, notebook 05). Next to each model's training speed in GFLOP/s (multiply-adds of its convolution and
dense layers, forward and backward, counted from the layer shapes) the script prints the machine's float32 matmul
GFLOP/s measured in the same run. Usage::

    python benchmarks/time_to_accuracy.py [--models course-cnn keras-io-convnet] [--max-epochs N] [--seed S]
        [--stop-at-target keras-io-convnet]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mnist_course.models import zoo as models  # noqa: E402

REFERENCE, COURSE = "keras-io-convnet", "course-cnn"
DEFAULT_MODELS = [COURSE, REFERENCE, "dense-512", "mlp-3x500"]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def target_for(name: str) -> float:
    """Benchmark target accuracy in %: 99.2 for convnets, 98.0 for the multilayer perceptrons."""
    return 98.0 if models.get_recipe(name).input_kind == "flat" else 99.2


class TimeToAccuracy(keras.callbacks.Callback):
    """Scores the test set after each epoch and records training seconds (evaluation time excluded)."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, target: float, stop_at_target: bool = False) -> None:
        super().__init__()
        self.x_test, self.y_test, self.target, self.stop_at_target = x_test, y_test, target, stop_at_target
        self.curve: list[tuple[float, float]] = []  # (training seconds, test accuracy %) per epoch
        self.reached: tuple[int, float] | None = None  # (epoch, training seconds)
        self._start = self._eval = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start, self._eval = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        t0 = time.perf_counter()
        train_seconds = t0 - self._start - self._eval
        pred = self.model.predict(self.x_test, batch_size=1000, verbose=0).argmax(axis=1)
        acc = 100.0 * float((pred == self.y_test).mean())
        self.curve.append((train_seconds, acc))
        if self.reached is None and acc >= self.target:
            self.reached = (epoch + 1, train_seconds)
            self.model.stop_training = self.stop_at_target
        print(f"    {self.model.name} epoch {epoch + 1}: {train_seconds:6.1f} s trained, test {acc:.2f} %", flush=True)
        self._eval += time.perf_counter() - t0


def load_data(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Real MNIST as uint8 arrays, through the course loader when available, else straight from ``mnist.npz``."""
    try:
        from mnist_course.data import load_mnist
    except ImportError:
        with np.load(folder / "mnist.npz") as d:
            return d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    (x_train, y_train), (x_test, y_test) = load_mnist(folder, download=False)
    return x_train, y_train, x_test, y_test


def training_flops_per_image(model: keras.Model) -> int:
    """FLOPs (2 per multiply-add) of one training example through the Conv2D and Dense layers of ``model``.

    Forward: ``2 * k_h * k_w * c_in * c_out * h_out * w_out`` per convolution, ``2 * n_in * n_out`` per dense
    layer. Backward: as much again for the weight gradients of every layer, and for the input gradients of every
    layer but the first (nothing upstream needs them). Pooling, batch norm, ReLU and the loss are left out: they are
    memory-bound and have few FLOPs."""
    total, first = 0, True
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            forward = 2 * kh * kw * c_in * c_out * h * w
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            forward = 2 * n_in * n_out
        else:
            continue
        total += forward * (2 if first else 3)
        first = False
    return int(total)


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """The machine's float32 matrix-multiply speed: ``2 n^3`` FLOPs per TensorFlow ``n x n`` matmul, best of
    ``repeats`` timed runs after one warm-up."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    tf.linalg.matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, choices=models.list_models())
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="cap on each recipe's epochs (default: the recipe's own; the reference has 15)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stop-at-target",
        nargs="*",
        default=[],
        metavar="MODEL",
        help="models that stop training once they reach their target (the reference's time to "
        "target is all the ratio needs; its 'final test' is then the accuracy at the target)",
    )
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("MNIST_COURSE_DATA", DEFAULT_DATA)))
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test = load_data(args.data)
    print(
        f"MNIST from {args.data}: {len(x_train)} training, {len(x_test)} test images; "
        f"{os.cpu_count()} CPUs, keras {keras.__version__}",
        flush=True,
    )
    machine = matmul_gflops()
    print(f"float32 matmul 2048 x 2048 with TensorFlow: {machine:.1f} GFLOP/s", flush=True)
    rows = []
    for name in args.models:
        epochs = min(models.get_recipe(name).epochs, args.max_epochs or 10**6)
        tta = TimeToAccuracy(
            models.prepare(name, x_test),
            y_test.astype("int32"),
            target_for(name),
            stop_at_target=name in args.stop_at_target,
        )
        print(f"  training {name} for {epochs} epochs", flush=True)
        # live: LivePlot() (mnist_course.live, once it lands) instead of the quiet callback-only run
        model, _, _ = models.train(name, x_train, y_train, epochs=epochs, seed=args.seed, verbose=0, callbacks=[tta])
        rows.append((name, model.count_params(), epochs, tta, peak_rss_mb(), training_flops_per_image(model)))
        keras.backend.clear_session()

    header = (
        f"{'model':<18}{'params':>9}{'epochs':>7}{'train s':>9}{'target':>8}  {'time to target':<22}"
        f"{'final test':>11}{'MFLOP/img':>10}{'GFLOP/s':>9}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name, params, _, tta, _, flops in rows:
        reached = f"{tta.reached[1]:.1f} s (epoch {tta.reached[0]})" if tta.reached else "not reached"
        achieved = flops * len(x_train) * len(tta.curve) / tta.curve[-1][0] / 1e9
        print(
            f"{name:<18}{params:>9,}{len(tta.curve):>7}{tta.curve[-1][0]:>9.1f}{tta.target:>7.1f}%  {reached:<22}"
            f"{tta.curve[-1][1]:>10.2f}%{flops / 1e6:>10.2f}{achieved:>9.1f}"
        )
    print(f"(the machine's float32 matmul, same run: {machine:.1f} GFLOP/s)")
    by_name = {name: tta for name, _, _, tta, _, _ in rows}
    if COURSE in by_name and REFERENCE in by_name:
        course, ref = by_name[COURSE].reached, by_name[REFERENCE].reached
        if course and ref:
            ratio = ref[1] / course[1]
            print(
                f"\ntime to 99.2 %: {REFERENCE} {ref[1]:.1f} s / {COURSE} {course[1]:.1f} s = {ratio:.1f}x "
                f"(target >= 10x: {'met' if ratio >= 10 else 'NOT met'})"
            )
        elif course:  # the reference never got there: its whole training time gives a lower bound
            spent = by_name[REFERENCE].curve[-1][0]
            print(
                f"\ntime to 99.2 %: {REFERENCE} not reached in {spent:.1f} s of training / {COURSE} "
                f"{course[1]:.1f} s: ratio > {spent / course[1]:.1f}x"
            )
        else:
            print(f"\ntime to 99.2 %: {COURSE} did not reach it; no ratio")
    if COURSE in by_name:
        final, goal = by_name[COURSE].curve[-1][1], models.get_recipe(COURSE).target_accuracy
        print(
            f"{COURSE} final test accuracy: {final:.2f} % "
            f"(its target: >= {goal} %: {'met' if final >= goal else 'NOT met'})"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
