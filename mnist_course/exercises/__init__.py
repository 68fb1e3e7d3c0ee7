"""Self-checks for the course exercises: one module per notebook (``lesson01`` ... ``lesson08``).

Every check takes the student's function (or answer), runs it on cases of its own and returns a
:class:`Feedback`: a short confirmation when the answer is right, a specific hint when it is not.
``Feedback.raise_if_wrong()`` turns a hint into an :class:`ExerciseNotSolved` error (what the notebooks' locked check
cells call, so that nbgrader's autograder scores them). A stub that still raises ``NotImplementedError`` is not
caught: the error says which exercise is waiting.

Under ``nbgrader autograde`` (:func:`mnist_course.course.grading.configure`) the check cells run guarded by
:mod:`mnist_course.exercises.grading_guard`: a check scores 0, with a message saying so, when the notebook replaced or
patched the check machinery. Nothing here imports the guard: the student edition runs its check cells as written.
"""

from mnist_course.exercises.feedback import ExerciseNotSolved, Feedback

__all__ = ["ExerciseNotSolved", "Feedback"]
