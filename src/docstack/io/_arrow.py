"""Documents as Arrow tables and Parquet files.

Layout: one column per field.

* ``str`` (and URL and ``ID`` fields) -> ``string``, ``int`` -> ``int64``, ``float`` ->
  ``float64``, ``bool`` -> ``bool``, ``bytes`` types -> ``binary``, ``list[str]`` (of ints,
  floats, bools) -> ``list<...>``. Any other value (a dict, a tuple, an int too big for
  ``int64``, ...) is written as a ``string`` column of JSON texts.
* A tensor field whose present values share one shape and dtype -> a fixed-size list of the
  dtype, nested once per dimension (``NdArray[3, 4]`` -> ``fixed_size_list<
  fixed_size_list<float>[4]>[3]``), and a 0-d tensor -> a column of the dtype. Nested
  fixed-size lists were chosen over the ``arrow.fixed_shape_tensor`` extension type because
  every Arrow and Parquet reader understands them without knowing an extension (Polars reads
  them as ``Array``, DuckDB as fixed-size ``ARRAY``), the shape is in the type itself, and
  the row-major buffer is the same, so both directions stay zero-copy.
* Tensors whose shapes differ between documents -> ``list<dtype>`` when they are all 1-d,
  else ``struct<shape: list<int64>, data: list<dtype>>``; tensors of different dtypes (or a
  dtype Arrow has no type for, such as complex) -> ``struct<dtype: string, shape:
  list<int64>, data: binary>`` holding each tensor's raw bytes; a dimension of size 0 uses the
  ``shape``/``data`` struct too.
* ``None`` -> null; a nested document -> a struct of its fields (recursively); a ``DocList``
  field -> a list of such structs.

What is needed to read the table back exactly is kept in metadata: each field's
``docstack`` key holds a JSON object (the tensor layout, dtype, shape and the framework the
tensors had; or the JSON encoding of a value column), and the schema's ``docstack`` key the
document class name and a ``DocVec``'s tensor type.

Reading: the columns named like the fields are read; other columns are ignored (a wider
table, or a Parquet file with more columns, reads fine). A missing column takes the field's
default, and raises :class:`~docstack.errors.SchemaMismatchError` for a required field. A
table written elsewhere (pyarrow, pandas, Polars) reads too: a ``fixed_size_list<float>`` or
``list<float>`` column fills a tensor field, string columns fill ``str`` and URL fields.

Stacked tensor columns are read without copying: the column's values buffer becomes the
numpy array (rows of a ``DocList``'s documents are views of it; a ``DocVec``'s column is it),
so they are read-only, as Arrow memory is. ``np.array(x)`` copies one when you need to write.
"""

from __future__ import annotations

import json
import os
from os import PathLike, fspath
from typing import Any, Literal, Optional, Union, get_args, get_origin

import numpy as np

from docstack._internal.fields import FieldKind, doc_fields, unwrap_optional
from docstack._internal.optional import import_optional
from docstack.base_doc import AnyDoc
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.io._dtypes import payload_dtype
from docstack.io._rows import (
    Column,
    DocListData,
    ListSource,
    NestedData,
    TensorData,
    ValueData,
    VecSource,
    build_array,
    is_columnar,
    item_adapter,
    source_of,
    tensor_type_of,
)
from docstack.typing.tensor.any_tensor import AnyTensor

__all__ = ["array_to_arrow", "array_from_arrow", "array_to_parquet", "array_from_parquet"]

_META_KEY = b"docstack"
_FORMAT_VERSION = 1
_INT32_MAX = 2**31 - 1
_Source = Union[ListSource, VecSource]


def _pa() -> Any:
    return import_optional("pyarrow")


# -- writing -------------------------------------------------------------------------------


def _arrow_dtype(dtype: np.dtype) -> Any:
    """The Arrow type of a numpy tensor dtype, or ``None`` when Arrow has none (complex)."""
    if dtype.kind not in "biuf":
        return None
    try:
        return _pa().from_numpy_dtype(dtype)
    except (NotImplementedError, TypeError, ValueError, _pa().ArrowNotImplementedError):
        return None


def _native(arr: np.ndarray) -> np.ndarray:
    """``arr`` in the machine's byte order and C order (no copy when it already is)."""
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and np.little_endian is False):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


