"""The protobuf codec: documents as messages of docstack's own schema
(``docstack/io/proto/docstack.proto``).

* a document is a ``DocProto``: a map from field name to ``ValueProto`` (null, bool, int,
  float, str, bytes, tensor, nested document, document list, list or dict);
* a ``DocList`` is a ``DocListProto``, its documents one after the other;
* a ``DocVec`` is a ``DocVecProto``, column by column: each tensor field is one stacked
  ``TensorProto`` (with a presence mask where some documents have ``None``), each nested
  document field a nested ``DocVecProto``, each ``DocList`` field one ``DocVecProto`` per
  document and every other field a column of values (typed: strings, ints, floats, bytes).

A tensor is its raw little-endian buffer, dtype name, shape and framework, so it comes
back as the same dtype, shape and framework. Reading checks everything it is given: a
message of another schema raises :class:`~docstack.errors.SchemaMismatchError` naming the
document and field, corrupt data :class:`~docstack.errors.DeserializationError`; nothing
half-built is returned. Documents of a ``DocListProto`` are validated like any new
document; a ``DocVecProto`` is validated column by column (each column against its field's
type, one buffer per tensor column), or document by document when the document class
declares validators of its own.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import Annotated, Any, Optional

import numpy as np
from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from docstack._internal.fields import FieldKind, doc_fields, unwrap_optional
from docstack.array._column_storage import ColumnStorage, TensorColumn, column_class
from docstack.array.doc_list import DocList
from docstack.base_doc import AnyDoc
from docstack.errors import (
    DeserializationError,
    DocstackError,
    DocTypeError,
    SchemaMismatchError,
    SerializationError,
)
from docstack.io.proto import load_messages
from docstack.typing.tensor._base import concrete_tensor_class
from docstack.typing.tensor._convert import (
    framework_of,
    to_framework,
    to_numpy,
)
from docstack.typing.tensor._shape import check_shape

__all__ = [
    "SCHEMA_VERSION",
    "doc_to_protobuf",
    "doc_from_protobuf",
    "array_to_protobuf",
    "array_from_protobuf",
    "doc_to_protobuf_bytes",
    "doc_from_protobuf_bytes",
    "array_to_protobuf_bytes",
    "array_from_protobuf_bytes",
]

#: The version of the message layout this module writes and reads; a message of another
#: version is refused with a clear error.
SCHEMA_VERSION = 1

# the element types a tensor may have on the wire, as little-endian numpy dtypes
_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name).newbyteorder("<")
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}
_FRAMEWORKS = {
    "": "numpy",
    "numpy": "numpy",
    "torch": "torch",
    "jax": "jax",
    "tensorflow": "tensorflow",
}
_MAX_NDIM = 32
# a dimension of an empty tensor may be 0 bytes long yet claim any size: cap it
_MAX_EMPTY_DIM = 1 << 31
# a DocVecProto may declare more documents than it has bytes only up to this many
# (documents whose every field is an empty tensor cost no bytes)
_FREE_DOCS = 1 << 20
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_BIG_ENDIAN = sys.byteorder == "big"
_NoneType = type(None)

# what goes wrong, and which error it becomes
_MISMATCH, _CORRUPT, _WRITE = "mismatch", "corrupt", "write"


class _Problem(Exception):
    """A failure deep inside a message; ``path`` grows as it travels up (field names and
    ``[i]`` positions) and the public functions turn it into a docstack error."""

    def __init__(self, reason: str, what: str = _MISMATCH) -> None:
        super().__init__(reason)
        self.reason = reason
        self.what = what
        self.path: list[str] = []


def _pb() -> Any:
    return load_messages()


# -- errors ---------------------------------------------------------------------------------


def _render_path(path: list[str]) -> str:
    out = ""
    for part in path:
        out += part if part.startswith("[") or not out else "." + part
    return out


def _error(
    problem: _Problem,
    action: str,
    label: str,
    doc_name: str = "",
    written_for: str = "",
    first_is_doc: bool = False,
) -> DocstackError:
    """The docstack error for ``problem`` met while reading or writing ``label``; a schema
    mismatch also says which class the payload was written for, when that is another."""
    path = list(problem.path)
    where = []
    if first_is_doc and path and path[0].startswith("["):
        where.append(f"document {path.pop(0)[1:-1]}")
    if path:
        where.append(f"field '{_render_path(path)}'")
    text = f"cannot {action} {label}"
    if where:
        text += ": " + ", ".join(where)
    text += f": {problem.reason}"
    if problem.what == _WRITE:
        return SerializationError(text)
    if problem.what == _CORRUPT:
        return DeserializationError(text)
    if written_for and written_for != doc_name:
        text += f" (the payload was written for {written_for!r})"
    return SchemaMismatchError(text)


def _from_validation(exc: ValidationError, index_first: bool = False) -> _Problem:
    """A pydantic error as a problem whose path is the first error's location."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    if index_first and loc and loc[0].lstrip("-").isdigit():
        loc[0] = f"[{loc[0]}]"
    reason = first.get("msg", str(exc))
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    problem = _Problem(reason, _MISMATCH)
    problem.path = loc
    problem.__cause__ = exc
    return problem


def _describe_kind(kind: Optional[str]) -> str:
    names = {
        "null": "None",
        "bool_value": "a bool",
        "int_value": "an int",
        "big_int_value": "an int",
        "float_value": "a float",
        "str_value": "a str",
        "bytes_value": "bytes",
        "tensor": "a tensor",
        "doc": "a document",
        "doc_list": "a list of documents",
        "list": "a list",
        "dict": "a dict",
    }
    return names.get(kind or "", "an empty value")


# -- tensors --------------------------------------------------------------------------------


# the wire name of each little-endian dtype (on a little-endian machine: the native ones)
_WIRE_NAMES: dict[np.dtype, str] = {dtype: name for name, dtype in _DTYPES.items()}


def _write_tensor(t: Any, value: Any) -> None:
    """Fill the ``TensorProto`` ``t`` with ``value`` (a tensor of any framework)."""
    if type(value) is np.ndarray:
        arr, fw = value, "numpy"
    else:
        fw = framework_of(value) or "numpy"
        try:
            arr = to_numpy(value)
        except (ValueError, TypeError) as exc:
            raise _Problem(
                f"cannot write {type(value).__name__} as a tensor: {exc}", _WRITE
            ) from None
    name = _WIRE_NAMES.get(arr.dtype)
    if name is None:  # big-endian data, or a dtype the wire does not take
        name = arr.dtype.name
        wire = _DTYPES.get(name)
        if wire is None or arr.dtype.kind not in "biufc":
            raise _Problem(
                f"cannot write a tensor of dtype {arr.dtype}; protobuf takes {', '.join(_DTYPES)}",
                _WRITE,
            )
        arr = arr.astype(wire)
    t.buffer = arr.tobytes()  # one copy, in C order whatever the layout
    t.dtype = name
    if arr.ndim:
        t.shape.extend(arr.shape)
    if fw != "numpy":
        t.framework = fw


