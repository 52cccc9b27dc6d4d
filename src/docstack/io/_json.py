"""The JSON codec behind ``to_json``/``from_json`` of documents, ``DocList`` and ``DocVec``.

What is written
---------------
A document is a JSON object with one key per field; an array of documents (``DocList`` or
``DocVec``) is a JSON array of such objects, and a ``DocList`` and a ``DocVec`` of the same
documents give the same text, so each reads what the other writes. The text is the one
pydantic writes for the document class (``model_dump_json(by_alias=True)``, as FastAPI
writes responses; keys are the fields' aliases where they have one, so that the text
validates again), only faster: columns are converted at once and the whole payload goes
through one ``orjson.dumps`` call.

* Tensors (of every framework) are nested lists of numbers. ``float16`` and ``float32``
  values are written as the exact decimal of their value (``0.1`` as float32 is written
  ``0.10000000149011612``), so reading them back gives equal values.
* ``NaN``, ``Infinity`` and ``-Infinity`` (in tensors and ``float`` fields) are written as
  those bare words, as pydantic and Python's :mod:`json` write them (``ser_json_inf_nan=
  'constants'``). This is not strict JSON, but they are never lost: ``orjson`` alone would
  write ``null``, which reads back as ``None`` or fails validation.
* ``bytes`` fields are base64 (URL-safe alphabet); ids and URLs are strings.
* Nested documents are objects, ``DocList`` fields arrays of objects; ``None`` is ``null``.
* A document is written as the class its array (or field) declares: a subclass instance in
  a ``DocList[Base]`` is written with ``Base``'s fields, as pydantic does. An untyped
  ``DocList`` writes each document as its own class.

What is read
------------
The text is parsed and validated by pydantic (``validate_json``, in Rust) exactly as the
document class validates JSON, custom validators included. JSON does not record a tensor's
dtype or framework, so a tensor comes back as its field's validation makes it from a list of
numbers: ``float64`` when the list holds floats, ``int64`` for integers, ``bool`` for
booleans (a jax field gives ``float32``/``int32`` unless jax's x64 mode is on), and in the
field's framework (an ``AnyTensor`` field of a ``DocList`` becomes a numpy array; a
``DocVec``'s ``AnyTensor`` columns follow ``tensor_type``). Values are equal to what was
written, so ``from_json(to_json(x)) == x``, with one exception JSON cannot avoid: ``[]`` has
no inner dimensions, so a tensor with a zero-size dimension followed by others (shape
``(0, 3)``) reads back as shape ``(0,)``. An untyped ``DocList`` reads ``AnyDoc`` documents,
whose tensors stay lists.

Errors
------
* Text that is not JSON, or JSON that is not an object (a document) or an array (an array of
  documents): :class:`~docstack.errors.DeserializationError`.
* A document that does not validate as the class: :class:`~docstack.errors.SchemaMismatchError`
  naming the document's index in the array and the field (``document 3, field
  'embedding': ...``); pydantic's ``ValidationError`` is its ``__cause__``. Nothing
  half-built is returned.
* A value pydantic cannot serialize: :class:`~docstack.errors.SerializationError` naming the
  document and field. (Complex tensors are written as pydantic writes complex numbers,
  strings such as ``"1+2j"``, which a tensor field refuses when reading.)

Example
-------
>>> from docstack import DocList, DocVec
>>> from docstack.documents import TextDoc
>>> docs = DocList[TextDoc]([TextDoc(text='a', id='1'), TextDoc(text='b', id='2')])
>>> text = docs.to_json()
>>> text == docs.to_doc_vec().to_json()
True
>>> DocVec[TextDoc].from_json(text).text
['a', 'b']
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Annotated, Any, Optional

import numpy as np
import orjson
import pydantic_core
from pydantic import ConfigDict, PydanticUserError, TypeAdapter, ValidationError

from docstack._internal.dicts import dict_maker
from docstack._internal.fields import doc_fields, is_docstack_str, unwrap_optional
from docstack._internal.gc_pause import paused_gc
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.io import _json_columns
from docstack.typing.tensor._convert import to_numpy

__all__ = [
    "doc_to_json",
    "doc_from_json",
    "array_to_json",
    "array_from_json",
    "doc_json_bytes",
    "array_json_bytes",
]

_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_INF_NAN = {"nan": b"NaN", "inf": b"Infinity", "-inf": b"-Infinity"}

# -- the garbage collector --------------------------------------------------------------------
#
# -- writing: what to do with each field -------------------------------------------------------


@dataclass(frozen=True)
class _FieldPlan:
    """How the values of one field become JSON values."""

    name: str
    key: str  # the JSON key: the field's serialization alias, else its name
    # 'tensor', 'doc', 'doclist', 'native' (orjson writes the value as pydantic would),
    # 'float', 'bytes' or 'generic' (pydantic writes each value)
    kind: str
    doc_cls: Optional[type] = None
    adapter: Optional[TypeAdapter] = None


# the serialization settings of BaseDoc; a class that changes them is written by pydantic
_DEFAULT_SER_CONFIG = {"ser_json_bytes": "base64", "ser_json_inf_nan": "constants"}
_SER_CONFIG_KEYS = (
    "ser_json_bytes",
    "ser_json_inf_nan",
    "ser_json_timedelta",
    "ser_json_temporal",
    "arbitrary_types_allowed",
)


def _base_class(cls: type) -> type:
    """The document class behind a view class (or the class itself)."""
    return getattr(cls, "__docstack_view_of__", None) or cls


def _is_native_annotation(inner: Any) -> bool:
    """Whether orjson writes values of this (non-optional) annotation as pydantic does."""
    # docstack's own str types (ID, URLs) serialize as plain str
    return inner in (str, int, bool, type(None)) or is_docstack_str(inner)


def _field_adapter(cls: type, name: str) -> TypeAdapter:
    """A TypeAdapter that serializes values of field ``name`` as the class does."""
    info = cls.model_fields[name]
    tp: Any = info.annotation
    if info.metadata:
        tp = Annotated[(tp, *info.metadata)]  # type: ignore[valid-type]
    config = {k: cls.model_config[k] for k in _SER_CONFIG_KEYS if k in cls.model_config}
    try:
        return TypeAdapter(tp, config=config)  # type: ignore[arg-type]
    except PydanticUserError:  # a model or dataclass type brings its own config
        return TypeAdapter(tp)


@cache
def _write_plan(cls: type) -> Optional[tuple[_FieldPlan, ...]]:
    """The per-field plan of a document class, or ``None`` when pydantic must write it
    (custom serializers, computed or excluded fields, extra fields, changed JSON settings)."""
    config = cls.model_config
    if config.get("extra") == "allow":
        return None
    if any(config.get(k) != v for k, v in _DEFAULT_SER_CONFIG.items()):
        return None
    decorators = cls.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers or decorators.computed_fields:
        return None
    plan = []
    for name, kind in doc_fields(cls).items():
        info = cls.model_fields[name]
        if info.exclude or getattr(info, "exclude_if", None) is not None:
            return None
        key = info.serialization_alias or name
        if info.metadata:
            # constraints or serializers in Annotated[...]: let pydantic write the values
            plan.append(_FieldPlan(name, key, "generic", adapter=_field_adapter(cls, name)))
        elif kind.kind == "tensor":
            plan.append(_FieldPlan(name, key, "tensor"))
        elif kind.kind in ("doc", "doclist") and _base_class(kind.doc_cls) is not _any_doc():
            plan.append(_FieldPlan(name, key, kind.kind, doc_cls=kind.doc_cls))
        else:
            inner, _ = unwrap_optional(info.annotation)
            if kind.kind == "other" and _is_native_annotation(inner):
                plan.append(_FieldPlan(name, key, "native"))
            elif kind.kind == "other" and inner is float:
                plan.append(_FieldPlan(name, key, "float"))
            elif kind.kind == "other" and isinstance(inner, type) and issubclass(inner, bytes):
                plan.append(_FieldPlan(name, key, "bytes"))
            else:
                plan.append(_FieldPlan(name, key, "generic", adapter=_field_adapter(cls, name)))
    return tuple(plan)


def _any_doc() -> type:
    from docstack.base_doc import AnyDoc

    return AnyDoc


# -- writing: tensors -------------------------------------------------------------------------


def _as_numpy(value: Any) -> np.ndarray:
    if type(value) is np.ndarray:
        return value
    if isinstance(value, np.ndarray):
        return value.view(np.ndarray)
    return to_numpy(value)


def _non_finite_fragment(row: np.ndarray) -> orjson.Fragment:
    """A row holding NaN or infinities, written with the JSON constants pydantic uses."""
    return orjson.Fragment(pydantic_core.to_json(row.tolist(), inf_nan_mode="constants"))


def _rows_json(stacked: np.ndarray) -> list[Any]:
    """JSON values of the rows of ``stacked`` (axis 0 = documents): C-contiguous float64,
    integer or bool arrays that orjson writes natively, Python scalars for 0-d tensors, or
    fragments for rows holding non-finite values."""
    kind = stacked.dtype.kind
    if kind == "f":
        if stacked.dtype != np.float64:
            stacked = stacked.astype(np.float64)
    elif kind in "iub":
        if not stacked.dtype.isnative:
            stacked = stacked.astype(stacked.dtype.newbyteorder("="))
    else:
        # complex numbers: left to pydantic's writer (see _FAST_PATH_ERRORS)
        raise SerializationError(f"JSON cannot hold a tensor of dtype {stacked.dtype}")
    stacked = np.ascontiguousarray(stacked)
    rows: list[Any] = stacked.tolist() if stacked.ndim == 1 else list(stacked)
    if kind == "f" and stacked.size:
        finite = np.isfinite(stacked)
        if not finite.all():
            good = finite.reshape(len(stacked), -1).all(axis=1)
            for i in np.flatnonzero(~good).tolist():
                rows[i] = _non_finite_fragment(stacked[i])
    return rows


_SHAPE, _DTYPE = attrgetter("shape"), attrgetter("dtype")


def _tensor_values_json(values: list[Any]) -> list[Any]:
    """JSON values of one tensor (or ``None``) per document."""
    present: Optional[list[int]] = None
    if set(map(type, values)) == {np.ndarray}:
        arrays = values  # the common column: a plain array in every document
    else:
        present = [i for i, v in enumerate(values) if v is not None]
        if not present:
            return list(values)
        arrays = [_as_numpy(values[i]) for i in present]
    if len(set(map(_SHAPE, arrays))) == 1 and len(set(map(_DTYPE, arrays))) == 1:
        # one C loop stacks (and widens) the whole column
        dtype = arrays[0].dtype
        rows = _rows_json(np.array(arrays, dtype=np.float64 if dtype.kind == "f" else dtype))
    else:
        rows = [_rows_json(a[None])[0] for a in arrays]
    if present is None:
        return rows
    out = list(values)
    for i, row in zip(present, rows):
        out[i] = row
    return out


def _tensor_column_json(column: Any, length: int) -> list[Any]:
    """JSON values of a stacked ``DocVec`` tensor column (``None`` where masked)."""
    if column is None:
        return [None] * length
    rows = _rows_json(_as_numpy(column.data))
    if column.mask is not None:
        for i in np.flatnonzero(~column.mask).tolist():
            rows[i] = None
    return rows


# -- writing: other fields --------------------------------------------------------------------


def _float_json(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return orjson.Fragment(_INF_NAN[repr(value)])


def _bytes_json(value: Any) -> Any:
    if value is None:
        return None
    return base64.urlsafe_b64encode(value).decode("ascii")


def _generic_json(adapter: TypeAdapter, values: list[Any]) -> list[Any]:
    dump = adapter.dump_json
    return [None if v is None else orjson.Fragment(dump(v, by_alias=True)) for v in values]


def _docs_json(doc_cls: type, values: list[Any]) -> list[Any]:
    """JSON values of one nested document (or ``None``) per document."""
    out = list(values)
    present = [i for i, v in enumerate(values) if v is not None]
    if present:
        rows = _docs_rows(doc_cls, [values[i] for i in present])
        for i, row in zip(present, rows):
            out[i] = row
    return out


def _doc_lists_json(doc_cls: type, values: list[Any]) -> list[Any]:
    """JSON values of one array of documents (or ``None``) per document: the documents of
    every array are written in one go, then split again."""
    flat = [d for v in values if v is not None for d in v]
    rows = _docs_rows(doc_cls, flat) if flat else []
    out: list[Any] = []
    start = 0
    for v in values:
        if v is None:
            out.append(None)
        else:
            n = len(v)
            out.append(rows[start : start + n])
            start += n
    return out


def _scalar_json(plan: _FieldPlan, values: list[Any]) -> list[Any]:
    if plan.kind == "native":
        return values
    if plan.kind == "float":
        return list(map(_float_json, values))
    if plan.kind == "bytes":
        return list(map(_bytes_json, values))
    assert plan.adapter is not None
    return _generic_json(plan.adapter, values)


# -- writing: documents -----------------------------------------------------------------------


def _assemble(names: list[str], columns: list[list[Any]], n: int) -> list[dict[str, Any]]:
    """One dict per document from one column per name (a document class without fields
    still gives ``n`` objects)."""
    if not names:
        return [{} for _ in range(n)]
    return list(map(dict_maker(tuple(names)), *columns))


def _docs_rows(doc_cls: type, docs: list[Any]) -> list[Any]:
    """One JSON value (a dict for orjson, or a fragment) per document of ``docs``, each
    written as an instance of ``doc_cls`` (the declared type: a subclass instance is
    written with ``doc_cls``'s fields, as pydantic does)."""
    doc_cls = _base_class(doc_cls)
    plan = _write_plan(doc_cls)
    if plan is None:
        to_json = doc_cls.__pydantic_serializer__.to_json
        return [orjson.Fragment(_pydantic_doc_json(to_json, d, i)) for i, d in enumerate(docs)]
    names, columns = [], []
    for field in plan:
        values = list(map(attrgetter(field.name), docs))
        if field.kind == "tensor":
            values = _tensor_values_json(values)
        elif field.kind == "doc":
            values = _docs_json(field.doc_cls, values)  # type: ignore[arg-type]
        elif field.kind == "doclist":
            values = _doc_lists_json(field.doc_cls, values)  # type: ignore[arg-type]
        else:
            values = _scalar_json(field, values)
        names.append(field.key)
        columns.append(values)
    return _assemble(names, columns, len(docs))


def _storage_rows(doc_cls: type, storage: Any) -> list[Any]:
    """One JSON value per document of a ``DocVec``'s column storage, read column by column."""
    plan = _write_plan(doc_cls)
    n = storage.length
    if plan is None:
        from docstack.array.doc_vec import DocVec

        docs = DocVec[doc_cls]._from_storage(storage).to_doc_list()
        return _docs_rows(doc_cls, list(docs))
    names, columns = [], []
    for field in plan:
        where, col = storage.column(field.name)
        if field.kind == "tensor":
            if where == "tensor":
                values = _tensor_column_json(col, n)
            else:  # tensors of different shapes, kept as a list
                values = _tensor_values_json(list(col))
        elif field.kind == "doc":
            if where == "doc":
                values = _storage_rows(field.doc_cls, col._storage)  # type: ignore[arg-type]
            else:  # some nested documents are None
                values = _docs_json(field.doc_cls, list(col))  # type: ignore[arg-type]
        elif field.kind == "doclist":
            if where == "doclist":
                values = [
                    None if v is None else _storage_rows(field.doc_cls, v._storage)  # type: ignore[arg-type]
                    for v in col
                ]
            else:
                values = _doc_lists_json(field.doc_cls, list(col))  # type: ignore[arg-type]
        else:
            values = _scalar_json(field, _plain_values(storage, field.name, where, col))
        names.append(field.key)
        columns.append(values)
    return _assemble(names, columns, n)


def _plain_values(storage: Any, name: str, where: str, col: Any) -> list[Any]:
    """One value per document of a column, as a document's field holds it (nested
    arrays as ``DocList``), for fields pydantic writes."""
    if where == "list":
        return list(col)
    out = []
    for i in range(storage.length):
        value = storage.get_value(name, i)
        out.append(value.to_doc_list() if hasattr(value, "to_doc_list") else value)
    return out


def _mixed_rows(docs: list[Any]) -> list[Any]:
    """Rows of documents of any classes (an untyped ``DocList``), each as its own class."""
    groups: dict[type, list[int]] = {}
    for i, d in enumerate(docs):
        groups.setdefault(_base_class(type(d)), []).append(i)
    out: list[Any] = [None] * len(docs)
    for cls, positions in groups.items():
        rows = _docs_rows(cls, [docs[i] for i in positions])
        for i, row in zip(positions, rows):
            out[i] = row
    return out


# -- writing: pydantic, for what orjson cannot write --------------------------------------------


def _pydantic_doc_json(to_json: Any, doc: Any, index: Optional[int]) -> bytes:
    try:
        return to_json(doc, by_alias=True)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError) as exc:
        raise _serialization_error(doc, index, exc) from exc


