"""The course's machinery, which no notebook cell calls: the CLI, the runner and its report, the notebooks'
parameters, the editions and nbgrader, the doctor and widget check, and the Colab install.

Only :mod:`mnist_course.start` (the one call that opens a notebook) imports from here.
"""