def _read_array(t: Any) -> np.ndarray:
    """The ``TensorProto`` ``t`` as a new, writable numpy array, after checking that its
    dtype is allowed and its buffer holds exactly its shape."""
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise _Problem(
            f"unknown tensor dtype {t.dtype[:40]!r}; expected one of {', '.join(_DTYPES)}",
            _CORRUPT,
        )
    shape = tuple(t.shape)
    if len(shape) > _MAX_NDIM:
        raise _Problem(f"a tensor of {len(shape)} dimensions (at most {_MAX_NDIM})", _CORRUPT)
    buf = t.buffer
    size = math.prod(shape)
    if size * dtype.itemsize != len(buf):
        raise _Problem(
            f"the tensor's buffer has {len(buf)} bytes, but shape {_short(shape)} of "
            f"{t.dtype} needs {size * dtype.itemsize}",
            _CORRUPT,
        )
    if size == 0 and any(d > _MAX_EMPTY_DIM for d in shape):
        raise _Problem(f"an empty tensor of impossible shape {_short(shape)}", _CORRUPT)
    if dtype.kind == "b":  # any nonzero byte is True: never a bool array holding 2
        return (np.frombuffer(buf, dtype=np.uint8) != 0).reshape(shape)
    arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
    if _BIG_ENDIAN:
        return arr.astype(dtype.newbyteorder("="))
    return arr.copy()  # the buffer is immutable bytes: own a writable array


def _short(shape: tuple[int, ...]) -> str:
    text = str(shape)
    return text if len(text) <= 80 else text[:77] + "..."


def _framework(t: Any) -> str:
    fw = _FRAMEWORKS.get(t.framework)
    if fw is None:
        raise _Problem(
            f"unknown tensor framework {t.framework[:40]!r}; expected numpy, torch, jax or "
            "tensorflow",
            _CORRUPT,
        )
    return fw


def _read_tensor(t: Any) -> Any:
    """The ``TensorProto`` ``t`` as a plain tensor of its recorded framework."""
    fw = _framework(t)
    return to_framework(_read_array(t), fw)


# -- writing documents ----------------------------------------------------------------------


def _put_null(v: Any, x: Any) -> None:
    v.null = 0


def _put_str(v: Any, x: Any) -> None:
    v.str_value = x


def _put_bool(v: Any, x: Any) -> None:
    v.bool_value = x


def _put_float(v: Any, x: Any) -> None:
    v.float_value = x


def _put_bytes(v: Any, x: Any) -> None:
    v.bytes_value = bytes(x)


def _put_int(v: Any, x: Any) -> None:
    if _INT64_MIN <= x <= _INT64_MAX:
        v.int_value = x
        return
    try:
        v.big_int_value = str(int(x))
    except ValueError as exc:  # more digits than Python converts to text
        raise _Problem(f"cannot write the int: {exc}", _WRITE) from None


def _put_list(v: Any, x: Iterable[Any]) -> None:
    add = v.list.values.add
    v.list.SetInParent()
    for i, item in enumerate(x):
        try:
            _put_value(add(), item)
        except _Problem as p:
            p.path.insert(0, f"[{i}]")
            raise


def _put_dict(v: Any, x: dict[Any, Any]) -> None:
    d = v.dict
    d.SetInParent()
    add_key, add_value = d.keys.add, d.values.add
    for key, item in x.items():
        try:
            _put_value(add_key(), key)
            _put_value(add_value(), item)
        except _Problem as p:
            p.path.insert(0, f"[{key!r}]")
            raise


def _put_tensor_value(v: Any, x: Any) -> None:
    _write_tensor(v.tensor, x)


_PUT_BY_TYPE: dict[type, Callable[[Any, Any], None]] = {
    str: _put_str,
    _NoneType: _put_null,
    bool: _put_bool,
    int: _put_int,
    float: _put_float,
    bytes: _put_bytes,
    list: _put_list,
    tuple: _put_list,
    dict: _put_dict,
    np.ndarray: _put_tensor_value,
}


def _put_value(v: Any, x: Any) -> None:
    """Fill the ``ValueProto`` ``v`` with any value."""
    put = _PUT_BY_TYPE.get(type(x))
    if put is not None:
        put(v, x)
        return
    tp = type(x)
    if isinstance(x, str):  # URL and ID types, str enums
        v.str_value = x
    elif isinstance(x, bool):
        v.bool_value = x
    elif isinstance(x, int):
        _put_int(v, x)
    elif isinstance(x, float):
        v.float_value = x
    elif isinstance(x, (bytes, bytearray, memoryview)):
        v.bytes_value = bytes(x)
    elif framework_of(x) is not None:
        _write_tensor(v.tensor, x)
    elif getattr(tp, "__docstack_document__", False):
        v.doc.SetInParent()
        _write_fields(v.doc, x)
    elif getattr(tp, "__docstack_doc_array__", False):
        v.doc_list.SetInParent()
        _write_docs(v.doc_list, x)
    elif isinstance(x, (list, tuple, set, frozenset)):
        _put_list(v, x)
    elif isinstance(x, dict):
        _put_dict(v, x)
    elif isinstance(x, np.generic):
        _put_value(v, x.item())
    else:
        _put_jsonable(v, x)


def _put_jsonable(v: Any, x: Any) -> None:
    """A value of another type (datetime, UUID, Decimal, enum, ...) as pydantic writes it
    to JSON; a typed field validates it back."""
    from pydantic_core import to_jsonable_python

    try:
        plain = to_jsonable_python(x)
    except Exception:  # noqa: BLE001 - pydantic's own serialization error class
        raise _Problem(f"cannot write a value of type {type(x).__name__}", _WRITE) from None
    if type(plain) is type(x):
        raise _Problem(f"cannot write a value of type {type(x).__name__}", _WRITE)
    _put_value(v, plain)


def _put_tensor_field(v: Any, x: Any) -> None:
    if x is None:
        v.null = 0
    else:
        _write_tensor(v.tensor, x)


def _put_doc_field(v: Any, x: Any) -> None:
    if x is None:
        v.null = 0
    else:
        v.doc.SetInParent()
        _write_fields(v.doc, x)


def _put_doclist_field(v: Any, x: Any) -> None:
    if x is None:
        v.null = 0
    else:
        v.doc_list.SetInParent()
        _write_docs(v.doc_list, x)


def _put_other_field(v: Any, x: Any) -> None:
    if type(x) is str:
        v.str_value = x
    else:
        _put_value(v, x)


_FIELD_WRITERS: dict[str, Callable[[Any, Any], None]] = {
    "tensor": _put_tensor_field,
    "doc": _put_doc_field,
    "doclist": _put_doclist_field,
    "other": _put_other_field,
}
_WRITE_PLANS: dict[type, tuple[tuple[str, Callable[[Any, Any], None]], ...]] = {}


def _write_plan(tp: type) -> tuple[tuple[str, Callable[[Any, Any], None]], ...]:
    plan = _WRITE_PLANS.get(tp)
    if plan is None:
        base = getattr(tp, "__docstack_view_of__", None) or tp
        plan = tuple((name, _FIELD_WRITERS[k.kind]) for name, k in doc_fields(base).items())
        _WRITE_PLANS[tp] = plan
    return plan


