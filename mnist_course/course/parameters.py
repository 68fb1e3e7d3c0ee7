"""Checking a notebook's parameters against their declaration (:mod:`mnist_course.course.declared`): one clear
error for an unknown name, a wrong type or a value out of range, and ``None`` resolved by the profile."""

from __future__ import annotations

import ast
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


def _cell_names(notebook: Path) -> list[str]:
    """Names assigned in a notebook's ``parameters`` cell."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if "parameters" in cell.metadata.get("tags", []):
            return [
                t.id
                for node in ast.parse(cell.source).body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            ]
    return []


def check_for(notebook: Path, values: Mapping[str, object]) -> dict[str, object]:
    """:func:`check` for the notebook file ``notebook`` (declared by its stem); a notebook without a declaration
    (your own) gets its names checked against its parameters cell, values passed as they are."""
    if notebook.stem in DECLARED:
        return check(notebook.stem, values)
    known = _cell_names(notebook)
    for name in values:
        if name not in known:
            raise ParameterError(
                f"{notebook.stem} has no parameter {name!r}: its parameters cell sets {', '.join(known) or 'nothing'}"
            )
    return dict(values)


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
