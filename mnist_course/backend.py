"""What differs between Keras backends (TensorFlow, JAX, PyTorch), one function per need, and nothing else.

The course's models, data pipelines and figures are written with ``keras`` and ``keras.ops`` and run on any backend
(chosen by ``KERAS_BACKEND`` before Keras is first imported; TensorFlow when unset). What cannot be written once
lives here: the backend's name and versions, importing it without start-up noise, the device it computes on,
deterministic kernels, and the gradient of a function with respect to an input array.
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


def input_gradient(function: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """The gradient of ``sum(function(x))`` with respect to the array ``x``, as NumPy: TensorFlow records the
    operations on a ``GradientTape``, JAX transforms the function with ``jax.grad``, PyTorch calls ``backward()``
    on the result. ``function`` takes and returns backend tensors (a Keras model call, ``keras.ops``...)."""
    import keras

    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(function(tensor))
        return tape.gradient(total, tensor).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda t: jnp.sum(function(t)))(jnp.asarray(x)))
    import torch

    tensor = torch.tensor(np.asarray(x), requires_grad=True, device=keras.ops.convert_to_tensor(0.0).device)
    function(tensor).sum().backward()
    return tensor.grad.detach().cpu().numpy()


__all__ = ["BACKENDS", "SWITCH", "deterministic_ops", "device", "import_quietly", "input_gradient", "name", "versions"]
