"""Parquet files put together from the row groups of others, without decoding them.

An incremental run's output is mostly the last run's records, stored as Parquet: decoding
and encoding them again was a third of its CPU time. A Parquet file is its column chunks
followed by a footer (Thrift compact protocol) that says where each chunk starts; so row
groups of files with the same schema can be copied byte for byte into a new file, with
their offsets moved, under a new footer.

The footer is read once into what a splice needs (`Footer`): its bytes before and after
the row groups, and per row group its row count, where its pages lie, and its own bytes
cut at the few numbers a copy changes (the offsets, `Group.slots`, and its ordinal). A
new footer is those bytes joined with the moved numbers: nothing else is decoded or
encoded again (reading every value of a year's footer, and writing it back field by field,
cost an incremental run 0.7 s of Python). The page indexes and Bloom filters (optional,
and not written by polars) are dropped rather than moved."""

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
_RG_COLUMNS, _RG_NUM_ROWS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 3, 5, 7
_CC_FILE_OFFSET, _CC_META = 2, 3
_CC_PAGE_INDEX = frozenset({4, 5, 6, 7})  # offset and column index locations: not copied
_CM_SIZE, _CM_DATA, _CM_INDEX, _CM_DICT = 7, 9, 10, 11
_CM_NUMBERS = frozenset({_CM_SIZE, _CM_DATA, _CM_INDEX, _CM_DICT})  # read, the offsets moved
_CM_BLOOM = frozenset({14, 15})
ORDINAL = -1  # the slot of a row group's ordinal (its place in the new file)


class Mismatch(Exception):
    """Files whose row groups cannot be put together (another schema, not Parquet)."""


@dataclass(frozen=True)
class Group:
    """A row group: `rows`, its pages' bytes [`start`, `start` + `size`) in its file, and
    its footer bytes as `parts` between `slots`: an offset in the file (written moved by
    where the pages land) or `ORDINAL` (written as the group's index in the new file)."""

    rows: int
    start: int
    size: int
    parts: tuple[bytes, ...]
    slots: tuple[int, ...]

    def moved(self, delta: int) -> Group:
        """This group as written with its pages `delta` bytes later."""
        slots = tuple(s if s == ORDINAL else s + delta for s in self.slots)
        return Group(self.rows, self.start + delta, self.size, self.parts, slots)

    def write(self, delta: int, ordinal: int, out: list[bytes]) -> None:
        """Append its footer bytes, its pages moved by `delta`, as row group `ordinal`."""
        parts = self.parts
        for i, slot in enumerate(self.slots):
            out.append(parts[i])
            out.append(_zigzag(ordinal if slot == ORDINAL else slot + delta))
        out.append(parts[-1])


@dataclass(frozen=True)
class Footer:
    """A file's footer as a splice reads it: the FileMetaData fields before its row count
    (`head`, the last of their ids `last`), its row groups, and its fields after the row
    groups with the closing stop (`tail`). Two files whose `head`, `last` and `tail` are
    equal have the same schema, key-value metadata and writer."""

    head: bytes
    last: int
    groups: tuple[Group, ...]
    tail: bytes

    def same_schema(self, other: Footer) -> bool:
        """Whether row groups of both can be put together."""
        return (self.head, self.last, self.tail) == (other.head, other.last, other.tail)


@dataclass
class Source:
    """A Parquet file (a path, or its bytes) and its footer."""

    where: Path | bytes
    footer: Footer

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.footer.groups

    def rows(self, group: int) -> int:
        return self.footer.groups[group].rows


def open_source(where: Path | bytes) -> Source:
    """A file's footer; `Mismatch` when it is not a Parquet file (or its footer is not
    one a splice can copy from)."""
    try:
        if isinstance(where, bytes):
            tail = where[-8:]
            size = struct.unpack("<i", tail[:4])[0]
            raw = where[-8 - size : -8] if size > 0 else b""
            length = len(where)
        else:
            with open(where, "rb") as handle:
                length = handle.seek(0, os.SEEK_END)
                handle.seek(-8, os.SEEK_END)
                tail = handle.read(8)
                size = struct.unpack("<i", tail[:4])[0]
                if size <= 0 or size + 8 + len(MAGIC) > length:
                    raise Mismatch("not a Parquet file")
                handle.seek(-8 - size, os.SEEK_END)
                raw = handle.read(size)
        if tail[4:] != MAGIC or size <= 0 or len(raw) != size:
            raise Mismatch("not a Parquet file")
        footer = parse(raw)
    except (OSError, IndexError, struct.error, ValueError) as exc:
        raise Mismatch(str(exc)) from exc
    pages_end = length - 8 - size
    for group in footer.groups:  # a footer that points outside the file is not copied
        if group.start < len(MAGIC) or group.start + group.size > pages_end or group.size < 0:
            raise Mismatch("a row group lies outside the file")
    return Source(where, footer)


