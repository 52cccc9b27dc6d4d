"""docstack's own binary format: documents column by column, tensors as raw buffers.

A payload is a frame, a header and blocks::

    b"DSTK" | version u8 | compression u8 | kind u8 | flags u8
    u32 header length | header (JSON: the schema the documents were written with)
    u64 block length | block (compressed on its own)      ... repeated
    u64 0 | u64 number of documents                        (the end mark)

A block holds ``n`` documents: ``u32 n`` and then one column per field, in the header's
order. A tensor column is one raw little-endian buffer of the stacked rows (a presence mask
when some documents have ``None``), or, when the rows differ in shape or dtype, their shapes
and one buffer of the rows one after another. A nested document column is the nested fields'
columns; a ``DocList`` field is the lengths of the lists and the columns of all their
documents. Strings, numbers and the other values are one JSON array per column, read back
through the field's own pydantic validation, so a forged payload cannot produce a value the
field would refuse; a bytes field is lengths plus one buffer.

Reading never runs code from the payload and checks every length against the bytes that
are there before it allocates, so truncated, corrupt or random input raises
:class:`~docstack.errors.DeserializationError` and a payload of another schema
:class:`~docstack.errors.SchemaMismatchError` naming the field.

Blocks are what make a file larger than memory readable: :func:`iter_blocks` decodes one
block at a time.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Optional

import numpy as np
import orjson
from pydantic import ConfigDict, TypeAdapter, ValidationError

from docstack._internal.fields import FieldKind, doc_fields, type_name, unwrap_optional
from docstack.array._column_storage import tensor_rows
from docstack.base_doc import AnyDoc
from docstack.base_doc.doc import construct_doc, construct_docs
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.io._compression import COMPRESSIONS, compress, decompress
from docstack.io._dtypes import payload_dtype
from docstack.io._rows import FRAMEWORKS
from docstack.typing.id import ID
from docstack.typing.tensor._base import concrete_tensor_class
from docstack.typing.tensor._convert import framework_of, to_numpy
from docstack.typing.tensor._shape import check_shape

__all__ = [
    "MAGIC",
    "FRAME",
    "BufferReader",
    "Frame",
    "encode",
    "decode",
    "read_frame",
    "iter_blocks",
    "encode_header",
    "encode_block",
    "END_MARK",
]

MAGIC = b"DSTK"
VERSION = 1
KIND_DOC, KIND_DOCLIST, KIND_DOCVEC = 0, 1, 2
_COMPRESSION_CODES = {None: 0, **{name: i + 1 for i, name in enumerate(COMPRESSIONS)}}
_CODE_COMPRESSIONS = {code: name for name, code in _COMPRESSION_CODES.items()}
FRAME = struct.Struct("<4sBBBBI")  # magic, version, compression, kind, flags, header size
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
END_MARK = _U64.pack(0)

# a tensor column's layout
_T_NONE, _T_DENSE, _T_RAGGED = 0, 1, 2
# numeric and bool dtypes only, little-endian or single-byte: never objects or records
_DTYPE_RE = re.compile(r"^[<|][biufc][1-9][0-9]?$")


# -- the schema ------------------------------------------------------------------------------


def _is_any_doc(kind: FieldKind) -> bool:
    return kind.doc_cls is AnyDoc


@cache
def describe(doc_cls: type) -> dict[str, Any]:
    """The schema of a document class as the header records it.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> [f[0] for f in describe(TextDoc)['fields']]
    ['id', 'text', 'url', 'embedding', 'bytes_']
    """
    fields = []
    for name, kind in doc_fields(doc_cls).items():
        entry: list[Any] = [name, _wire_kind(kind), type_name(kind.annotation)]
        if kind.kind in ("doc", "doclist") and not _is_any_doc(kind):
            entry.append(describe(kind.doc_cls))
        fields.append(entry)
    return {"name": doc_cls.__name__, "fields": fields}


def _wire_kind(kind: FieldKind) -> str:
    if kind.kind in ("doc", "doclist") and _is_any_doc(kind):
        return "anydoc" if kind.kind == "doc" else "anydoclist"
    if kind.kind == "other" and _bytes_annotation(kind.annotation):
        return "bytes"
    return kind.kind


def _bytes_annotation(annotation: Any) -> bool:
    inner, _ = unwrap_optional(annotation)
    return isinstance(inner, type) and issubclass(inner, bytes)


@dataclass
class _Plan:
    """How the fields of a payload map onto the fields of the class reading it."""

    doc_cls: type
    names: list[str]  # the payload's fields, in order
    kinds: list[FieldKind]
    nested: list[Optional[_Plan]]
    defaults: dict[str, Any] = field(default_factory=dict)  # class fields not in the payload
    validate: bool = False  # rebuild documents through pydantic (custom validators)


def _plan(doc_cls: type, schema: Any, path: str = "") -> _Plan:
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise DeserializationError("the payload's header has no valid schema")
    kinds = doc_fields(doc_cls)
    names, plan_kinds, nested = [], [], []
    for entry in schema["fields"]:
        if not (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], str)):
            raise DeserializationError("the payload's header has a malformed field entry")
        name, wire_kind = entry[0], entry[1]
        where = f"{path}{name}"
        kind = kinds.get(name)
        if kind is None:
            raise SchemaMismatchError(
                f"the payload has a field {where!r} that {doc_cls.__name__} does not declare "
                f"(the payload was written for {schema.get('name')!r})"
            )
        if _wire_kind(kind) != wire_kind:
            raise SchemaMismatchError(
                f"field {where!r} is {_wire_kind(kind)} in {doc_cls.__name__} "
                f"({type_name(kind.annotation)}) but {wire_kind} in the payload ({entry[2]})"
            )
        names.append(name)
        plan_kinds.append(kind)
        if wire_kind in ("doc", "doclist"):
            if len(entry) < 4:
                raise DeserializationError(f"the header does not describe field {where!r}")
            nested.append(_plan(kind.doc_cls, entry[3], f"{where}__"))
        else:
            nested.append(None)
    defaults = {}
    for name, info in doc_cls.model_fields.items():
        if name in names:
            continue
        if info.is_required():
            raise SchemaMismatchError(
                f"{doc_cls.__name__} requires field {path}{name!r}, which the payload lacks "
                f"(it was written for {schema.get('name')!r})"
            )
        defaults[name] = info
    return _Plan(doc_cls, names, plan_kinds, nested, defaults, _has_validators(doc_cls))


def _has_validators(doc_cls: type) -> bool:
    decorators = getattr(doc_cls, "__pydantic_decorators__", None)
    if decorators is None:
        return False
    return bool(
        decorators.field_validators
        or decorators.model_validators
        or decorators.validators
        or decorators.root_validators
    )


# -- writing ---------------------------------------------------------------------------------


class _Out:
    """The segments of a block, joined once at the end (no repeated copies)."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def u8(self, v: int) -> None:
        self.parts.append(bytes((v,)))

    def u64(self, v: int) -> None:
        self.parts.append(_U64.pack(v))

    def blob(self, data: Any) -> None:
        if isinstance(data, np.ndarray):
            data = (data if data.flags.c_contiguous else data.copy(order="C")).reshape(-1)
            data = data.view(np.uint8)
        view = data if isinstance(data, bytes) else memoryview(data).cast("B")
        self.parts.append(_U64.pack(len(view)))
        self.parts.append(view)

    def json(self, value: Any) -> None:
        self.blob(orjson.dumps(value))


