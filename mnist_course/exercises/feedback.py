"""What a self-check returns: right or not, and one sentence saying why (shown as the cell's output).

A check cell ends with ``check.name(answer).raise_if_wrong()``: a right answer shows its ✅ confirmation, a wrong
one raises :class:`ExerciseNotSolved` with the hint, so that nbgrader's autograder gives the cell no points and its
feedback carries the hint.

A "predict, then run" exercise is different: its point is for a prediction made before the result is seen, held or
not. The check reads the prediction, refuses only one that is not a prediction (a wrong type, a missing part), then
:func:`commit` keeps the first prediction the kernel checked: running the check, reading the result and predicting
again changes nothing. :func:`predicted` reports whether the committed prediction held, and why.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class ExerciseNotSolved(AssertionError):
    """Raised by :meth:`Feedback.raise_if_wrong` for a wrong answer; the message is the ❌ line with the hint."""


@dataclass(frozen=True)
class Feedback:
    """The verdict on one exercise. Shown in a notebook as ``✅ Exercise 4.1: ...`` or ``❌ Exercise 4.1: ...``."""

    exercise: str
    ok: bool
    message: str

    def __repr__(self) -> str:
        return f"{'✅' if self.ok else '❌'} Exercise {self.exercise}: {self.message}"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return self.ok

    def raise_if_wrong(self) -> Feedback:
        """Return this feedback when the answer is right (the cell shows ✅ ...); raise :class:`ExerciseNotSolved`,
        whose message is the ❌ line with the hint, when it is not."""
        if not self.ok:
            raise ExerciseNotSolved(str(self))
        return self


def right(exercise: str, message: str) -> Feedback:
    """A confirmation: the answer passed every case of the check."""
    message = message.strip()
    return Feedback(exercise, True, f"correct. {message[:1].upper()}{message[1:]}".strip())


def wrong(exercise: str, hint: str) -> Feedback:
    """A hint: the answer failed, and ``hint`` says what to look at."""
    return Feedback(exercise, False, f"not yet. {hint}")


# exercise -> (the first prediction this kernel checked, its repr): see commit()
_COMMITTED: dict[str, tuple[Any, str]] = {}


def commit(exercise: str, prediction: Any) -> tuple[Any, bool]:
    """The prediction that counts for ``exercise``: the first one checked in this kernel (a copy), and whether
    ``prediction`` differs from it. Call it only with a well-formed prediction, right before revealing the result."""
    shown = repr(prediction)
    if exercise not in _COMMITTED:
        _COMMITTED[exercise] = (copy.deepcopy(prediction), shown)
        return prediction, False
    first, first_shown = _COMMITTED[exercise]
    return first, first_shown != shown


def forget_predictions() -> None:
    """Forget every committed prediction (for tests: each starts as a fresh kernel would)."""
    _COMMITTED.clear()


def predicted(exercise: str, held: bool, message: str, changed: bool = False) -> Feedback:
    """The verdict on a committed prediction: it earns the point, held or not (✅); ``message`` gives the result and
    why it comes out so. ``changed``: the student changed the prediction after the check had run once."""
    verdict = "your prediction held." if held else "your prediction did not hold."
    note = (
        " (You changed your prediction after this check first ran: the first one, made before you saw the result, "
        "is the one checked.)"
        if changed
        else ""
    )
    return Feedback(exercise, True, f"prediction recorded; {verdict} {message}{note}".strip())


def as_array(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array, or ``None`` when it cannot be one (a hint is then given instead of a traceback)."""
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001 - any conversion failure becomes a hint
        return None


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's function. ``NotImplementedError`` and the student's own bugs propagate unchanged."""
    if not callable(function):
        raise TypeError(
            f"the check expects the function itself (e.g. `my_function`, without brackets), "
            f"got {type(function).__name__}"
        )
    return function(*args, **kwargs)


NO_RETURN = "your function returns None: did you forget `return`?"


def whole(value: Any) -> int | None:
    """``value`` as an ``int`` when it is a whole number (Python or NumPy, not a bool), else ``None``."""
    number = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, (bool, np.bool_))
    return int(value) if number and float(value).is_integer() else None


def not_whole(exercise: str, value: Any, what: str = "one whole number") -> Feedback:
    """The hint for an answer that should have been a whole number (``None`` means a forgotten ``return``)."""
    if value is None:
        return wrong(exercise, NO_RETURN)
    return wrong(exercise, f"return {what}; yours is a {type(value).__name__}: {value!r:.60}")


def model_hint(model: Any, input_code: str) -> str | None:
    """Why ``model`` is not a built Keras model (nothing returned, another object, no input), or ``None``.

    ``input_code`` is the ``keras.Input(...)`` call the exercise expects, quoted in the hint.
    """
    import keras

    if model is None:
        return NO_RETURN
    if not isinstance(model, keras.Model):
        return f"return the Keras model itself (keras.Sequential([...])), not a {type(model).__name__}."
    if not model.built:
        return f"the model does not know its input size: start with {input_code}."
    return None