def encode(frame: pl.DataFrame, group_rows: int | None = None) -> Source:
    """A frame as Parquet bytes (as `write_parquet` writes it; `group_rows` rows a row
    group at most), with its footer."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=max(group_rows, 1) if group_rows else None)
    return open_source(buffer.getvalue())


# reading ------------------------------------------------------------------------------


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    """An unsigned varint at `at`, and where it ends."""
    out = shift = 0
    while True:
        byte = data[at]
        at += 1
        out |= (byte & 0x7F) << shift
        if byte < 0x80:
            return out, at
        shift += 7


def _int(data: bytes, at: int) -> tuple[int, int]:
    """A zigzag varint (i16, i32, i64) at `at`, and where it ends."""
    n, at = _uvarint(data, at)
    return (n >> 1) ^ -(n & 1), at


def _skip(data: bytes, at: int, kind: int) -> int:
    """Where the value of type `kind` at `at` ends."""
    if kind in (_I16, _I32, _I64):
        while data[at] & 0x80:
            at += 1
        return at + 1
    if kind == _BINARY:
        length, at = _uvarint(data, at)
        return at + length
    if kind == _STRUCT:
        while True:
            head = data[at]
            at += 1
            if head == 0:
                return at
            if not head >> 4:  # a long field id
                while data[at] & 0x80:
                    at += 1
                at += 1
            kind = head & 0x0F
            if _I16 <= kind <= _I64:  # most fields: a varint, skipped here
                while data[at] & 0x80:
                    at += 1
                at += 1
            else:
                at = _skip(data, at, kind)
    if kind in (_TRUE, _FALSE):  # a struct's bool is in its field's type
        return at
    if kind == _BYTE:
        return at + 1
    if kind == _DOUBLE:
        return at + 8
    if kind in (_LIST, _SET):
        head = data[at]
        at += 1
        size, element = head >> 4, head & 0x0F
        if size == 15:
            size, at = _uvarint(data, at)
        if element in (_TRUE, _FALSE, _BYTE):  # a byte each
            return at + size
        for _ in range(size):
            at = _skip(data, at, element)
        return at
    if kind == _MAP:
        size, at = _uvarint(data, at)
        if size:
            types = data[at]
            at += 1
            for _ in range(size):  # a bool in a map is a byte, as in a list
                at = _skip(data, at, types >> 4) if types >> 4 > _FALSE else at + 1
                at = _skip(data, at, types & 0x0F) if types & 0x0F > _FALSE else at + 1
        return at
    raise Mismatch(f"unknown Thrift type {kind}")


def _field(data: bytes, at: int, last: int) -> tuple[int, int, int]:
    """A struct's field header at `at` (after field `last`): its id (0: the stop), type,
    and where its value starts."""
    head = data[at]
    at += 1
    if head == 0:
        return 0, 0, at
    delta = head >> 4
    if delta:
        return last + delta, head & 0x0F, at
    field_id, at = _int(data, at)
    return field_id, head & 0x0F, at


def _header(field_id: int, kind: int, last: int) -> bytes:
    """A field header as the compact protocol writes it after field `last`."""
    delta = field_id - last
    if 0 < delta <= 15:
        return bytes(((delta << 4) | kind,))
    return bytes((kind,)) + _zigzag(field_id)


class _Template:
    """A struct's bytes as written back: runs of bytes copied as read, cut at slots."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.parts: list[bytes] = []
        self.slots: list[int] = []
        self.run: list[bytes] = []  # bytes of the part being made

    def copy(self, start: int, end: int) -> None:
        self.run.append(self.data[start:end])

    def add(self, raw: bytes) -> None:
        self.run.append(raw)

    def slot(self, value: int) -> int:
        """Cut here for a number written when copied; its index (to set it later)."""
        self.parts.append(b"".join(self.run))
        self.run = []
        self.slots.append(value)
        return len(self.slots) - 1