@cache
def _adapter(annotation: Any, metadata: tuple[Any, ...]) -> TypeAdapter:
    """A validator/serializer for a list of one field's values (JSON columns)."""
    inner, optional = unwrap_optional(annotation)
    if inner is ID:
        # ids are written as the strings they are; reading them as str is the same check
        annotation = Optional[str] if optional else str
    from typing import Annotated

    item = Annotated[(annotation, *metadata)] if metadata else annotation  # type: ignore[valid-type]
    return TypeAdapter(
        list[item],  # type: ignore[valid-type]
        config=ConfigDict(
            ser_json_bytes="base64",
            val_json_bytes="base64",
            ser_json_inf_nan="constants",
            arbitrary_types_allowed=True,
        ),
    )


def _field_adapter(doc_cls: type, name: str, kind: FieldKind) -> TypeAdapter:
    info = doc_cls.model_fields[name]
    return _adapter(kind.annotation, tuple(info.metadata))


def _write_columns(out: _Out, doc_cls: type, columns: _Columns) -> None:
    for name, kind in doc_fields(doc_cls).items():
        wire = _wire_kind(kind)
        try:
            if wire == "tensor":
                _write_tensor(out, kind, columns.tensor(name))
            elif wire == "doc":
                values = columns.values(name)
                _write_mask(out, values)
                present = [v for v in values if v is not None]
                nested = columns.nested(name, present)
                out.u64(len(present))
                _write_columns(out, kind.doc_cls, nested)
            elif wire == "doclist":
                values = columns.values(name)
                lengths = np.array([-1 if v is None else len(v) for v in values], np.int64)
                out.blob(lengths)
                children = [d for v in values if v is not None for d in v]
                out.u64(len(children))
                _write_columns(out, kind.doc_cls, _ListColumns(children))
            elif wire in ("anydoc", "anydoclist"):
                out.json([_any_json(v, wire) for v in columns.values(name)])
            elif wire == "bytes":
                _write_bytes(out, columns.values(name))
            else:
                values = columns.values(name)
                try:
                    out.blob(_field_adapter(doc_cls, name, kind).dump_json(values))
                except Exception as exc:  # pydantic's serialization errors vary
                    raise SerializationError(
                        f"field {name!r} of {doc_cls.__name__} holds a value that cannot be "
                        f"written: {exc}"
                    ) from exc
        except SerializationError:
            raise
        except (ValueError, TypeError) as exc:
            raise SerializationError(
                f"field {name!r} of {doc_cls.__name__} cannot be written: {exc}"
            ) from exc