def _validity(pa: Any, present: Optional[np.ndarray]) -> Any:
    """An Arrow validity bitmap for ``present`` (``None`` when every row is present)."""
    if present is None or present.all():
        return None
    return pa.array(present, type=pa.bool_()).buffers()[1]


def _primitive(pa: Any, flat: np.ndarray, patype: Any, present: Optional[np.ndarray]) -> Any:
    """A primitive Arrow array over ``flat``'s memory (bools are bit-packed: a copy)."""
    if patype == pa.bool_():
        mask = None if present is None else ~present
        return pa.array(flat, type=patype, mask=mask)
    return pa.Array.from_buffers(
        patype, len(flat), [_validity(pa, present), pa.py_buffer(flat)], null_count=-1
    )


def _fixed_list(pa: Any, values: Any, size: int, present: Optional[np.ndarray]) -> Any:
    n = len(values) // size
    return pa.Array.from_buffers(
        pa.list_(values.type, size), n, [_validity(pa, present)], children=[values]
    )


def _offsets(pa: Any, lengths: np.ndarray) -> tuple[Any, bool]:
    """An offsets buffer for ``lengths`` and whether it needs 64-bit (large) lists."""
    total = int(lengths.sum()) if len(lengths) else 0
    large = total > _INT32_MAX
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64 if large else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.py_buffer(offsets), large


def _var_list(pa: Any, values: Any, lengths: np.ndarray, present: Optional[np.ndarray]) -> Any:
    buf, large = _offsets(pa, lengths)
    list_type = pa.large_list(values.type) if large else pa.list_(values.type)
    return pa.Array.from_buffers(
        list_type, len(lengths), [_validity(pa, present), buf], children=[values]
    )


def _stacked_array(pa: Any, td: TensorData) -> Optional[tuple[Any, dict[str, Any]]]:
    """The fixed-size layout of a stacked column, or ``None`` when it does not apply."""
    arr = td.stacked
    assert arr is not None
    patype = _arrow_dtype(arr.dtype)
    shape = tuple(int(d) for d in arr.shape[1:])
    if patype is None or any(d == 0 for d in shape):
        return None
    arr = _native(arr)
    flat = arr.reshape(-1)
    present = td.mask
    if not shape:
        values = _primitive(pa, flat, patype, present)
    else:
        values = _primitive(pa, flat, patype, None)
        for size in reversed(shape[1:]):
            values = _fixed_list(pa, values, size, None)
        values = _fixed_list(pa, values, shape[0], present)
    meta = {
        "kind": "tensor",
        "layout": "fixed",
        "dtype": arr.dtype.name,
        "shape": list(shape),
        "framework": td.frameworks,
    }
    return values, meta


def _rows_array(pa: Any, rows: list[Any], td: TensorData) -> tuple[Any, dict[str, Any]]:
    """The layout of a column of tensors of different shapes (or dtypes)."""
    n = len(rows)
    present = np.fromiter((r is not None for r in rows), dtype=bool, count=n)
    natives = [None if r is None else _native(np.asarray(r)) for r in rows]
    arrays = [a for a in natives if a is not None]
    dtypes = {a.dtype for a in arrays}
    meta: dict[str, Any] = {"kind": "tensor", "framework": td.frameworks}
    patype = _arrow_dtype(next(iter(dtypes))) if len(dtypes) == 1 else None
    mask = None if present.all() else ~present
    if patype is not None:
        (dtype,) = dtypes
        meta["dtype"] = dtype.name
        lengths = np.zeros(n, dtype=np.int64)
        lengths[present] = [a.size for a in arrays]
        flat = np.concatenate([a.reshape(-1) for a in arrays])
        values = _primitive(pa, flat, patype, None)
        if all(a.ndim == 1 for a in arrays):
            meta["layout"] = "list"
            return _var_list(pa, values, lengths, present), meta
        meta["layout"] = "shaped"
        data = _var_list(pa, values, lengths, None)
        shapes = _shape_array(pa, arrays, present)
        struct = pa.StructArray.from_arrays(
            [shapes, data], names=["shape", "data"], mask=None if mask is None else pa.array(mask)
        )
        return struct, meta
    meta["layout"] = "bytes"
    dtype_names = [None if a is None else a.dtype.str for a in natives]
    blobs = [None if a is None else a.tobytes() for a in natives]
    return pa.StructArray.from_arrays(
        [
            pa.array(dtype_names, type=pa.string()),
            _shape_array(pa, arrays, present),
            pa.array(blobs, type=pa.large_binary()),
        ],
        names=["dtype", "shape", "data"],
        mask=None if mask is None else pa.array(mask),
    ), meta


