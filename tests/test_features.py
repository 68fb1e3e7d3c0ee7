"""The features of notebook 06 (lessons.what_the_cnn_sees.features) on tiny CNNs whose weights are set by hand, so
every expected value is known in advance."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_course.lessons.what_the_cnn_sees import features

VERTICAL = np.array([[-1.0, 0.0, 1.0]] * 3)  # responds where ink starts, going left to right
HORIZONTAL = VERTICAL.T  # responds where ink starts, going top to bottom


def edge_model(*, builtin_relu: bool = False) -> keras.Model:
    """12x12 input -> Conv2D 'edge' (channel 0 vertical edges, channel 1 horizontal) -> ReLU -> 2x2 max pooling."""
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(2, 3, use_bias=False, name="edge", activation="relu" if builtin_relu else None)
    x = conv(inputs)
    if not builtin_relu:
        x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(1, name="dense")(x)
    conv.set_weights([np.stack([VERTICAL, HORIZONTAL], axis=-1)[:, :, np.newaxis, :]])
    return keras.Model(inputs, outputs)


def bar(intensity: float = 1.0, *, vertical: bool = True) -> np.ndarray:
    """A 12x12 float image, 0 everywhere except a bar 3 pixels wide (columns or rows 5..7) of this intensity."""
    image = np.zeros((12, 12), dtype=np.float32)
    if vertical:
        image[:, 5:8] = intensity
    else:
        image[5:8, :] = intensity
    return image


def test_layer_listing_skips_dense_and_finds_the_convolutions():
    model = edge_model()
    assert features.feature_layers(model) == ["edge", "relu", "pool"]
    assert features.conv_layers(model) == ["edge"]
    assert features.source_conv(model, "pool") == "edge"
    with pytest.raises(ValueError, match="no layer"):
        features.source_conv(model, "nope")


def test_to_batch_scales_uint8_keeps_floats_and_checks_the_shape():
    model = edge_model()
    batch = features.to_batch(model, np.full((12, 12), 255, dtype=np.uint8))
    assert batch.shape == (1, 12, 12, 1) and batch.dtype == np.float32 and np.all(batch == 1.0)
    assert np.all(features.to_batch(model, np.full((3, 12, 12), 0.5)) == 0.5)
    with pytest.raises(ValueError, match="input shape"):
        features.to_batch(model, np.zeros((28, 28)))


def test_vertical_edge_detector_is_positive_on_the_left_edge_and_zero_elsewhere():
    maps = features.feature_maps(edge_model(), bar(), "relu")
    assert maps.shape == (10, 10, 2)
    vertical = maps[..., 0]
    # output column j sees input columns j..j+2: the bar (columns 5..7) starts under columns 3 and 4
    assert np.all(vertical[:, [3, 4]] == 3.0)
    assert np.all(np.delete(vertical, [3, 4], axis=1) == 0.0)
    assert np.all(maps[..., 1] == 0.0)  # the horizontal-edge channel sees no horizontal edge


def test_relu_removes_the_negative_right_edge_that_the_convolution_found():
    before = features.feature_maps(edge_model(), bar(), "edge")[..., 0]
    assert np.all(before[:, [6, 7]] == -3.0) and np.all(before[:, [3, 4]] == 3.0)
    after = features.feature_maps(edge_model(), bar(), "relu")[..., 0]
    np.testing.assert_array_equal(after, np.maximum(before, 0))


def test_pre_activation_of_a_conv_with_builtin_relu_is_computed():
    model = edge_model(builtin_relu=True)
    after = features.feature_maps(model, bar(), "edge")[..., 0]
    before = features.feature_maps(model, bar(), "edge", pre_activation=True)[..., 0]
    assert after.min() == 0.0 and before.min() == -3.0
    np.testing.assert_array_equal(after, np.maximum(before, 0))


def test_activation_step_finds_the_relu_built_in_or_as_its_own_layer():
    for model, where in ((edge_model(), "relu"), (edge_model(builtin_relu=True), "edge")):
        before, after, found = features.activation_step(model, bar(), "edge")
        assert found == where
        assert before[..., 0].min() == -3.0 and after.min() == 0.0
        np.testing.assert_array_equal(after, np.maximum(before, 0))
    assert features.next_layer(edge_model(), "edge", ("MaxPooling2D",)) == "pool"
    assert features.next_layer(edge_model(), "pool", ("Conv2D",)) is None


def test_activation_step_after_pooling_and_batch_norm_takes_the_layer_feeding_the_relu():
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(2, 3, use_bias=False, name="c")(inputs)
    x = keras.layers.MaxPooling2D(2, name="p")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, keras.layers.ReLU(name="r")(x))
    model.get_layer("bn").set_weights([np.ones(2), np.full(2, -1.0), np.zeros(2), np.full(2, 0.999)])  # x - 1
    before, after, layer = features.activation_step(model, bar(), "c")
    assert layer == "r" and before.shape == (5, 5, 2)
    np.testing.assert_allclose(before, features.feature_maps(model, bar(), "p") - 1.0, atol=1e-5)
    np.testing.assert_array_equal(after, np.maximum(before, 0))


def test_max_pooling_halves_the_size_and_keeps_the_largest_value():
    model = edge_model()
    relu = features.feature_maps(model, bar(), "relu")
    pooled = features.feature_maps(model, bar(), "pool")
    assert pooled.shape == (5, 5, 2)
    np.testing.assert_array_equal(pooled, relu.reshape(5, 2, 5, 2, 2).max(axis=(1, 3)))


def test_all_feature_maps_and_intermediate_model_agree_with_feature_maps():
    model = edge_model()
    image = (bar() * 255).astype(np.uint8)  # uint8 input is scaled like the float one
    every = features.all_feature_maps(model, image)
    assert list(every) == ["edge", "relu", "pool"]
    for name, maps in every.items():
        np.testing.assert_allclose(maps, features.feature_maps(model, bar(), name))
    outputs = features.intermediate_model(model, ["pool", "edge"])(features.to_batch(model, bar()))
    assert [tuple(o.shape) for o in outputs] == [(1, 5, 5, 2), (1, 10, 10, 2)]


def test_kernels_come_back_as_set():
    model = edge_model()
    kernels = features.first_layer_kernels(model)
    assert kernels.shape == (2, 3, 3)
    np.testing.assert_array_equal(kernels[0], VERTICAL)
    np.testing.assert_array_equal(kernels[1], HORIZONTAL)
    assert features.conv_kernel(model, "edge").shape == (2, 3, 3, 1)
    with pytest.raises(ValueError, match="not a Conv2D"):
        features.conv_kernel(model, "pool")


def test_top_activating_ranks_the_brightest_bars_of_each_orientation_first():
    # vertical bars of intensity 0.2, 0.9, 0.5 (indices 0..2), horizontal bars of 0.7, 0.1, 1.0 (indices 3..5)
    images = np.stack(
        [bar(0.2), bar(0.9), bar(0.5), bar(0.7, vertical=False), bar(0.1, vertical=False), bar(1.0, vertical=False)]
    )
    top = features.top_activating(edge_model(), images, "relu", k=3, batch_size=4)  # two batches
    np.testing.assert_array_equal(top, [[1, 2, 0], [5, 3, 4]])
    scores = features.channel_scores(edge_model(), images, "relu", reduce="mean")
    np.testing.assert_allclose(scores[:, 0], [0.2 * 0.6, 0.9 * 0.6, 0.5 * 0.6, 0, 0, 0], atol=1e-6)  # 20 of 100
    with pytest.raises(ValueError, match="reduce"):
        features.channel_scores(edge_model(), images, "relu", reduce="median")


def corner_classifier() -> keras.Model:
    """12x12 input -> 3x3 mean filter -> ReLU -> 2x2 max pooling -> Dense softmax over 2 classes, where class 1's
    logit is 4 x the sum of the pooled values in the top-left 6x6 pixels and class 0's logit is 0."""
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, activation="relu", name="blur")
    x = keras.layers.MaxPooling2D(2, name="pool")(conv(inputs))
    dense = keras.layers.Dense(2, activation="softmax", name="classes")
    outputs = dense(keras.layers.Flatten()(x))
    conv.set_weights([np.full((3, 3, 1, 1), 1 / 9, dtype=np.float32)])
    weights = np.zeros((36, 2), dtype=np.float32)
    weights[[r * 6 + c for r in range(3) for c in range(3)], 1] = 4.0
    dense.set_weights([weights, np.zeros(2, dtype=np.float32)])
    return keras.Model(inputs, outputs)