def _any_json(value: Any, wire: str) -> Any:
    if value is None:
        return None
    if wire == "anydoc":
        return orjson.loads(value.model_dump_json())
    return [orjson.loads(d.model_dump_json()) for d in value]


def _write_mask(out: _Out, values: list[Any]) -> None:
    if any(v is None for v in values):
        out.u8(1)
        out.blob(np.fromiter((v is not None for v in values), bool, len(values)))
    else:
        out.u8(0)


def _write_bytes(out: _Out, values: list[Any]) -> None:
    lengths = np.array([-1 if v is None else len(v) for v in values], np.int64)
    out.blob(lengths)
    out.blob(b"".join(v for v in values if v is not None))


def _le(arr: np.ndarray) -> np.ndarray:
    """``arr`` contiguous, little-endian, with a dtype the format allows."""
    if arr.dtype.kind not in "biufc":
        raise SerializationError(f"a tensor of dtype {arr.dtype} cannot be written")
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    # not np.ascontiguousarray: it turns a 0-d array into a 1-d one
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _dtype_str(arr: np.ndarray) -> str:
    s = arr.dtype.str
    return "|b1" if s == "|b1" else s


def _write_tensor(out: _Out, kind: FieldKind, col: _TensorValues) -> None:
    if col.dense is not None:
        data = _le(col.dense)
        if col.mask is not None:
            data = data[col.mask]
        out.u8(_T_DENSE)
        out.json(
            {"dtype": _dtype_str(data), "shape": list(data.shape[1:]), "framework": col.framework}
        )
        if col.mask is None:
            out.u8(0)
        else:
            out.u8(1)
            out.blob(col.mask.astype(bool))
        out.blob(data)
        return
    rows = col.rows
    assert rows is not None
    if all(r is None for r in rows):
        out.u8(_T_NONE)
        return
    arrays = [None if r is None else _le(to_numpy(r)) for r in rows]
    present = [a for a in arrays if a is not None]
    shapes = {a.shape for a in present}
    dtypes = {a.dtype.str for a in present}
    if len(shapes) == 1 and len(dtypes) == 1:
        mask = None
        stacked = np.stack(present)
        if len(present) != len(arrays):
            mask = np.fromiter((a is not None for a in arrays), bool, len(arrays))
            full = np.zeros((len(arrays), *stacked.shape[1:]), stacked.dtype)
            full[mask] = stacked
            stacked = full
        _write_tensor(out, kind, _TensorValues(stacked, mask, None, col.framework))
        return
    out.u8(_T_RAGGED)
    out.json(
        {
            "dtypes": [None if a is None else _dtype_str(a) for a in arrays],
            "shapes": [None if a is None else list(a.shape) for a in arrays],
            "framework": col.framework,
        }
    )
    out.blob(b"".join(a.tobytes() for a in present))


@dataclass
class _TensorValues:
    """A tensor column to write: stacked (``dense`` with ``mask``) or one value per row."""

    dense: Optional[np.ndarray]
    mask: Optional[np.ndarray]
    rows: Optional[list[Any]]
    framework: Optional[str]


class _Columns:
    """Where the writer reads a field's values from."""

    def values(self, name: str) -> list[Any]:
        raise NotImplementedError

    def tensor(self, name: str) -> _TensorValues:
        raise NotImplementedError

    def nested(self, name: str, present: list[Any]) -> _Columns:
        raise NotImplementedError


def _framework_of_values(values: list[Any]) -> Optional[str]:
    found = {framework_of(v) for v in values if v is not None}
    return found.pop() if len(found) == 1 else None


class _ListColumns(_Columns):
    """The columns of a list of documents (a ``DocList``)."""

    def __init__(self, docs: list[Any]) -> None:
        self.docs = docs

    def values(self, name: str) -> list[Any]:
        return [getattr(d, name) for d in self.docs]

    def tensor(self, name: str) -> _TensorValues:
        values = self.values(name)
        present = [v for v in values if v is not None]
        framework = _framework_of_values(present)
        if framework == "numpy" and present:
            shape, dtype = present[0].shape, present[0].dtype
            if all(v.shape == shape and v.dtype == dtype for v in present):
                stacked = np.array(present, dtype)
                mask = None
                if len(present) != len(values):
                    mask = np.fromiter((v is not None for v in values), bool, len(values))
                    full = np.zeros((len(values), *shape), dtype)
                    full[mask] = stacked
                    stacked = full
                return _TensorValues(stacked.view(np.ndarray), mask, None, framework)
        return _TensorValues(None, None, values, framework)

    def nested(self, name: str, present: list[Any]) -> _Columns:
        return _ListColumns(present)