def _serialization_error(doc: Any, index: Optional[int], exc: Exception) -> SerializationError:
    """An error naming the document and, where it can be found, the field."""
    where = "the document" if index is None else f"document {index}"
    cls = _base_class(type(doc))
    to_json = cls.__pydantic_serializer__.to_json
    for name in cls.model_fields:
        try:
            to_json(doc, include={name}, by_alias=True)
        except Exception:  # noqa: BLE001 - any failure locates the field
            where += f", field {name!r}"
            break
    return SerializationError(f"{where} cannot be written as JSON: {exc}")


def _pydantic_rows(doc_cls: Optional[type], docs: list[Any]) -> bytes:
    """The JSON array as pydantic writes it: each document as ``doc_cls`` (or its own class)."""
    parts = []
    for i, d in enumerate(docs):
        cls = _base_class(doc_cls or type(d))
        parts.append(_pydantic_doc_json(cls.__pydantic_serializer__.to_json, d, i))
    return b"[" + b",".join(parts) + b"]"


# what makes the fast writer give up: orjson cannot write a value (an int beyond 64 bits, a
# str with surrogates, an unknown type) or a tensor JSON has no numbers for (complex);
# pydantic's writer then writes the payload, or raises an error naming the document and field
_FAST_PATH_ERRORS = (TypeError, ValueError)


