"""What a trained CNN sees: its kernels, feature maps, most exciting images and the pixels a prediction rests on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

_SKIPPED_TYPES = ("InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout")


def to_batch(model, images: np.ndarray) -> np.ndarray:
    """``images`` as a float32 batch of the model's input shape: uint8 pixels are scaled to [0, 1], float input is
    taken as already scaled; one (28, 28) image becomes a batch of one, (N, 28, 28) a batch of N."""
    x = np.asarray(images)
    x = x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x.astype(np.float32)
    shape = tuple(model.input_shape[1:])
    if x.size % int(np.prod(shape)):
        raise ValueError(f"images of shape {x.shape} do not fit the model's input shape {shape}")
    return x.reshape((-1, *shape))


def _inputs(model):
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _type(layer) -> str:
    return type(layer).__name__


def feature_layers(model) -> list[str]:
    """Names of the layers, in order, whose output is a stack of 2-D maps (batch, height, width, channels):
    convolutions, activations, batch normalisation, pooling; dropout-like layers (identity at inference) left out."""
    return [layer.name for layer in model.layers
            if _type(layer) not in _SKIPPED_TYPES and len(layer.output.shape) == 4]


def conv_layers(model) -> list[str]:
    """Names of the model's Conv2D layers, in order."""
    return [layer.name for layer in model.layers if _type(layer) == "Conv2D"]


def source_conv(model, layer_name: str) -> str | None:
    """The Conv2D layer whose kernels made this layer's channels: the layer itself or the last Conv2D before it."""
    found = None
    for layer in model.layers:
        if _type(layer) == "Conv2D":
            found = layer.name
        if layer.name == layer_name:
            return found
    raise ValueError(f"no layer {layer_name!r} in the model; layers: {[l.name for l in model.layers]}")


def has_activation(layer) -> bool:
    """True when the layer applies a built-in non-linear activation (e.g. ``Conv2D(..., activation="relu")``)."""
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    return name != "linear"


def next_layer(model, layer_name: str, kinds: Sequence[str]) -> str | None:
    """The first layer after ``layer_name`` whose type is one of ``kinds`` (e.g. ``("MaxPooling2D",)``), or None."""
    names = [layer.name for layer in model.layers]
    later = model.layers[names.index(layer_name) + 1:]
    return next((layer.name for layer in later if _type(layer) in kinds), None)


def activation_step(model, image: np.ndarray, conv_name: str) -> tuple[np.ndarray, np.ndarray, str]:
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


def intermediate_model(model, layer_names: Sequence[str] | None = None):
    """A Keras model with the same input returning the outputs of ``layer_names`` (default: every feature layer).

    With one name it returns one array, with several a list, in the order given."""
    import keras

    names = list(layer_names) if layer_names is not None else feature_layers(model)
    outputs = [model.get_layer(name).output for name in names]
    return keras.Model(_inputs(model), outputs if len(outputs) > 1 else outputs[0], name="intermediate")


def _pre_activation(model, layer, x: np.ndarray) -> np.ndarray:
    """The Conv2D's output before its built-in activation: the convolution plus bias, computed from its input."""
    import keras

    below = keras.Model(_inputs(model), layer.input)(x, training=False)
    z = layer.convolution_op(below, layer.kernel)
    if layer.use_bias:
        z = z + layer.bias
    return keras.ops.convert_to_numpy(z)


def feature_maps(model, image: np.ndarray, layer_name: str, *, pre_activation: bool = False) -> np.ndarray:
    """The (height, width, channels) maps of ``layer_name`` for one image (uint8 (28, 28) or scaled float).

    ``pre_activation=True`` on a Conv2D with a built-in activation returns the maps before that activation."""
    import keras

    x = to_batch(model, image)[:1]
    layer = model.get_layer(layer_name)
    if pre_activation and _type(layer) == "Conv2D" and has_activation(layer):
        return _pre_activation(model, layer, x)[0]
    return keras.ops.convert_to_numpy(intermediate_model(model, [layer_name])(x, training=False))[0]


