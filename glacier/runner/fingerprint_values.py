"""How the code fingerprint reads values that are not code: class fields, instances of
project classes, and the library types with a stable content (dates, paths, regexes,
Polars dtypes / expressions / frames, NumPy arrays ...). Used by ``code_fingerprint``'s walk.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import io
import logging
import pathlib
import re
import sys
import types
import typing
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from glacier.runner.code_origin import origin_of_module_name

if TYPE_CHECKING:
    from glacier.runner.code_fingerprint import _Walker

# Values whose repr is their whole content and is the same in every process.
_BY_REPR = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    decimal.Decimal,
    fractions.Fraction,
    uuid.UUID,
    pathlib.PurePath,
    range,
    slice,
)
# Bases a project class may have without hiding state from ``vars()`` and ``__slots__``.
_DATA_BASE_MODULES = frozenset({"builtins", "abc", "typing", "enum", "collections"})
_ENUM_MAPS = frozenset({"_member_map_", "_value2member_map_", "_member_names_"})  # the members again
_DATACLASS_MADE = frozenset({"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"})
_DATACLASS_MADE |= {"__lt__", "__le__", "__gt__", "__ge__", "__getstate__", "__setstate__"}


# -- classes -------------------------------------------------------------------------------------


def class_fields(walker: _Walker, cls: type) -> None:
    """What shapes instances beyond the class dict: enum members, dataclass and pydantic
    fields (their types, defaults and factories)."""
    if issubclass(cls, enum.Enum):
        for name, member in cls.__members__.items():
            walker.emit("member", name)
            walker.value(member.value)
    if dataclasses.is_dataclass(cls):
        walker.emit("dataclass", repr(cls.__dataclass_params__))  # type: ignore[attr-defined]
        for field in dataclasses.fields(cls):
            flags = (field.init, field.repr, field.compare, field.kw_only)
            walker.emit("field", field.name, repr(flags))
            walker.value(field.type)
            if field.default is not dataclasses.MISSING:
                walker.value(field.default)
            if field.default_factory is not dataclasses.MISSING:
                walker.value(field.default_factory)
    if _is_pydantic_model(cls):
        undefined = sys.modules["pydantic_core"].PydanticUndefined
        for name, info in cls.model_fields.items():  # type: ignore[attr-defined]
            walker.emit("field", name, repr(info.metadata), repr((info.alias, info.validation_alias)))
            walker.value(info.annotation)
            if info.default is not undefined:
                walker.value(info.default)
            if info.default_factory is not None:
                walker.value(info.default_factory)


def member_filter(cls: type) -> Callable[[str, object], bool]:
    """Which class-dict entries to leave out: bookkeeping of Python or a library, not
    behaviour (or what ``class_fields`` already covers)."""
    is_enum = issubclass(cls, enum.Enum)
    members = cls.__members__ if is_enum else {}  # type: ignore[attr-defined]
    is_dataclass = dataclasses.is_dataclass(cls)

    def skip(key: str, member: object) -> bool:
        if key == "_abc_impl" or (is_enum and (key in members or key in _ENUM_MAPS)):
            return True
        if key.startswith("__") and key.endswith("__"):
            if not isinstance(member, types.FunctionType | staticmethod | classmethod | property):
                return True  # __module__, __doc__, __dict__, __pydantic_validator__ ...
            code = getattr(getattr(member, "__func__", member), "__code__", None)
            made = code is not None and code.co_filename.startswith("<")
            return is_dataclass and key in _DATACLASS_MADE and made  # generated from the fields
        return False

    return skip


def _is_pydantic_model(cls: type) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and issubclass(cls, pydantic.BaseModel)


# -- instances -----------------------------------------------------------------------------------


def project_instance(walker: _Walker, obj: Any) -> None:
    """An instance of a project class: its class, builtin-base content, attributes, slots."""
    cls = type(obj)
    for base in cls.__mro__:
        module = base.__module__
        if _is_data_base(base):
            continue
        raise walker.unstable(
            f"a {cls.__qualname__} object (its base {module}.{base.__qualname__} may keep state "
            "outside its attributes)"
        )
    walker.emit("obj")
    walker.value(cls)
    _builtin_content(walker, obj)
    state = getattr(obj, "__dict__", None)
    if state is not None:
        walker.value(state)
    _slots(walker, obj)


def _is_data_base(base: type) -> bool:
    module = base.__module__
    if module in _DATA_BASE_MODULES or origin_of_module_name(module) == "project":
        return True
    return module.startswith("pydantic") and base.__name__ == "BaseModel"


def _builtin_content(walker: _Walker, obj: Any) -> None:
    for base in (dict, list, tuple, set, frozenset):
        if isinstance(obj, base):
            walker.value(base(obj))  # a plain copy of the content (kept alive by the walk)
            return
    for atom in (str, bytes, int, float, complex):
        if isinstance(obj, atom):
            walker.emit(atom.__name__, atom.__repr__(obj))
            return


def _slots(walker: _Walker, obj: object) -> None:
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            walker.emit("slot", slot)
            try:
                walker.value(getattr(obj, slot))
            except AttributeError:
                walker.emit("unset")


# -- library values ------------------------------------------------------------------------------


def library_value(walker: _Walker, obj: Any) -> bool:
    """Hash a value of a library or standard-library type whose content is stable; False
    when ``obj``'s type is not one of them."""
    cls = type(obj)
    label = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(obj, _BY_REPR):
        walker.emit("repr", label, repr(obj))
    elif isinstance(obj, types.MemberDescriptorType | types.GetSetDescriptorType):
        walker.emit("descriptor", obj.__name__)  # a __slots__ entry, a C attribute
    elif label == "_collections._tuplegetter":  # a namedtuple field: its index and doc
        walker.emit("tuplegetter", repr(obj.__reduce__()[1]))
    elif isinstance(obj, re.Pattern):
        walker.emit("re", repr(obj.pattern), str(obj.flags))
    elif isinstance(obj, logging.Logger | logging.LoggerAdapter):
        walker.emit("logger", str(getattr(obj, "name", "")))  # logging does not shape results
    elif isinstance(obj, types.SimpleNamespace):
        walker.emit("namespace")
        walker.value(vars(obj))
    elif isinstance(obj, collections.deque):
        walker.emit("deque", repr(obj.maxlen))
        walker.value(list(obj))
    elif isinstance(obj, dict | list | tuple | set | frozenset) and not isinstance(obj, io.IOBase):
        walker.emit("container", label)  # OrderedDict, defaultdict, Counter, pl.Schema ...
        walker.value(getattr(obj, "default_factory", None))
        _builtin_content(walker, obj)
        walker.value(getattr(obj, "__dict__", None))
    elif _is_typing_form(obj):
        walker.emit("typing", repr(obj))
    else:
        return _polars_value(walker, obj, label) or _numpy_value(walker, obj, label)
    return True