def _shape_array(pa: Any, arrays: list[np.ndarray], present: np.ndarray) -> Any:
    lengths = np.zeros(len(present), dtype=np.int64)
    lengths[present] = [a.ndim for a in arrays]
    dims = [d for a in arrays for d in a.shape]
    return _var_list(pa, pa.array(np.asarray(dims, dtype=np.int64)), lengths, None)


def _tensor_array(pa: Any, td: TensorData) -> tuple[Any, dict[str, Any]]:
    n = td.length
    if td.stacked is not None:
        fixed = _stacked_array(pa, td)
        if fixed is not None:
            return fixed
        rows = [row if td.mask is None or td.mask[i] else None for i, row in enumerate(td.stacked)]
        return _rows_array(pa, rows, td)
    if td.rows is not None:
        return _rows_array(pa, td.rows, td)
    return pa.nulls(n), {"kind": "tensor", "layout": "null"}


_SCALAR_TYPES: dict[type, str] = {bool: "bool_", int: "int64", float: "float64"}


def _native_type(pa: Any, annotation: Any) -> Any:
    """The Arrow type of a plain field's values, or ``None`` for a JSON column."""
    inner, _ = unwrap_optional(annotation)
    if inner in _SCALAR_TYPES:
        return getattr(pa, _SCALAR_TYPES[inner])()
    if isinstance(inner, type):
        if issubclass(inner, str):
            return pa.string()
        if issubclass(inner, bytes):
            return pa.binary()
        return None
    origin = get_origin(inner)
    if origin is Literal and all(isinstance(a, str) for a in get_args(inner)):
        return pa.string()
    if origin is list:
        args = get_args(inner)
        if len(args) == 1:
            item, _ = unwrap_optional(args[0])
            item_type = _native_type(pa, item)
            if item_type is not None and not pa.types.is_list(item_type):
                return pa.list_(item_type)
    return None


def _untyped_native_type(pa: Any, values: list[Any]) -> Any:
    types = {type(v) for v in values if v is not None}
    if len(types) != 1:
        return None if types else pa.null()
    (tp,) = types
    if tp in _SCALAR_TYPES:
        return getattr(pa, _SCALAR_TYPES[tp])()
    if tp is str:
        return pa.string()
    if tp is bytes:
        return pa.binary()
    return None


def _large(pa: Any, patype: Any) -> Any:
    if patype == pa.string():
        return pa.large_string()
    if patype == pa.binary():
        return pa.large_binary()
    if pa.types.is_list(patype):
        return pa.large_list(_large(pa, patype.value_type))
    return patype


def _value_array(
    pa: Any, values: list[Any], annotation: Any, where: str
) -> tuple[Any, dict[str, Any]]:
    """A plain field's column: native where the type is obvious, else JSON texts."""
    patype = (
        _untyped_native_type(pa, values)
        if annotation is Any or unwrap_optional(annotation)[0] is Any
        else _native_type(pa, annotation)
    )
    if patype is not None:
        try:
            return pa.array(values, type=patype), {}
        except pa.ArrowCapacityError:
            return pa.array(values, type=_large(pa, patype)), {}
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            pass  # e.g. an int beyond int64: JSON keeps it exactly
    adapter = item_adapter(annotation)
    texts: list[Optional[str]] = []
    for i, value in enumerate(values):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(adapter.dump_json(value).decode())
        except Exception as exc:  # noqa: BLE001 - pydantic raises several classes here
            raise SerializationError(
                f"field {where!r}, row {i}: cannot write {type(value).__name__} value: {exc}"
            ) from exc
    try:
        arr = pa.array(texts, type=pa.string())
    except pa.ArrowCapacityError:
        arr = pa.array(texts, type=pa.large_string())
    return arr, {"encoding": "json"}


