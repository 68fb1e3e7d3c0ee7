"""What differs between Keras backends (TensorFlow, JAX, PyTorch), one function per need, and nothing else.

The course's models, data pipelines and figures are written with ``keras`` and ``keras.ops`` and run on any backend
(chosen by ``KERAS_BACKEND`` before Keras is first imported; TensorFlow when unset). What cannot be written once
lives here: the backend's name and versions, importing it without start-up noise, the device it computes on,
deterministic kernels, and the gradients of a function with respect to its input arrays.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.quiet import silenced_stderr

BACKENDS = ("tensorflow", "jax", "torch")  # what KERAS_BACKEND may name for this course
SWITCH = 'import os; os.environ["KERAS_BACKEND"] = "jax"  # before anything imports keras; or "torch", "tensorflow"'


def name() -> str:
    """The running Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    import keras

    return keras.backend.backend()


def versions() -> dict[str, str]:
    """Keras, its backend and the backend library's version, e.g. ``{"keras": "3.15.1", "backend": "jax",
    "jax": "0.10.2"}``: what a trained model depends on."""
    import keras

    backend = name()
    out = {"keras": keras.__version__, "backend": backend}
    try:
        out[backend] = importlib.metadata.version(backend)
    except importlib.metadata.PackageNotFoundError:  # a backend imported from a source tree
        out[backend] = "unknown"
    return out


def import_quietly() -> str:
    """Import Keras and its backend now, with the backend's C++ start-up messages (CPU features, CUDA probing)
    silenced, and initialise its devices; later C++ logs are kept to warnings. Returns the backend's name."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr():
        import keras

        keras.ops.convert_to_numpy(keras.ops.zeros(1))  # the first op initialises the devices, which logs
    return name()


def device() -> str:
    """Where the backend computes, in words: ``"CPU"`` or ``"GPU (<device name>)"``."""
    backend = name()
    if backend == "jax":
        import jax

        first = jax.devices()[0]
        return "CPU" if first.platform == "cpu" else f"GPU ({first.device_kind})"
    if backend == "torch":
        import torch

        return f"GPU ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
    return f"GPU ({details.get('device_name', gpus[0].name)})"


def deterministic_ops() -> None:
    """Ask the backend for deterministic kernels (slower; some GPU kernels then refuse to run). JAX on a CPU is
    deterministic already."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def gradients(function: Callable[..., Any], *arrays: np.ndarray) -> list[np.ndarray]:
    """The gradients of ``sum(function(*arrays))`` with respect to each of ``arrays``, as NumPy arrays of their
    shapes: TensorFlow records the operations on a ``GradientTape``, JAX transforms the function with ``jax.grad``,
    PyTorch calls ``backward()`` on the result. ``function`` takes and returns backend tensors (write it with
    ``keras.ops`` or call a Keras model, and it runs on every backend)."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(a) for a in arrays]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            total = tf.reduce_sum(function(*tensors))
        return [g.numpy() for g in tape.gradient(total, tensors)]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        found = jax.grad(lambda *t: jnp.sum(function(*t)), argnums=tuple(range(len(arrays))))(
            *(jnp.asarray(a) for a in arrays)
        )
        return [np.asarray(g) for g in found]
    import keras
    import torch

    where = keras.ops.convert_to_tensor(0.0).device
    tensors = [torch.tensor(np.asarray(a), requires_grad=True, device=where) for a in arrays]
    function(*tensors).sum().backward()
    return [t.grad.detach().cpu().numpy() for t in tensors]


__all__ = ["BACKENDS", "SWITCH", "deterministic_ops", "device", "gradients", "import_quietly", "name", "versions"]