def _is_typing_form(obj: object) -> bool:
    return isinstance(obj, types.GenericAlias | types.UnionType | typing.TypeVar) or (
        type(obj).__module__ == "typing"
    )


def _polars_value(walker: _Walker, obj: object, label: str) -> bool:
    pl = sys.modules.get("polars")
    if pl is None:
        return False
    if isinstance(obj, pl.DataType):
        walker.emit("pl.dtype", repr(obj))
    elif isinstance(obj, pl.Expr):
        try:
            walker.emit("pl.expr", obj.meta.serialize(format="json"))
        except Exception as exc:  # e.g. an expression calling a Python function
            raise walker.unstable(f"a Polars expression that cannot be serialized ({exc})") from None
    elif isinstance(obj, pl.DataFrame | pl.Series):
        frame = obj.to_frame() if isinstance(obj, pl.Series) else obj
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="uncompressed")
        walker.emit(label, buffer.getvalue())
    elif isinstance(obj, pl.LazyFrame):
        raise walker.unstable("a Polars LazyFrame (its plan may read files Glacier does not track)")
    else:
        return False
    return True


def _numpy_value(walker: _Walker, obj: Any, label: str) -> bool:
    np = sys.modules.get("numpy")
    if np is None:
        return False
    if isinstance(obj, np.ndarray | np.generic) and obj.dtype != object:
        walker.emit(label, obj.dtype.str, repr(obj.shape), obj.tobytes())
    elif isinstance(obj, np.dtype):
        walker.emit("np.dtype", obj.str)
    else:
        return False
    return True