def _write_fields(msg: Any, doc: Any) -> None:
    """Fill the ``DocProto`` ``msg`` with the fields of ``doc``."""
    fields = msg.fields
    for name, put in _write_plan(type(doc)):
        try:
            put(fields[name], getattr(doc, name))
        except _Problem as p:
            p.path.insert(0, name)
            raise
    extra = getattr(doc, "__pydantic_extra__", None)
    if extra:
        for name, value in extra.items():
            try:
                _put_value(fields[name], value)
            except _Problem as p:
                p.path.insert(0, name)
                raise


def _write_docs(msg: Any, docs: Iterable[Any]) -> None:
    """Fill the ``DocListProto`` ``msg`` with ``docs``."""
    add = msg.docs.add
    for i, doc in enumerate(docs):
        try:
            _write_fields(add(), doc)
        except _Problem as p:
            p.path.insert(0, f"[{i}]")
            raise


def _doc_class(doc: Any) -> type:
    tp = type(doc)
    return getattr(tp, "__docstack_view_of__", None) or tp


# -- writing a DocVec -----------------------------------------------------------------------


def _write_doc_vec(msg: Any, storage: Any) -> None:
    """Fill the ``DocVecProto`` ``msg`` with the columns of a ``DocVec``'s storage."""
    n = storage.length
    msg.length = n
    for name in storage.kinds:
        where, col = storage.column(name)
        try:
            if where == "tensor":
                c = msg.tensor_columns[name]
                if col is None:
                    continue  # an empty entry: no document has a value
                _write_tensor(c.data, col.data)
                if col.mask is not None and not col.mask.all():
                    c.present = np.asarray(col.mask, dtype=np.uint8).tobytes()
            elif where == "doc":
                _write_doc_vec(msg.doc_columns[name], col._storage)
            elif where == "doclist":
                c = msg.doc_list_columns[name]
                add = c.vecs.add
                for vec in col:
                    entry = add()
                    if vec is not None:
                        _write_doc_vec(entry, vec._storage)
                if any(vec is None for vec in col):
                    c.present = bytes([vec is not None for vec in col])
            else:
                _write_value_column(msg.value_columns[name], col)
        except _Problem as p:
            p.path.insert(0, name)
            raise


def _write_value_column(c: Any, values: list[Any]) -> None:
    """One value per document: a typed column when all values are str, int, float or bytes
    (``None`` allowed), else a list of ``ValueProto``."""
    types = set(map(type, values))
    has_none = _NoneType in types
    types.discard(_NoneType)
    target, filler = None, None
    if types and all(issubclass(t, str) for t in types):
        target, filler = c.strings, ""
    elif types == {int}:
        present = [x for x in values if x is not None] if has_none else values
        if _INT64_MIN <= min(present) and max(present) <= _INT64_MAX:
            target, filler = c.ints, 0
    elif types == {float}:
        target, filler = c.floats, 0.0
    elif types and all(issubclass(t, bytes) for t in types):
        target, filler = c.bytes_values, b""
    if target is None:
        c.items.SetInParent()
        add = c.items.values.add
        for i, x in enumerate(values):
            try:
                _put_value(add(), x)
            except _Problem as p:
                p.path.insert(0, f"[{i}]")
                raise
        return
    target.SetInParent()
    if has_none:
        c.present = bytes([x is not None for x in values])
        values = [filler if x is None else x for x in values]
    target.values.extend(values)


# -- reading documents ----------------------------------------------------------------------


def _expect(v: Any, wanted: str) -> Optional[str]:
    kind = v.WhichOneof("kind")
    if kind == wanted or kind == "null":
        return kind
    if kind is None:
        raise _Problem("an empty value (not written by docstack?)", _CORRUPT)
    raise _Problem(f"expected {_describe_kind(wanted)}, the payload holds {_describe_kind(kind)}")


def _tensor_reader(kind: FieldKind) -> Callable[[Any], Any]:
    assert kind.tensor_cls is not None
    keep_framework = kind.tensor_cls._docstack_framework == "any"

    def read(v: Any) -> Any:
        which = v.WhichOneof("kind")
        if which == "tensor":
            t = v.tensor
            if keep_framework:
                return _read_tensor(t)
            if t.framework and t.framework not in _FRAMEWORKS:
                _framework(t)
            return _read_array(t)
        _expect(v, "tensor")
        return None

    return read


def _doc_reader(kind: FieldKind) -> Callable[[Any], Any]:
    doc_cls = kind.doc_cls

    def read(v: Any) -> Any:
        if _expect(v, "doc") == "null":
            return None
        return _read_doc(doc_cls, v.doc)

    return read


def _array_class(kind: FieldKind) -> Optional[type]:
    """The ``DocVec`` class of a field typed ``DocVec[T]`` (its values must be instances);
    ``None`` for a ``DocList`` field, which pydantic builds from a list."""
    inner, _ = unwrap_optional(kind.annotation)
    return inner if getattr(inner, "_docstack_columnar", False) else None


def _doclist_reader(kind: FieldKind) -> Callable[[Any], Any]:
    doc_cls = kind.doc_cls
    vec_cls = _array_class(kind)

    def read(v: Any) -> Any:
        if _expect(v, "doc_list") == "null":
            return None
        docs = _read_docs(doc_cls, v.doc_list)
        return docs if vec_cls is None else vec_cls(docs)

    return read


def _read_other(v: Any) -> Any:
    return _read_value(v, False)


def _read_any(v: Any) -> Any:
    return _read_value(v, True)


@cache
def _read_plan(doc_cls: type) -> tuple[dict[str, Callable[[Any], Any]], bool]:
    """Per field, the function reading its ``ValueProto``; and whether unknown fields are
    kept (documents that allow extra fields, such as ``AnyDoc``)."""
    readers: dict[str, Callable[[Any], Any]] = {}
    anydoc = doc_cls.model_config.get("extra") == "allow"
    for name, kind in doc_fields(doc_cls).items():
        if kind.kind == "tensor":
            readers[name] = _tensor_reader(kind)
        elif kind.kind == "doc":
            readers[name] = _doc_reader(kind)
        elif kind.kind == "doclist":
            readers[name] = _doclist_reader(kind)
        else:
            readers[name] = _read_any if anydoc else _read_other
    return readers, anydoc


def _read_doc(doc_cls: type, msg: Any) -> Any:
    """The ``DocProto`` ``msg`` as a validated document of ``doc_cls``."""
    readers, extra_allowed = _read_plan(doc_cls)
    values = {}
    fields = msg.fields
    for name in fields:
        v = fields[name]
        reader = readers.get(name)
        if reader is None:
            if not extra_allowed:
                problem = _Problem(f"{doc_cls.__name__} has no field {name!r}")
                problem.path.append(name)
                raise problem
            reader = _read_any
        try:
            values[name] = reader(v)
        except _Problem as p:
            p.path.insert(0, name)
            raise
    try:
        return _validate_doc(doc_cls, values)
    except ValidationError as exc:
        raise _from_validation(exc) from exc


# messages name fields by their names; pydantic >= 2.11 can validate by name also where a
# field has an alias, older versions get the values renamed to the aliases
_BY_NAME: dict[str, Any] = (
    {"by_name": True} if tuple(map(int, PYDANTIC_VERSION.split(".")[:2])) >= (2, 11) else {}
)


