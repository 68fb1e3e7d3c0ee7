"""The layer stacks of every registered model: the dense networks, the published CNNs, the course CNN and its
validation alternatives (recipes and training: :mod:`mnist_course.models.recipes`, :mod:`mnist_course.models.zoo`)."""

from __future__ import annotations

from keras import layers

# The course CNN's first convolution: 16 filters. Its 24 x 24 output maps are the costliest part of a training step
# on a CPU (memory-bound, one input channel), and notebook 05's validation found 24 filters no better.
CONV1_FILTERS = 16
CONV2_FILTERS = 48


def dense_512() -> list[layers.Layer]:
    """The book's network (Deep Learning with Python, ch. 2): dense 512 ReLU, softmax 10."""
    return [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]


def mlp_3x500() -> list[layers.Layer]:
    """Three dense 500 ReLU layers, each followed by Dropout(0.2), then softmax 10."""
    hidden: list[layers.Layer] = []
    for _ in range(3):
        hidden += [layers.Dense(500, activation="relu"), layers.Dropout(0.2)]
    return hidden + [layers.Dense(10, activation="softmax")]


def cnn_16_36() -> list[layers.Layer]:
    """Hvass-Labs tutorial #02's network: two 5 x 5 'same' convolutions (16, 36 filters), dense 128."""
    return [
        layers.Conv2D(16, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(36, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ]


def cnn_32_64() -> list[layers.Layer]:
    """Two 3 x 3 convolutions (32, 64 filters), dense 64, ten logits."""
    return [
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10),
    ]


def lenet_avgpool() -> list[layers.Layer]:
    """LeNet-5-style: padding to 32 x 32, two 5 x 5 convolutions with average pooling, dense 128 and 64."""
    return [
        layers.ZeroPadding2D(2),
        layers.Conv2D(36, 5, activation="relu"),
        layers.AveragePooling2D(2),
        layers.Conv2D(36, 5, activation="relu"),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ]


def keras_io_convnet() -> list[layers.Layer]:
    """keras.io's 'Simple MNIST convnet': two 3 x 3 convolutions (32, 64 filters), dropout, softmax."""
    return [
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ]


def course_cnn_without_bn() -> list[layers.Layer]:
    """The course CNN without batch normalization (biases instead): an alternative validation compares."""

    def block(filters: int) -> list[layers.Layer]:
        return [layers.Conv2D(filters, 5), layers.MaxPooling2D(2), layers.ReLU()]

    return [
        *block(CONV1_FILTERS),
        *block(CONV2_FILTERS),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ]


def course_cnn(conv1_filters: int = CONV1_FILTERS) -> list[layers.Layer]:
    """Two blocks conv 5 x 5 -> max pool -> batch norm -> ReLU (``conv1_filters``, 48 filters), then dense 128 with
    batch norm."""

    # Pool *before* batch norm + ReLU: max-pooling commutes with ReLU, and normalising the 4x smaller
    # pooled map halves the memory-bound work, which dominates the step time on a CPU.
    def block(filters: int) -> list[layers.Layer]:
        return [
            layers.Conv2D(filters, 5, use_bias=False),
            layers.MaxPooling2D(2),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
        ]

    return [
        *block(conv1_filters),
        *block(CONV2_FILTERS),
        layers.Flatten(),
        layers.Dense(128, use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ]


def course_cnn_conv1_24() -> list[layers.Layer]:
    """The course CNN with 24 filters in its first convolution (its earlier width): an alternative validation
    compares."""
    return course_cnn(24)
