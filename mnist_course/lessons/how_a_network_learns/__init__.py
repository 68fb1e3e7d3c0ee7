"""Notebook 03 (how a network learns): softmax regression and backpropagation in NumPy, and their figures."""
