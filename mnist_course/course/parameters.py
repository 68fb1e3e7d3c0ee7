"""Checking a notebook's parameters against their declaration (:mod:`mnist_course.course.declared`): one clear
error for an unknown name, a wrong type or a value out of range, and ``None`` resolved by the profile."""

from __future__ import annotations

import ast
import math
import types
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from mnist_course.course.declared import DECLARED
from mnist_course.course.param import Param, ParameterError
from mnist_course.notebook import check_profile, current_profile


def declared(notebook: str) -> dict[str, Param]:
    """The declared parameters of ``notebook`` (its stem, e.g. ``"04_mlp"``); raises naming the known stems."""
    try:
        return DECLARED[notebook]
    except KeyError:
        raise ParameterError(
            f"no parameters declared for notebook {notebook!r}: add it to DECLARED in "
            f"mnist_course/course/declared.py (known: {', '.join(DECLARED)})"
        ) from None


def check_value(notebook: str, name: str, value: object) -> object:
    """``value`` for parameter ``name`` of ``notebook``, coerced (int -> float, "a,b" -> list), or raise
    :class:`ParameterError` in one line naming the parameter, the value and what is allowed."""
    params = declared(notebook)
    if name not in params:
        raise ParameterError(f"{notebook} has no parameter {name!r}: use one of {', '.join(params)}")
    param = params[name]
    bad = ParameterError(f"{notebook}: {name}={value!r} is not allowed; use {param.allowed()}")
    if value is None:
        if param.none_means is None:
            raise bad
        return None
    if param.type is list and isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if param.type is list and isinstance(value, tuple):
        value = list(value)
    if param.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    if not isinstance(value, param.type) or (param.type is not bool and isinstance(value, bool)):
        raise bad
    if param.type in (int, float) and (
        (param.minimum is not None and value < param.minimum) or (param.maximum is not None and value > param.maximum)
    ):
        raise bad
    items = value if param.type is list else [value]
    if param.choices is not None and any(item not in param.choices for item in items):
        raise bad
    if param.type is list and not all(isinstance(item, str) for item in items):
        raise bad
    return value


def check(notebook: str, values: Mapping[str, object]) -> dict[str, object]:
    """Check overrides (``-p``/``-g`` values) for ``notebook``: every name declared, every value allowed; returns
    them coerced. A ``PROFILE`` of ``None`` is allowed (the runner's profile is used)."""
    declared(notebook)
    return {name: check_value(notebook, name, value) for name, value in values.items()}


PLAIN_VALUES = "None, True or False, a finite number, a string, or a list [...] of those"
_PLAIN_TYPES = (type(None), bool, int, float, str)