# -- public: writing ----------------------------------------------------------------------------


def doc_json_bytes(doc: Any) -> bytes:
    """The JSON of one document, as UTF-8 bytes (see :func:`doc_to_json`).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> doc_json_bytes(TextDoc(text='hi', id='1'))[:23]
    b'{"id":"1","text":"hi","'
    """
    cls = _base_class(type(doc))
    with paused_gc():
        try:
            return orjson.dumps(_docs_rows(cls, [doc])[0], option=_DUMP_OPTIONS)
        except _FAST_PATH_ERRORS:
            return _pydantic_doc_json(cls.__pydantic_serializer__.to_json, doc, None)


def doc_to_json(doc: Any) -> str:
    """The JSON of one document: an object with one key per field.

    Parameters
    ----------
    doc:
        A document (a view of a ``DocVec`` too).

    Returns
    -------
    The text ``doc.model_dump_json()`` gives, written faster; see the module docstring
    for tensors, non-finite floats and bytes.

    Raises
    ------
    SerializationError
        A value JSON cannot hold; the message names the field.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class Point(BaseDoc):
    ...     xy: NdArray[2]
    >>> doc_to_json(Point(xy=np.array([0.5, 1.0], dtype=np.float32), id='p'))
    '{"id":"p","xy":[0.5,1.0]}'
    """
    return doc_json_bytes(doc).decode("utf-8")