def _source_arrays(pa: Any, src: _Source, path: str) -> tuple[list[Any], list[Any]]:
    """One Arrow array and field per field of the source's documents."""
    arrays, fields = [], []
    for name, kind in src.kinds.items():
        where = f"{path}.{name}" if path else name
        arr, meta = _field_array(pa, src, name, kind, where)
        arrays.append(arr)
        fields.append(pa.field(name, arr.type, nullable=True, metadata=_encode_meta(meta)))
    return arrays, fields


def _struct(
    pa: Any, src: _Source, where: str, present: Optional[np.ndarray]
) -> tuple[Any, dict[str, Any]]:
    arrays, fields = _source_arrays(pa, src, where)
    if not fields and src.length == 0:
        # an empty untyped DocList field: no documents to learn fields from
        arrays, fields = [pa.array([], type=pa.string())], [pa.field("id", pa.string())]
    if not fields:
        raise SerializationError(
            f"field {where!r}: a document with no fields has no Arrow struct type"
        )
    mask = None if present is None else pa.array(~present)
    arr = pa.StructArray.from_arrays(arrays, fields=fields, mask=mask)
    return arr, {"kind": "doc", "schema": src.doc_type.__name__}


def _field_array(
    pa: Any, src: _Source, name: str, kind: FieldKind, where: str
) -> tuple[Any, dict[str, Any]]:
    if kind.kind == "tensor":
        return _tensor_array(pa, src.tensor(name))
    if kind.kind == "doc":
        nested, valid = src.nested(name)
        arr, meta = _struct(pa, nested, where, valid)
        return arr, meta
    if kind.kind == "doclist":
        offsets, valid, flat = src.doclist(name)
        inner, meta = _struct(pa, flat, where, None)
        lengths = np.diff(offsets)
        item = pa.field("item", inner.type)
        buf, large = _offsets(pa, lengths)
        list_type = pa.large_list(item) if large else pa.list_(item)
        arr = pa.Array.from_buffers(
            list_type, len(lengths), [_validity(pa, valid), buf], children=[inner]
        )
        return arr, {"kind": "doclist", "schema": meta["schema"]}
    return _value_array(pa, src.values(name), kind.annotation, where)


def _encode_meta(meta: dict[str, Any]) -> Optional[dict[bytes, bytes]]:
    if not meta:
        return None
    return {_META_KEY: json.dumps(meta, separators=(",", ":")).encode()}


def array_to_arrow(docs: Any) -> Any:
    """The documents of a ``DocList`` or ``DocVec`` as a ``pyarrow.Table``.

    See the module documentation for the layout. A ``DocVec``'s stacked tensor columns are
    wrapped without copying (when they are C-contiguous numpy arrays of a dtype other than
    ``bool``, which Arrow packs into bits).

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.

    Returns
    -------
    A ``pyarrow.Table`` with one column per field.

    Raises
    ------
    SerializationError
        A value cannot be written (a plain value that is not JSON-serializable).

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> table = DocList[TextDoc]([TextDoc(text='a')]).to_arrow()
    >>> table.column('text').to_pylist()
    ['a']
    """
    pa = _pa()
    src = source_of(docs)
    arrays, fields = _source_arrays(pa, src, "")
    meta: dict[str, Any] = {
        "version": _FORMAT_VERSION,
        "schema": src.doc_type.__name__,
        "array": "DocVec" if isinstance(src, VecSource) else "DocList",
    }
    if isinstance(src, VecSource) and src.storage.tensor_type is not None:
        meta["tensor_type"] = src.storage.tensor_type._docstack_framework
    if not arrays:
        # documents without fields: the table's rows keep their number, and so does the
        # metadata, for Parquet, which writes a table of no columns as one of no rows
        meta["rows"] = len(docs)
        schema = pa.schema(fields, metadata=_encode_meta(meta))
        rows = pa.RecordBatch.from_struct_array(pa.array([{}] * len(docs), type=pa.struct([])))
        return pa.Table.from_batches([rows], schema=schema)
    schema = pa.schema(fields, metadata=_encode_meta(meta))
    return pa.Table.from_arrays(arrays, schema=schema)


# -- reading -------------------------------------------------------------------------------


def _field_meta(field: Any) -> dict[str, Any]:
    raw = (field.metadata or {}).get(_META_KEY)
    if raw is None:
        return {}
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise DeserializationError(
            f"column {field.name!r}: unreadable docstack metadata: {exc}"
        ) from exc
    return meta if isinstance(meta, dict) else {}