def _validate_doc(doc_cls: type, values: dict[str, Any]) -> Any:
    """Validate the fields read from a message into a document of ``doc_cls``."""
    if _BY_NAME:
        return doc_cls.model_validate(values, **_BY_NAME)
    aliases = _aliases(doc_cls)
    if aliases:
        values = {aliases.get(k, k): v for k, v in values.items()}
    return doc_cls.model_validate(values)


@cache
def _aliases(doc_cls: type) -> dict[str, str]:
    out = {}
    for name, info in doc_cls.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        if isinstance(alias, str) and alias != name:
            out[name] = alias
    return out


def _read_docs(doc_cls: type, msg: Any) -> list[Any]:
    """The documents of the ``DocListProto`` ``msg``, validated as ``doc_cls``."""
    out = []
    for i, d in enumerate(msg.docs):
        try:
            out.append(_read_doc(doc_cls, d))
        except _Problem as p:
            p.path.insert(0, f"[{i}]")
            raise
    return out


def _read_value(v: Any, anydoc: bool) -> Any:
    """Any ``ValueProto`` as a plain value. Nested documents become ``AnyDoc`` (``anydoc``)
    or dicts that a typed field validates into its document class."""
    kind = v.WhichOneof("kind")
    reader = _VALUE_READERS.get(kind)  # type: ignore[arg-type]
    if reader is None:
        raise _Problem("an empty value (not written by docstack?)", _CORRUPT)
    return reader(v, anydoc)


def _read_big_int(v: Any, anydoc: bool) -> int:
    text = v.big_int_value
    if not 0 < len(text) <= 5000 or not text.lstrip("-").isdigit():
        raise _Problem(f"not an int: {text[:40]!r}", _CORRUPT)
    try:
        return int(text)
    except ValueError as exc:
        raise _Problem(f"not an int: {exc}", _CORRUPT) from None


def _read_list(v: Any, anydoc: bool) -> list[Any]:
    out = []
    for i, item in enumerate(v.list.values):
        try:
            out.append(_read_value(item, anydoc))
        except _Problem as p:
            p.path.insert(0, f"[{i}]")
            raise
    return out


def _read_dict(v: Any, anydoc: bool) -> dict[Any, Any]:
    d = v.dict
    if len(d.keys) != len(d.values):
        raise _Problem(f"a dict of {len(d.keys)} keys and {len(d.values)} values", _CORRUPT)
    keys = [_read_value(k, anydoc) for k in d.keys]
    try:
        out = dict.fromkeys(keys)
    except TypeError:
        raise _Problem("a dict key that cannot be a key (a list or a tensor)", _CORRUPT) from None
    for key, item in zip(keys, d.values):
        try:
            out[key] = _read_value(item, anydoc)
        except _Problem as p:
            p.path.insert(0, f"[{key!r}]")
            raise
    return out


def _read_nested_doc(v: Any, anydoc: bool) -> Any:
    if anydoc:
        return _read_doc(AnyDoc, v.doc)
    return _read_nested_doc_fields(v.doc)


def _read_nested_docs(v: Any, anydoc: bool) -> Any:
    if anydoc:
        return DocList(_read_docs(AnyDoc, v.doc_list), validate_input_docs=False)
    out = []
    for i, d in enumerate(v.doc_list.docs):
        try:
            out.append(_read_nested_doc_fields(d))
        except _Problem as p:
            p.path.insert(0, f"[{i}]")
            raise
    return out


def _read_nested_doc_fields(msg: Any) -> dict[str, Any]:
    out = {}
    fields = msg.fields
    for name in fields:
        try:
            out[name] = _read_value(fields[name], False)
        except _Problem as p:
            p.path.insert(0, name)
            raise
    return out


_VALUE_READERS: dict[str, Callable[[Any, bool], Any]] = {
    "null": lambda v, a: None,
    "bool_value": lambda v, a: v.bool_value,
    "int_value": lambda v, a: v.int_value,
    "big_int_value": _read_big_int,
    "float_value": lambda v, a: v.float_value,
    "str_value": lambda v, a: v.str_value,
    "bytes_value": lambda v, a: v.bytes_value,
    "tensor": lambda v, a: _read_tensor(v.tensor),
    "doc": _read_nested_doc,
    "doc_list": _read_nested_docs,
    "list": _read_list,
    "dict": _read_dict,
}


# -- reading a DocVec -----------------------------------------------------------------------


class _Budget:
    """How many documents the ``DocVecProto`` messages of one payload may declare in all:
    one per byte of the payload (at least ``_FREE_DOCS``), so that a few bytes cannot make
    the reader build millions of rows."""

    __slots__ = ("left",)

    def __init__(self, size: int) -> None:
        self.left = max(size, _FREE_DOCS)

    def take(self, n: int) -> None:
        """Spend ``n`` documents; raise when the payload declares more than it can hold."""
        self.left -= n
        if self.left < 0:
            raise _Problem(
                f"the message declares {n} documents, more than its bytes can hold", _CORRUPT
            )


def _present(data: bytes, n: int, what: str) -> Optional[np.ndarray]:
    """A presence mask (one byte per document) as a bool array; ``None`` when empty."""
    if not data:
        return None
    if len(data) != n:
        raise _Problem(f"{what} has {len(data)} presence bytes for {n} documents", _CORRUPT)
    return np.frombuffer(data, dtype=np.uint8) != 0


def _first_missing(mask: np.ndarray) -> int:
    return int(np.flatnonzero(~mask)[0])


def _indexed(problem: _Problem, i: int) -> _Problem:
    problem.path.insert(0, f"[{i}]")
    return problem


def _column_path(problem: _Problem, name: str) -> None:
    """Add column ``name`` to the path of ``problem``: a column's ``[i]`` is a document
    index, so it goes first (``document i, field 'name'``)."""
    path = problem.path
    if path and path[0].startswith("["):
        path[1:1] = [name]
    else:
        path.insert(0, name)


def _column_names(msg: Any) -> list[str]:
    names = [
        *msg.tensor_columns.keys(),
        *msg.doc_columns.keys(),
        *msg.doc_list_columns.keys(),
        *msg.value_columns.keys(),
    ]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise _Problem(f"two columns for field {dup!r}", _CORRUPT)
    return names


def _kind_text(kind: FieldKind) -> str:
    return {
        "tensor": "tensors",
        "doc": "documents",
        "doclist": "lists of documents",
        "other": "other values",
    }[kind.kind]


@cache
def _column_adapter(doc_cls: type, name: str) -> TypeAdapter:
    """Validates one column of field ``name``: a list of values, each checked against the
    field's type and constraints, in one call."""
    info = doc_cls.model_fields[name]
    config = ConfigDict(arbitrary_types_allowed=True)
    for key in ("strict", "str_strip_whitespace", "str_to_lower", "str_to_upper"):
        if key in doc_cls.model_config:
            config[key] = doc_cls.model_config[key]  # type: ignore[literal-required]
    metadata = list(info.metadata)  # constraints, strictness, union mode
    if info.discriminator is not None:
        metadata.append(Field(discriminator=info.discriminator))
    item = Annotated[(info.annotation, *metadata)] if metadata else info.annotation
    return TypeAdapter(list[item], config=config)  # type: ignore[valid-type]


