"""Parquet files put together from the row groups of others, without decoding them.

An incremental run's output is mostly the last run's records, stored as Parquet: decoding
and encoding them again was a third of its CPU time. A Parquet file is its column chunks
followed by a footer (Thrift compact protocol) that says where each chunk starts; so row
groups of files with the same schema can be copied byte for byte into a new file, with
their offsets moved, under a new footer. The footer codec here reads any Thrift value
(keeping the bytes of those it does not change) and writes back the few it edits: the
row groups, their chunks' offsets, and the row count. The page indexes and Bloom filters
(optional, and not written by polars) are dropped rather than moved."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

MAGIC = b"PAR1"

# Thrift compact protocol types
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)

# field ids (parquet.thrift)
_FILE_NUM_ROWS, _FILE_ROW_GROUPS = 3, 4
_FILE_SCHEMA, _FILE_METADATA = 2, 5
_RG_COLUMNS, _RG_NUM_ROWS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 3, 5, 7
_CC_FILE_OFFSET, _CC_META = 2, 3
_CC_PAGE_INDEX = {4, 5, 6, 7}  # offset and column index locations: not copied
_CM_SIZE, _CM_DATA, _CM_INDEX, _CM_DICT = 7, 9, 10, 11
_CM_OFFSETS = (_CM_DATA, _CM_INDEX, _CM_DICT)
_CM_BLOOM = {14, 15}


# which fields of a footer are parsed: a field id -> the spec of its struct (or of each
# struct of its list); the others stay bytes
Spec = dict[int, "Spec"]
# FileMetaData.row_groups -> RowGroup.columns -> ColumnChunk.meta_data
FOOTER: Spec = {4: {1: {3: {}}}}


class Mismatch(Exception):
    """Files whose row groups cannot be put together (another schema, not Parquet)."""


class _Reader:
    """Thrift compact protocol values, read from a buffer; structs as field lists."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def varint(self) -> int:
        shift = out = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            out |= (byte & 0x7F) << shift
            if byte < 0x80:
                return out
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self, spec: Spec) -> list[list[Any]]:
        """[field id, type, value] per field; a value is raw bytes, except for the fields
        `spec` names (a struct, or a list of structs): parsed, with the spec it maps to
        (the rest of a footer is only copied: parsing it all cost as much as the copy)."""
        fields: list[list[Any]] = []
        last = 0
        while True:
            head = self.data[self.at]
            self.at += 1
            if head == 0:
                return fields
            kind, delta = head & 0x0F, head >> 4
            last = last + delta if delta else self.zigzag()
            fields.append([last, kind, self.value(kind, spec.get(last))])

    def value(self, kind: int, spec: Spec | None) -> Any:
        if kind in (_TRUE, _FALSE):
            return b""
        if kind == _STRUCT and spec is not None:
            return self.struct(spec)
        if kind in (_LIST, _SET):
            head = self.data[self.at]
            self.at += 1
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            if element == _STRUCT and spec is not None:
                return [self.struct(spec) for _ in range(size)]
            start = self.at
            for _ in range(size):
                self._element(element)
            return (head, size, self.data[start : self.at])
        start = self.at
        self.skip(kind)
        return self.data[start : self.at]

    def skip(self, kind: int) -> None:
        if kind == _BYTE:
            self.at += 1
        elif kind in (_TRUE, _FALSE):  # a struct's bool is in its field's type
            pass
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.at += 8
        elif kind == _BINARY:
            length = self.varint()  # not `self.at += self.varint()`: that reads `at` first
            self.at += length
        elif kind == _STRUCT:
            while True:
                head = self.data[self.at]
                self.at += 1
                if head == 0:
                    return
                if not head >> 4:
                    self.zigzag()
                self.skip(head & 0x0F)
        elif kind in (_LIST, _SET):
            head = self.data[self.at]
            self.at += 1
            size = head >> 4 if head >> 4 != 15 else self.varint()
            for _ in range(size):
                self._element(head & 0x0F)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.data[self.at]
                self.at += 1
                for _ in range(size):
                    self._element(types >> 4)
                    self._element(types & 0x0F)
        else:
            raise Mismatch(f"unknown Thrift type {kind}")

    def _element(self, kind: int) -> None:
        if kind in (_TRUE, _FALSE):
            self.at += 1
        else:
            self.skip(kind)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _write_struct(fields: list[list[Any]], out: bytearray) -> None:
    last = 0
    for field_id, kind, value in sorted(fields, key=lambda f: f[0]):
        delta = field_id - last
        if 0 < delta <= 15:
            out.append((delta << 4) | kind)
        else:
            out.append(kind)
            out += _zigzag(field_id)
        last = field_id
        if kind == _STRUCT and isinstance(value, bytes):  # copied as read
            out += value
        elif kind == _STRUCT:
            _write_struct(value, out)
        elif kind in (_LIST, _SET) and isinstance(value, list):  # a list of structs
            size = len(value)
            out.append((min(size, 15) << 4) | _STRUCT)
            if size >= 15:
                out += _varint(size)
            for item in value:
                _write_struct(item, out)
        elif kind in (_LIST, _SET):
            out += _list_head(value[0], value[1])
            out += value[2]
        else:
            out += value
    out.append(0)