def _present(arr: Any) -> Optional[np.ndarray]:
    """Which rows are not null (``None``: all of them)."""
    if arr.null_count == 0:
        return None
    return arr.is_valid().to_numpy(zero_copy_only=False)


def _check_nulls(arr: Any, where: str, rows: int, present: Optional[np.ndarray]) -> None:
    """Nulls inside a tensor column are allowed only in rows that are null themselves
    (Parquet gives the children of a null row nulls too)."""
    bad_row = 0
    if rows:
        ok = arr.is_valid().to_numpy(zero_copy_only=False).reshape(rows, -1).all(axis=1)
        bad = ~ok if present is None else (~ok & present)
        bad_row = int(np.argmax(bad)) if bad.any() else -1
    if bad_row >= 0:
        raise SchemaMismatchError(f"column {where!r}, row {bad_row}: a tensor holds a null value")


def _leaf_numpy(arr: Any, where: str, rows: int, present: Optional[np.ndarray]) -> np.ndarray:
    """A primitive Arrow array as numpy (no copy unless it has nulls or is ``bool``)."""
    pa = _pa()
    t = arr.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
        raise SchemaMismatchError(f"column {where!r}: type {t} cannot hold tensor values")
    if arr.null_count:
        _check_nulls(arr, where, rows, present)
        arr = arr.fill_null(False if pa.types.is_boolean(t) else 0)
    if pa.types.is_boolean(t):
        return arr.to_numpy(zero_copy_only=False)
    return arr.to_numpy(zero_copy_only=True)


def _fixed_numpy(arr: Any, where: str, present: Optional[np.ndarray]) -> np.ndarray:
    """A (nested) fixed-size list or primitive column as one ``(rows, *shape)`` array."""
    pa = _pa()
    rows = len(arr)
    shape: list[int] = []
    level = arr
    while pa.types.is_fixed_size_list(level.type):
        if level is not arr and level.null_count:
            _check_nulls(level, where, rows, present)
        size = level.type.list_size
        shape.append(size)
        level = level.values.slice(level.offset * size, len(level) * size)
    leaf = _leaf_numpy(level, where, rows, present)
    return leaf.reshape(rows, *shape)


def _split(flat: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


def _var_numpy(arr: Any, where: str, present: Optional[np.ndarray]) -> TensorData:
    """A variable-size list column (``list<float>``, ``list<fixed_size_list<...>>``)."""
    pa = _pa()
    n = len(arr)
    lengths = _pa_lengths(arr)
    child = arr.flatten()
    if pa.types.is_list(child.type) or pa.types.is_large_list(child.type):
        # nested variable lists: each row is converted on its own
        rows: list[Any] = []
        for i, value in enumerate(arr.to_pylist()):
            if value is None:
                rows.append(None)
                continue
            try:
                rows.append(np.asarray(value))
            except ValueError as exc:
                raise SchemaMismatchError(f"column {where!r}, row {i}: {exc}") from exc
            if rows[-1].dtype == object:
                raise SchemaMismatchError(
                    f"column {where!r}, row {i}: nested lists of different lengths (or with "
                    "nulls) are not a tensor"
                )
        return TensorData(n, rows=rows)
    values = _fixed_numpy(child, where, None)
    inner_shape = values.shape[1:]
    kept = lengths if present is None else lengths[present]
    if len(kept) and (kept == kept[0]).all():
        block = values.reshape(len(kept), int(kept[0]), *inner_shape)
        if present is None:
            return TensorData(n, stacked=block)
        full = np.zeros((n, *block.shape[1:]), dtype=block.dtype)
        full[present] = block
        return TensorData(n, stacked=full, mask=present)
    parts = _split(values, lengths)
    return TensorData(
        n,
        rows=[p if present is None or present[i] else None for i, p in enumerate(parts)],
    )


def _struct_rows(arr: Any, meta: dict[str, Any], where: str) -> list[Any]:
    """The rows of a ``shape``/``data`` (or ``dtype``/``shape``/``data``) struct column."""
    pa = _pa()
    names = {arr.type.field(i).name for i in range(arr.type.num_fields)}
    if not {"shape", "data"} <= names:
        raise SchemaMismatchError(f"column {where!r}: type {arr.type} cannot hold tensors")
    present = _present(arr)
    children = dict(
        zip([arr.type.field(i).name for i in range(arr.type.num_fields)], arr.flatten())
    )
    shape_col = children["shape"]
    dims = _var_numpy(shape_col, where, present)
    shapes = (
        list(dims.stacked)
        if dims.stacked is not None
        else [np.zeros(0, np.int64) if r is None else r for r in (dims.rows or [])]
    )
    n = len(arr)
    out: list[Any] = [None] * n
    if "dtype" in children and (
        pa.types.is_binary(children["data"].type) or pa.types.is_large_binary(children["data"].type)
    ):
        dtypes = children["dtype"].to_pylist()
        blobs = children["data"].to_pylist()
        for i in range(n):
            if present is not None and not present[i]:
                continue
            try:
                value = np.frombuffer(blobs[i], dtype=payload_dtype(dtypes[i], f"column {where!r}"))
                out[i] = value.reshape(tuple(int(d) for d in shapes[i]))
            except (TypeError, ValueError) as exc:
                raise DeserializationError(f"column {where!r}, row {i}: {exc}") from exc
        return out
    data = children["data"]
    lengths = _pa_lengths(data)
    flat = _leaf_numpy(data.flatten(), where, 0, None)
    dtype = meta.get("dtype")
    if dtype is not None:
        dtype = payload_dtype(dtype, f"column {where!r}")
        if flat.dtype != dtype:
            flat = flat.astype(dtype)
    for i, part in enumerate(_split(flat, lengths)):
        if present is not None and not present[i]:
            continue
        try:
            out[i] = part.reshape(tuple(int(d) for d in shapes[i]))
        except ValueError as exc:
            raise DeserializationError(f"column {where!r}, row {i}: {exc}") from exc
    return out


def _pa_lengths(arr: Any) -> np.ndarray:
    """The length of each list of a list column (0 for a null one)."""
    pc = import_optional("pyarrow.compute")
    return pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False)


