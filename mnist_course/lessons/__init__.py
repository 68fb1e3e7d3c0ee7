"""The code each notebook introduces, one module or folder per notebook, named by the notebook's stem.

A later notebook that reuses a lesson's helper imports it from here (``mnist_course.lessons.mlp`` from 05, say).
"""