def _shown(value: object) -> str:
    """``repr(value)``, cut to 80 characters (an error message stays one readable line)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: object) -> bool:
    """Whether papermill writes ``value`` into a cell as exactly that value: None, bool, int, str, a finite float."""
    return type(value) in _PLAIN_TYPES and not (isinstance(value, float) and not math.isfinite(value))


def _plain_or_list(value: object) -> bool:
    """:func:`_plain`, or a list of plain values."""
    return _plain(value) or (type(value) is list and all(_plain(item) for item in value))


def check_plain(where: str, name: str, value: object) -> object:
    """``value`` if JSON and papermill's injected cell both represent it exactly (see :data:`PLAIN_VALUES`; a list
    of such values); else :class:`ParameterError` in one line naming ``where``, the parameter and the value. Bytes,
    sets, tuples, dicts and other objects are refused: papermill would write their ``repr`` unescaped into the
    notebook, where it runs as code."""
    if _plain_or_list(value):
        return value
    raise ParameterError(f"{where}: {name}={_shown(value)} is not allowed; use {PLAIN_VALUES}")


def parse_text(name: str, text: str) -> object:
    """A ``-p NAME VALUE`` (or ``-g``) value from the command line: as papermill's CLI reads it (``True``, ``False``,
    ``None``, an int, a float, else the text itself), and a quoted string (``'adam'``) or a list (``[1, 'a']``)
    written as Python. Text Python would read as anything else (``b'...'``, ``{...}``, ``1j``) raises
    :class:`ParameterError`; a tuple (``'a', 'b'``) becomes a list."""
    word = text.strip()
    if word in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[word]
    for number in (int, float):
        try:
            return number(word)
        except ValueError:
            pass
    try:
        value = ast.literal_eval(word)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text  # not a Python literal: the text itself, as papermill's CLI passes it
    if isinstance(value, tuple):
        value = list(value)
    if _plain_or_list(value):
        return value
    raise ParameterError(
        f"{name}={text} is a {type(value).__name__} in Python, not a parameter value: use {PLAIN_VALUES} "
        "(to pass it as text, quote it: \"'...'\")"
    )


def _cell_names(notebook: Path) -> list[str]:
    """Names assigned in a notebook's ``parameters`` cell (IPython's ``%magic`` and ``!shell`` lines skipped);
    :class:`ParameterError` naming the notebook if the cell is not valid Python."""
    from mnist_course.course.editions import read_notebook

    for cell in read_notebook(notebook).cells:
        if "parameters" in cell.metadata.get("tags", []):
            lines = cell.source.splitlines()
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
            try:
                body = ast.parse(source).body
            except SyntaxError as exc:
                raise ParameterError(
                    f"{notebook}: its parameters cell is not valid Python (line {exc.lineno}: {exc.msg}): "
                    "fix that cell, or run it without -p/-g"
                ) from None
            assigned = [node for node in body if isinstance(node, ast.Assign)]
            return [t.id for node in assigned for t in node.targets if isinstance(t, ast.Name)]
    return []


def check_for(notebook: Path, values: Mapping[str, object]) -> dict[str, object]:
    """:func:`check` for the notebook file ``notebook`` (declared by its stem); a notebook without a declaration
    (your own) gets its names checked against its parameters cell. Either way every value must be plain
    (:func:`check_plain`), so that papermill's injected cell holds exactly these values and nothing else."""
    if notebook.stem in DECLARED:
        checked = check(notebook.stem, values)
    else:
        known = _cell_names(notebook) if values else []
        for name in values:
            if name not in known:
                raise ParameterError(
                    f"{notebook.stem} has no parameter {name!r}: its parameters cell sets "
                    f"{', '.join(known) or 'nothing'}"
                )
        checked = dict(values)
    return {name: check_plain(notebook.stem, name, value) for name, value in checked.items()}


def _candidates(namespace: Mapping[str, object]) -> set[str]:
    """UPPER_CASE names that could be parameters (not modules, functions or classes)."""
    return {
        k
        for k, v in namespace.items()
        if k.isupper() and not k.startswith("_") and not isinstance(v, (types.ModuleType, types.FunctionType, type))
    }


_SEEN = "_mnist_course_parameters_checked"


def resolve(notebook: str, namespace: Mapping[str, object]) -> dict[str, object]:
    """Every declared parameter of ``notebook`` read from ``namespace``, checked, ``PROFILE`` resolved and each
    ``None`` replaced by the profile's value. An UPPER_CASE name in ``namespace`` that is not declared (a typo,
    or papermill's ``-p`` of an unknown name) is refused, the first time in a kernel (later the notebook's own
    constants are there too). Raises :class:`ParameterError` in one line."""
    params = declared(notebook)
    if _SEEN not in namespace:
        unknown = sorted(_candidates(namespace) - set(params))
        if unknown:
            raise ParameterError(
                f"{notebook} has no parameter {unknown[0]!r} (set to {namespace[unknown[0]]!r}): "
                f"use one of {', '.join(params)}"
            )
    missing = [name for name in params if name not in namespace]
    if missing:
        raise ParameterError(
            f"{notebook}: the parameters cell does not set {missing[0]}; declared in "
            f"mnist_course/course/declared.py: {', '.join(params)}"
        )
    values = {name: check_value(notebook, name, namespace[name]) for name in params}
    profile = values.get("PROFILE")
    values["PROFILE"] = check_profile(profile) if profile else current_profile()
    for name, param in params.items():
        if values[name] is None and param.by_profile is not None:
            values[name] = param.by_profile[values["PROFILE"]]
    return values


def use_parameters(notebook: str, namespace: MutableMapping[str, object]) -> None:
    """Check the parameters cell's values (see :func:`resolve`) and put the resolved ones back in ``namespace``:
    in a notebook, ``use_parameters("04_mlp", globals())`` right after the parameters cell."""
    resolved = resolve(notebook, namespace)
    namespace.update(resolved)
    namespace[_SEEN] = True
