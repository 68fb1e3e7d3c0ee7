"""The race's entrants: the optimizers and losses it can use, ``RunSpec`` (one entrant) and ``RUNS``, the 16 runs of
notebook 07, each changing one thing from a reference run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOSSES = {
    "categorical": "categorical_crossentropy",
    "sparse": "sparse_categorical_crossentropy",
    "mse": "mean_squared_error",
}
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adagrad": "Adagrad", "adamw": "AdamW"}


@dataclass
class RunSpec:
    """One entrant: ``optimizer`` (a name in OPTIMIZERS) with ``learning_rate`` and extra ``options`` (e.g.
    momentum), a ``loss`` kind (categorical: one-hot targets, sparse: integer labels, mse: one-hot targets on
    the softmax output) and the ``batch_size``."""

    name: str
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    loss: str = "categorical"
    batch_size: int = 128
    options: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: choose from {tuple(OPTIMIZERS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}: choose from {tuple(LOSSES)}")
        if self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"{self.name}: batch_size must be >= 1 and learning_rate > 0")

    def make_optimizer(self) -> Any:
        """A fresh Keras optimizer (no state carried over from another run)."""
        import keras

        optimizer_class = getattr(keras.optimizers, OPTIMIZERS[self.optimizer])
        return optimizer_class(learning_rate=self.learning_rate, **self.options)


# The runs of notebook 07's race, in the order its tables and figures list them: each changes one thing from a
# reference run (the one list: notebook 07, the RUNS parameter, the colours and the tests use it).
RUNS = (
    # the optimizers, each with Keras' default learning rate; categorical cross-entropy, batches of 128
    RunSpec("sgd", "sgd", 0.01),
    RunSpec("sgd-momentum", "sgd", 0.01, options={"momentum": 0.9}),
    RunSpec("rmsprop", "rmsprop", 0.001),
    RunSpec("adam", "adam", 0.001),
    RunSpec("adagrad", "adagrad", 0.001),
    RunSpec("adamw", "adamw", 0.001),  # Adam with decoupled weight decay (Keras' default 0.004)
    # the losses, with Adam ("adam" above is categorical cross-entropy on one-hot labels)
    RunSpec("adam-sparse", "adam", 0.001, loss="sparse"),
    RunSpec("adam-mse", "adam", 0.001, loss="mse"),
    RunSpec("sgd-mse", "sgd", 0.01, loss="mse"),  # and with plain SGD ("sgd" above is cross-entropy)
    # the batch size, with plain SGD at 0.01 ("sgd" above is batches of 128)
    RunSpec("sgd-batch", "sgd", 0.01, batch_size=10_000),  # the whole training set: one step per epoch
    RunSpec("sgd-b512", "sgd", 0.01, batch_size=512),
    RunSpec("sgd-b32", "sgd", 0.01, batch_size=32),
    RunSpec("sgd-b1", "sgd", 0.01, batch_size=1),  # stochastic gradient descent
    # the learning rate, with plain SGD and batches of 128 ("sgd" above is 0.01)
    RunSpec("sgd-lr0.001", "sgd", 0.001),
    RunSpec("sgd-lr0.1", "sgd", 0.1),
    RunSpec("sgd-lr1", "sgd", 1.0),
)
RUN_NAMES = tuple(spec.name for spec in RUNS)


__all__ = ["LOSSES", "OPTIMIZERS", "RUNS", "RUN_NAMES", "RunSpec"]