class _StorageColumns(_Columns):
    """The columns of a ``DocVec``: stacked tensors are written as they are."""

    def __init__(self, dv: Any) -> None:
        self.dv = dv
        self.storage = dv._storage

    def values(self, name: str) -> list[Any]:
        where, col = self.storage.column(name)
        if where == "tensor":
            raise AssertionError("tensor columns are read with tensor()")
        return list(col)  # views of a nested DocVec, or the list column

    def tensor(self, name: str) -> _TensorValues:
        where, col = self.storage.column(name)
        framework = self.dv.tensor_type._docstack_framework
        if where != "tensor":
            values = list(col)
            return _TensorValues(None, None, values, _framework_of_values(values))
        if col is None:
            return _TensorValues(None, None, [None] * self.storage.length, None)
        data = to_numpy(col.data.unwrap() if hasattr(col.data, "unwrap") else col.data)
        framework = framework_of(col.data) or framework
        return _TensorValues(np.asarray(data), col.mask, None, framework)

    def nested(self, name: str, present: list[Any]) -> _Columns:
        where, col = self.storage.column(name)
        if where == "doc":
            return _StorageColumns(col)
        return _ListColumns(present)


def encode_header(doc_cls: type, kind: int, compression: Optional[str]) -> bytes:
    """The frame and header of a payload of ``doc_cls`` documents."""
    header = orjson.dumps({"schema": describe(doc_cls)})
    return FRAME.pack(MAGIC, VERSION, _COMPRESSION_CODES[compression], kind, 0, len(header)) + (
        header
    )


def encode_block(doc_cls: type, docs: Any, compression: Optional[str]) -> bytes:
    """One block of documents (a list of documents or a ``DocVec``), length-prefixed."""
    out = _Out()
    n = len(docs)
    out.parts.append(_U32.pack(n))
    columns = _StorageColumns(docs) if hasattr(docs, "_storage") else _ListColumns(list(docs))
    _write_columns(out, doc_cls, columns)
    body = b"".join(out.parts)
    if compression is not None:
        body = compress(body, compression)
    return _U64.pack(len(body)) + body


def encode(
    doc_cls: type,
    docs: Any,
    kind: int,
    compression: Optional[str] = None,
    block_size: Optional[int] = None,
    progress: Any = None,
) -> bytes:
    """A whole payload of ``docs`` (a list of documents or a ``DocVec``).

    Parameters
    ----------
    doc_cls:
        The document class the payload is written for.
    docs:
        The documents.
    kind:
        ``KIND_DOC``, ``KIND_DOCLIST`` or ``KIND_DOCVEC``: what the payload was made from.
    compression:
        A compression name or ``None``; each block is compressed on its own.
    block_size:
        Documents per block (``None``: one block).
    progress:
        A callable taking the number of documents just written.
    """
    parts = [encode_header(doc_cls, kind, compression)]
    n = len(docs)
    step = n if not block_size else block_size
    for start in range(0, n, max(step, 1)):
        chunk = docs[start : start + step]
        parts.append(encode_block(doc_cls, chunk, compression))
        if progress is not None:
            progress(len(chunk))
    parts.append(END_MARK + _U64.pack(n))
    return b"".join(parts)


# -- reading ---------------------------------------------------------------------------------


class _In:
    """A bounds-checked reader over a buffer."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: Any, pos: int = 0) -> None:
        self.buf = memoryview(buf).cast("B") if not isinstance(buf, memoryview) else buf
        if self.buf.format != "B" or self.buf.ndim != 1:
            self.buf = self.buf.cast("B")
        self.pos = pos
        self.end = len(self.buf)

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise DeserializationError(
                f"the payload is truncated or corrupt: {what} needs {n} bytes, "
                f"{self.end - self.pos} are left"
            )
        view = self.buf[self.pos : self.pos + n]
        self.pos += n
        return view

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return _U32.unpack(self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return _U64.unpack(self.take(8, what))[0]

    def blob(self, what: str) -> memoryview:
        return self.take(self.u64(what), what)

    def json(self, what: str) -> Any:
        try:
            return orjson.loads(self.blob(what))
        except orjson.JSONDecodeError as exc:
            raise DeserializationError(f"the payload is corrupt: {what} is not JSON") from exc


class BufferReader:
    """``read(n)`` over an in-memory payload, as over a file; chunks are views, not copies."""

    __slots__ = ("view", "pos")

    def __init__(self, data: Any, pos: int = 0) -> None:
        self.view = memoryview(data).cast("B")
        self.pos = pos

    def read(self, n: int) -> memoryview:
        """The next ``n`` bytes (fewer at the end)."""
        chunk = self.view[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def left(self) -> int:
        """How many bytes are not read yet."""
        return len(self.view) - self.pos


@dataclass
class Frame:
    """What the first bytes of a payload say."""

    compression: Optional[str]
    kind: int
    schema: Any
    size: int  # bytes of frame + header


def read_frame(data: Any) -> Frame:
    """Parse the frame and header at the start of ``data``.

    Raises
    ------
    DeserializationError
        ``data`` does not start with a docstack frame, or the frame is corrupt.
    """
    r = _In(data)
    head = r.take(FRAME.size, "the frame")
    magic, version, code, kind, _flags, header_len = FRAME.unpack(head)
    if magic != MAGIC:
        raise DeserializationError("not a docstack payload (no DSTK mark)")
    if version != VERSION:
        raise DeserializationError(
            f"the payload is of docstack format version {version}; this docstack reads "
            f"version {VERSION}"
        )
    if code not in _CODE_COMPRESSIONS or kind not in (KIND_DOC, KIND_DOCLIST, KIND_DOCVEC):
        raise DeserializationError("the payload's frame is corrupt")
    try:
        header = orjson.loads(r.take(header_len, "the header"))
    except orjson.JSONDecodeError as exc:
        raise DeserializationError("the payload's header is corrupt") from exc
    if not isinstance(header, dict):
        raise DeserializationError("the payload's header is corrupt")
    return Frame(_CODE_COMPRESSIONS[code], kind, header.get("schema"), r.pos)


@dataclass
class _Decoded:
    """One field's values as read from a block, before documents are built."""

    kind: FieldKind
    n: int
    # tensor: dense rows (mask over n) or one array per row; framework recorded
    dense: Optional[np.ndarray] = None
    mask: Optional[np.ndarray] = None
    rows: Optional[list[Any]] = None
    framework: Optional[str] = None
    # doc: the nested block (present documents only, mask over n)
    nested: Optional[_Block] = None
    # doclist: lengths (-1 for None) and the block of all children
    lengths: Optional[np.ndarray] = None
    # anything else: the values
    values: Optional[list[Any]] = None