@cache
def _columnwise_safe(doc_cls: type) -> bool:
    """Whether validating column by column does what validating each document would: the
    class (and every nested document class) declares no validators of its own and no
    ``model_post_init``. docstack's own shorthand validators (``_docstack_*``, mode
    ``'before'``) only rewrite input that is not a dict, so they do not count."""
    if doc_cls is AnyDoc or getattr(doc_cls, "__pydantic_post_init__", None) is not None:
        return False
    decorators = doc_cls.__pydantic_decorators__
    for group in (
        decorators.field_validators,
        decorators.model_validators,
        decorators.validators,
        decorators.root_validators,
    ):
        for name, dec in group.items():
            module = getattr(dec.func, "__module__", None) or ""
            ours = name.startswith("_docstack_") and module.startswith("docstack.")
            if not ours or getattr(dec.info, "mode", None) != "before":
                return False
    for kind in doc_fields(doc_cls).values():
        if kind.kind in ("doc", "doclist") and kind.doc_cls is not AnyDoc:
            if not _columnwise_safe(kind.doc_cls):
                return False
    return True


def _build_storage(
    doc_cls: type, msg: Any, tensor_type: Optional[type], budget: _Budget
) -> ColumnStorage:
    """The columns of the ``DocVecProto`` ``msg`` as the storage of a ``DocVec[doc_cls]``,
    each column validated against its field."""
    n = msg.length
    kinds = dict(doc_fields(doc_cls))
    for name in _column_names(msg):
        if name not in kinds:
            problem = _Problem(f"{doc_cls.__name__} has no field {name!r}")
            problem.path.append(name)
            raise problem
    storage = ColumnStorage(doc_cls, n, kinds, tensor_type)
    missing = []
    for name, kind in kinds.items():
        try:
            if name in msg.tensor_columns:
                _fill_tensor_column(storage, name, kind, msg.tensor_columns[name])
            elif name in msg.doc_columns:
                _fill_doc_column(storage, name, kind, msg.doc_columns[name], budget)
            elif name in msg.doc_list_columns:
                _fill_doc_list_column(storage, name, kind, msg.doc_list_columns[name], budget)
            elif name in msg.value_columns:
                _fill_value_column(storage, name, kind, msg.value_columns[name])
            else:
                missing.append(name)
        except _Problem as p:
            _column_path(p, name)
            raise
    for name in missing:
        _fill_defaults(storage, name)
    return storage


def _fill_defaults(storage: ColumnStorage, name: str) -> None:
    """A field the payload has no column for (a payload of an older or another schema):
    its default in every document, or an error naming the field when it has none."""
    from docstack.array.doc_vec.doc_vec import _fill_column

    info = storage.doc_type.model_fields[name]
    if info.is_required():
        problem = _Problem(f"the payload has no column for the required field {name!r}")
        problem.path.append(name)
        raise problem
    values = [info.get_default(call_default_factory=True) for _ in range(storage.length)]
    _fill_column(storage, name, storage.kinds[name], values)


def _fill_tensor_column(storage: ColumnStorage, name: str, kind: FieldKind, c: Any) -> None:
    """One stacked tensor: one buffer read, its shape checked once against the field."""
    n = storage.length
    if kind.kind != "tensor":
        raise _Problem(f"a tensor column for a field that holds {_kind_text(kind)}")
    assert kind.tensor_cls is not None
    mask = _present(c.present, n, "the tensor column")
    if not c.HasField("data"):
        if mask is not None and mask.any():
            raise _Problem("a tensor column with present rows but no data", _CORRUPT)
        if n and not kind.optional:
            raise _indexed(_Problem("no value for this required tensor field"), 0)
        storage.tensors[name] = None
        return
    _framework(c.data)  # an unknown framework name is corrupt data, even where unused
    arr = _read_array(c.data)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise _Problem(f"a tensor column of shape {_short(arr.shape)} for {n} documents", _CORRUPT)
    spec = kind.tensor_cls.__docstack_shape__
    reason = None if spec is None else check_shape(tuple(arr.shape[1:]), spec)
    if reason is not None:
        raise _Problem(f"{kind.tensor_cls.__name__}: {reason}")
    if mask is not None:
        if mask.all():
            mask = None
        else:
            if not kind.optional:
                raise _indexed(
                    _Problem("no value for this required tensor field"), _first_missing(mask)
                )
            arr[~mask] = 0  # rows of documents without a value hold zeros
    cls = column_class(kind, storage.tensor_type)
    storage.tensors[name] = TensorColumn(cls._docstack_convert(arr), mask)


def _fill_doc_column(
    storage: ColumnStorage, name: str, kind: FieldKind, sub: Any, budget: _Budget
) -> None:
    from docstack.array.doc_vec import DocVec

    if kind.kind != "doc" or kind.doc_cls is AnyDoc:
        raise _Problem(f"a nested document column for a field that holds {_kind_text(kind)}")
    if sub.length != storage.length:
        raise _Problem(f"a nested column of {sub.length} documents for {storage.length}", _CORRUPT)
    nested = _build_storage(kind.doc_cls, sub, storage.tensor_type, budget)
    storage.docs[name] = DocVec[kind.doc_cls]._from_storage(nested)


def _fill_doc_list_column(
    storage: ColumnStorage, name: str, kind: FieldKind, c: Any, budget: _Budget
) -> None:
    from docstack.array.doc_vec import DocVec

    n = storage.length
    if kind.kind != "doclist" or kind.doc_cls is AnyDoc:
        raise _Problem(f"a column of DocVecs for a field that holds {_kind_text(kind)}")
    vecs = c.vecs
    if len(vecs) != n:
        raise _Problem(f"a column of {len(vecs)} DocVecs for {n} documents", _CORRUPT)
    mask = _present(c.present, n, "the DocList column")
    if mask is not None and not kind.optional and not mask.all():
        raise _indexed(_Problem("no list of documents"), _first_missing(mask))
    vec_cls = DocVec[kind.doc_cls]
    out: list[Any] = []
    for i, vec in enumerate(vecs):
        if mask is not None and not mask[i]:
            out.append(None)
            continue
        try:
            budget.take(vec.length)
            nested = _build_storage(kind.doc_cls, vec, storage.tensor_type, budget)
        except _Problem as p:
            raise _indexed(p, i) from None
        out.append(vec_cls._from_storage(nested))
    storage.doc_lists[name] = out


def _fill_value_column(storage: ColumnStorage, name: str, kind: FieldKind, c: Any) -> None:
    from docstack.array.doc_vec import DocVec

    anydoc = kind.kind in ("doc", "doclist") and kind.doc_cls is AnyDoc
    values = _read_value_column(c, storage.length, anydoc)
    if kind.kind == "tensor":
        storage.lists[name] = _ragged_rows(storage, kind, values)
    elif kind.kind == "doc":
        docs = _doc_values(kind, values, anydoc)
        if anydoc or any(d is None for d in docs):
            storage.lists[name] = docs
        else:
            storage.docs[name] = DocVec[kind.doc_cls](docs, tensor_type=storage.tensor_type)
    elif kind.kind == "doclist" and not anydoc:
        out: list[Any] = []
        for i, v in enumerate(values):
            if v is None and kind.optional:
                out.append(None)
                continue
            if not isinstance(v, list):
                got = "None" if v is None else type(v).__name__
                raise _indexed(_Problem(f"expected a list of documents, got {got}"), i)
            try:
                out.append(DocVec[kind.doc_cls](v, tensor_type=storage.tensor_type))
            except ValidationError as exc:
                raise _indexed(_from_validation(exc), i) from exc
        storage.doc_lists[name] = out
    else:
        try:
            storage.lists[name] = _column_adapter(storage.doc_type, name).validate_python(values)
        except ValidationError as exc:
            raise _from_validation(exc, index_first=True) from exc


