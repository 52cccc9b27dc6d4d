"""The column-wise JSON reader: ``from_json`` of an array without a Python float per number.

Reading JSON through pydantic makes one Python ``float`` per tensor element and then an
array of them, which is most of the time ``from_json`` takes for embeddings. This reader
parses the text with simdjson (``pysimdjson``), copies each tensor straight from the parse
tape into a buffer, stacks the rows of a tensor field into one array and builds the
documents the way the binary reader does (:func:`docstack.io._binary.build_docs`).

It is a fast path, not a second meaning: it takes a payload only when it gives exactly
what pydantic's reading gives, and otherwise answers ``None`` so that the caller reads
the text through pydantic, which also writes the error messages. It answers ``None`` for

* a class it does not cover: a field that is not a tensor or one of ``str``, ``int``,
  ``float``, ``bool`` (or docstack's ``str`` types such as ``ID``), optionally ``Optional``;
  custom validators, aliases, strict mode or forbidden extra keys;
* text pydantic may read differently or refuse: not an array of objects, a key repeated
  in an object, a value of another JSON type than the field's (an integer for a ``str``,
  ``1.0`` for an ``int``, ``null`` for a field that is not ``Optional``), a tensor that is
  nested (more than one dimension), starts with an integer and holds a float, or holds a
  boolean; a field given in some documents and left out in others; ``NaN``/``Infinity``
  constants, invalid UTF-8 or surrogates (simdjson refuses them);
* values the field's validation refuses.

Tensors come back as pydantic makes them from a list of numbers: ``float64`` when the first
element is a float, ``int64`` when every element is an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Optional

import numpy as np
from pydantic import TypeAdapter, ValidationError

from docstack._internal.fields import FieldKind, doc_fields, is_docstack_str, unwrap_optional
from docstack.errors import DocstackError
from docstack.io import _binary

try:  # pysimdjson is a dependency; a platform without it reads through pydantic
    import simdjson
except ImportError:  # pragma: no cover - installed everywhere docstack's tests run
    simdjson = None

__all__ = ["read_block", "build"]

_MISSING = object()  # a key the object does not have

_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
}


@dataclass(frozen=True)
class _Field:
    name: str
    kind: FieldKind
    allowed: tuple[type, ...]  # the Python types of the JSON values a scalar field takes
    adapter: Optional[TypeAdapter]  # validates a scalar column (list[annotation])
    info: Any


def _scalar_types(inner: Any) -> Optional[tuple[type, ...]]:
    if inner in _SCALARS:
        return _SCALARS[inner]
    return (str,) if is_docstack_str(inner) else None


@cache
def _plan(doc_cls: type) -> Optional[tuple[_Field, ...]]:
    """The fields of ``doc_cls`` as this reader reads them, or ``None`` when it cannot."""
    config = doc_cls.model_config
    if config.get("extra") in ("forbid", "allow") or config.get("strict"):
        return None
    if _binary._has_validators(doc_cls) or doc_cls.__pydantic_decorators__.model_serializers:
        return None
    fields = []
    for name, kind in doc_fields(doc_cls).items():
        info = doc_cls.model_fields[name]
        if info.alias or info.validation_alias:
            return None
        if kind.kind == "tensor":
            if info.metadata:
                return None
            fields.append(_Field(name, kind, (), None, info))
            continue
        if kind.kind != "other":
            return None
        inner, _ = unwrap_optional(info.annotation)
        allowed = _scalar_types(inner)
        if allowed is None:
            return None
        if kind.optional:
            allowed = (*allowed, type(None))
        tp: Any = info.annotation
        if info.metadata:
            tp = Annotated[(tp, *info.metadata)]  # type: ignore[valid-type]
        fields.append(_Field(name, kind, allowed, TypeAdapter(list[tp]), info))  # type: ignore[valid-type]
    return tuple(fields)


def _tensor_values(field: _Field, values: list[Any], n: int) -> Optional[_binary._Decoded]:
    """A tensor field's rows (simdjson arrays, or ``None``) as one decoded column."""
    buffers: list[Any] = []
    lengths: list[int] = []
    present: list[bool] = []
    kind_of_rows = ""
    array_type = simdjson.Array
    for value in values:
        if value is None:
            present.append(False)
            continue
        if type(value) is not array_type:
            return None
        m = len(value)
        if m:
            first = type(value[0])
            if first is float:
                code = "d"
            elif first is int:
                code = "i"
            else:  # nested, boolean, string or null elements
                return None
            if kind_of_rows != code:
                if kind_of_rows:
                    return None  # float rows and integer rows in one field
                kind_of_rows = code
            try:
                buffers.append(value.as_buffer(of_type=code))
            except (TypeError, ValueError):  # a float after an integer, a bool, a string
                return None
        lengths.append(m)
        present.append(True)
    if kind_of_rows == "i" and 0 in lengths:
        return None  # [] reads as float64 beside int64 rows
    dtype = np.dtype(np.int64 if kind_of_rows == "i" else np.float64)
    flat = np.frombuffer(b"".join(buffers), dtype=dtype)
    if flat.size != sum(lengths):
        return None  # an element was itself an array (as_buffer flattens those)
    mask = None if all(present) else np.array(present, dtype=bool)
    decoded = _binary._Decoded(field.kind, n, mask=mask)
    if lengths and all(m == lengths[0] for m in lengths):
        decoded.dense = flat.reshape(len(lengths), lengths[0])
    else:
        # rows of different lengths: one array per document (None where absent)
        rows: list[Any] = []
        start = 0
        it = iter(lengths)
        for p in present:
            if not p:
                rows.append(None)
                continue
            m = next(it)
            rows.append(flat[start : start + m])
            start += m
        decoded.rows = rows
        decoded.mask = None
    return decoded


