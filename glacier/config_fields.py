"""The machinery behind ``glacier.config``: a config class declares its fields with types and
``setting(...)`` (default, bounds, unit, own rule); ``GlacierConfig`` checks the common case
(right types, in range) by plain code when a config is constructed, and hands anything else
to a pydantic model derived from the same fields, built on first need, so errors and
coercions are pydantic's. That model is also how the typed DAG (pydantic) validates and
serializes a config (``__get_pydantic_core_schema__``). Importing this module does not
import pydantic.
"""

import dataclasses
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union, dataclass_transform, get_args, get_origin

from glacier.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel, GetCoreSchemaHandler, ValidationError
    from pydantic.fields import FieldInfo
    from pydantic_core import CoreSchema

_MISSING: Any = dataclasses.MISSING

# A field's own rule: (value, the fields before it already judged) -> value; raises
# ValueError with what a valid value looks like (pydantic reports it as "Value error, ...").
Check = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class _Setting:
    """A field's declaration, as ``setting(...)`` records it."""

    default: Any = _MISSING
    default_factory: Callable[[], Any] | None = None
    ge: int | None = None
    le: int | None = None
    description: str | None = None
    check: Check | None = None
    omit_if_none: bool = False  # left out of the serialized document when None


def setting(
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    ge: int | None = None,
    le: int | None = None,
    description: str | None = None,
    check: Check | None = None,
    omit_if_none: bool = False,
) -> Any:
    """One field of a config: its default, bounds, unit (``description``) and own rule."""
    return _Setting(default, default_factory, ge, le, description, check, omit_if_none)


@dataclass(frozen=True)
class _Field:
    """A field of a config: its name, type, declaration and plain check."""

    name: str
    annotation: Any
    setting: _Setting
    accepts: Callable[[Any], bool]  # the plain check: True only where pydantic keeps the value as is

    def default(self) -> Any:
        factory = self.setting.default_factory
        return factory() if factory is not None else self.setting.default


def _acceptor(annotation: Any, low: int | None, high: int | None) -> Callable[[Any], bool]:
    """True for the values of ``annotation`` that pydantic accepts unchanged (exact types, so
    every coercion and every error is left to pydantic)."""
    if annotation is int:
        return lambda v: type(v) is int and (low is None or v >= low) and (high is None or v <= high)
    if annotation is str:
        return lambda v: type(v) is str
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        choices = frozenset(args)
        return lambda v: type(v) is str and v in choices
    if origin in (Union, types.UnionType):
        options = [_acceptor(a, low, high) for a in args]
        return lambda v: any(accepts(v) for accepts in options)
    if annotation is type(None):
        return lambda v: v is None
    if origin is dict and args == (str, str):
        return lambda v: type(v) is dict and all(type(k) is str and type(x) is str for k, x in v.items())
    raise TypeError(f"glacier.config has no plain check for {annotation!r}")


class _ModelFields:
    """``Config.model_fields``: pydantic's field infos, read from the derived model."""

    def __get__(self, obj: object, owner: type["GlacierConfig"]) -> "dict[str, FieldInfo]":
        return owner.pydantic_model().model_fields


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(setting,))
class GlacierConfig:
    """Base: frozen, no unknown fields, and construction errors become ConfigError."""

    _fields: ClassVar[dict[str, _Field]] = {}
    _model: ClassVar["type[BaseModel] | None"] = None
    if TYPE_CHECKING:
        model_fields: ClassVar[dict[str, FieldInfo]]
    else:
        model_fields = _ModelFields()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls._fields)
        for name, annotation in inspect.get_annotations(cls).items():
            if get_origin(annotation) is ClassVar:
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, _Setting) else _Setting(default=value)
            fields[name] = _Field(name, annotation, spec, _acceptor(annotation, spec.ge, spec.le))
            if name in cls.__dict__:
                delattr(cls, name)  # as on a pydantic model: the class has no field attributes
        cls._fields = fields
        cls._model = None

    def __init__(self, **data: Any) -> None:
        values = self._plain_values(data)
        fields_set = frozenset(data)
        if values is None:
            values, fields_set = self._pydantic_values(data)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self.__dict__["_fields_set"] = fields_set

    @classmethod
    def _plain_values(cls, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The values when every given one is plainly valid, else None (pydantic judges)."""
        if not data.keys() <= cls._fields.keys():
            return None
        values: dict[str, Any] = {}
        for name, field in cls._fields.items():
            if name not in data:  # defaults are not judged (pydantic does not validate them)
                values[name] = field.default()
                continue
            value = data[name]
            if not field.accepts(value):
                return None
            value = dict(value) if type(value) is dict else value
            if field.setting.check is not None:
                try:
                    value = field.setting.check(value, values)
                except ValueError:
                    return None
            values[name] = value
        return values

    @classmethod
    def _pydantic_values(cls, data: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
        from pydantic import ValidationError

        try:
            model = cls.pydantic_model()(**data)
        except ValidationError as exc:
            raise ConfigError(_describe(cls.__name__, exc), fix=_fix_hint(cls, exc)) from None
        return {name: getattr(model, name) for name in cls._fields}, frozenset(model.model_fields_set)

    # -- the pydantic side: how the typed DAG validates and serializes a config -------------
    @classmethod
    def pydantic_model(cls) -> "type[BaseModel]":
        """The pydantic model of this config's fields (built once, on first need)."""
        if cls._model is None:
            cls._model = _derived_model(cls)
        return cls._model

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: "GetCoreSchemaHandler") -> "CoreSchema":
        from pydantic_core import core_schema

        inner = handler.generate_schema(cls.pydantic_model())

        def validate(value: Any, validate_model: Callable[[Any], Any]) -> GlacierConfig:
            return value if isinstance(value, cls) else cls._from_model(validate_model(value))

        def serialize(value: GlacierConfig, serialize_model: Callable[[Any], Any]) -> Any:
            return serialize_model(value.as_pydantic())

        return core_schema.no_info_wrap_validator_function(
            validate,
            inner,
            serialization=core_schema.wrap_serializer_function_ser_schema(serialize, schema=inner),
        )

    @classmethod
    def _from_model(cls, model: "BaseModel") -> "GlacierConfig":
        config = cls.__new__(cls)
        for name in cls._fields:
            object.__setattr__(config, name, getattr(model, name))
        config.__dict__["_fields_set"] = frozenset(model.model_fields_set)
        return config

    def as_pydantic(self) -> "BaseModel":
        """This config as an instance of its pydantic model (not validated again)."""
        return self.pydantic_model().model_construct(_fields_set=self.model_fields_set, **self._values())

    # -- the pydantic model's reading API ----------------------------------------------------
    @property
    def model_fields_set(self) -> set[str]:
        """The fields given explicitly (not left to their defaults)."""
        return set(self.__dict__["_fields_set"])

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = self.as_pydantic().model_dump(**kwargs)
        return dumped

    def model_dump_json(self, **kwargs: Any) -> str:
        return self.as_pydantic().model_dump_json(**kwargs)

    # -- a frozen value ------------------------------------------------------------------------
    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"{type(self).__name__} is frozen: cannot set '{name}'")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"{type(self).__name__} is frozen: cannot delete '{name}'")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GlacierConfig):
            return NotImplemented
        return type(self) is type(other) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(self._values().values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._values().items())
        return f"{type(self).__name__}({shown})"


