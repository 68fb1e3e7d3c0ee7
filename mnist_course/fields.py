"""Checking a JSON document field by field: typed, range-checked getters whose one error names the file, the field's
path (``models.cnn-32-64.test_accuracy[1]``) and the fix."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection
from typing import Any, NoReturn


class FieldError(ValueError):
    """A field of a document that is missing, of the wrong type or out of range (one line naming it and the fix)."""


class Field:
    """One value of a results file and where it is (``models.cnn-32-64.test_accuracy[1]``): typed, range-checked
    getters that raise one ``error`` (a :class:`FieldError`) naming the file, the field and the fix."""

    def __init__(
        self,
        value: Any,
        where: str = "",
        *,
        file: str | os.PathLike[str],
        fix: str,
        error: type[FieldError] = FieldError,
    ) -> None:
        self.value, self.where, self.file, self.fix, self.error = value, where, str(file), fix, error

    def fail(self, problem: str) -> NoReturn:
        """Raise the one error: ``<file>: <field> <problem>: <fix>``."""
        raise self.error(f"{self.file}: {self.where or 'the file'} {problem}: {self.fix}")

    def _child(self, value: Any, key: str | int) -> Field:
        step = f"[{key}]" if isinstance(key, int) else f".{key}" if re.fullmatch(r"[\w.+-]+", key) else f"[{key!r}]"
        return Field(value, (self.where + step).lstrip("."), file=self.file, fix=self.fix, error=self.error)

    def _kind(self) -> str:
        return "null" if self.value is None else {dict: "an object", list: "a list"}.get(type(self.value), "a value")

    def has(self, key: str) -> bool:
        """Whether this object has ``key``."""
        return isinstance(self.value, dict) and key in self.value

    def __getitem__(self, key: str | int) -> Field:
        if isinstance(key, int):
            return self.items()[key]
        if not isinstance(self.value, dict):
            self.fail(f"is {self._kind()}, expected an object with {key!r}")
        if key not in self.value:
            self._child(None, key).fail("is missing")
        return self._child(self.value[key], key)

    def labelled(self, label: str) -> Field:
        """The same field, its path followed by ``label`` (e.g. a run's name) in error messages."""
        return Field(self.value, f"{self.where}({label})", file=self.file, fix=self.fix, error=self.error)

    def fields(self, names: Collection[str] | None = None, *, required: Collection[str] = ()) -> dict[str, Field]:
        """An object's fields by key: each key one of ``names`` (when given), every key of ``required`` there."""
        if not isinstance(self.value, dict):
            self.fail(f"is {self._kind()}, expected an object")
        unknown = [k for k in self.value if names is not None and k not in names]
        if unknown:
            self._child(None, unknown[0]).fail(f"is not a known name (known: {', '.join(names or ())})")
        for key in required:
            self[key]
        return {k: self._child(v, k) for k, v in self.value.items()}

    def items(self, length: int | None = None, *, least: int = 1, what: str = "") -> list[Field]:
        """A list's values: exactly ``length`` of them when given (``what`` says why), else at least ``least``."""
        if not isinstance(self.value, list):
            self.fail(f"is {self._kind()}, expected a list")
        if length is not None and len(self.value) != length:
            self.fail(f"has {len(self.value)} values, expected {length}{f' ({what})' if what else ''}")
        if len(self.value) < least:
            self.fail(f"has {len(self.value)} values, expected at least {least}")
        return [self._child(v, i) for i, v in enumerate(self.value)]

    def text(self, choices: Collection[str] | None = None) -> str:
        """A string, one of ``choices`` when given."""
        if not isinstance(self.value, str):
            self.fail(f"is {self.value!r}, expected a string")
        if choices is not None and self.value not in choices:
            self.fail(f"is {self.value!r}, not one of the known {', '.join(choices)}")
        return self.value

    def integer(self, least: int | None = None) -> int:
        """An integer (not a bool or float), at least ``least`` when given."""
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            self.fail(f"is {self.value!r}, expected an integer")
        if least is not None and self.value < least:
            self.fail(f"is {self.value}, expected at least {least}")
        return self.value

    def number(self, low: float = -math.inf, high: float = math.inf, *, null: bool = False) -> Any:
        """A finite number in ``[low, high]``; ``None`` passes where ``null`` (a run that diverged)."""
        if self.value is None and null:
            return None
        if not isinstance(self.value, (int, float)) or isinstance(self.value, bool):
            self.fail(f"is {self.value!r}, expected a number")
        if not math.isfinite(self.value):
            self.fail(f"is {self.value}, not a finite number")
        if not low <= self.value <= high:
            self.fail(f"is {self.value}, outside [{low:g}, {high:g}]")
        return self.value

    def accuracy(self, images: int | None = None, *, null: bool = False) -> Any:
        """A fraction in [0, 1]; over ``images`` images, a whole number of them (to the file's 6 decimals)."""
        value = self.number(0.0, 1.0, null=null)
        if value is not None and images and abs(value * images - round(value * images)) > images * 5e-7 + 1e-9:
            self.fail(f"is {value}, not a whole number of correct images out of {images:,} ({value * images:g})")
        return value

    def loss(self, *, null: bool = False) -> Any:
        """A loss: finite and >= 0."""
        return self.number(0.0, null=null)

    def seconds(self, *, null: bool = False) -> Any:
        """A duration in seconds: finite and >= 0."""
        return self.number(0.0, null=null)

    def agrees(self, expected: Any, source: str, *, tolerance: float = 1e-5) -> None:
        """Refuse a stored summary that differs from ``expected``, the same summary recomputed from ``source``
        (numbers within ``tolerance``: the file keeps 6 decimals)."""
        value = self.value
        if isinstance(expected, dict) and isinstance(value, dict) and set(expected) == set(value):
            for key in expected:
                self[key].agrees(expected[key], source, tolerance=tolerance)
            return
        if isinstance(expected, list) and isinstance(value, list) and len(expected) == len(value):
            for index, item in enumerate(expected):
                self._child(value[index], index).agrees(item, source, tolerance=tolerance)
            return
        if isinstance(expected, float):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            same = numeric and math.isclose(value, expected, rel_tol=0, abs_tol=tolerance)
        else:
            same = type(value) is type(expected) and value == expected
        if not same:
            self.fail(f"is {value!r}, but {source} give {expected!r} (a summary its values contradict)")


__all__ = ["Field", "FieldError"]