def read_block(doc_cls: type, data: str | bytes | bytearray) -> Optional[_binary._Block]:
    """The documents of a JSON array as a decoded block, or ``None`` to read with pydantic."""
    if simdjson is None:
        return None
    plan = _plan(doc_cls)
    if plan is None:
        return None
    if isinstance(data, bytearray):
        data = bytes(data)
    parser = simdjson.Parser()
    try:
        # a str is read in place (UTF-8 is what simdjson reads; a lone surrogate fails)
        root = parser.parse(data)
    except (ValueError, RuntimeError, TypeError):
        return None
    try:
        block = _read(doc_cls, plan, root)
    finally:
        del root  # the parser may be freed only once no proxy refers to it
    if block is None or not _flat_rows(data, block):
        return None
    return block


def _flat_rows(data: str | bytes, block: _binary._Block) -> bool:
    """Whether no tensor row held an array as an element.

    simdjson's ``as_buffer`` flattens nested arrays, and a row such as ``[1.0, [2.0], 3.0]``
    has as many numbers as elements, so the rows cannot tell. The text can: every ``[`` in
    it opens the top-level array, a tensor row, or sits in a string value (the only other
    places in a payload of covered fields, extra keys aside). A count that differs, or a
    ``[`` written as an escape in a string, leaves the payload to pydantic.
    """
    rows = 0
    in_strings = 0
    for d in block.fields.values():
        if d.values is not None:
            in_strings += sum(v.count("[") for v in d.values if isinstance(v, str))
        elif d.rows is not None:
            rows += sum(r is not None for r in d.rows)
        else:
            rows += 0 if d.dense is None else len(d.dense)
    bracket: Any = "[" if isinstance(data, str) else b"["
    if data.count(bracket) != 1 + rows + in_strings:
        return False
    if in_strings:
        escapes = ("\\u005b", "\\u005B") if isinstance(data, str) else (b"\\u005b", b"\\u005B")
        return not any(e in data for e in escapes)
    return True


def _read(doc_cls: type, plan: tuple[_Field, ...], root: Any) -> Optional[_binary._Block]:
    if type(root) is not simdjson.Array:
        return None
    n = len(root)
    nkeys = len(plan)
    columns: list[list[Any]] = [[] for _ in plan]
    pairs = [(f.name, c.append) for f, c in zip(plan, columns)]
    object_type = simdjson.Object
    try:
        for obj in root:
            if type(obj) is not object_type:
                return None
            if len(obj) != nkeys and len(set(obj.keys())) != len(obj):
                return None  # a repeated key: pydantic keeps the last, simdjson the first
            get = obj.get
            for key, append in pairs:
                append(get(key, _MISSING))
        seen = [n - values.count(_MISSING) for values in columns]
        if any(count != n for count in seen) and any(
            len(set(obj.keys())) != len(obj) for obj in root
        ):
            return None  # an object with fewer fields than the class may repeat a key
    except (ValueError, RuntimeError, TypeError):
        return None
    names_read: list[str] = []
    kinds: list[FieldKind] = []
    decoded: dict[str, _binary._Decoded] = {}
    defaults: dict[str, Any] = {}
    for field, count, values in zip(plan, seen, columns):
        if count == 0:
            if field.info.is_required() and n:
                return None
            defaults[field.name] = field.info
            continue
        if count != n:
            return None  # given in some documents only: each document's fields_set differs
        if field.kind.kind == "tensor":
            d = _tensor_values(field, values, n)
            if d is None:
                return None
        else:
            if not set(map(type, values)) <= set(field.allowed):
                return None
            try:
                validated = field.adapter.validate_python(values)  # type: ignore[union-attr]
            except ValidationError:
                return None
            d = _binary._Decoded(field.kind, n, values=validated)
        names_read.append(field.name)
        kinds.append(field.kind)
        decoded[field.name] = d
    plan_ = _binary._Plan(doc_cls, names_read, kinds, [None] * len(names_read), defaults)
    return _binary._Block(plan_, n, decoded)


def build(cls: type, block: _binary._Block, tensor_type: Optional[type]) -> Optional[Any]:
    """A ``DocList``/``DocVec`` (``cls``) of the block, or ``None`` where a column does not
    fit its field (pydantic then reads the text and names the document)."""
    try:
        if getattr(cls, "_docstack_columnar", False):
            return cls._from_storage(_binary.build_storage(block, tensor_type))
        return cls(_binary.build_docs(block), validate_input_docs=False)
    except DocstackError:
        return None