def _list_head(head: int, size: int) -> bytes:
    return bytes([head]) + (_varint(size) if head >> 4 == 15 else b"")


def _get(fields: list[list[Any]], field_id: int) -> Any:
    return next((f[2] for f in fields if f[0] == field_id), None)


def _int(raw: bytes | None) -> int | None:
    """A zigzag varint (i16, i32, i64) as read."""
    if raw is None:
        return None
    n = 0
    for byte in reversed(raw):  # 7 bits a byte, least significant first
        n = (n << 7) | (byte & 0x7F)
    return (n >> 1) ^ -(n & 1)


def _set(fields: list[list[Any]], field_id: int, kind: int, value: Any) -> None:
    """Set a field of `fields` (a new field list: the old one may be a source's)."""
    for i, f in enumerate(fields):
        if f[0] == field_id:
            fields[i] = [field_id, kind, value]
            return
    fields.append([field_id, kind, value])


@dataclass
class Source:
    """A Parquet file (a path, or its bytes) and its footer."""

    where: Path | bytes
    footer: list[list[Any]]

    @property
    def groups(self) -> list[list[list[Any]]]:
        return list(_get(self.footer, _FILE_ROW_GROUPS) or [])

    def rows(self, group: int) -> int:
        return int(_int(_get(self.groups[group], _RG_NUM_ROWS)) or 0)


def open_source(where: Path | bytes) -> Source:
    """A file's footer; `Mismatch` when it is not a Parquet file."""
    try:
        if isinstance(where, bytes):
            tail = where[-8:]
            size = struct.unpack("<i", tail[:4])[0]
            raw = where[-8 - size : -8]
        else:
            with open(where, "rb") as handle:
                handle.seek(-8, os.SEEK_END)
                tail = handle.read(8)
                size = struct.unpack("<i", tail[:4])[0]
                handle.seek(-8 - size, os.SEEK_END)
                raw = handle.read(size)
        if tail[4:] != MAGIC:
            raise Mismatch("not a Parquet file")
        return Source(where, _Reader(raw).struct(FOOTER))
    except (OSError, IndexError, struct.error, ValueError) as exc:
        raise Mismatch(str(exc)) from exc


def encode(frame: pl.DataFrame, group_rows: int | None = None) -> Source:
    """A frame as Parquet bytes (as `write_parquet` writes it; `group_rows` rows a row
    group at most), with its footer."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=max(group_rows, 1) if group_rows else None)
    return open_source(buffer.getvalue())


def _moved(
    fields: list[list[Any]], delta: int, ids: tuple[int, ...], drop: set[int]
) -> list[list[Any]]:
    """`fields` without `drop`, the offsets `ids` moved by `delta` (0: unset, kept)."""
    out = []
    for field in fields:
        field_id = field[0]
        if field_id in drop:
            continue
        if field_id in ids:
            old = _int(field[2]) or 0
            if old > 0:
                field = [field_id, _I64, _zigzag(max(old + delta, 0))]
        out.append(field)
    return out


def _span(meta: list[list[Any]]) -> tuple[int, int]:
    """Where a column chunk's pages start (its dictionary page, if any), and their size."""
    found = {f[0]: f[2] for f in meta if f[0] in (_CM_DATA, _CM_DICT, _CM_SIZE)}
    data = _int(found.get(_CM_DATA)) or 0
    dictionary = _int(found.get(_CM_DICT))
    start = dictionary if dictionary is not None and 0 < dictionary < data else data
    return start, _int(found.get(_CM_SIZE)) or 0


