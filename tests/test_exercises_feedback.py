"""What a check cell does with a check's verdict: shows the ✅ line, or raises the ❌ line as an AssertionError
(so nbgrader's autograder gives no points and shows the hint); a stub's NotImplementedError is never caught."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson04 as check
from mnist_course.exercises.feedback import right, wrong


def test_a_right_answer_is_returned_to_be_shown():
    feedback = right("4.1", "407,050 parameters.")
    assert feedback.raise_if_wrong() is feedback
    assert repr(feedback) == "✅ Exercise 4.1: correct. 407,050 parameters."


def test_a_wrong_answer_raises_an_assertion_error_carrying_the_hint():
    with pytest.raises(AssertionError) as err:
        wrong("4.1", "the biases are missing: a layer has n_out of them.").raise_if_wrong()
    assert type(err.value) is ExerciseNotSolved
    assert str(err.value) == "❌ Exercise 4.1: not yet. the biases are missing: a layer has n_out of them."


def test_a_stub_error_reaches_the_check_cell_unchanged():
    def early_stop(val_losses, patience):
        raise NotImplementedError("Exercise 4.4: write your code here")

    with pytest.raises(NotImplementedError, match=r"^Exercise 4\.4: write your code here$"):
        check.early_stop(early_stop).raise_if_wrong()


def test_the_checks_run_without_the_autograde_guard():
    """The student edition, handed out without nbgrader, runs its check cells as written: importing the checks and
    running one loads none of the guard's modules."""
    code = (
        "import sys\n"
        "from mnist_course.exercises import lesson01, lesson02, lesson03, lesson08\n"
        "assert lesson08.crop_to_ink(lambda image: image[3:9, 3:11]).raise_if_wrong().ok\n"
        "print(sorted(name for name in sys.modules if 'guard' in name))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_prediction_is_committed_the_first_time_it_is_checked():
    """The first prediction checked for an exercise is the one that counts: checking, reading the result and
    predicting again returns the first (a copy: later changes to the object do not reach it) and says it changed."""
    from mnist_course.exercises.feedback import commit, forget_predictions

    first = [1, 2]
    assert commit("9.1", first) == ([1, 2], False)
    first.append(3)  # the student's object changes afterwards
    assert commit("9.1", [1, 2]) == ([1, 2], False)  # the same prediction again: not a change
    assert commit("9.1", [5, 5]) == ([1, 2], True)
    assert commit("9.2", [5, 5]) == ([5, 5], False)  # each exercise has its own
    forget_predictions()
    assert commit("9.1", [5, 5]) == ([5, 5], False)


def test_a_committed_prediction_earns_the_point_held_or_not_and_says_which():
    from mnist_course.exercises.feedback import predicted

    held = predicted("9.1", True, "Because of the header.")
    missed = predicted("9.1", False, "The header has 16 bytes.", changed=True)
    assert held.ok and missed.ok  # the point is for predicting before the result is seen
    assert str(held) == "✅ Exercise 9.1: prediction recorded; your prediction held. Because of the header."
    assert "did not hold. The header has 16 bytes." in str(missed)
    assert "the first one, made before you saw the result, is the one checked" in str(missed)
    assert "first one" not in str(held)