def blob() -> np.ndarray:
    image = np.zeros((12, 12), dtype=np.float32)
    image[1:4, 1:4] = 1.0
    return image


def test_class_scores_are_logits_and_probabilities_softmax():
    model = corner_classifier()
    logits = np.asarray(features.class_scores(model, features.to_batch(model, blob())))[0]
    assert logits[0] == 0.0 and logits[1] > 8  # a confident class 1
    np.testing.assert_allclose(
        features.probabilities(model, blob())[0], np.exp(logits) / np.exp(logits).sum(), rtol=1e-5
    )


def test_occluding_the_blob_drops_the_score_and_the_empty_corner_does_not():
    heat = features.occlusion_map(corner_classifier(), blob(), label=1, patch=4, stride=2)
    assert heat.shape == (12, 12)
    # hiding the whole blob (the patch at the top-left corner) takes class 1 from ~1 down to 0.5; each pixel
    # averages the drops of the patches over it
    assert heat[1:4, 1:4].min() > 0.1
    assert heat[0, 0] == heat.max() and heat.max() == pytest.approx(0.5, abs=1e-3)
    assert np.all(np.abs(heat[8:, 8:]) < 1e-6)  # the bottom-right corner never mattered


def test_saliency_is_on_the_blob_not_in_the_far_corner_and_not_saturated():
    saliency = features.saliency_map(corner_classifier(), blob(), label=1)
    assert saliency.shape == (12, 12) and saliency.min() >= 0
    assert np.all(saliency[7:, 7:] == 0.0)  # no path from these pixels to class 1
    # the gradient of the logit, not of the saturated probability (which would be about 1e-4 here)
    assert saliency[1:4, 1:4].max() > 0.1