def array_json_bytes(docs: Any) -> bytes:
    """The JSON of a ``DocList``, ``DocVec`` or list of documents, as UTF-8 bytes.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> array_json_bytes(DocList[TextDoc]())
    b'[]'
    """
    storage = getattr(docs, "_storage", None)
    doc_type = getattr(type(docs), "doc_type", None)
    typed = doc_type is not None and doc_type is not _any_doc()
    with paused_gc():
        try:
            if storage is not None:  # a DocVec: column by column
                rows = _storage_rows(doc_type, storage)  # type: ignore[arg-type]
            elif typed:
                rows = _docs_rows(doc_type, list(docs))  # type: ignore[arg-type]
            else:
                rows = _mixed_rows(list(docs))
            return orjson.dumps(rows, option=_DUMP_OPTIONS)
        except _FAST_PATH_ERRORS:
            listed = list(docs.to_doc_list()) if storage is not None else list(docs)
            return _pydantic_rows(doc_type if typed else None, listed)


def array_to_json(docs: Any) -> str:
    """The JSON of a ``DocList`` or ``DocVec``: an array of document objects.

    A ``DocList`` and a ``DocVec`` of the same documents give the same text. A ``DocVec``
    is read column by column: each tensor column is converted once, not row by row.

    Parameters
    ----------
    docs:
        A ``DocList`` (typed or not) or a ``DocVec``.

    Returns
    -------
    The JSON text.

    Raises
    ------
    SerializationError
        A value JSON cannot hold; the message names the document and field.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> array_to_json(DocList[TextDoc]([TextDoc(text='a', id='1')]))
    '[{"id":"1","text":"a","url":null,"embedding":null,"bytes_":null}]'
    """
    return array_json_bytes(docs).decode("utf-8")


