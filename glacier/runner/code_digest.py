"""The digest of a code object: what a function does, not where it sits in a file.

Code objects are immutable, so each digest is computed once per process and kept by the
code object's identity (the entry holds the object, so its id is never reused).
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
from typing import Any


@dataclasses.dataclass(frozen=True)
class CodeInfo:
    digest: bytes
    names: frozenset[str]  # co_names of it and all nested code: globals, attributes, imports
    strings: frozenset[str]  # identifier-like string constants (getattr(module, "name"))


_CODE_INFO: dict[int, tuple[types.CodeType, CodeInfo]] = {}
_CODE_INFO_MAX = 16384


def code_info(code: types.CodeType) -> CodeInfo:
    """Digest of a code object's behaviour (bytecode, constants, names, signature shape);
    file names and line numbers are left out, so moving a function does not change it."""
    entry = _CODE_INFO.get(id(code))
    if entry is not None and entry[0] is code:
        return entry[1]
    digest = hashlib.blake2b(digest_size=32)
    names = set(code.co_names)
    strings: set[str] = set()
    shape = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)
    for part in (repr(shape), code.co_name, repr(code.co_names), repr(code.co_varnames)):
        _frame(digest, part.encode())
    _frame(digest, repr((code.co_freevars, code.co_cellvars)).encode())
    _frame(digest, code.co_code)
    for const in code.co_consts:
        _frame(digest, _const_bytes(const, names, strings))
    info = CodeInfo(digest.digest(), frozenset(names), frozenset(strings))
    if len(_CODE_INFO) >= _CODE_INFO_MAX:
        _CODE_INFO.clear()
    _CODE_INFO[id(code)] = (code, info)  # the entry keeps the code alive: its id stays unique
    return info


def _const_bytes(const: object, names: set[str], strings: set[str]) -> bytes:
    if isinstance(const, types.CodeType):
        nested = code_info(const)
        names.update(nested.names)
        strings.update(nested.strings)
        return b"code:" + nested.digest
    if type(const) is str:
        if const.isidentifier():
            strings.add(const)
        return b"str:" + const.encode("utf-8", "surrogatepass")
    if type(const) is bytes:
        return b"bytes:" + const
    if type(const) is tuple:
        return b"tuple:" + b"".join(_framed(_const_bytes(c, names, strings)) for c in const)
    if type(const) is frozenset:
        parts = sorted(_const_bytes(c, names, strings) for c in const)
        return b"frozenset:" + b"".join(_framed(p) for p in parts)
    return f"{type(const).__name__}:{const!r}".encode()


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def _frame(digest: Any, data: bytes) -> None:
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)