def parse(raw: bytes) -> Footer:
    """A footer's bytes (a FileMetaData) as a `Footer`."""
    at = last = head_last = tail_start = 0
    head_end = rows_seen = None
    groups: list[Group] = []
    while True:
        start = at
        field_id, kind, at = _field(raw, at, last)
        if field_id == 0:
            break
        if field_id <= last:
            raise Mismatch("the footer's fields are out of order")
        if field_id == _FILE_NUM_ROWS and kind == _I64:
            head_end, head_last = start, last
            rows_seen, at = _int(raw, at)
        elif field_id == _FILE_ROW_GROUPS and kind == _LIST:
            if last != _FILE_NUM_ROWS:
                raise Mismatch("the footer has no row count before its row groups")
            list_head = raw[at]
            at += 1
            size = list_head >> 4
            if size == 15:
                size, at = _uvarint(raw, at)
            if list_head & 0x0F != _STRUCT:
                raise Mismatch("the footer's row groups are not structs")
            for _ in range(size):
                group, at = _row_group(raw, at)
                groups.append(group)
            tail_start = at
        elif field_id < _FILE_NUM_ROWS or last >= _FILE_ROW_GROUPS:
            at = _skip(raw, at, kind)
        else:
            raise Mismatch(f"unexpected footer field {field_id}")
        last = field_id
    if head_end is None or rows_seen is None or last < _FILE_ROW_GROUPS:
        raise Mismatch("the footer has no row groups")
    if sum(g.rows for g in groups) != rows_seen:
        raise Mismatch("the footer's row count is not its row groups'")
    return Footer(raw[:head_end], head_last, tuple(groups), raw[tail_start:at])


def _row_group(data: bytes, at: int) -> tuple[Group, int]:
    """A RowGroup struct at `at`, and where it ends."""
    out = _Template(data)
    run = at  # bytes from here are copied as read, up to the next change
    last = emitted = 0
    rows = None
    spans: list[tuple[int, int]] = []
    ordinal = False
    while True:
        field_start = at
        field_id, kind, at = _field(data, at, last)
        if field_id == 0 or (field_id > _RG_ORDINAL and not ordinal):
            out.copy(run, field_start)
            if not ordinal:  # written by every copy: its place in the new file
                out.add(_header(_RG_ORDINAL, _I16, emitted))
                out.slot(ORDINAL)
                emitted, ordinal = _RG_ORDINAL, True
            if field_id == 0:
                out.add(b"\x00")
                break
            out.add(_header(field_id, kind, emitted))
            run = at
        elif emitted != last:
            out.copy(run, field_start)
            out.add(_header(field_id, kind, emitted))
            run = at
        if field_id == _RG_COLUMNS and kind == _LIST:
            out.copy(run, at)
            at = _columns(data, at, out, spans)
            run = at
        elif field_id == _RG_NUM_ROWS:
            rows, at = _int(data, at)
        elif field_id == _RG_FILE_OFFSET and kind == _I64:
            value, end = _int(data, at)
            if value > 0:
                out.copy(run, at)
                out.slot(value)
                run = end
            at = end
        elif field_id == _RG_ORDINAL:
            out.copy(run, at)
            out.slot(ORDINAL)
            ordinal = True
            at = run = _skip(data, at, kind)
        else:
            at = _skip(data, at, kind)
        last = emitted = field_id
    if rows is None or not spans:
        raise Mismatch("a row group without rows or columns")
    # a row group's chunks follow each other (polars puts a copy of each chunk's metadata
    # after its pages): the whole span is copied at once
    for (a, n), (b, _) in itertools.pairwise(spans):
        if a + n > b or n < 0:
            raise Mismatch("a row group's column chunks are not in order")
    first, end = spans[0][0], spans[-1][0] + spans[-1][1]
    out.parts.append(b"".join(out.run))
    return Group(rows, first, end - first, tuple(out.parts), tuple(out.slots)), at


def _columns(data: bytes, at: int, out: _Template, spans: list[tuple[int, int]]) -> int:
    """A row group's list of ColumnChunk structs (with each one's page span in `spans`)."""
    start = at
    list_head = data[at]
    at += 1
    size = list_head >> 4
    if size == 15:
        size, at = _uvarint(data, at)
    if list_head & 0x0F != _STRUCT:
        raise Mismatch("a row group's columns are not structs")
    out.copy(start, at)  # the list's head, as read
    for _ in range(size):
        at = _chunk(data, at, out, spans)
    return at


def _chunk(data: bytes, at: int, out: _Template, spans: list[tuple[int, int]]) -> int:
    """A ColumnChunk struct: its offset a slot set to where its pages start; its page
    index locations dropped."""
    run = at
    last = emitted = 0
    offset_slot = None
    span = None
    while True:
        field_start = at
        field_id, kind, at = _field(data, at, last)
        if field_id == 0:
            out.copy(run, at)
            break
        if field_id in _CC_PAGE_INDEX:
            out.copy(run, field_start)
            at = run = _skip(data, at, kind)
            last = field_id
            continue
        if emitted != last:
            out.copy(run, field_start)
            out.add(_header(field_id, kind, emitted))
            run = at
        if field_id == _CC_FILE_OFFSET and kind == _I64:
            out.copy(run, at)
            offset_slot = out.slot(0)
            at = run = _skip(data, at, kind)
        elif field_id == _CC_META and kind == _STRUCT:
            out.copy(run, at)
            at, span = _meta(data, at, out)
            run = at
        else:
            at = _skip(data, at, kind)
        last = emitted = field_id
    if offset_slot is None or span is None:
        raise Mismatch("a column chunk without its offset or metadata")
    # the chunk's offset: where its pages start (as parquet-mr writes it)
    out.slots[offset_slot] = span[0]
    spans.append(span)
    return at