def _read_tensor(arr: Any, meta: dict[str, Any], where: str) -> TensorData:
    pa = _pa()
    t = arr.type
    n = len(arr)
    frameworks = meta.get("framework")
    if frameworks is not None and not isinstance(frameworks, (str, list)):
        frameworks = None
    if pa.types.is_null(t) or arr.null_count == n:
        return TensorData(n)
    present = _present(arr)
    if pa.types.is_struct(t):
        td = TensorData(n, rows=_struct_rows(arr, meta, where))
    elif pa.types.is_fixed_size_list(t) or pa.types.is_primitive(t):
        td = TensorData(n, stacked=_fixed_numpy(arr, where, present), mask=present)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        td = _var_numpy(arr, where, present)
        if meta.get("layout") == "list" and td.stacked is not None:
            td = TensorData(
                n,
                rows=[
                    row if td.mask is None or td.mask[i] else None
                    for i, row in enumerate(td.stacked)
                ],
            )
    else:
        raise SchemaMismatchError(f"column {where!r}: type {t} cannot hold tensors")
    dtype = meta.get("dtype")
    if td.stacked is not None and dtype is not None:
        dtype = payload_dtype(dtype, f"column {where!r}")
        if td.stacked.dtype != dtype:
            td.stacked = td.stacked.astype(dtype)
    td.frameworks = frameworks
    return td


def _is_list_of_struct(pa: Any, t: Any) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_struct(t.value_type)


