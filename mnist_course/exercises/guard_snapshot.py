"""What autograde's guard compares: the namespaces, classes and functions the checks rely on, recorded entry by entry.

A :class:`Snapshot` holds, for every loaded module of the watched packages, the module object ``sys.modules`` maps
its name to and each entry of its namespace that is code (a function, class, module, descriptor or other callable);
for every class defined there, the code entries of its ``__dict__``; for every function, its ``__code__``, defaults
and keyword defaults. The course's check modules (``mnist_course.exercises``) are recorded whole: every entry, and
each data value as its pickled bytes. :meth:`Snapshot.difference` names the first entry that is not the recorded
object any more. :func:`pristine_difference` compares the live check modules with copies freshly executed from their
files.
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import pickle
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STRICT_PREFIX = "mnist_course.exercises"  # modules recorded whole, data values included
# Values that change as the course works: the guard's own record, and the predictions the checks commit (editing
# those can change which prediction is evaluated, never the point: a well-formed prediction earns it held or not).
VOLATILE = frozenset({"mnist_course.exercises.grading_guard._STATE", "mnist_course.exercises.feedback._COMMITTED"})
_MISSING = object()
_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: the attributes of such a class cannot be set from Python
_BUILTIN_NAMES = frozenset(dir(builtins))
_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(len))


def _is_code(value: Any) -> bool:
    """Whether ``value`` is code a check may run (what the snapshot records outside the check modules)."""
    return callable(value) or isinstance(value, types.ModuleType) or hasattr(type(value), "__get__")


def _functions(value: Any) -> Iterator[types.FunctionType]:
    """The Python functions behind a namespace entry: the function itself, the one an ``lru_cache`` or
    ``functools.wraps`` wrapper calls, a static, class or bound method's, a property's. Only these types are looked
    into: an arbitrary object's attributes may run code (a lazy module's ``__getattr__`` imports)."""
    for _ in range(8):  # a chain of wrappers
        if isinstance(value, property):
            yield from (f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType))
            return
        if isinstance(value, (staticmethod, classmethod, types.MethodType)):
            value = value.__func__
            continue
        if isinstance(value, types.FunctionType):
            yield value
        elif type(value) is not _LRU_WRAPPER:
            return
        value = vars(value).get("__wrapped__")


@dataclass
class Snapshot:
    """The recorded objects; :meth:`difference` compares them with what is live now."""

    modules: dict[str, types.ModuleType] = field(default_factory=dict)
    namespaces: list[tuple[str, Any, dict[str, Any], str, frozenset[str]]] = field(default_factory=list)
    data: list[tuple[str, types.ModuleType, str, bytes]] = field(default_factory=list)
    functions: dict[int, tuple[str, types.FunctionType, Any, Any, Any]] = field(default_factory=dict)
    classes: set[int] = field(default_factory=set)
    packages: set[str] = field(default_factory=set)

    def record(self, packages: Iterable[str]) -> None:
        """Record every module of ``packages`` now in ``sys.modules`` (a module recorded before is kept as it was)."""
        self.packages.update(packages)
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in self.packages and isinstance(module, types.ModuleType):
                if name not in self.modules:
                    self.modules[name] = module
                    self._record_module(name, module)

    def _record_module(self, name: str, module: types.ModuleType) -> None:
        namespace = vars(module)
        if name == "builtins":  # the real builtins only: IPython and ipykernel swap input, display, exit... per cell
            kept = {k: v for k, v in namespace.items() if isinstance(v, (types.BuiltinFunctionType, type))}
            self.namespaces.append((name, module, kept, "builtins", frozenset(namespace)))
            return
        strict = name == STRICT_PREFIX or name.startswith(STRICT_PREFIX + ".")
        kept = dict(namespace) if strict else {k: v for k, v in namespace.items() if _is_code(v)}
        self.namespaces.append((name, module, kept, "strict" if strict else "module", frozenset(namespace)))
        for key, value in kept.items():
            if strict and not key.startswith("__") and not _is_code(value) and f"{name}.{key}" not in VOLATILE:
                try:
                    self.data.append((name, module, key, pickle.dumps(value)))
                except Exception:  # noqa: BLE001 - an unpicklable value is compared by identity only
                    pass
            self._record_functions(f"{name}.{key}", value)
            if isinstance(value, type) and getattr(value, "__module__", "").split(".")[0] in self.packages:
                self._record_class(f"{name}.{key}", value)

    def _record_class(self, label: str, cls: type) -> None:
        if id(cls) in self.classes or cls.__flags__ & _IMMUTABLE_TYPE:
            return
        self.classes.add(id(cls))
        kept = {k: v for k, v in vars(cls).items() if _is_code(v)}
        self.namespaces.append((label, cls, kept, "class", frozenset(vars(cls))))
        for key, value in kept.items():
            self._record_functions(f"{label}.{key}", value)

    def _record_functions(self, label: str, value: Any) -> None:
        for function in _functions(value):
            if id(function) not in self.functions:
                kwdefaults = function.__kwdefaults__
                copied = dict(kwdefaults) if kwdefaults is not None else None
                self.functions[id(function)] = (label, function, function.__code__, function.__defaults__, copied)

    def difference(self) -> str | None:
        """What is no longer as recorded (the first difference found, in words), or ``None``."""
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                return f"sys.modules[{name!r}] was {'removed' if name not in sys.modules else 'replaced'}"
        for label, owner, kept, kind, known in self.namespaces:
            live = vars(owner)
            for key, value in kept.items():
                now = live.get(key, _MISSING)
                if now is not value:
                    return f"{label}.{key} was {'deleted' if now is _MISSING else 'replaced'}"
            added = _added(live, known, kind)
            if added:
                return f"{label}.{added} was added"
        for module_name, module, key, blob in self.data:
            try:
                same = pickle.dumps(vars(module).get(key)) == blob
            except Exception:  # noqa: BLE001 - a value that no longer pickles has changed
                same = False
            if not same:
                return f"the value of {module_name}.{key} was changed"
        for label, function, code, defaults, kwdefaults in self.functions.values():
            if function.__code__ is not code:
                return f"the code of {label} was replaced"
            now, then = function.__kwdefaults__ or {}, kwdefaults or {}
            changed = now.keys() != then.keys() or any(now[k] is not then[k] for k in then)
            if function.__defaults__ is not defaults or changed:
                return f"the default arguments of {label} were changed"
        return None

    def loaded_from(self, folder: Path) -> str | None:
        """The first recorded module whose file lies in ``folder`` (a submission shadowing a package), or ``None``."""
        folder = folder.resolve()
        for name, module in self.modules.items():
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().is_relative_to(folder):
                return name
        return None


def _added(live: Mapping[str, Any], known: frozenset[str], kind: str) -> str | None:
    """A key added to a namespace since it was recorded that can change what a check runs, or ``None``.

    A submodule imported since is never one (the package ``mnist_course.exercises`` gets ``lesson04`` when it is
    imported). In a check module: any other name but a dunder (``__warningregistry__`` comes with warnings). In a
    class: any code (a method hiding an inherited one). In another module: a name hiding a builtin for its functions.
    """
    for key in live.keys() - known:
        value = live[key]
        if isinstance(value, types.ModuleType) and sys.modules.get(value.__name__) is value:
            if value.__name__.endswith(f".{key}"):
                continue  # a submodule imported since: ``import IPython.display`` adds ``display`` to ``IPython``
        if kind == "strict" and not key.startswith("__"):
            return key
        if kind == "class" and _is_code(value) and key not in ("__dict__", "__weakref__"):
            return key
        if kind == "module" and key in _BUILTIN_NAMES and key not in ("__doc__", "__name__", "__spec__"):
            return key
    return None


def pristine_difference(modules: Iterable[types.ModuleType]) -> str | None:
    """The first function of ``modules`` whose code differs from a copy of its module executed afresh from the
    module's file (a private copy, never put in ``sys.modules``), or ``None``."""
    for module in modules:
        spec = importlib.util.spec_from_file_location(f"_pristine_{module.__name__}", module.__file__)
        if spec is None or spec.loader is None:
            return f"{module.__name__} has no file to compare with"
        fresh = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = fresh  # dataclasses look their module up while the copy executes
        try:
            spec.loader.exec_module(fresh)
        finally:
            del sys.modules[spec.name]
        for key, value in vars(fresh).items():
            for original, function in zip(_functions(value), _functions(vars(module).get(key))):
                if function.__code__ != original.__code__:
                    return f"{module.__name__}.{key} is not the code of {Path(module.__file__).name}"
            if isinstance(value, type) and isinstance(vars(module).get(key), type):
                for name, member in vars(value).items():
                    live = vars(vars(module)[key]).get(name)
                    for original, function in zip(_functions(member), _functions(live)):
                        if function.__code__ != original.__code__:
                            return f"{module.__name__}.{key}.{name} is not the code of {Path(module.__file__).name}"
    return None