@dataclass
class _Block:
    plan: _Plan
    n: int
    fields: dict[str, _Decoded]


def _read_dtype(value: Any, what: str) -> np.dtype:
    # this format writes little-endian or single-byte dtype strings only
    if not isinstance(value, str) or not _DTYPE_RE.match(value):
        raise DeserializationError(f"{what} has an invalid dtype {value!r}")
    return payload_dtype(value, what)


def _read_shape(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(type(d) is int and d >= 0 for d in value):
        raise DeserializationError(f"{what} has an invalid shape {value!r}")
    if len(value) > 32:
        raise DeserializationError(f"{what} has too many dimensions")
    return tuple(value)


def _read_framework(value: Any, what: str) -> Optional[str]:
    if value is None or value in FRAMEWORKS:
        return value
    raise DeserializationError(f"{what} names an unknown framework {value!r}")


def _array(buf: memoryview, dtype: np.dtype, shape: tuple[int, ...], what: str) -> np.ndarray:
    count = 1
    for d in shape:
        count *= d
    if count * dtype.itemsize != len(buf):
        raise DeserializationError(
            f"the payload is corrupt: {what} declares shape {shape} of {dtype} "
            f"({count * dtype.itemsize} bytes) but holds {len(buf)} bytes"
        )
    # a writable copy: the documents own their tensors, whatever buffer they came from
    out = np.empty(shape, dtype)
    if count:
        out.reshape(-1).view(np.uint8)[:] = np.frombuffer(buf, np.uint8)
    return out


def _read_mask(r: _In, n: int, what: str) -> Optional[np.ndarray]:
    flag = r.u8(what)
    if flag == 0:
        return None
    if flag != 1:
        raise DeserializationError(f"the payload is corrupt: bad mask flag of {what}")
    buf = r.blob(what)
    if len(buf) != n:
        raise DeserializationError(f"the payload is corrupt: {what} mask has the wrong length")
    return np.frombuffer(buf, np.uint8).astype(bool)


def _read_columns(r: _In, plan: _Plan, n: int, path: str) -> _Block:
    out: dict[str, _Decoded] = {}
    for name, kind, nested in zip(plan.names, plan.kinds, plan.nested):
        where = f"field {path}{name!r}"
        wire = _wire_kind(kind)
        d = _Decoded(kind, n)
        if wire == "tensor":
            _read_tensor(r, d, n, where)
        elif wire == "doc":
            d.mask = _read_mask(r, n, where)
            count = r.u64(where)
            expected = n if d.mask is None else int(d.mask.sum())
            if count != expected:
                raise DeserializationError(f"the payload is corrupt: {where} count mismatch")
            assert nested is not None
            d.nested = _read_columns(r, nested, count, f"{path}{name}__")
        elif wire == "doclist":
            buf = r.blob(where)
            if len(buf) != 8 * n:
                raise DeserializationError(f"the payload is corrupt: {where} lengths")
            d.lengths = np.frombuffer(buf, "<i8").astype(np.int64)
            if (d.lengths < -1).any():
                raise DeserializationError(f"the payload is corrupt: {where} lengths")
            count = r.u64(where)
            if count != int(d.lengths[d.lengths > 0].sum()):
                raise DeserializationError(f"the payload is corrupt: {where} count mismatch")
            assert nested is not None
            d.nested = _read_columns(r, nested, count, f"{path}{name}__")
        elif wire in ("anydoc", "anydoclist"):
            values = r.json(where)
            if not isinstance(values, list) or len(values) != n:
                raise DeserializationError(f"the payload is corrupt: {where} values")
            d.values = _any_docs(values, wire, where)
        elif wire == "bytes":
            d.values = _read_bytes(r, n, kind, where)
        else:
            buf = r.blob(where)
            try:
                values = _field_adapter(plan.doc_cls, name, kind).validate_json(bytes(buf))
            except ValidationError as exc:
                raise _value_error(plan.doc_cls, path, name, exc) from exc
            if len(values) != n:
                raise DeserializationError(f"the payload is corrupt: {where} has {len(values)}")
            d.values = values
        out[name] = d
    return _Block(plan, n, out)


def _value_error(doc_cls: type, path: str, name: str, exc: ValidationError) -> Exception:
    errors = exc.errors()
    first = errors[0] if errors else {}
    loc = first.get("loc", ())
    position = loc[0] if loc and isinstance(loc[0], int) else None
    at = f" of document {position}" if position is not None else ""
    kind = first.get("type", "")
    msg = first.get("msg", str(exc))
    if kind in ("json_invalid", "json_type", "list_type"):
        return DeserializationError(f"the payload is corrupt: field {path}{name!r}: {msg}")
    return SchemaMismatchError(f"field {path}{name!r}{at} does not fit {doc_cls.__name__}: {msg}")


def _any_docs(values: list[Any], wire: str, where: str) -> list[Any]:
    from docstack.array import DocList

    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
        elif wire == "anydoc" and isinstance(v, dict):
            out.append(AnyDoc(**v))
        elif wire == "anydoclist" and isinstance(v, list) and all(isinstance(x, dict) for x in v):
            out.append(DocList([AnyDoc(**x) for x in v]))
        else:
            raise DeserializationError(f"the payload is corrupt: {where} holds {type(v).__name__}")
    return out


def _read_bytes(r: _In, n: int, kind: FieldKind, where: str) -> list[Any]:
    buf = r.blob(where)
    if len(buf) != 8 * n:
        raise DeserializationError(f"the payload is corrupt: {where} lengths")
    lengths = np.frombuffer(buf, "<i8")
    data = r.blob(where)
    if (lengths < -1).any() or int(lengths[lengths > 0].sum()) != len(data):
        raise DeserializationError(f"the payload is corrupt: {where} lengths")
    if (lengths == -1).any() and not kind.optional:
        raise SchemaMismatchError(f"{where} is not Optional but the payload has None in it")
    inner, _ = unwrap_optional(kind.annotation)
    ends = np.cumsum(np.maximum(lengths, 0)).tolist()
    raw = bytes(data)
    out: list[Any] = []
    start = 0
    for length, end in zip(lengths.tolist(), ends):
        out.append(None if length < 0 else inner(raw[start:end]))
        start = end
    return out


def _read_tensor(r: _In, d: _Decoded, n: int, where: str) -> None:
    layout = r.u8(where)
    if layout == _T_NONE:
        d.rows = [None] * n
        return
    meta = r.json(where)
    if not isinstance(meta, dict):
        raise DeserializationError(f"the payload is corrupt: {where} metadata")
    d.framework = _read_framework(meta.get("framework"), where)
    if layout == _T_DENSE:
        dtype = _read_dtype(meta.get("dtype"), where)
        shape = _read_shape(meta.get("shape"), where)
        d.mask = _read_mask(r, n, where)
        count = n if d.mask is None else int(d.mask.sum())
        d.dense = _array(r.blob(where), dtype, (count, *shape), where)
        return
    if layout != _T_RAGGED:
        raise DeserializationError(f"the payload is corrupt: {where} layout {layout}")
    dtypes, shapes = meta.get("dtypes"), meta.get("shapes")
    if not (isinstance(dtypes, list) and isinstance(shapes, list)) or not (
        len(dtypes) == len(shapes) == n
    ):
        raise DeserializationError(f"the payload is corrupt: {where} row metadata")
    buf = r.blob(where)
    rows: list[Any] = []
    pos = 0
    for dt, sh in zip(dtypes, shapes):
        if dt is None and sh is None:
            rows.append(None)
            continue
        dtype, shape = _read_dtype(dt, where), _read_shape(sh, where)
        size = dtype.itemsize
        for dim in shape:
            size *= dim
        if pos + size > len(buf):
            raise DeserializationError(f"the payload is truncated or corrupt: {where} rows")
        rows.append(_array(buf[pos : pos + size], dtype, shape, where))
        pos += size
    if pos != len(buf):
        raise DeserializationError(f"the payload is corrupt: {where} has trailing bytes")
    d.rows = rows


def _read_block(body: Any, plan: _Plan) -> _Block:
    r = _In(body)
    n = r.u32("the block's document count")
    block = _read_columns(r, plan, n, "")
    if r.pos != r.end:
        raise DeserializationError("the payload is corrupt: a block has trailing bytes")
    return block


def iter_blocks(
    read: Any, frame: Frame, plan: _Plan, compression: Optional[str]
) -> Iterator[_Block]:
    """Decode the blocks that ``read(n) -> bytes`` yields after the header, one at a time.

    The end mark and the document count it records are checked: a payload cut short is a
    :class:`DeserializationError`, never fewer documents.
    """
    total = 0
    while True:
        head = read(8)
        if len(head) != 8:
            raise DeserializationError("the payload is truncated: it ends before its end mark")
        size = _U64.unpack(head)[0]
        if size == 0:
            tail = read(8)
            if len(tail) != 8 or _U64.unpack(tail)[0] != total:
                raise DeserializationError("the payload is corrupt: its document count is wrong")
            return
        body = read(size)
        if len(body) != size:
            raise DeserializationError("the payload is truncated: a block is cut short")
        if compression is not None:
            body = decompress(body, compression)
        block = _read_block(body, plan)
        total += block.n
        yield block


def check_compression_matches(frame: Frame, compression: Optional[str]) -> Optional[str]:
    """The compression to read with: the frame's, which the caller's must not contradict."""
    if compression is not None and compression != frame.compression:
        written = frame.compression or "no compression"
        raise DeserializationError(
            f"the payload was written with {written}, not {compression}: "
            f"pass compress={frame.compression!r} (or leave it out)"
        )
    return frame.compression


def make_plan(doc_cls: type, frame: Frame) -> _Plan:
    """Map the payload's schema onto ``doc_cls`` (raises on a mismatch)."""
    return _plan(doc_cls, frame.schema)


# -- building documents ---------------------------------------------------------------------


def _tensor_class(
    kind: FieldKind,
    framework: Optional[str],
    tensor_type: Optional[type],
    columnar: bool = False,
) -> type:
    """The class of a tensor field's values: its own framework, or for ``AnyTensor`` the
    recorded one (a DocList) or the DocVec's ``tensor_type`` (a DocVec, numpy by default)."""
    cls = kind.tensor_cls
    assert cls is not None
    if cls._docstack_framework == "any":
        if columnar:
            framework = None
        if tensor_type is not None:
            framework = tensor_type._docstack_framework
        return concrete_tensor_class(cls._docstack_family, framework or "numpy")
    return cls.__docstack_base__


def _check_column_shape(kind: FieldKind, row_shape: tuple[int, ...], where: str) -> None:
    spec = kind.tensor_cls.__docstack_shape__  # type: ignore[union-attr]
    if spec is not None:
        reason = check_shape(row_shape, spec)
        if reason is not None:
            raise SchemaMismatchError(
                f"{where} does not fit {type_name(kind.annotation)}: {reason}"
            )


def _tensor_rows(
    d: _Decoded, where: str, tensor_type: Optional[type] = None, columnar: bool = False
) -> list[Any]:
    kind = d.kind
    if d.dense is None:
        assert d.rows is not None
        rows = []
        for i, row in enumerate(d.rows):
            if row is None:
                if not kind.optional:
                    raise SchemaMismatchError(f"{where} of document {i} is None but not Optional")
                rows.append(None)
                continue
            cls = _tensor_class(kind, d.framework, tensor_type, columnar)
            _check_column_shape(kind, tuple(row.shape), f"{where} of document {i}")
            rows.append(cls._docstack_convert(row))
        return rows
    _check_column_shape(kind, tuple(d.dense.shape[1:]), where)
    if d.mask is not None and not kind.optional:
        raise SchemaMismatchError(f"{where} is not Optional but the payload has None in it")
    cls = _tensor_class(kind, d.framework, tensor_type, columnar)
    column = cls._docstack_convert(d.dense)
    rows = tensor_rows(column)
    if d.mask is None:
        return rows
    full: list[Any] = [None] * d.n
    for position, row in zip(np.flatnonzero(d.mask).tolist(), rows):
        full[position] = row
    return full


def build_docs(block: _Block, path: str = "") -> list[Any]:
    """The documents of a decoded block."""
    plan = block.plan
    columns: dict[str, list[Any]] = {}
    for name, d in block.fields.items():
        where = f"field {path}{name!r}"
        wire = _wire_kind(d.kind)
        if wire == "tensor":
            columns[name] = _tensor_rows(d, where)
        elif wire == "doc":
            assert d.nested is not None
            present = build_docs(d.nested, f"{path}{name}__")
            if d.mask is None:
                columns[name] = present
            else:
                if not d.kind.optional:
                    raise SchemaMismatchError(f"{where} is not Optional but the payload has None")
                full: list[Any] = [None] * d.n
                for position, doc in zip(np.flatnonzero(d.mask).tolist(), present):
                    full[position] = doc
                columns[name] = full
        elif wire == "doclist":
            columns[name] = _split_doclists(d, path, name)
        else:
            assert d.values is not None
            columns[name] = d.values
    return _construct(plan, columns, block.n, path)


def _split_doclists(d: _Decoded, path: str, name: str) -> list[Any]:
    from docstack.array import DocList

    assert d.nested is not None and d.lengths is not None
    children = build_docs(d.nested, f"{path}{name}__")
    cls = DocList[d.kind.doc_cls]
    out: list[Any] = []
    start = 0
    for length in d.lengths.tolist():
        if length < 0:
            if not d.kind.optional:
                raise SchemaMismatchError(f"field {path}{name!r} is not Optional but is None")
            out.append(None)
            continue
        out.append(cls(children[start : start + length], validate_input_docs=False))
        start += length
    return out


def _construct(plan: _Plan, columns: dict[str, list[Any]], n: int, path: str) -> list[Any]:
    doc_cls = plan.doc_cls
    for name, info in plan.defaults.items():
        columns[name] = [info.get_default(call_default_factory=True) for _ in range(n)]
    names = [k for k in doc_cls.model_fields if k in columns]
    written = set(plan.names)
    if plan.validate:
        docs = []
        for i, row in enumerate(zip(*(columns[k] for k in names))):
            values = {k: v for k, v in zip(names, row) if k in written}
            try:
                docs.append(doc_cls.model_validate(values))
            except ValidationError as exc:
                raise SchemaMismatchError(
                    f"document {i}{' at ' + path if path else ''} does not validate as "
                    f"{doc_cls.__name__}: {exc}"
                ) from exc
        return docs
    if not names:
        return [construct_doc(doc_cls, {}, set()) for _ in range(n)]
    return construct_docs(doc_cls, names, [columns[k] for k in names], written)


def build_storage(block: _Block, tensor_type: Optional[type]) -> Any:
    """A ``ColumnStorage`` of a decoded block: stacked columns are kept as they are."""
    from docstack.array import DocVec
    from docstack.array._column_storage import ColumnStorage, TensorColumn

    plan = block.plan
    doc_cls = plan.doc_cls
    storage = ColumnStorage(doc_cls, block.n, dict(doc_fields(doc_cls)), tensor_type)
    needs_docs = plan.validate or bool(plan.defaults)
    if needs_docs:
        return DocVec[doc_cls](build_docs(block), tensor_type=tensor_type)._storage
    for name, d in block.fields.items():
        where = f"field {name!r}"
        wire = _wire_kind(d.kind)
        if wire == "tensor":
            if d.dense is not None and (d.kind.optional or d.mask is None):
                _check_column_shape(d.kind, tuple(d.dense.shape[1:]), where)
                cls = _tensor_class(d.kind, None, tensor_type, columnar=True)
                data = d.dense
                if d.mask is not None:
                    full = np.zeros((d.n, *data.shape[1:]), data.dtype)
                    full[d.mask] = data
                    data = full
                storage.tensors[name] = TensorColumn(cls._docstack_convert(data), d.mask)
            else:
                rows = _tensor_rows(d, where, tensor_type, columnar=True)
                if all(r is None for r in rows):
                    storage.tensors[name] = None
                else:
                    storage.lists[name] = rows
        elif wire == "doc":
            assert d.nested is not None
            if d.mask is None:
                nested = build_storage(d.nested, tensor_type)
                storage.docs[name] = DocVec[d.kind.doc_cls]._from_storage(nested)
            else:
                storage.lists[name] = _doc_column(d, name)
        elif wire == "doclist":
            assert d.nested is not None and d.lengths is not None
            nested = DocVec[d.kind.doc_cls]._from_storage(build_storage(d.nested, tensor_type))
            vecs: list[Any] = []
            start = 0
            for length in d.lengths.tolist():
                if length < 0:
                    vecs.append(None)
                    continue
                vecs.append(nested[start : start + length])
                start += length
            storage.doc_lists[name] = vecs
        else:
            assert d.values is not None
            storage.lists[name] = d.values
    return storage


def _doc_column(d: _Decoded, name: str) -> list[Any]:
    assert d.nested is not None and d.mask is not None
    if not d.kind.optional:
        raise SchemaMismatchError(f"field {name!r} is not Optional but the payload has None")
    present = build_docs(d.nested, f"{name}__")
    full: list[Any] = [None] * d.n
    for position, doc in zip(np.flatnonzero(d.mask).tolist(), present):
        full[position] = doc
    return full


def decode(data: Any, doc_cls: type, compression: Optional[str] = None) -> tuple[Frame, list]:
    """All blocks of an in-memory payload (frame checked, schema mapped)."""
    frame = read_frame(data)
    compression = check_compression_matches(frame, compression)
    plan = make_plan(doc_cls, frame)
    reader = BufferReader(data, frame.size)
    blocks = list(iter_blocks(reader.read, frame, plan, compression))
    if reader.left():
        raise DeserializationError("the payload has trailing bytes after its end mark")
    return frame, blocks
