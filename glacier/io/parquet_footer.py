"""The row count of a local parquet file, read from its footer (standard library only).

Counting with Polars (``scan_parquet(...).select(pl.len()).collect()``) plans and runs a query,
~2 ms per file, which is most of what a tiny task costs beyond its own sink. The footer
already says: a parquet file ends with its ``FileMetaData`` (Thrift compact protocol), its
length (4 bytes, little-endian) and ``PAR1``; field 3 of ``FileMetaData`` is ``num_rows``,
after the version (1) and the schema (2), so reading it skips only one element per column.
Anything unexpected (or a schema wider than ``_MAX_SCHEMA``) returns None, and the caller
counts with Polars instead.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

_MAGIC = b"PAR1"
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
_FIXED = {_BYTE: 1, _DOUBLE: 8}
# Skipping a schema element costs a few microseconds here; past this many columns Polars'
# own (native) count is the cheaper one.
_MAX_SCHEMA = 100


class _Malformed(Exception):
    """The footer is not what the parquet format says."""


class _Reader:
    """Just enough of the Thrift compact protocol to skip to one field."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise _Malformed
        value = self.data[self.at]
        self.at += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            value = self.byte()
            result |= (value & 0x7F) << shift
            if not value & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise _Malformed

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def field(self, last: int) -> tuple[int, int]:
        """The next field's (id, type); type 0 ends the struct."""
        header = self.byte()
        kind = header & 0x0F
        if kind == _STOP:
            return 0, _STOP
        delta = header >> 4
        return (last + delta if delta else self.zigzag()), kind

    def list_size(self) -> int:
        """The size of the list that starts here (without moving on)."""
        at = self.at
        header = self.byte()
        size = header >> 4 if header >> 4 != 15 else self.varint()
        self.at = at
        return size

    def skip(self, kind: int, depth: int = 0) -> None:
        if depth > 64:
            raise _Malformed
        if kind in (_TRUE, _FALSE):
            return
        if kind in _FIXED:
            self.at += _FIXED[kind]
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _BINARY:
            length = self.varint()  # read first: `self.at += self.varint()` loses the varint
            self.at += length
        elif kind in (_LIST, _SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            element = header & 0x0F
            for _ in range(size):
                self.skip(_BYTE if element in (_TRUE, _FALSE) else element, depth + 1)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip(types >> 4, depth + 1)
                    self.skip(types & 0x0F, depth + 1)
        elif kind == _STRUCT:
            last = 0
            while True:
                last, inner = self.field(last)
                if inner == _STOP:
                    return
                self.skip(inner, depth + 1)
        else:
            raise _Malformed
        if self.at > len(self.data):
            raise _Malformed


def parquet_rows(path: str | Path) -> int | None:
    """``num_rows`` from the footer of the parquet file at ``path``; None when the file is
    not readable as parquet this way (the caller then asks Polars, which names the problem)."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            if size < 12:
                return None
            file.seek(size - 8)
            tail = file.read(8)
            length = struct.unpack("<I", tail[:4])[0]
            if tail[4:] != _MAGIC or length + 12 > size:
                return None
            file.seek(size - 8 - length)
            reader = _Reader(file.read(length))
        last = 0
        while True:
            last, kind = reader.field(last)
            if kind == _STOP:
                return None
            if last == 3 and kind == _I64:
                rows = reader.zigzag()
                return rows if rows >= 0 else None
            if last == 2 and kind == _LIST and reader.list_size() > _MAX_SCHEMA:
                return None
            reader.skip(kind)
    except (OSError, _Malformed):
        return None