def splice(target: Path, parts: Sequence[tuple[Source, int]]) -> list[list[Any]]:
    """Write to `target` (a new file) the row groups `parts` (a source, a row group
    index), in order, byte for byte; `Mismatch` when their schemas differ. Returns the
    footer written, as `open_source` would read it back (parsing a segment's footer again
    cost the output 0.2 s)."""
    if not parts:
        raise Mismatch("no row groups")
    first = parts[0][0].footer
    schema = [_get(first, _FILE_SCHEMA), _get(first, _FILE_METADATA)]
    groups: list[list[list[Any]]] = []
    rows = 0
    handles: dict[int, Any] = {}
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(target, "wb"))
        out.write(MAGIC)
        at = len(MAGIC)
        for source, index in parts:
            if id(source) not in handles:
                if [_get(source.footer, _FILE_SCHEMA), _get(source.footer, _FILE_METADATA)] != (
                    schema
                ):
                    raise Mismatch("the row groups' schemas differ")
                where = source.where
                handles[id(source)] = (
                    None if isinstance(where, bytes) else stack.enter_context(open(where, "rb"))
                )
            group = source.groups[index]
            chunks = _get(group, _RG_COLUMNS)
            metas = [_get(c, _CC_META) for c in chunks]
            spans = [_span(m) for m in metas]
            # a row group's chunks follow each other (polars puts a copy of each chunk's
            # metadata after its pages): the whole span is copied at once
            if not all(a + n <= b for (a, n), (b, _) in itertools.pairwise(spans)):
                raise Mismatch("a row group's column chunks are not in order")
            first_start, end = spans[0][0], spans[-1][0] + spans[-1][1]
            delta = at - first_start
            _copy(source, first_start, end - first_start, out, at, handles[id(source)])
            moved = []
            for chunk, meta, (start, _) in zip(chunks, metas, spans, strict=True):
                # the chunk's offset: where its pages now start (as parquet-mr writes it)
                chunk = [f for f in chunk if f[0] not in _CC_PAGE_INDEX]
                _set(chunk, _CC_FILE_OFFSET, _I64, _zigzag(start + delta))
                _set(chunk, _CC_META, _STRUCT, _moved(meta, delta, _CM_OFFSETS, _CM_BLOOM))
                moved.append(_sorted(chunk))
            group = _moved(group, delta, (_RG_FILE_OFFSET,), set())
            _set(group, _RG_COLUMNS, _LIST, moved)
            _set(group, _RG_ORDINAL, _I16, _zigzag(len(groups)))
            groups.append(_sorted(group))
            rows += source.rows(index)
            at += end - first_start
        footer = [list(f) for f in first]
        _set(footer, _FILE_ROW_GROUPS, _LIST, groups)
        _set(footer, _FILE_NUM_ROWS, _I64, _zigzag(rows))
        raw = bytearray()
        _write_struct(footer, raw)
        out.write(bytes(raw))
        out.write(struct.pack("<i", len(raw)) + MAGIC)
    return _sorted(footer)


def _sorted(fields: list[list[Any]]) -> list[list[Any]]:
    """Fields in field id order: as `_write_struct` writes them and a reader reads them."""
    return sorted(fields, key=lambda f: f[0])


def _copy(source: Source, start: int, size: int, out: Any, at: int, handle: Any) -> None:
    """Copy `size` bytes at `start` of `source` (open as `handle` when a file) to `out`
    (at offset `at`)."""
    if isinstance(source.where, bytes):
        out.write(source.where[start : start + size])
        return
    out.flush()
    copied = 0
    try:
        while copied < size:  # in the kernel, no copy through Python
            done = os.copy_file_range(
                handle.fileno(), out.fileno(), size - copied, start + copied, at + copied
            )
            if done == 0:
                raise Mismatch("the file ended early")
            copied += done
    except (OSError, AttributeError):  # not on this file system (or system): in pieces
        handle.seek(start + copied)
        out.seek(at + copied)
        while copied < size:  # a row group is not held whole in memory
            data = handle.read(min(_PIECE, size - copied))
            if not data:
                raise Mismatch("the file ended early") from None
            out.write(data)
            copied += len(data)
    out.seek(at + size)


_PIECE = 8 << 20  # bytes copied at a time where the kernel cannot copy
