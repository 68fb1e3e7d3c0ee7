"""Test-session settings shared by the unit tests and nbval: notebooks run in the fast ``ci`` profile."""

import os

# nbval starts the notebooks' kernels from this process, so they inherit these variables.
os.environ.setdefault("MNIST_COURSE_PROFILE", "ci")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