def _ragged_rows(storage: ColumnStorage, kind: FieldKind, values: list[Any]) -> list[Any]:
    """Tensors of different shapes, one per document (or ``None``)."""
    assert kind.tensor_cls is not None
    cls = column_class(kind, storage.tensor_type)
    spec = kind.tensor_cls.__docstack_shape__
    rows: list[Any] = []
    for i, v in enumerate(values):
        if v is None:
            if not kind.optional:
                raise _indexed(_Problem("no value for this required tensor field"), i)
            rows.append(None)
            continue
        if framework_of(v) is None:
            raise _indexed(_Problem(f"expected a tensor, got {type(v).__name__}"), i)
        reason = None if spec is None else check_shape(tuple(v.shape), spec)
        if reason is not None:
            raise _indexed(_Problem(f"{kind.tensor_cls.__name__}: {reason}"), i)
        rows.append(cls._docstack_convert(v))
    return rows


def _doc_values(kind: FieldKind, values: list[Any], anydoc: bool) -> list[Any]:
    """Nested documents read as dicts (or ``AnyDoc``), validated as the field's class."""
    assert kind.doc_cls is not None
    out: list[Any] = []
    for i, v in enumerate(values):
        if v is None and kind.optional:
            out.append(None)
        elif anydoc and isinstance(v, AnyDoc):
            out.append(v)
        elif not anydoc and isinstance(v, dict):
            try:
                out.append(_validate_doc(kind.doc_cls, v))
            except ValidationError as exc:
                raise _indexed(_from_validation(exc), i) from exc
        else:
            got = "None" if v is None else type(v).__name__
            raise _indexed(_Problem(f"expected a document, got {got}"), i)
    return out


def _read_value_column(c: Any, n: int, anydoc: bool) -> list[Any]:
    """The values of a ``ValueColumnProto``, ``None`` where a document has none."""
    which = c.WhichOneof("values")
    if which is None:
        raise _Problem("an empty column (not written by docstack?)", _CORRUPT)
    if which == "items":
        items = c.items.values
        if len(items) != n:
            raise _Problem(f"a column of {len(items)} values for {n} documents", _CORRUPT)
        out = []
        for i, v in enumerate(items):
            try:
                out.append(_read_value(v, anydoc))
            except _Problem as p:
                raise _indexed(p, i) from None
        return out
    values = list(getattr(c, which).values)
    if len(values) != n:
        raise _Problem(f"a column of {len(values)} values for {n} documents", _CORRUPT)
    mask = _present(c.present, n, "the column")
    if mask is not None:
        for i in np.flatnonzero(~mask).tolist():
            values[i] = None
    return values


# -- a DocVecProto as rows ------------------------------------------------------------------


def _vec_rows(
    msg: Any, anydoc: bool, budget: _Budget, doc_cls: Optional[type] = None
) -> list[dict[str, Any]]:
    """The documents of a ``DocVecProto`` as one dict of fields each: for ``AnyDoc``
    (``anydoc``: nested documents as ``AnyDoc``) and for a class ``doc_cls`` validated
    document by document (nested documents as dicts, for pydantic to validate)."""
    n = msg.length
    names = _column_names(msg)
    if not names:
        if n:
            raise _Problem(f"{n} documents without any column", _CORRUPT)
        return []
    kinds = {} if doc_cls is None else doc_fields(doc_cls)
    columns: dict[str, list[Any]] = {}
    for name in names:
        try:
            columns[name] = _rows_of_column(msg, name, n, anydoc, budget, kinds.get(name))
        except _Problem as p:
            _column_path(p, name)
            raise
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def _rows_of_column(
    msg: Any, name: str, n: int, anydoc: bool, budget: _Budget, kind: Optional[FieldKind]
) -> list[Any]:
    nested_cls = None if kind is None or kind.doc_cls is AnyDoc else kind.doc_cls
    if name in msg.tensor_columns:
        c = msg.tensor_columns[name]
        mask = _present(c.present, n, "the tensor column")
        if not c.HasField("data"):
            if mask is not None and mask.any():
                raise _Problem("a tensor column with present rows but no data", _CORRUPT)
            return [None] * n
        fw = _framework(c.data)
        arr = _read_array(c.data)
        if arr.ndim == 0 or arr.shape[0] != n:
            raise _Problem(
                f"a tensor column of shape {_short(arr.shape)} for {n} documents", _CORRUPT
            )
        rows = [to_framework(row, fw) for row in arr]
        if mask is not None:
            rows = [r if m else None for r, m in zip(rows, mask.tolist())]
        return rows
    if name in msg.doc_columns:
        sub = msg.doc_columns[name]
        if sub.length != n:
            raise _Problem(f"a nested column of {sub.length} documents for {n}", _CORRUPT)
        nested = _vec_rows(sub, anydoc, budget, nested_cls)
        return [_anydoc(r, i) for i, r in enumerate(nested)] if anydoc else nested
    if name in msg.doc_list_columns:
        c = msg.doc_list_columns[name]
        if len(c.vecs) != n:
            raise _Problem(f"a column of {len(c.vecs)} DocVecs for {n} documents", _CORRUPT)
        mask = _present(c.present, n, "the DocList column")
        vec_cls = None if kind is None else _array_class(kind)
        out: list[Any] = []
        for i, vec in enumerate(c.vecs):
            if mask is not None and not mask[i]:
                out.append(None)
                continue
            try:
                budget.take(vec.length)
                rows: Any = _vec_rows(vec, anydoc, budget, nested_cls)
                if anydoc:
                    rows = DocList([_anydoc(r, j) for j, r in enumerate(rows)])
                elif vec_cls is not None:
                    rows = vec_cls(_validate_rows(vec_cls.doc_type, rows))
            except _Problem as p:
                raise _indexed(p, i) from None
            out.append(rows)
        return out
    return _read_value_column(msg.value_columns[name], n, anydoc)


def _anydoc(row: dict[str, Any], i: int) -> Any:
    try:
        return AnyDoc.model_validate(row)
    except ValidationError as exc:
        raise _indexed(_from_validation(exc), i) from exc


def _validate_rows(doc_cls: type, rows: list[dict[str, Any]]) -> list[Any]:
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(_validate_doc(doc_cls, row))
        except ValidationError as exc:
            raise _indexed(_from_validation(exc), i) from exc
    return out


# -- a DocVecProto for a DocVec or DocList class --------------------------------------------


def _framework_name(name: str) -> str:
    fw = _FRAMEWORKS.get(name)
    if fw is None:
        raise _Problem(f"unknown tensor framework {name[:40]!r}", _CORRUPT)
    return fw


