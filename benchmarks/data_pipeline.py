"""The course's training pipeline (a Keras ``PyDataset``, any backend) against the ``tf.data`` one it replaced.

Usage: MNIST_COURSE_DATA=../shared/data python benchmarks/data_pipeline.py [--images 20000] [--epochs 3] [--rounds 2]

Trains the course CNN from the same start on the same images with each pipeline, alternating them ``--rounds`` times,
and prints each epoch's seconds and the ratio of the medians (PyDataset / tf.data; below 1: the PyDataset is faster).
The first epoch of each run includes tracing, so it is reported but left out of the medians. Needs TensorFlow for the
tf.data side (it runs under KERAS_BACKEND=tensorflow only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mnist_course.data import class_ids, load_mnist  # noqa: E402
from mnist_course.models import zoo  # noqa: E402


def tf_data_batches(name: str, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):  # noqa: ANN201
    """The pipeline the course used before: tf.data with a NumPy gather, reshuffled each epoch."""
    import tensorflow as tf

    targets = tf.constant(class_ids(y))

    def gather(index):  # noqa: ANN001, ANN202
        batch = tf.numpy_function(lambda i: zoo.prepare(name, x[i]), [index], tf.float32, stateful=False)
        batch.set_shape((None, *zoo.input_shape(name)))
        return batch, tf.gather(targets, index)

    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return order.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def epoch_seconds(kind: str, name: str, x: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    recipe = zoo.get_recipe(name)
    model = zoo.build_model(name, seed=0, n_train=len(x), epochs=epochs)
    if kind == "tf.data":
        data = tf_data_batches(name, x, y, recipe.batch_size, seed=0)
    else:
        data = zoo.batches(name, x, y, recipe.batch_size, shuffle_seed=0)
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            times.append(time.perf_counter() - self.started)

    model.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[Clock()])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("the tf.data side needs TensorFlow: run with KERAS_BACKEND=tensorflow (or unset)")
    (x, y), _ = load_mnist()
    x, y = x[: args.images], y[: args.images]
    later: dict[str, list[float]] = {"tf.data": [], "PyDataset": []}
    for round_ in range(args.rounds):
        for kind in later:
            times = epoch_seconds(kind, "course-cnn", x, y, args.epochs)
            later[kind] += times[1:]
            print(f"round {round_ + 1}, {kind:9}: " + ", ".join(f"{t:.2f}" for t in times) + " s per epoch")
    medians = {kind: statistics.median(times) for kind, times in later.items()}
    print(f"median epoch after the first: tf.data {medians['tf.data']:.2f} s, PyDataset {medians['PyDataset']:.2f} s")
    ratio = medians["PyDataset"] / medians["tf.data"]
    print(f"ratio PyDataset / tf.data: {ratio:.2f} ({args.images:,} images, course CNN)")


if __name__ == "__main__":
    main()