def _derived_model(config: type[GlacierConfig]) -> "type[BaseModel]":
    """The pydantic model with ``config``'s fields, bounds, rules and serialization."""
    from pydantic import ConfigDict, Field, create_model, field_validator, model_serializer

    fields: dict[str, Any] = {}
    validators: dict[str, Any] = {}
    for name, field in config._fields.items():
        spec = field.setting
        if spec.default_factory is not None:
            info = Field(
                default_factory=spec.default_factory, ge=spec.ge, le=spec.le, description=spec.description
            )
        else:
            info = Field(default=spec.default, ge=spec.ge, le=spec.le, description=spec.description)
        fields[name] = (field.annotation, info)
        if spec.check is not None:
            validators[f"_check_{name}"] = field_validator(name)(_as_validator(spec.check))
    omitted = [name for name, field in config._fields.items() if field.setting.omit_if_none]
    if omitted:

        def without_unset(self: Any, handler: Callable[[Any], Any]) -> Any:
            # No value: the same document as before the field existed (DAG JSON, hashes).
            data = handler(self)
            if isinstance(data, dict):
                for name in omitted:
                    if data.get(name, 0) is None:
                        data.pop(name)
            return data

        validators["_without_unset"] = model_serializer(mode="wrap")(without_unset)
    model: type[BaseModel] = create_model(
        config.__name__,
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=config.__doc__,
        __module__=__name__,
        __validators__=validators,
        **fields,
    )
    return model


def _as_validator(check: Check) -> Any:
    from pydantic import ValidationInfo

    def validate(cls: type, value: Any, info: ValidationInfo) -> Any:
        return check(value, info.data)

    return classmethod(validate)


def _describe(model: str, exc: "ValidationError") -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(value)"
        given = err.get("input")
        parts.append(f"{model}.{field}={given!r}: {err['msg']}")
    return "Invalid configuration: " + "; ".join(parts) + "."


def _fix_hint(config: type[GlacierConfig], exc: "ValidationError") -> str:
    hints: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        hints.setdefault(field, _field_hint(config, field, err["type"], err["msg"]))
    return "; ".join(hints[f] for f in sorted(hints)) + "."


def _field_hint(config: type[GlacierConfig], field: str, error_type: str, message: str) -> str:
    """What a valid value of ``field`` looks like, read from the config's own field table."""
    known = config._fields.get(field)
    if known is None:
        accepted = ", ".join(name for name in config._fields if name != "kind")
        return f"remove '{field}' ({config.__name__} accepts: {accepted})"
    spec = known.setting
    unit = f" {spec.description}" if spec.description and len(spec.description) < 10 else ""
    if error_type == "value_error":  # our own rules say what a valid value looks like
        return f"{field}: {message.removeprefix('Value error, ')}"
    if spec.ge is not None and spec.le is not None:
        return f"set {field} to a whole number from {spec.ge} to {spec.le}{unit}"
    if spec.ge is not None:
        return f"set {field} to a whole number of at least {spec.ge}{unit}"
    choices = get_args(known.annotation) if get_origin(known.annotation) is Literal else ()
    if choices:
        return f"set {field} to one of {', '.join(repr(c) for c in choices)}"
    return f"set {field} to a value of type {getattr(known.annotation, '__name__', known.annotation)}"