def test_int64_pixels_give_the_same_maps_and_probabilities_as_uint8():
    """Any integer dtype is scaled by 1/255 (``mnist_course.data.to_model_input``), not only uint8."""
    pixels = np.zeros((12, 12), dtype=np.uint8)
    pixels[1:4, 1:4] = 255
    model = corner_classifier()
    as_uint8 = features.probabilities(model, pixels)
    np.testing.assert_allclose(features.probabilities(model, pixels.astype(np.int64)), as_uint8, rtol=1e-6)
    np.testing.assert_allclose(as_uint8, features.probabilities(model, blob()), rtol=1e-6)  # 255 -> 1.0
    np.testing.assert_allclose(
        features.feature_maps(edge_model(), (bar() * 255).astype(np.int64), "relu"),
        features.feature_maps(edge_model(), bar(), "relu"),
        rtol=1e-6,
    )


def test_layer_titles_number_each_kind_of_layer_whatever_keras_named_it():
    model = edge_model()
    assert features.layer_titles(model) == {
        "edge": "convolution 1",
        "relu": "activation 1",
        "pool": "max pooling 1",
        "flat": "flatten 1",
        "dense": "dense 1",
    }
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(2, 3)(inputs)  # automatic names: conv2d_N, depending on the session
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(2, 3)(x)
    x = keras.layers.ReLU()(x)
    auto = keras.Model(inputs, x)
    assert list(features.layer_titles(auto).values()) == ["convolution 1", "ReLU 1", "convolution 2", "ReLU 2"]


def test_occlusion_with_progress_gives_the_same_map_and_reports_the_rows(monkeypatch, capsys):
    monkeypatch.setenv("MNIST_COURSE_UNATTENDED", "1")  # the stable lines, as under papermill
    quiet = features.occlusion_map(corner_classifier(), blob(), label=1, patch=4, stride=2)
    shown = features.occlusion_map(corner_classifier(), blob(), label=1, patch=4, stride=2, show_progress=True)
    np.testing.assert_array_equal(shown, quiet)
    # 12 pixels, patch 4, stride 2: patch tops at 0, 2, 4, 6, 8
    assert capsys.readouterr().out.splitlines() == ["occlusion rows: done, 5 in all"]


def test_class_score_is_the_logit_of_one_label_before_the_softmax():
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.zeros((784, 10), np.float32)
    weights[0, 4], weights[29, 4] = 2.0, -1.5  # pixels (0, 0) and (1, 1) for the label 4
    bias = np.arange(10, dtype=np.float32)
    model.layers[-1].set_weights([weights, bias])
    image = np.zeros((28, 28), np.uint8)
    image[0, 0], image[1, 1] = 255, 51  # scaled: 1.0 and 0.2
    assert features.class_score(model, image, 4) == pytest.approx(4 + 2.0 * 1.0 - 1.5 * 0.2, abs=1e-5)
    scaled = image.astype(np.float32) / 255
    assert features.class_score(model, scaled, 4) == pytest.approx(5.7, abs=1e-5)  # floats are taken as scaled
    assert features.class_score(model, image, 7) == pytest.approx(7.0)  # no weights: the bias alone
