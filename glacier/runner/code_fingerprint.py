"""The code fingerprint of a cached task: one hash of everything its function can reach.

Followed from the task function, transitively: the bytecode of every project function and
method (nested code, lambdas and comprehensions included), its default values, its closure
cells and the module globals it names; classes (bases, methods, static and class methods,
properties, class attributes, dataclass and pydantic fields, enum members); instances of
project classes (their attributes); ``functools.partial``, bound methods and decorated
wrappers (``__wrapped__``, e.g. ``lru_cache``); project modules used as ``helpmod.f`` (each
member whose name any reachable code uses); plain values by their content. Libraries count
by distribution and version, the standard library by the Python version (see
``code_origin``). A value with no stable content (an open file, a socket, a random
generator, a LazyFrame over files ...) raises ``UnstableValue``: the caller turns the cache
off for that task rather than risk a stale hit.

Deterministic across processes: no ``id()`` or ``hash()`` reaches the digest (sets are
sorted by content; shared and cyclic objects are referenced by their order of first visit).
Code objects are immutable, so their digests are kept per process (``code_digest``); every
mutable thing (globals, cells, defaults) is read again on every call.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

from glacier.runner import fingerprint_values
from glacier.runner.code_digest import code_info
from glacier.runner.code_origin import (
    identity_of_module_name,
    is_glacier,
    library_identity,
    library_object_name,
    origin_of_file,
    origin_of_module,
    origin_of_module_name,
)


class CacheDisabledWarning(UserWarning):
    """A cached task reaches a value with no stable content: its cache is off for the run."""


class UnstableValue(Exception):
    """``where`` (e.g. "global 'CONN' read by helpmod.load") holds ``kind``, which has no
    content that could be hashed the same way in every process."""

    def __init__(self, where: str, kind: str) -> None:
        self.where = where
        self.kind = kind
        super().__init__(f"{where} is {kind}")


def task_fingerprint(func: Callable[..., Any], task: str) -> str | None:
    """The fingerprint of ``func``'s reach, or None (with a ``CacheDisabledWarning`` naming
    the task and the value) when it reaches something that cannot be fingerprinted."""
    try:
        return code_fingerprint(func)
    except UnstableValue as exc:
        warnings.warn(
            CacheDisabledWarning(
                f"Task '{task}': cache is off for this run: {exc.where} is {exc.kind}, whose "
                "content cannot be fingerprinted, so a cached result could be stale. Fix: pass "
                "the value as task config, make it plain data (numbers, strings, tuples, dicts, "
                "dataclasses ...), or create it inside the task."
            ),
            stacklevel=2,
        )
        return None


def code_fingerprint(func: Callable[..., Any]) -> str:
    """blake2b hex digest of everything ``func`` can reach; raises ``UnstableValue``."""
    walker = _Walker()
    walker.emit("python", sys.version, "glacier", library_identity("glacier"))
    walker.emit("polars", library_identity("polars"))  # the engine that reads and writes
    try:
        walker.push("task function {}", func)
        walker.value(func)  # a glacier Task is followed to its function by __wrapped__
        walker.expand_modules()
    except RecursionError:
        raise UnstableValue(walker.where(), "nested too deeply to walk") from None
    except UnstableValue:
        raise
    except Exception as exc:  # a property that raises, a value mutated by a running task ...
        raise UnstableValue(walker.where(), f"unreadable ({type(exc).__name__}: {exc})") from None
    return walker.hexdigest()


# -- the walk ----------------------------------------------------------------------------------

_ATOMS = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis), type(NotImplemented))
_CALLABLE_KINDS = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
)


def _label(obj: object) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"{module}.{name}" if module else str(name)


def _kind(obj: object) -> str:
    return f"a {_label(type(obj))} object"


class _Walker:
    def __init__(self) -> None:
        self.out: list[bytes] = []  # framed parts, hashed once at the end
        self.index: dict[int, int] = {}
        self.keep: list[object] = []  # visited objects stay alive, so no id is reused mid-walk
        self.names: set[str] = set()  # every name reachable code uses
        self.strings: set[str] = set()
        self.modules: dict[str, types.ModuleType] = {}  # project modules reached, in order
        self.members_done: dict[str, set[str]] = {}
        self.labels: list[tuple[str, tuple[object, ...]]] = []

    # -- output and context --------------------------------------------------------------------
    def emit(self, *parts: str | bytes) -> None:
        out = self.out
        for part in parts:
            data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
            out.append(len(data).to_bytes(8, "little"))
            out.append(data)

    def hexdigest(self) -> str:
        return hashlib.blake2b(b"".join(self.out), digest_size=32).hexdigest()

    def digest(self) -> bytes:
        return hashlib.blake2b(b"".join(self.out), digest_size=32).digest()

    def push(self, template: str, *args: object) -> None:
        """Say where the walk is, for the message when a value cannot be hashed (formatted
        only then). No ``finally`` pops it: a failed walk reports its innermost place."""
        self.labels.append((template, args))

    def pop(self) -> None:
        self.labels.pop()

    def where(self) -> str:
        if not self.labels:
            return "a value"
        template, args = self.labels[-1]
        return template.format(*(arg if isinstance(arg, str) else _label(arg) for arg in args))

    def unstable(self, kind: str) -> UnstableValue:
        return UnstableValue(self.where(), kind)

    # -- dispatch ------------------------------------------------------------------------------
    def value(self, obj: object) -> None:
        kind = type(obj)
        if kind in _ATOMS:
            self.emit(kind.__name__, obj if kind in (str, bytes) else repr(obj))  # type: ignore[arg-type]
            return
        seen = self.index.get(id(obj))
        if seen is not None:
            self.emit("ref", str(seen))
            return
        self.index[id(obj)] = len(self.index)
        self.keep.append(obj)
        if kind in (tuple, list, dict, set, frozenset):
            self.container(obj)
        elif isinstance(obj, type):
            self.klass(obj)
        elif isinstance(obj, types.ModuleType):
            self.module(obj)
        elif isinstance(obj, types.FunctionType):
            self.function(obj)
        elif isinstance(obj, types.CodeType):
            self.code(obj)
        elif isinstance(obj, enum.Enum):
            self.emit("enum", obj.name)
            self.value(type(obj))
        elif not self.wrapper(obj):
            self.instance(obj)

    def container(self, obj: Any) -> None:
        self.emit(type(obj).__name__, str(len(obj)))
        if isinstance(obj, dict):
            for key, item in list(obj.items()):  # insertion order: iterating it may shape results
                self.value(key)
                self.value(item)
        elif isinstance(obj, set | frozenset):
            for item in sorted(obj, key=self.sort_key):
                self.value(item)
        else:
            for item in list(obj):
                self.value(item)

    def sort_key(self, item: object) -> bytes:
        if type(item) in _ATOMS:
            return f"{type(item).__name__}:{item!r}".encode()
        sub = _Walker()
        sub.labels = list(self.labels)
        sub.value(item)
        return b"~" + sub.digest()

    def code(self, code: types.CodeType) -> None:
        info = code_info(code)
        self.names.update(info.names)
        self.strings.update(info.strings)
        self.emit("code", info.digest)

    # -- functions, classes, modules -------------------------------------------------------------
    def function(self, func: types.FunctionType) -> None:
        code = func.__code__
        module = func.__module__
        if is_glacier(module) or origin_of_file(code.co_filename) != "project":
            self.emit("libfn", module or "", func.__qualname__, identity_of_module_name(module))
            self.library_function_parts(func)
            return
        info = code_info(code)
        self.names.update(info.names)
        self.strings.update(info.strings)
        self.emit("fn", module or "", func.__qualname__, info.digest)
        self.push("a default value of {}", func)
        self.value(func.__defaults__)
        self.value(func.__kwdefaults__)
        self.pop()
        for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=False):
            self.emit("cell", name)
            self.push("closure variable '{}' of {}", name, func)
            try:
                contents = cell.cell_contents
            except ValueError:  # not assigned yet
                self.emit("empty")
            else:
                self.value(contents)
            self.pop()
        namespace = func.__globals__
        for name in sorted(info.names):
            if name in namespace:
                self.emit("global", name)
                self.push("global '{}' read by {}", name, func)
                self.value(namespace[name])
                self.pop()
            elif name in sys.modules:  # `import helpmod` inside the function body
                self.emit("import", name)
                self.value(sys.modules[name])
        if "__wrapped__" in func.__dict__:
            self.push("the function {} wraps", func)
            self.value(func.__dict__["__wrapped__"])
            self.pop()

    def library_function_parts(self, func: types.FunctionType) -> None:
        """A library decorator's wrapper holds the user's function: follow it."""
        wrapped = func.__dict__.get("__wrapped__")
        if wrapped is not None:
            self.push("the function {} wraps", func)
            self.value(wrapped)
            self.pop()
        registry = getattr(func, "registry", None)  # functools.singledispatch implementations
        if registry is not None and "dispatch" in func.__dict__:
            self.value(dict(registry))

    def module(self, module: types.ModuleType) -> None:
        origin = origin_of_module(module)
        if origin == "project":
            self.emit("mod", module.__name__)
            self.modules.setdefault(module.__name__, module)
        elif origin == "stdlib":
            self.emit("stdmod", module.__name__)
        else:
            self.emit("libmod", module.__name__, library_identity(module.__name__))

    def expand_modules(self) -> None:
        """Hash each member of a reached project module whose name reachable code uses
        (``helpmod.f``, ``getattr(helpmod, "f")``, a module passed to a function that reads
        ``m.f``), until no new name or module turns up."""
        changed = True
        while changed:
            changed = False
            for name, module in list(self.modules.items()):
                members = vars(module)
                done = self.members_done.setdefault(name, set())
                wanted = sorted(((self.names | self.strings) & members.keys()) - done)
                for member in wanted:
                    done.add(member)
                    value = members[member]
                    if member.startswith("__") and not isinstance(value, types.FunctionType | type):
                        continue  # __spec__, __loader__ ...: the import machinery, not behaviour
                    changed = True
                    self.emit("member", name, member)
                    self.push("'{}.{}'", name, member)
                    self.value(value)
                    self.pop()

    def klass(self, cls: type) -> None:
        module = cls.__module__
        if is_glacier(module) or origin_of_module_name(module) != "project":
            self.emit("libcls", module or "", cls.__qualname__, identity_of_module_name(module))
            return
        self.emit("cls", module, cls.__qualname__)
        for base in cls.__bases__:
            self.value(base)
        if type(cls) is not type:
            self.value(type(cls))
        self.push("a field of {}", cls)
        fingerprint_values.class_fields(self, cls)
        self.pop()
        skip = fingerprint_values.member_filter(cls)
        for key, member in list(vars(cls).items()):
            if skip(key, member):
                continue
            self.emit("attr", key)
            self.push("class attribute '{}.{}'", cls, key)
            self.value(member)
            self.pop()

    # -- everything else -------------------------------------------------------------------------
    def wrapper(self, obj: object) -> bool:
        """Callables that stand for other code: partials, bound methods, builtins,
        descriptors, decorated wrappers. False when ``obj`` is none of them."""
        if isinstance(obj, functools.partial):
            self.emit("partial")
            for piece in (obj.func, obj.args, obj.keywords):
                self.value(piece)
        elif isinstance(obj, types.MethodType):
            self.emit("method")
            self.value(obj.__self__)
            self.value(obj.__func__)
        elif isinstance(obj, _CALLABLE_KINDS):
            owner = getattr(obj, "__self__", None) or getattr(obj, "__objclass__", None)
            self.emit("builtin", getattr(obj, "__qualname__", "") or getattr(obj, "__name__", ""))
            if owner is None or isinstance(owner, types.ModuleType):
                module = getattr(obj, "__module__", None) or getattr(owner, "__name__", None)
                self.emit(module or "", identity_of_module_name(module))
            else:
                self.value(owner)
        elif isinstance(obj, staticmethod | classmethod):
            self.emit(type(obj).__name__)
            self.value(obj.__func__)
        elif isinstance(obj, property):
            self.emit("property")
            for part in (obj.fget, obj.fset, obj.fdel):
                self.value(part)
        elif isinstance(obj, functools.cached_property):
            self.emit("cached_property")
            self.value(obj.func)
        else:
            return False
        return True

    def instance(self, obj: object) -> None:
        cls = type(obj)
        if not is_glacier(cls.__module__) and origin_of_module_name(cls.__module__) == "project":
            fingerprint_values.project_instance(self, obj)
        elif fingerprint_values.library_value(self, obj):
            return
        elif callable(obj) and (name := library_object_name(obj)) is not None:
            self.emit("libobj", name, identity_of_module_name(name))  # pl.col, np.sqrt (a ufunc) ...
        elif hasattr(obj, "__wrapped__"):  # lru_cache, a glacier Task, other decorator objects
            self.emit("wrapper")
            self.value(cls)
            self.push("the function {} wraps", obj)
            self.value(obj.__wrapped__)
            self.pop()
        else:
            raise self.unstable(_kind(obj))
