"""mnist-course: helpers for an interactive Jupyter course on handwritten digit recognition with Keras."""

__version__ = "0.1.0"
