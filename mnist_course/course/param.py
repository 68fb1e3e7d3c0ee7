"""One declared notebook parameter (``Param``: type, range or choices, what ``None`` means) and its error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class ParameterError(ValueError):
    """A notebook parameter with an unknown name, a wrong type or a value out of range (one-line message)."""


@dataclass(frozen=True)
class Param:
    """One parameter of a notebook's ``parameters`` cell.

    ``type`` is ``int``, ``float``, ``bool``, ``str`` or ``list`` (a list of ``str``; a comma-separated string is
    accepted). ``minimum``/``maximum`` bound numbers; ``choices`` lists allowed strings (for a list, allowed
    items). ``none_means`` is set when ``None`` is allowed and says what it means; ``by_profile`` then gives the
    value ``None`` is replaced with in each profile (a value may itself stay ``None``).
    """

    type: type
    help: str
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] | None = None
    none_means: str | None = None
    by_profile: Mapping[str, object] | None = field(default=None)

    def allowed(self) -> str:
        """What this parameter accepts, in words (for error messages and ``--help``)."""
        if self.choices is not None:
            what = ("a list (or comma-separated string) of " if self.type is list else "one of ") + ", ".join(
                map(repr, self.choices)
            )
        elif self.type in (int, float):
            what = f"{'an integer' if self.type is int else 'a number'}"
            if self.minimum is not None and self.maximum is not None:
                what += f" from {self.minimum} to {self.maximum}"
            elif self.minimum is not None:
                what += f" >= {self.minimum}"
        else:
            what = {bool: "True or False", str: "a string", list: "a list of strings"}[self.type]
        return what + (f", or None ({self.none_means})" if self.none_means else "")


__all__ = ["Param", "ParameterError"]