def _meta(data: bytes, at: int, out: _Template) -> tuple[int, tuple[int, int]]:
    """A ColumnMetaData struct: its page offsets slots, its Bloom filter dropped; where
    it ends and where its pages lie (from its dictionary page, if any, and their size).
    The most read struct of a footer (one per column chunk): its plain fields skipped
    inline."""
    run = at
    last = emitted = 0
    found: dict[int, int] = {}
    while True:
        head = data[at]
        if head == 0:
            at += 1
            out.copy(run, at)
            break
        field_start = at
        at += 1
        kind = head & 0x0F
        if head >> 4:
            field_id = last + (head >> 4)
        else:
            field_id, at = _int(data, at)
        if field_id in _CM_BLOOM:
            out.copy(run, field_start)
            at = run = _skip(data, at, kind)
            last = field_id
            continue
        if emitted != last:
            out.copy(run, field_start)
            out.add(_header(field_id, kind, emitted))
            run = at
        if field_id in _CM_NUMBERS and kind == _I64:
            value, end = _int(data, at)
            found[field_id] = value
            if value > 0 and field_id != _CM_SIZE:  # an offset (0: unset, kept)
                out.copy(run, at)
                out.slot(value)
                run = end
            at = end
        elif _I16 <= kind <= _I64:  # a varint
            while data[at] & 0x80:
                at += 1
            at += 1
        else:
            at = _skip(data, at, kind)
        last = emitted = field_id
    pages = found.get(_CM_DATA, 0)
    dictionary = found.get(_CM_DICT)
    start = dictionary if dictionary is not None and 0 < dictionary < pages else pages
    return at, (start, found.get(_CM_SIZE, 0))


# writing ------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _list_head(size: int, element: int) -> bytes:
    if size < 15:
        return bytes(((size << 4) | element,))
    return bytes((0xF0 | element,)) + _varint(size)


def footer_bytes(footer: Footer) -> bytes:
    """The Thrift bytes of `footer` (its groups at the offsets they hold)."""
    out = [
        footer.head,
        _header(_FILE_NUM_ROWS, _I64, footer.last),
        _zigzag(sum(g.rows for g in footer.groups)),
        _header(_FILE_ROW_GROUPS, _LIST, _FILE_NUM_ROWS),
        _list_head(len(footer.groups), _STRUCT),
    ]
    for ordinal, group in enumerate(footer.groups):
        group.write(0, ordinal, out)
    out.append(footer.tail)
    return b"".join(out)


def splice(target: Path, parts: Sequence[tuple[Source, int]]) -> Footer:
    """Write to `target` (a new file) the row groups `parts` (a source, a row group
    index), in order, byte for byte; `Mismatch` when their schemas differ. Returns the
    footer written, as `open_source` would read it back (the output copies from it)."""
    if not parts:
        raise Mismatch("no row groups")
    first = parts[0][0].footer
    groups: list[Group] = []
    handles: dict[int, Any] = {}
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(target, "wb"))
        out.write(MAGIC)
        at = len(MAGIC)
        for source, index in parts:
            if id(source) not in handles:
                if not source.footer.same_schema(first):
                    raise Mismatch("the row groups' schemas differ")
                where = source.where
                if isinstance(where, bytes):
                    handle, length = None, len(where)
                else:
                    handle = stack.enter_context(open(where, "rb"))
                    length = os.fstat(handle.fileno()).st_size
                handles[id(source)] = handle
                # a footer known from memory: its row groups still within the file
                if any(g.start + g.size > length - 8 for g in source.footer.groups):
                    raise Mismatch("a row group lies outside the file")
            group = source.footer.groups[index]
            _copy(source, group.start, group.size, out, at, handles[id(source)])
            groups.append(group.moved(at - group.start))
            at += group.size
        footer = Footer(first.head, first.last, tuple(groups), first.tail)
        raw = footer_bytes(footer)
        out.write(raw)
        out.write(struct.pack("<i", len(raw)) + MAGIC)
    return footer


def _copy(source: Source, start: int, size: int, out: Any, at: int, handle: Any) -> None:
    """Copy `size` bytes at `start` of `source` (open as `handle` when a file) to `out`
    (at offset `at`)."""
    if isinstance(source.where, bytes):
        if start + size > len(source.where):
            raise Mismatch("the file ended early")
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