def _vec_from_message(cls: type, msg: Any, tensor_type: Optional[type], size: int) -> Any:
    """An instance of the ``DocVec`` class ``cls`` from a ``DocVecProto``: column by column,
    or document by document for a class with validators of its own."""
    doc_cls = cls.doc_type
    if tensor_type is None:
        fw = _framework_name(msg.tensor_framework)
        tensor_type = None if fw == "numpy" else concrete_tensor_class("tensor", fw)
    elif tensor_type._docstack_framework == "any":
        tensor_type = None
    budget = _Budget(size)
    budget.take(msg.length)
    if _columnwise_safe(doc_cls):
        return cls._from_storage(_build_storage(doc_cls, msg, tensor_type, budget))
    docs = _validate_rows(doc_cls, _vec_rows(msg, False, budget, doc_cls))
    return cls(docs, tensor_type=tensor_type)


def _docs_from_vec_message(cls: type, msg: Any, size: int) -> list[Any]:
    """The documents of a ``DocVecProto``, for the ``DocList`` class ``cls``."""
    from docstack.array.doc_vec import DocVec

    doc_cls = cls.doc_type
    if doc_cls is not AnyDoc and _columnwise_safe(doc_cls):
        return list(_vec_from_message(DocVec[doc_cls], msg, None, size).to_doc_list())
    budget = _Budget(size)
    budget.take(msg.length)
    if doc_cls is AnyDoc:
        return [_anydoc(r, i) for i, r in enumerate(_vec_rows(msg, True, budget))]
    return _validate_rows(doc_cls, _vec_rows(msg, False, budget, doc_cls))


# -- version and identity checks ------------------------------------------------------------


def _check_version(msg: Any, what: str, strict: bool) -> None:
    """A stand-alone message carries :data:`SCHEMA_VERSION`; a message object without one
    (a document taken out of a list) is accepted, bytes without one are not docstack's."""
    version = msg.schema_version
    if version == SCHEMA_VERSION or (version == 0 and not strict):
        return
    if version == 0:
        raise DeserializationError(
            f"not a docstack {what} message: it carries no schema version (bytes of another "
            "protocol or schema, or corrupt)"
        )
    raise DeserializationError(
        f"the {what} message was written with docstack protobuf schema version {version}; "
        f"this docstack reads version {SCHEMA_VERSION}"
    )


def _check_no_unknown_fields(msg: Any, what: str) -> None:
    from google.protobuf import unknown_fields

    if len(unknown_fields.UnknownFieldSet(msg)):
        raise DeserializationError(
            f"not a docstack {what} message: it holds fields the schema does not know "
            "(bytes of another protocol or schema, or corrupt)"
        )


def _parse(message_cls: type, data: Any, what: str) -> Any:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    try:
        msg = message_cls.FromString(bytes(data) if isinstance(data, memoryview) else data)
    except Exception as exc:  # noqa: BLE001 - DecodeError, or anything else garbage triggers
        raise DeserializationError(
            f"cannot read {what} from protobuf bytes: they are truncated, corrupt or not a "
            f"docstack protobuf payload ({exc})"
        ) from exc
    _check_no_unknown_fields(msg, what)
    return msg


def _wrap_read(
    run: Callable[[], Any], label: str, doc_name: str, written_for: str, first_is_doc: bool
) -> Any:
    """Run a reader; turn every failure into a docstack error that names the document and
    field (garbage must never escape as another exception)."""
    try:
        return run()
    except _Problem as p:
        raise _error(p, "read", label, doc_name, written_for, first_is_doc) from p.__cause__
    except ValidationError as exc:
        problem = _from_validation(exc, first_is_doc)
        raise _error(problem, "read", label, doc_name, written_for, first_is_doc) from exc
    except DocstackError:
        raise
    except RecursionError as exc:
        raise DeserializationError(f"cannot read {label}: documents nested too deep") from exc
    except Exception as exc:  # noqa: BLE001
        raise DeserializationError(f"cannot read {label}: corrupt payload ({exc})") from exc


def _wrap_write(run: Callable[[], Any], label: str, first_is_doc: bool) -> Any:
    try:
        return run()
    except _Problem as p:
        raise _error(p, "write", label, first_is_doc=first_is_doc) from p.__cause__


# -- public API -----------------------------------------------------------------------------


def doc_to_protobuf(doc: Any) -> Any:
    """A document as a ``DocProto`` message.

    Parameters
    ----------
    doc:
        Any docstack document.

    Returns
    -------
    The ``DocProto`` (with the class name and schema version).

    Raises
    ------
    SerializationError
        A field holds a value the schema cannot hold; the error names the field.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> msg = doc_to_protobuf(TextDoc(text='hi'))
    >>> msg.doc_type, msg.fields['text'].str_value
    ('TextDoc', 'hi')
    """
    pb = _pb()
    msg = pb.DocProto()
    cls = _doc_class(doc)
    msg.doc_type = cls.__name__
    msg.schema_version = SCHEMA_VERSION
    _wrap_write(lambda: _write_fields(msg, doc), cls.__name__, False)
    return msg


def doc_from_protobuf(cls: type, msg: Any) -> Any:
    """Read a document of class ``cls`` from a ``DocProto`` message.

    Parameters
    ----------
    cls:
        The document class.
    msg:
        A ``DocProto`` (as :func:`doc_to_protobuf` makes).

    Returns
    -------
    The document, validated like any new document of ``cls``.

    Raises
    ------
    SchemaMismatchError
        The message holds a field ``cls`` does not have, or a value that does not fit its
        field (the error names the field).
    DeserializationError
        The message is corrupt (a tensor whose buffer does not match its shape, an unknown
        dtype) or of another schema version.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> doc_from_protobuf(TextDoc, doc_to_protobuf(TextDoc(text='hi'))).text
    'hi'
    """
    pb = _pb()
    if not isinstance(msg, pb.DocProto):
        raise DeserializationError(
            f"{cls.__name__}.from_protobuf needs a DocProto message, got {type(msg).__name__}"
        )
    return _doc_from_message(cls, msg, strict=False)


def _doc_from_message(cls: type, msg: Any, strict: bool) -> Any:
    _check_version(msg, "DocProto", strict)
    cls = getattr(cls, "__docstack_view_of__", None) or cls
    return _wrap_read(lambda: _read_doc(cls, msg), cls.__name__, cls.__name__, msg.doc_type, False)


def array_to_protobuf(docs: Any) -> Any:
    """A ``DocList`` as a ``DocListProto``, a ``DocVec`` as a column-wise ``DocVecProto``.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.

    Returns
    -------
    The message.

    Raises
    ------
    SerializationError
        A value the schema cannot hold; the error names the document and field.

    Example
    -------
    >>> from docstack import DocList, DocVec
    >>> from docstack.documents import TextDoc
    >>> docs = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')])
    >>> len(array_to_protobuf(docs).docs)
    2
    >>> array_to_protobuf(DocVec[TextDoc](docs)).length
    2
    """
    pb = _pb()
    if getattr(type(docs), "_docstack_columnar", False):
        msg = pb.DocVecProto()
        _fill_vec_message(msg, docs)
    else:
        msg = pb.DocListProto()
        _fill_list_message(msg, docs)
    return msg