def all_feature_maps(model, image: np.ndarray, layer_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{layer name: (height, width, channels) maps}`` of one image for every feature layer (or those named)."""
    import keras

    names = list(layer_names) if layer_names is not None else feature_layers(model)
    out = intermediate_model(model, names)(to_batch(model, image)[:1], training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return {name: keras.ops.convert_to_numpy(maps)[0] for name, maps in zip(names, out)}


def conv_kernel(model, layer_name: str) -> np.ndarray:
    """The layer's kernel as an array (out_channels, height, width, in_channels): one filter per output channel."""
    layer = model.get_layer(layer_name)
    if _type(layer) != "Conv2D":
        raise ValueError(f"{layer_name!r} is a {_type(layer)}, not a Conv2D: it has no kernel")
    return np.transpose(layer.get_weights()[0], (3, 0, 1, 2))


def first_layer_kernels(model) -> np.ndarray:
    """The first Conv2D's filters as (channels, height, width) images (input channels averaged; MNIST has one)."""
    names = conv_layers(model)
    if not names:
        raise ValueError("the model has no Conv2D layer")
    return conv_kernel(model, names[0]).mean(axis=-1)


def channel_scores(model, x: np.ndarray, layer_name: str, *, reduce: str = "max",
                   batch_size: int = 256) -> np.ndarray:
    """(N, channels): how strongly each image excites each channel of ``layer_name``: the max or mean of its map."""
    import keras

    if reduce not in ("max", "mean"):
        raise ValueError(f"reduce must be 'max' or 'mean', got {reduce!r}")
    sub = intermediate_model(model, [layer_name])
    parts = []
    for start in range(0, len(x), batch_size):
        maps = keras.ops.convert_to_numpy(sub(to_batch(model, x[start:start + batch_size]), training=False))
        parts.append(maps.max(axis=(1, 2)) if reduce == "max" else maps.mean(axis=(1, 2)))
    return np.concatenate(parts)


def top_activating(model, x: np.ndarray, layer_name: str, k: int = 9, *, reduce: str = "max",
                   batch_size: int = 256) -> np.ndarray:
    """(channels, k) indices into ``x``: per channel, the k images with the largest score, largest first (ties keep
    the lower index first)."""
    scores = channel_scores(model, x, layer_name, reduce=reduce, batch_size=batch_size)
    k = min(k, len(scores))
    return np.argsort(-scores, axis=0, kind="stable")[:k].T


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """The model's class probabilities for a batch (softmax applied when the model outputs logits)."""
    import keras

    out = keras.ops.convert_to_numpy(model(to_batch(model, x), training=False)).astype(np.float64)
    if out.min() < 0 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


def occlusion_map(model, image: np.ndarray, label: int, patch: int = 4, stride: int = 2, *,
                  fill: float = 0.0) -> np.ndarray:
    """(height, width): how much the probability of ``label`` drops when a ``patch`` x ``patch`` square around each
    pixel is set to ``fill`` (0 = background), averaged over the patches covering it. Positive = the pixel helps."""
    base = to_batch(model, image)[:1]
    height, width = base.shape[1:3]
    corners = [(r, c) for r in range(0, height - patch + 1, stride) for c in range(0, width - patch + 1, stride)]
    batch = np.repeat(base, len(corners), axis=0)
    for i, (r, c) in enumerate(corners):
        batch[i, r:r + patch, c:c + patch] = fill
    drops = probabilities(model, base)[0, label] - probabilities(model, batch)[:, label]
    heat, count = np.zeros((height, width)), np.zeros((height, width))
    for drop, (r, c) in zip(drops, corners):
        heat[r:r + patch, c:c + patch] += drop
        count[r:r + patch, c:c + patch] += 1
    return heat / np.maximum(count, 1)


def class_scores(model, x):
    """The class scores before a final softmax (logits) as a tensor, so gradients do not vanish when confident."""
    import keras

    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if _type(last) == "Dense" and activation == "softmax":
        hidden = keras.Model(_inputs(model), last.input)(x, training=False)
        return keras.ops.matmul(hidden, last.kernel) + (last.bias if last.use_bias else 0.0)
    if _type(last) in ("Activation", "Softmax") and (activation == "softmax" or _type(last) == "Softmax"):
        return keras.Model(_inputs(model), last.input)(x, training=False)
    return model(x, training=False)


def saliency_map(model, image: np.ndarray, label: int) -> np.ndarray:
    """(height, width): |d score(label) / d pixel|, the gradient of the class score (logit) with respect to the
    input, from ``tf.GradientTape``: pixels where a small change moves the score most."""
    import tensorflow as tf

    x = tf.convert_to_tensor(to_batch(model, image)[:1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = class_scores(model, x)[:, label]
    grad = tape.gradient(score, x).numpy()[0]
    return np.abs(grad).max(axis=-1) if grad.ndim == 3 else np.abs(grad)


# --- plots ------------------------------------------------------------------------------------------------------

def _figure(width: float, height: float) -> Figure:
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height))


def _panels(images: Sequence[np.ndarray], ncols: int, title: str | None, shared_limit: float | None) -> Figure:
    """A grid of numbered panels: on one red/blue scale of +-``shared_limit``, else each scaled on its own
    (viridis from 0 when non-negative, red/blue around 0 otherwise)."""
    ncols = max(1, min(ncols, len(images)))
    fig = _figure(1.1 * ncols, 1.1 * -(-len(images) // ncols) + 0.4)
    axes = fig.subplots(-(-len(images) // ncols), ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            panel = images[i]
            limit = shared_limit or float(np.abs(panel).max()) or 1.0
            if shared_limit or panel.min() < 0:
                ax.imshow(panel, cmap="bwr", vmin=-limit, vmax=limit, interpolation="nearest")
            else:
                ax.imshow(panel, cmap="viridis", vmin=0, vmax=limit, interpolation="nearest")
            ax.set_title(str(i), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_kernels(kernels: np.ndarray, *, ncols: int = 8, title: str = "First-layer kernels") -> Figure:
    """One panel per (height, width) kernel, all on one symmetric red (positive) / blue (negative) scale."""
    kernels = np.asarray(kernels)
    return _panels(list(kernels), ncols, title, float(np.abs(kernels).max()) or 1.0)


def plot_feature_maps(maps: np.ndarray, *, ncols: int = 8, max_channels: int | None = 32,
                      title: str | None = None) -> Figure:
    """The channels of one (height, width, channels) stack, each scaled on its own: viridis for non-negative maps
    (after ReLU, pooling), red/blue around 0 when there are negative values (before the activation)."""
    maps = np.asarray(maps)
    count = maps.shape[-1] if max_channels is None else min(maps.shape[-1], max_channels)
    return _panels([maps[..., i] for i in range(count)], ncols, title, None)


def plot_top_activating(images: np.ndarray, indices: np.ndarray, *, channels: Sequence[int] | None = None,
                        title: str | None = None, gap: int = 2) -> Figure:
    """A row per channel of ``indices`` (channels, k) showing its k most exciting images, best on the left, drawn
    as one mosaic (tiles ``gap`` pixels apart) so that the figure stays light."""
    images, indices = np.asarray(images, dtype=np.float64), np.asarray(indices)
    images = images.reshape(len(images), images.shape[1], images.shape[2])
    channels = list(range(len(indices))) if channels is None else list(channels)
    k, (h, w) = indices.shape[1], images.shape[1:]
    mosaic = np.zeros((len(channels) * (h + gap) - gap, k * (w + gap) - gap))
    for row, channel in enumerate(channels):
        for j in range(k):
            mosaic[row * (h + gap):row * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = images[indices[channel, j]]
    fig = _figure(0.7 * k + 0.6, 0.7 * len(channels) + 0.5)
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([row * (h + gap) + h / 2 for row in range(len(channels))], [f"ch {c}" for c in channels])
    ax.tick_params(length=0, labelsize=8)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_overlays(image: np.ndarray, heatmaps: dict[str, np.ndarray], *, title: str | None = None) -> Figure:
    """The digit, then each heat map drawn over it (red = important; red/blue around 0 for signed maps)."""
    image = np.asarray(image).reshape(np.asarray(image).shape[:2])
    fig = _figure(2.6 * (1 + len(heatmaps)), 2.9)
    axes = fig.subplots(1, 1 + len(heatmaps), squeeze=False)[0]
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("input", fontsize=10)
    for ax, (name, heat) in zip(axes[1:], heatmaps.items()):
        ax.imshow(image, cmap="gray_r")
        heat = np.asarray(heat)
        limit = float(np.abs(heat).max()) or 1.0
        signed = heat.min() < 0
        ax.imshow(heat, cmap="bwr" if signed else "Reds", vmin=-limit if signed else 0, vmax=limit, alpha=0.6)
        ax.set_title(name, fontsize=10)
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


__all__ = [
    "all_feature_maps", "channel_scores", "class_scores", "conv_kernel", "conv_layers", "feature_layers",
    "activation_step", "feature_maps", "first_layer_kernels", "has_activation", "intermediate_model", "next_layer",
    "occlusion_map",
    "plot_feature_maps", "plot_kernels", "plot_overlays", "plot_top_activating", "probabilities", "saliency_map",
    "source_conv", "to_batch", "top_activating",
]
