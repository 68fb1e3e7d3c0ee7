"""What a trained CNN sees, computed: its kernels, feature maps, most exciting images and the pixels a prediction
rests on (the pictures of them are in :mod:`mnist_course.lessons.what_the_cnn_sees.plots`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnist_course.predict import activation_name, ends_with_softmax, probabilities, to_batch

_SKIPPED_TYPES = ("InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout")


def _inputs(model: Any) -> Any:
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _type(layer: Any) -> str:
    return type(layer).__name__


def feature_layers(model: Any) -> list[str]:
    """Names of the layers, in order, whose output is a stack of 2-D maps (batch, height, width, channels):
    convolutions, activations, batch normalisation, pooling; dropout-like layers (identity at inference) left out."""
    return [layer.name for layer in model.layers if _type(layer) not in _SKIPPED_TYPES and len(layer.output.shape) == 4]


def conv_layers(model: Any) -> list[str]:
    """Names of the model's Conv2D layers, in order."""
    return [layer.name for layer in model.layers if _type(layer) == "Conv2D"]


_KIND_WORDS = {
    "Conv2D": "convolution",
    "MaxPooling2D": "max pooling",
    "AveragePooling2D": "average pooling",
    "BatchNormalization": "batch norm",
    "ReLU": "ReLU",
    "Activation": "activation",
    "Dense": "dense",
    "Flatten": "flatten",
    "ZeroPadding2D": "padding",
    "Dropout": "dropout",
}


def layer_titles(model: Any) -> dict[str, str]:
    """``{Keras layer name: the name the lessons use}``: each kind of layer numbered in order, e.g. ``"conv2d_3"``
    -> ``"convolution 1"``, ``"max_pooling2d_7"`` -> ``"max pooling 1"``. Keras' automatic names depend on how many
    layers the session created before; these depend only on the architecture."""
    seen: dict[str, int] = {}
    titles = {}
    for layer in model.layers:
        if _type(layer) == "InputLayer":
            continue
        word = _KIND_WORDS.get(_type(layer), _type(layer))
        seen[word] = seen.get(word, 0) + 1
        titles[layer.name] = f"{word} {seen[word]}"
    return titles


def source_conv(model: Any, layer_name: str) -> str | None:
    """The Conv2D layer whose kernels made this layer's channels: the layer itself or the last Conv2D before it."""
    found = None
    for layer in model.layers:
        if _type(layer) == "Conv2D":
            found = layer.name
        if layer.name == layer_name:
            return found
    raise ValueError(f"no layer {layer_name!r} in the model; layers: {[layer.name for layer in model.layers]}")


def has_activation(layer: Any) -> bool:
    """True when the layer applies a built-in non-linear activation (e.g. ``Conv2D(..., activation="relu")``)."""
    return activation_name(layer) != "linear"


def next_layer(model: Any, layer_name: str, kinds: Sequence[str]) -> str | None:
    """The first layer after ``layer_name`` whose type is one of ``kinds`` (e.g. ``("MaxPooling2D",)``), or None."""
    names = [layer.name for layer in model.layers]
    later = model.layers[names.index(layer_name) + 1 :]
    return next((layer.name for layer in later if _type(layer) in kinds), None)