def _fill_vec_message(msg: Any, docs: Any) -> None:
    storage = docs._storage
    msg.doc_type = docs.doc_type.__name__
    msg.schema_version = SCHEMA_VERSION
    tensor_type = storage.tensor_type
    fw = "numpy" if tensor_type is None else tensor_type._docstack_framework
    if fw not in ("numpy", "any"):
        msg.tensor_framework = fw
    _wrap_write(lambda: _write_doc_vec(msg, storage), type(docs).__name__, False)


def _fill_list_message(msg: Any, docs: Any) -> None:
    msg.doc_type = docs.doc_type.__name__
    msg.schema_version = SCHEMA_VERSION
    _wrap_write(lambda: _write_docs(msg, docs), type(docs).__name__, True)


def array_from_protobuf(cls: type, msg: Any, tensor_type: Optional[type] = None) -> Any:
    """Read a ``DocList`` or ``DocVec`` class ``cls`` from a message.

    Either message kind fits either class: a ``DocListProto`` read by a ``DocVec`` class is
    stacked into columns, a ``DocVecProto`` read by a ``DocList`` class is split into
    documents.

    Parameters
    ----------
    cls:
        The parametrized array class, e.g. ``DocList[MyDoc]`` or ``DocVec[MyDoc]``.
    msg:
        A ``DocListProto``, ``DocVecProto`` or ``ArrayProto``.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns (default: the one the
        ``DocVec`` was written with).

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    SchemaMismatchError
        The documents do not fit ``cls``'s document type (the error names the document and
        field).
    DeserializationError
        The message is corrupt or of another schema version.

    Example
    -------
    >>> from docstack import DocList, DocVec
    >>> from docstack.documents import TextDoc
    >>> docs = DocList[TextDoc]([TextDoc(text='a')])
    >>> array_from_protobuf(DocVec[TextDoc], array_to_protobuf(docs)).text
    ['a']
    """
    return _array_from_message(cls, msg, tensor_type, strict=False, size=-1)


def _array_from_message(
    cls: type, msg: Any, tensor_type: Optional[type], strict: bool, size: int
) -> Any:
    pb = _pb()
    columnar = getattr(cls, "_docstack_columnar", False)
    if not columnar and tensor_type is not None:
        raise TypeError(
            f"tensor_type= applies to a DocVec; {cls.__name__} keeps each document's tensors"
        )
    if columnar and cls.doc_type is AnyDoc:
        raise DocTypeError("DocVec needs a document type: DocVec[MyDoc].from_protobuf(msg)")
    if isinstance(msg, pb.ArrayProto):
        which = msg.WhichOneof("array")
        if which is None:
            raise DeserializationError("not a docstack protobuf array: an empty ArrayProto")
        msg = getattr(msg, which)
    label, doc_name = cls.__name__, cls.doc_type.__name__
    if isinstance(msg, pb.DocListProto):
        _check_version(msg, "DocListProto", strict)
        if strict:
            _check_no_unknown_fields(msg, "DocListProto")
        doc_cls = cls.doc_type

        def read_list() -> Any:
            docs = _read_docs(doc_cls, msg)
            if columnar:
                return cls(docs, tensor_type=tensor_type)
            return cls(docs, validate_input_docs=False)

        return _wrap_read(read_list, label, doc_name, msg.doc_type, True)
    if isinstance(msg, pb.DocVecProto):
        _check_version(msg, "DocVecProto", strict)
        if strict:
            _check_no_unknown_fields(msg, "DocVecProto")
        nbytes = size if size >= 0 else msg.ByteSize()

        def read_vec() -> Any:
            if columnar:
                return _vec_from_message(cls, msg, tensor_type, nbytes)
            return cls(_docs_from_vec_message(cls, msg, nbytes), validate_input_docs=False)

        return _wrap_read(read_vec, label, doc_name, msg.doc_type, True)
    raise DeserializationError(
        f"{label}.from_protobuf needs a DocListProto, DocVecProto or ArrayProto message, got "
        f"{type(msg).__name__}"
    )


def doc_to_protobuf_bytes(doc: Any) -> bytes:
    """A document as the bytes of its ``DocProto`` (the ``'protobuf'`` protocol).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> data = doc_to_protobuf_bytes(TextDoc(text='hi'))
    >>> doc_from_protobuf_bytes(TextDoc, data).text
    'hi'
    """
    return doc_to_protobuf(doc).SerializeToString()


def doc_from_protobuf_bytes(cls: type, data: bytes | bytearray | memoryview) -> Any:
    """Read a document of class ``cls`` from :func:`doc_to_protobuf_bytes`'s bytes.

    Parameters
    ----------
    cls:
        The document class.
    data:
        The bytes of a ``DocProto``.

    Returns
    -------
    The validated document.

    Raises
    ------
    DeserializationError
        The bytes are truncated, corrupt or not a docstack ``DocProto``.
    SchemaMismatchError
        They hold a document of another schema (the error names the field).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> doc_from_protobuf_bytes(TextDoc, b'garbage')
    Traceback (most recent call last):
    ...
    docstack.errors.DeserializationError: cannot read DocProto from protobuf bytes: ...
    """
    pb = _pb()
    msg = _parse(pb.DocProto, data, "DocProto")
    return _doc_from_message(cls, msg, strict=True)


def array_to_protobuf_bytes(docs: Any) -> bytes:
    """A ``DocList`` or ``DocVec`` as the bytes of an ``ArrayProto`` (the
    ``'protobuf-array'`` protocol): a ``DocListProto`` or column-wise ``DocVecProto``.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> data = array_to_protobuf_bytes(DocList[TextDoc]([TextDoc(text='a')]))
    >>> array_from_protobuf_bytes(DocList[TextDoc], data).text
    ['a']
    """
    pb = _pb()
    envelope = pb.ArrayProto()
    if getattr(type(docs), "_docstack_columnar", False):
        _fill_vec_message(envelope.doc_vec, docs)
    else:
        _fill_list_message(envelope.doc_list, docs)
    return envelope.SerializeToString()


def array_from_protobuf_bytes(
    cls: type, data: bytes | bytearray | memoryview, tensor_type: Optional[type] = None
) -> Any:
    """Read ``cls`` (``DocList[T]`` or ``DocVec[T]``) from
    :func:`array_to_protobuf_bytes`'s bytes; either kind of array fits either class.

    Parameters
    ----------
    cls:
        The parametrized array class.
    data:
        The bytes of an ``ArrayProto``.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    DeserializationError
        The bytes are truncated, corrupt or not a docstack ``ArrayProto``.
    SchemaMismatchError
        They hold documents of another schema (the error names the document and field).

    Example
    -------
    >>> from docstack import DocList, DocVec
    >>> from docstack.documents import TextDoc
    >>> data = array_to_protobuf_bytes(DocVec[TextDoc]([TextDoc(text='a')]))
    >>> array_from_protobuf_bytes(DocList[TextDoc], data).text
    ['a']
    """
    pb = _pb()
    msg = _parse(pb.ArrayProto, data, "ArrayProto")
    if msg.WhichOneof("array") is None:
        raise DeserializationError(
            "not a docstack protobuf array: the bytes hold neither a DocListProto nor a DocVecProto"
        )
    return _array_from_message(cls, msg, tensor_type, strict=True, size=len(data))