# -- reading ------------------------------------------------------------------------------------


def _check_input(data: Any, what: str) -> Any:
    if isinstance(data, (str, bytes, bytearray)):
        return data
    if isinstance(data, memoryview):
        return data.tobytes()
    raise TypeError(f"{what}.from_json takes str or bytes, got {type(data).__name__}")


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MAX_ERRORS = 5


def _translate(exc: ValidationError, label: str, is_array: bool) -> DeserializationError:
    """A docstack error for a failed ``validate_json``, naming documents and fields."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return DeserializationError(
            f"{label}.from_json: the data is not valid JSON: {first['msg']}"
        )
    if first["loc"] == () and first["type"] in (
        "list_type",
        "model_type",
        "model_attributes_type",
        "dict_type",
    ):
        expected = "an array of document objects" if is_array else "an object"
        return DeserializationError(
            f"{label}.from_json expects {expected}, got {_json_kind(first.get('input'))}"
        )
    parts = []
    for err in errors[:_MAX_ERRORS]:
        loc = tuple(err["loc"])
        if is_array and loc and isinstance(loc[0], int):
            where = f"document {loc[0]}"
            if len(loc) > 1:
                where += f", field {_loc_text(loc[1:])!r}"
        else:
            where = f"field {_loc_text(loc)!r}" if loc else "the document"
        parts.append(f"{where}: {err['msg']}")
    more = f" (and {len(errors) - _MAX_ERRORS} more errors)" if len(errors) > _MAX_ERRORS else ""
    return SchemaMismatchError(f"the JSON does not fit {label}: " + "; ".join(parts) + more)


@cache
def _list_adapter(doc_cls: type) -> TypeAdapter:
    # no string cache: ids and texts are mostly unique, and looking them up in the parser's
    # cache cost more than it saved (5% of reading 100k documents)
    return TypeAdapter(list[doc_cls], config=ConfigDict(cache_strings="none"))  # type: ignore[valid-type]


def doc_from_json(cls: type, data: str | bytes | bytearray) -> Any:
    """Read one document of class ``cls`` from the JSON object :func:`doc_to_json` writes.

    Parameters
    ----------
    cls:
        The document class.
    data:
        The JSON text, or UTF-8 bytes.

    Returns
    -------
    The document, validated as ``cls.model_validate_json`` validates it.

    Raises
    ------
    DeserializationError
        The data is not JSON, or not a JSON object.
    SchemaMismatchError
        The object does not validate as ``cls``; the message names the field.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> doc_from_json(TextDoc, '{"id": "1", "text": "hi"}').text
    'hi'
    """
    data = _check_input(data, cls.__name__)
    try:
        with paused_gc():
            return cls.__pydantic_validator__.validate_json(data)
    except ValidationError as exc:
        raise _translate(exc, cls.__name__, is_array=False) from exc


def array_from_json(
    cls: type, data: str | bytes | bytearray, tensor_type: Optional[type] = None
) -> Any:
    """Read a ``DocList[T]`` or ``DocVec[T]`` (``cls``) from a JSON array of document objects.

    Parameters
    ----------
    cls:
        The parametrized array class; an untyped ``DocList`` reads ``AnyDoc`` documents.
    data:
        The JSON text (or UTF-8 bytes) written by ``to_json`` of either array class.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    DeserializationError
        The data is not JSON, or not a JSON array.
    SchemaMismatchError
        A document does not validate; the message names its index and the field.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> array_from_json(DocList[TextDoc], '[{"text": "a"}, {"text": "b"}]').text
    ['a', 'b']
    """
    data = _check_input(data, cls.__name__)
    doc_type = cls.doc_type
    with paused_gc():
        # the column-wise reader, where it gives what pydantic gives (None otherwise)
        block = _json_columns.read_block(doc_type, data)
        if block is not None:
            out = _json_columns.build(cls, block, tensor_type)
            if out is not None:
                return out
    try:
        with paused_gc():
            docs = _list_adapter(doc_type).validate_json(data)
            if getattr(cls, "_docstack_columnar", False):
                return cls(docs, tensor_type=tensor_type)
            return cls(docs, validate_input_docs=False)
    except ValidationError as exc:
        raise _translate(exc, cls.__name__, is_array=True) from exc