def activation_step(model: Any, image: np.ndarray, conv_name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(before, after, layer)``: the maps just before and after the conv's non-linearity and the layer applying it:
    the conv itself when built in (``Conv2D(activation="relu")``, before computed), else the next Activation/ReLU
    layer (maybe after pooling or BatchNormalization), with ``before`` the output of the layer feeding it."""
    if has_activation(model.get_layer(conv_name)):
        before = feature_maps(model, image, conv_name, pre_activation=True)
        return before, feature_maps(model, image, conv_name), conv_name
    act = next_layer(model, conv_name, ("Activation", "ReLU", "LeakyReLU", "ELU"))
    if act is None:
        raise ValueError(f"no activation follows {conv_name!r}")
    names = feature_layers(model)
    return feature_maps(model, image, names[names.index(act) - 1]), feature_maps(model, image, act), act


def intermediate_model(model: Any, layer_names: Sequence[str] | None = None) -> Any:
    """A Keras model with the same input returning the outputs of ``layer_names`` (default: every feature layer).

    With one name it returns one array, with several a list, in the order given."""
    import keras

    names = list(layer_names) if layer_names is not None else feature_layers(model)
    outputs = [model.get_layer(name).output for name in names]
    return keras.Model(_inputs(model), outputs if len(outputs) > 1 else outputs[0], name="intermediate")


def _pre_activation(model: Any, layer: Any, x: np.ndarray) -> np.ndarray:
    """The Conv2D's output before its built-in activation: the convolution plus bias, computed from its input."""
    import keras

    below = keras.Model(_inputs(model), layer.input)(x, training=False)
    z = layer.convolution_op(below, layer.kernel)
    if layer.use_bias:
        z = z + layer.bias
    return keras.ops.convert_to_numpy(z)


def feature_maps(model: Any, image: np.ndarray, layer_name: str, *, pre_activation: bool = False) -> np.ndarray:
    """The (height, width, channels) maps of ``layer_name`` for one image (uint8 (28, 28) or scaled float).

    ``pre_activation=True`` on a Conv2D with a built-in activation returns the maps before that activation."""
    import keras

    x = to_batch(model, image)[:1]
    layer = model.get_layer(layer_name)
    if pre_activation and _type(layer) == "Conv2D" and has_activation(layer):
        return _pre_activation(model, layer, x)[0]
    return keras.ops.convert_to_numpy(intermediate_model(model, [layer_name])(x, training=False))[0]


def all_feature_maps(model: Any, image: np.ndarray, layer_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{layer name: (height, width, channels) maps}`` of one image for every feature layer (or those named)."""
    import keras

    names = list(layer_names) if layer_names is not None else feature_layers(model)
    out = intermediate_model(model, names)(to_batch(model, image)[:1], training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return {name: keras.ops.convert_to_numpy(maps)[0] for name, maps in zip(names, out)}


def conv_kernel(model: Any, layer_name: str) -> np.ndarray:
    """The layer's kernel as an array (out_channels, height, width, in_channels): one filter per output channel."""
    layer = model.get_layer(layer_name)
    if _type(layer) != "Conv2D":
        raise ValueError(f"{layer_name!r} is a {_type(layer)}, not a Conv2D: it has no kernel")
    return np.transpose(layer.get_weights()[0], (3, 0, 1, 2))


def first_layer_kernels(model: Any) -> np.ndarray:
    """The first Conv2D's filters as (channels, height, width) images (input channels averaged; MNIST has one)."""
    names = conv_layers(model)
    if not names:
        raise ValueError("the model has no Conv2D layer")
    return conv_kernel(model, names[0]).mean(axis=-1)


def channel_scores(
    model: Any, x: np.ndarray, layer_name: str, *, reduce: str = "max", batch_size: int = 256
) -> np.ndarray:
    """(N, channels): how strongly each image excites each channel of ``layer_name``: the max or mean of its map."""
    import keras

    if reduce not in ("max", "mean"):
        raise ValueError(f"reduce must be 'max' or 'mean', got {reduce!r}")
    sub = intermediate_model(model, [layer_name])
    parts = []
    for start in range(0, len(x), batch_size):
        maps = keras.ops.convert_to_numpy(sub(to_batch(model, x[start : start + batch_size]), training=False))
        parts.append(maps.max(axis=(1, 2)) if reduce == "max" else maps.mean(axis=(1, 2)))
    return np.concatenate(parts)


def top_activating(
    model: Any, x: np.ndarray, layer_name: str, k: int = 9, *, reduce: str = "max", batch_size: int = 256
) -> np.ndarray:
    """(channels, k) indices into ``x``: per channel, the k images with the largest score, largest first (ties keep
    the lower index first)."""
    scores = channel_scores(model, x, layer_name, reduce=reduce, batch_size=batch_size)
    k = min(k, len(scores))
    return np.argsort(-scores, axis=0, kind="stable")[:k].T


def occlusion_map(
    model: Any,
    image: np.ndarray,
    label: int,
    patch: int = 4,
    stride: int = 2,
    *,
    fill: float = 0.0,
    show_progress: bool = False,
) -> np.ndarray:
    """(height, width): how much the probability of ``label`` drops when a ``patch`` x ``patch`` square around each
    pixel is set to ``fill`` (0 = background), averaged over the patches covering it. Positive = the pixel helps.

    One batch of occluded copies per row of patch positions; ``show_progress`` shows the rows done
    (:func:`mnist_course.live.progress`: in place when a person watches, two stable lines unattended)."""
    base = to_batch(model, image)[:1]
    height, width = base.shape[1:3]
    tops, lefts = range(0, height - patch + 1, stride), range(0, width - patch + 1, stride)
    rows: Any = tops
    if show_progress:
        from mnist_course.live import progress

        rows = progress(tops, label="occlusion rows")
    true_p = probabilities(model, base)[0, label]
    corners, drops = [], []
    for r in rows:
        batch = np.repeat(base, len(lefts), axis=0)
        for i, c in enumerate(lefts):
            batch[i, r : r + patch, c : c + patch] = fill
        corners += [(r, c) for c in lefts]
        drops.extend(true_p - probabilities(model, batch)[:, label])
    heat, count = np.zeros((height, width)), np.zeros((height, width))
    for drop, (r, c) in zip(drops, corners):
        heat[r : r + patch, c : c + patch] += drop
        count[r : r + patch, c : c + patch] += 1
    return heat / np.maximum(count, 1)


def class_scores(model: Any, x: Any) -> Any:
    """The class scores before a final softmax (logits) as a tensor, so gradients do not vanish when confident:
    the input of a final ``Softmax``/``Activation("softmax")`` layer, a final softmax ``Dense`` without its softmax,
    else the model's own output (it already gives logits; see :func:`mnist_course.predict.ends_with_softmax`)."""
    import keras

    last = model.layers[-1]
    if not ends_with_softmax(model) or getattr(last, "layers", None):
        return model(x, training=False)
    if _type(last) == "Dense":
        hidden = keras.Model(_inputs(model), last.input)(x, training=False)
        return keras.ops.matmul(hidden, last.kernel) + (last.bias if last.use_bias else 0.0)
    if _type(last) in ("Activation", "Softmax"):
        return keras.Model(_inputs(model), last.input)(x, training=False)
    return model(x, training=False)


def class_score(model: Any, image: np.ndarray, label: int) -> float:
    """The class score (logit) of ``label`` for one image, uint8 (28, 28) or already scaled float: the number whose
    gradient :func:`saliency_map` takes."""
    import keras

    return float(keras.ops.convert_to_numpy(class_scores(model, to_batch(model, image)[:1]))[0, label])


def saliency_map(model: Any, image: np.ndarray, label: int) -> np.ndarray:
    """(height, width): |d score(label) / d pixel|, the gradient of the class score (logit) with respect to the
    input, from the backend's automatic differentiation (:func:`mnist_course.backend.gradients`): pixels where
    a small change moves the score most."""
    from mnist_course.backend import gradients

    (grad,) = gradients(lambda x: class_scores(model, x)[:, label], to_batch(model, image)[:1])
    grad = grad[0]
    return np.abs(grad).max(axis=-1) if grad.ndim == 3 else np.abs(grad)


__all__ = [
    "all_feature_maps",
    "channel_scores",
    "class_score",
    "class_scores",
    "conv_kernel",
    "conv_layers",
    "feature_layers",
    "activation_step",
    "feature_maps",
    "first_layer_kernels",
    "has_activation",
    "intermediate_model",
    "layer_titles",
    "next_layer",
    "occlusion_map",
    "probabilities",
    "saliency_map",
    "source_conv",
    "to_batch",
    "top_activating",
]