def _struct_children(arr: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    t = arr.type
    fields = {t.field(i).name: t.field(i) for i in range(t.num_fields)}
    return dict(zip(fields, arr.flatten())), fields


def _read_nested(arr: Any, doc_cls: type, where: str) -> NestedData:
    """The columns of a struct array of documents (only the rows that are not null)."""
    pa = _pa()
    present = _present(arr)
    if present is not None:
        arr = arr.filter(pa.array(present))
    children, fields = _struct_children(arr)
    kinds = None
    if doc_cls is AnyDoc:
        kinds = _kinds_of_fields(fields.values())
    columns = _read_columns(doc_cls, children, fields, where, kinds)
    return NestedData(columns, len(arr), present, kinds)


def _read_column(arr: Any, field: Any, kind: FieldKind, where: str) -> Column:
    pa = _pa()
    meta = _field_meta(field)
    t = arr.type
    if meta.get("encoding") == "json":
        return ValueData(arr.to_pylist(), json=True)
    if kind.kind == "tensor":
        return _read_tensor(arr, meta, where)
    if kind.kind == "doc" and pa.types.is_struct(t):
        return _read_nested(arr, kind.doc_cls or AnyDoc, where)
    if kind.kind == "doclist" and _is_list_of_struct(pa, t):
        present = _present(arr)
        lengths = _pa_lengths(arr)
        offsets = np.zeros(len(arr) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        inner = _read_nested(arr.flatten(), kind.doc_cls or AnyDoc, where)
        if inner.valid is not None:
            raise SchemaMismatchError(f"column {where!r}: a list holds a null document")
        return DocListData(offsets, inner, present)
    if kind.kind in ("doc", "doclist") and not pa.types.is_null(t) and arr.null_count < len(arr):
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise SchemaMismatchError(
                f"column {where!r}: type {t} cannot hold the documents of field {kind.name!r}"
            )
    return ValueData(_to_python(arr))


def _to_python(arr: Any) -> list[Any]:
    pa = _pa()
    t = arr.type
    if arr.null_count == 0 and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return arr.to_numpy(zero_copy_only=False).tolist()
    return arr.to_pylist()


def _read_columns(
    doc_cls: type,
    children: dict[str, Any],
    fields: dict[str, Any],
    path: str,
    kinds: Optional[dict[str, FieldKind]] = None,
) -> dict[str, Column]:
    if kinds is None:
        kinds = doc_fields(doc_cls)
    columns: dict[str, Column] = {}
    for name, kind in kinds.items():
        arr = children.get(name)
        if arr is None:
            continue
        where = f"{path}.{name}" if path else name
        try:
            columns[name] = _read_column(arr, fields[name], kind, where)
        except (UnicodeDecodeError, _pa().ArrowException) as exc:
            # a damaged file can hold bytes that are no UTF-8 in a string column
            raise DeserializationError(f"column {where!r} cannot be read: {exc}") from exc
    return columns


def _kinds_of_fields(fields: Any) -> dict[str, FieldKind]:
    """How to read the columns of a table into ``AnyDoc``s (no declared fields)."""
    pa = _pa()
    kinds = {}
    for f in fields:
        meta = _field_meta(f)
        name = f.name
        if meta.get("kind") == "tensor":
            kinds[name] = FieldKind(name, Optional[AnyTensor], "tensor", True, tensor_cls=AnyTensor)
        elif meta.get("kind") == "doc" and pa.types.is_struct(f.type):
            kinds[name] = FieldKind(name, Optional[AnyDoc], "doc", True, doc_cls=AnyDoc)
        elif meta.get("kind") == "doclist" and _is_list_of_struct(pa, f.type):
            from docstack.array.doc_list import DocList

            kinds[name] = FieldKind(name, Optional[DocList], "doclist", True, doc_cls=AnyDoc)
        else:
            kinds[name] = FieldKind(name, Optional[Any], "other", True)
    return kinds


def _as_table(pa: Any, table: Any) -> Any:
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    raise DeserializationError(
        f"expected a pyarrow.Table or pyarrow.RecordBatch, got {type(table).__name__}"
    )


def _column_array(pa: Any, chunked: Any) -> Any:
    """One array for a column: the chunk itself when there is one (no copy)."""
    chunks = chunked.chunks
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return pa.array([], type=chunked.type)
    return pa.concat_arrays(chunks)


def array_from_arrow(cls: type, table: Any, tensor_type: Optional[type] = None) -> Any:
    """Documents of ``cls`` (a parametrized ``DocList`` or ``DocVec``) from an Arrow table.

    Parameters
    ----------
    cls:
        ``DocList[MyDoc]`` or ``DocVec[MyDoc]``; an untyped ``DocList`` reads ``AnyDoc``s
        with a field per column.
    table:
        A ``pyarrow.Table`` or ``pyarrow.RecordBatch``: one that :func:`array_to_arrow`
        wrote, or any table whose column names are field names.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns (by default the one the
        writing ``DocVec`` had, else numpy).

    Returns
    -------
    An instance of ``cls``. Stacked tensor columns share memory with the table.

    Raises
    ------
    DeserializationError
        ``table`` is not an Arrow table, or its docstack metadata is unreadable.
    SchemaMismatchError
        A required field has no column, or a column's values do not fit its field; the
        message names the column (``image.url`` for a nested field) and the row.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> docs = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')])
    >>> DocList[TextDoc].from_arrow(docs.to_arrow()).text
    ['a', 'b']
    """
    pa = _pa()
    table = _as_table(pa, table)
    schema = table.schema
    raw = (schema.metadata or {}).get(_META_KEY)
    table_meta: dict[str, Any] = {}
    if raw is not None:
        try:
            table_meta = json.loads(raw)
        except ValueError as exc:
            raise DeserializationError(f"unreadable docstack table metadata: {exc}") from exc
    if is_columnar(cls) and tensor_type is None:
        tensor_type = tensor_type_of(table_meta.get("tensor_type"))
    doc_type = cls.doc_type
    try:
        fields = {f.name: f for f in schema}
    except UnicodeDecodeError as exc:  # a damaged file's schema
        raise DeserializationError(f"a column name is not UTF-8 text: {exc}") from exc
    kinds = _kinds_of_fields(schema) if doc_type is AnyDoc else doc_fields(doc_type)
    children = {name: _column_array(pa, table.column(name)) for name in kinds if name in fields}
    columns = _read_columns(doc_type, children, fields, "", kinds)
    n = table.num_rows
    if not fields and type(table_meta.get("rows")) is int and table_meta["rows"] >= 0:
        n = table_meta["rows"]  # documents without fields (see array_to_arrow)
    return build_array(cls, n, columns, tensor_type, kinds=kinds)


# -- Parquet -------------------------------------------------------------------------------


def array_to_parquet(docs: Any, path: Union[str, PathLike, Any], **kwargs: Any) -> None:
    """Write the documents to a Parquet file: :func:`array_to_arrow`, then
    ``pyarrow.parquet.write_table(table, path, **kwargs)``.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.
    path:
        A path or a binary file object.
    kwargs:
        Passed to ``pyarrow.parquet.write_table`` (``compression='zstd'``, ...).

    Example
    -------
    >>> import os, tempfile
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> path = os.path.join(tempfile.mkdtemp(), 'docs.parquet')
    >>> DocList[TextDoc]([TextDoc(text='a')]).to_parquet(path)
    >>> DocList[TextDoc].from_parquet(path).text
    ['a']
    """
    pq = import_optional("pyarrow.parquet")
    table = array_to_arrow(docs)
    pq.write_table(table, fspath(path) if isinstance(path, PathLike) else path, **kwargs)


def array_from_parquet(
    cls: type, path: Union[str, PathLike, Any], tensor_type: Optional[type] = None, **kwargs: Any
) -> Any:
    """Documents of ``cls`` from a Parquet file: ``pyarrow.parquet.read_table(path,
    **kwargs)``, then :func:`array_from_arrow`.

    For a typed array only the columns of the document's fields are read (unless
    ``columns=`` is passed), so reading a few fields of a wide file is cheap.

    Parameters
    ----------
    cls:
        ``DocList[MyDoc]`` or ``DocVec[MyDoc]``.
    path:
        A path or a binary file object.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns (by default the one the
        writing ``DocVec`` had, else numpy).
    kwargs:
        Passed to ``pyarrow.parquet.read_table``.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    DeserializationError
        The file is not a Parquet file.
    SchemaMismatchError
        As for :func:`array_from_arrow`.
    """
    pa = _pa()
    pq = import_optional("pyarrow.parquet")
    source = fspath(path) if isinstance(path, PathLike) else path
    try:
        typed = cls.doc_type is not AnyDoc
        if typed and isinstance(source, str) and os.path.isfile(source) and "columns" not in kwargs:
            names = set(pq.read_schema(source).names)
            kwargs["columns"] = [n for n in cls.doc_type.model_fields if n in names]
        table = pq.read_table(source, **kwargs)
    except (pa.ArrowException, OSError, ValueError) as exc:
        # corrupt pages surface as OSError (thrift), bad footers as ArrowInvalid
        if isinstance(exc, FileNotFoundError):
            raise
        raise DeserializationError(f"cannot read {source!r} as Parquet: {exc}") from exc
    return array_from_arrow(cls, table, tensor_type=tensor_type)
