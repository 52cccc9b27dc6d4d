"""Documents as CSV files.

Layout: a header of field paths, one column per field, in declaration order (the ``id``
included); a nested document's fields are flattened into columns named ``outer__inner``
(``image__url``; to any depth). Cells:

* ``str``, URL and ``ID`` fields: the text as it is.
* ``int``, ``float`` and ``bool`` fields: ``str(value)`` (``repr`` for floats, so ``nan``,
  ``inf`` and every digit survive).
* ``bytes`` fields: base64.
* Tensors: a JSON object with the dtype, the shape and the values in row-major order, e.g.
  ``{"dtype":"float32","shape":[2,2],"data":[1.0,2.0,3.0,4.0]}`` (``"framework":"torch"``
  is added for a non-numpy tensor of an ``AnyTensor`` field, so it reads back as one);
  non-finite floats are written ``NaN``/``Infinity``/``-Infinity``. A cell holding a plain
  JSON list (``[[1, 2], [3, 4]]``) reads too.
* ``DocList`` fields: a JSON array of the documents, tensors as above.
* Anything else (dicts, lists, tuples, ...): the value's JSON.

``None`` is an empty cell. The rule for the empty string: in a ``str`` field that is not
``Optional`` the empty cell is the empty string. In an ``Optional`` ``str`` field the empty
cell is ``None``, and the empty string is written as ``""`` (the two characters of a JSON
empty string; a text that starts and ends with ``"`` is written as its JSON string too, so
it reads back unchanged). An empty cell of a field that is neither ``Optional`` nor ``str``
takes the field's default. A nested document whose cells are all empty is ``None`` when its
field is ``Optional``.

Reading checks the header first: a column that names no field raises
:class:`~docstack.errors.SchemaMismatchError` naming it, as does a missing column of a
required field; a cell that cannot be read raises an error naming the row (counting data
rows from 0, after the header) and the column.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from os import PathLike, fspath
from typing import Any, Literal, Optional, Union, get_args, get_origin

import numpy as np
import orjson

from docstack._internal.fields import FieldKind, doc_fields, unwrap_optional
from docstack.base_doc import AnyDoc, BaseDocWithoutId
from docstack.errors import (
    DeserializationError,
    DocTypeError,
    SchemaMismatchError,
    SerializationError,
)
from docstack.io._dtypes import payload_dtype
from docstack.io._rows import (
    SEPARATOR,
    Column,
    ListSource,
    NestedData,
    TensorData,
    ValueData,
    VecSource,
    build_array,
    column_tree,
    infer_kinds,
    infer_tensor_type,
    is_columnar,
    item_adapter,
    plain_doc_type,
    source_of,
    to_framework,
)
from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["array_to_csv", "array_from_csv", "SEPARATOR"]


_Source = Union[ListSource, VecSource]
Category = Literal["text", "scalar", "bytes", "json"]
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _category(annotation: Any) -> Category:
    """How a plain field's values are written to a cell."""
    inner, _ = unwrap_optional(annotation)
    if isinstance(inner, type):
        if issubclass(inner, str):
            return "text"
        if issubclass(inner, bytes):
            return "bytes"
        if inner in (int, float, bool):
            return "scalar"
        return "json"
    if get_origin(inner) is Literal and all(isinstance(a, str) for a in get_args(inner)):
        return "text"
    return "json"


# -- tensors -------------------------------------------------------------------------------


def _plain(arr: Any) -> np.ndarray:
    """A tensor as a C-contiguous numpy array in the machine's byte order."""
    out = np.asarray(to_numpy(arr))
    if out.dtype.byteorder == ">":
        out = out.astype(out.dtype.newbyteorder("="))
    # not np.ascontiguousarray: it turns a 0-d array into a 1-d one
    return out if out.flags.c_contiguous else np.array(out, order="C")


def _cell(
    dtype: str, shape: tuple[int, ...], flat: np.ndarray, finite: bool, fw: Optional[str]
) -> str:
    """One tensor cell; ``flat`` is C-contiguous, ``finite`` says it has no NaN or inf
    (orjson would write those as ``null``; the standard library writes ``NaN``)."""
    extra = f',"framework":"{fw}"' if fw not in (None, "numpy") else ""
    body = orjson.dumps(flat, option=_NUMPY).decode() if finite else json.dumps(flat.tolist())
    dims = ",".join(str(int(d)) for d in shape)
    return f'{{"dtype":"{dtype}","shape":[{dims}]{extra},"data":{body}}}'


def _encode_tensor(value: Any, framework: Optional[str] = None) -> str:
    arr = _plain(value)
    finite = arr.dtype.kind != "f" or bool(np.isfinite(arr).all())
    return _cell(arr.dtype.name, arr.shape, arr.reshape(-1), finite, framework)


def _tensor_cells(td: TensorData, record_framework: bool) -> list[str]:
    """The cells of a tensor column; a stacked column is checked for non-finite values at
    once and then written row by row."""
    n = td.length
    if td.stacked is not None:
        if n == 0:
            return []
        stacked = _plain(td.stacked)
        rows2d = stacked.reshape(n, -1)
        if stacked.dtype.kind == "f":
            finite = np.isfinite(rows2d).all(axis=1).tolist()
        else:
            finite = [True] * n
        shape = stacked.shape[1:]
        dtype = stacked.dtype.name
        present = [True] * n if td.mask is None else td.mask.tolist()
        return [
            _cell(
                dtype,
                shape,
                rows2d[i],
                finite[i],
                td.row_framework(i) if record_framework else None,
            )
            if present[i]
            else ""
            for i in range(n)
        ]
    if td.rows is None:
        return [""] * n
    return [
        ""
        if value is None
        else _encode_tensor(value, td.row_framework(i) if record_framework else None)
        for i, value in enumerate(td.rows)
    ]


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # NaN, Infinity


def _decode_tensor_obj(obj: Any) -> Any:
    """A tensor from a decoded tensor cell (an object with ``data``, or nested lists)."""
    if isinstance(obj, dict):
        if "data" not in obj:
            raise ValueError("a tensor object needs a 'data' key")
        dtype = obj.get("dtype")
        dtype = None if dtype is None else payload_dtype(dtype, "a tensor cell")
        arr = np.asarray(obj["data"], dtype=dtype)
        if obj.get("shape") is not None:
            arr = arr.reshape(tuple(int(d) for d in obj["shape"]))
        return to_framework(arr, obj.get("framework"))
    arr = np.asarray(obj)
    if arr.dtype == object:
        raise ValueError("nested lists of different lengths are not a tensor")
    return arr


def _is_tensor_obj(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and set(obj) <= {"dtype", "shape", "data", "framework"}
        and ("data" in obj and "dtype" in obj)
    )


# -- documents as JSON (DocList fields) ----------------------------------------------------


def _doc_obj(doc: Any) -> dict[str, Any]:
    """A document as a JSON-able dict, tensors as tensor objects."""
    cls = plain_doc_type(doc)
    kinds = infer_kinds([doc]) if cls is AnyDoc else doc_fields(cls)
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        value = getattr(doc, name, None)
        out[name] = _value_obj(value, kind, cls)
    return out


def _value_obj(value: Any, kind: FieldKind, cls: type) -> Any:
    if value is None:
        return None
    if framework_of(value) is not None:
        arr = _plain(value)
        obj: dict[str, Any] = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
        fw = framework_of(value)
        if fw != "numpy":
            obj["framework"] = fw
        obj["data"] = arr.reshape(-1).tolist()
        return obj
    if isinstance(value, BaseDocWithoutId):
        return _doc_obj(value)
    if getattr(type(value), "__docstack_doc_array__", False):
        return [_doc_obj(d) for d in value]
    annotation = cls.model_fields[kind.name].annotation if kind.name in cls.model_fields else Any
    return json.loads(item_adapter(annotation).dump_json(value))


def _obj_doc(doc_cls: type, obj: Any) -> Any:
    """A document from a dict written by :func:`_doc_obj`."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object for a {doc_cls.__name__}, got {obj!r:.60}")
    if doc_cls is AnyDoc:
        return AnyDoc(**{k: _any_value(v) for k, v in obj.items()})
    kinds = doc_fields(doc_cls)
    values = {}
    for name, value in obj.items():
        kind = kinds.get(name)
        if kind is None or value is None:
            values[name] = value
        elif kind.kind == "tensor":
            values[name] = _decode_tensor_obj(value)
        elif kind.kind == "doc":
            values[name] = _obj_doc(kind.doc_cls or AnyDoc, value)
        elif kind.kind == "doclist":
            values[name] = [_obj_doc(kind.doc_cls or AnyDoc, v) for v in value]
        else:
            adapter = item_adapter(doc_cls.model_fields[name].annotation)
            values[name] = adapter.validate_json(json.dumps(value))
    return doc_cls.model_validate(values)


def _any_value(value: Any) -> Any:
    if _is_tensor_obj(value):
        return _decode_tensor_obj(value)
    return value


# -- writing -------------------------------------------------------------------------------


def _text_cell(value: Optional[str], optional: bool) -> str:
    if value is None:
        return ""
    if optional and (value == "" or (len(value) >= 2 and value[0] == '"' and value[-1] == '"')):
        return json.dumps(value, ensure_ascii=False)
    return value


def _scalar_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _value_cells(values: list[Any], kind: FieldKind, annotation: Any, where: str) -> list[str]:
    category = _category(annotation) if annotation is not Any else None
    if category == "text":
        return [_text_cell(v, kind.optional) for v in values]
    if category == "scalar":
        return [_scalar_cell(v) for v in values]
    if category == "bytes":
        # empty bytes are the two characters "" (base64 has no quotes; an empty cell is None)
        return [
            "" if v is None else '""' if not v else base64.b64encode(v).decode("ascii")
            for v in values
        ]
    adapter = item_adapter(annotation)
    cells = []
    for i, value in enumerate(values):
        if value is None:
            cells.append("")
        elif category is None and isinstance(value, str):
            cells.append(_text_cell(value, True))
        else:
            try:
                cells.append(adapter.dump_json(value).decode())
            except Exception as exc:  # noqa: BLE001 - pydantic raises several classes
                raise SerializationError(
                    f"column {where!r}, row {i}: cannot write {type(value).__name__}: {exc}"
                ) from exc
    return cells


def _flatten(src: _Source, prefix: str, out: dict[str, list[str]]) -> None:
    """The cells of every (flattened) column of the source's documents."""
    doc_type = src.doc_type
    for name, kind in src.kinds.items():
        key = prefix + name
        if kind.kind == "tensor":
            any_fw = kind.tensor_cls is not None and kind.tensor_cls._docstack_framework == "any"
            out[key] = _tensor_cells(src.tensor(name), any_fw)
        elif kind.kind == "doc" and kind.doc_cls not in (None, AnyDoc) and not src.untyped:
            nested, _ = src.nested(name)
            _flatten(nested, key + SEPARATOR, out)
        elif kind.kind in ("doc", "doclist"):
            cells = []
            for value in src.values(name):
                if value is None:
                    cells.append("")
                elif isinstance(value, BaseDocWithoutId):
                    cells.append(json.dumps(_doc_obj(value), ensure_ascii=False))
                else:
                    cells.append(json.dumps([_doc_obj(d) for d in value], ensure_ascii=False))
            out[key] = cells
        else:
            info = doc_type.model_fields.get(name) if doc_type is not AnyDoc else None
            annotation = info.annotation if info is not None else Any
            out[key] = _value_cells(src.values(name), kind, annotation, key)


def array_to_csv(docs: Any, file_path: Union[str, PathLike, Any], dialect: Any = "excel") -> None:
    """Write the documents of a ``DocList`` or ``DocVec`` to a CSV file.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.
    file_path:
        A path, or a text file object open for writing (opened with ``newline=''``).
    dialect:
        A ``csv`` dialect name or class (``'excel'``, ``'excel-tab'``, ...).

    Example
    -------
    >>> import os, tempfile
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> path = os.path.join(tempfile.mkdtemp(), 'docs.csv')
    >>> DocList[TextDoc]([TextDoc(text='a', id='1')]).to_csv(path)
    >>> open(path).read().splitlines()
    ['id,text,url,embedding,bytes_', '1,a,,,']
    """
    src = source_of(docs)
    columns: dict[str, list[str]] = {}
    _flatten(src, "", columns)
    header = list(columns)
    if not header and len(docs):
        raise SerializationError(
            f"CSV cannot hold {len(docs)} documents of {src.doc_type.__name__}, which has no "
            "fields: a CSV row without columns is a blank line, which readers skip"
        )
    if hasattr(file_path, "write"):
        _write(file_path, header, columns, dialect)
        return
    with open(fspath(file_path), "w", newline="", encoding="utf-8") as f:
        _write(f, header, columns, dialect)


def _write(f: Any, header: list[str], columns: dict[str, list[str]], dialect: Any) -> None:
    writer = csv.writer(f, dialect=dialect)
    writer.writerow(header)
    writer.writerows(zip(*columns.values()))


# -- reading -------------------------------------------------------------------------------


def _decode_cells(
    cells: list[str],
    doc_type: type,
    kind: FieldKind,
    where: str,
    positions: Optional[list[int]] = None,
) -> Column:
    """A column of cells as field values (still to validate); ``positions`` are the rows
    the cells come from (``None``: cell ``i`` is row ``i``)."""

    def row(i: int) -> int:
        return i if positions is None else positions[i]

    name = kind.name
    info = doc_type.model_fields[name]
    optional = kind.optional
    if kind.kind == "tensor":
        rows: list[Any] = []
        for i, cell in enumerate(cells):
            if cell == "":
                rows.append(None)
                continue
            try:
                rows.append(_decode_tensor_obj(_loads(cell)))
            except (ValueError, TypeError) as exc:
                raise DeserializationError(
                    f"column {where!r}, row {row(i)}: not a tensor cell: {exc}"
                ) from exc
        return TensorData(len(rows), rows=rows, raw=True)
    if kind.kind in ("doc", "doclist"):
        values: list[Any] = []
        doc_cls = kind.doc_cls or AnyDoc
        for i, cell in enumerate(cells):
            if cell == "":
                values.append(None if optional else _default(info, where, row(i)))
                continue
            try:
                obj = _loads(cell)
                if kind.kind == "doc":
                    values.append(_obj_doc(doc_cls, obj))
                else:
                    if not isinstance(obj, list):
                        raise ValueError("expected a JSON array of documents")
                    values.append([_obj_doc(doc_cls, o) for o in obj])
            except (ValueError, TypeError) as exc:
                raise SchemaMismatchError(f"column {where!r}, row {row(i)}: {exc}") from exc
        return ValueData(values)
    category = _category(info.annotation)
    if category == "text":
        out = []
        for cell in cells:
            if not optional:
                out.append(cell)
            elif cell == "":
                out.append(None)
            elif len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"':
                try:
                    out.append(json.loads(cell))
                except ValueError:
                    out.append(cell)
            else:
                out.append(cell)
        return ValueData(out)
    values = []
    for i, cell in enumerate(cells):
        if cell == "":
            values.append(None if optional else _default(info, where, row(i)))
        elif category == "bytes":
            try:
                values.append(b"" if cell == '""' else base64.b64decode(cell, validate=True))
            except (binascii.Error, ValueError) as exc:
                raise SchemaMismatchError(
                    f"column {where!r}, row {row(i)}: not base64 data: {exc}"
                ) from exc
        else:
            values.append(cell)
    if category == "json":
        return ValueData(values, json=True) if _all_text(values) else _json_mixed(values)
    return ValueData(values)


def _all_text(values: list[Any]) -> bool:
    return all(v is None or isinstance(v, str) for v in values)


def _json_mixed(values: list[Any]) -> ValueData:
    # defaults (already values) mixed with JSON texts: decode the texts to Python first
    return ValueData([_loads(v) if isinstance(v, str) else v for v in values])


def _default(info: Any, where: str, row: int) -> Any:
    if info.is_required():
        raise SchemaMismatchError(
            f"column {where!r}, row {row}: empty cell for a required field that is not Optional"
        )
    return info.get_default(call_default_factory=True)


def _columns(
    cells: list[list[str]],
    doc_type: type,
    node: dict[str, Any],
    positions: Optional[list[int]],
    n: int,
    path: str,
) -> dict[str, Column]:
    """The field columns of the documents at ``positions`` (``None``: every row)."""
    kinds = doc_fields(doc_type)
    out: dict[str, Column] = {}
    for name, child in node.items():
        kind = kinds[name]
        where = f"{path}{SEPARATOR}{name}" if path else name
        if isinstance(child, dict):
            doc_cls = kind.doc_cls
            assert doc_cls is not None
            base = list(range(n)) if positions is None else positions
            valid = None
            sub = positions
            if kind.optional:
                empty = _all_empty(cells, child, base)
                if any(empty):
                    valid = np.asarray([not e for e in empty], dtype=bool)
                    sub = [p for p, e in zip(base, empty) if not e]
            count = n if sub is None else len(sub)
            out[name] = NestedData(_columns(cells, doc_cls, child, sub, n, where), count, valid)
            continue
        column = cells[child]
        if positions is not None:
            column = [column[i] for i in positions]
        out[name] = _decode_cells(column, doc_type, kind, where, positions)
    return out


def _all_empty(cells: list[list[str]], node: dict[str, Any], rows: list[int]) -> list[bool]:
    indices = list(_leaves(node))
    return [all(cells[c][r] == "" for c in indices) for r in rows]


def _leaves(node: dict[str, Any]) -> Any:
    for child in node.values():
        if isinstance(child, dict):
            yield from _leaves(child)
        else:
            yield child


def _read_rows(f: Any, dialect: Any) -> tuple[list[str], list[list[str]]]:
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, 2**31 - 1))
    try:
        reader = csv.reader(f, dialect=dialect)
        try:
            header = next(reader)
        except StopIteration:
            raise DeserializationError("the CSV file is empty: it has no header row") from None
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise DeserializationError(
                    f"row {len(rows)} (line {reader.line_num}) has {len(row)} cells, but the "
                    f"header has {len(header)} columns"
                )
            rows.append(row)
        return header, rows
    except csv.Error as exc:
        raise DeserializationError(f"cannot read the CSV: {exc}") from exc
    finally:
        csv.field_size_limit(old)


def array_from_csv(
    cls: type,
    file_path: Union[str, PathLike, Any],
    encoding: str = "utf-8",
    dialect: Any = "excel",
    tensor_type: Optional[type] = None,
) -> Any:
    """Documents of ``cls`` (a parametrized ``DocList`` or ``DocVec``) from a CSV file.

    Parameters
    ----------
    cls:
        ``DocList[MyDoc]`` or ``DocVec[MyDoc]`` (a CSV has no types, so an untyped
        ``DocList`` cannot read one).
    file_path:
        A local path, or a text file object (opened with ``newline=''``).
    encoding:
        The file's encoding, for a path.
    dialect:
        A ``csv`` dialect name or class.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns (by default the framework
        recorded in the cells, else numpy).

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    DeserializationError
        The file is empty, a row has another number of cells than the header, or a tensor
        cell is not JSON.
    SchemaMismatchError
        The header names a column that is no field, a required field has no column, or a
        cell does not validate (the message names the row and column).

    Example
    -------
    >>> import io
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> DocList[TextDoc].from_csv(io.StringIO('text\\r\\nhello\\r\\n')).text
    ['hello']
    """
    doc_type = cls.doc_type
    if doc_type is AnyDoc:
        raise DocTypeError(
            "from_csv() needs a document type: DocList[MyDoc].from_csv(...) (a CSV holds only "
            "text, so its columns cannot be typed without one)"
        )
    try:
        if hasattr(file_path, "read"):
            header, rows = _read_rows(file_path, dialect)
        else:
            with open(fspath(file_path), newline="", encoding=encoding) as f:
                header, rows = _read_rows(f, dialect)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DeserializationError(f"cannot read the CSV: {exc}") from exc
    n = len(rows)
    tree = column_tree(doc_type, header, range(len(header)), SEPARATOR)
    cells = [list(col) for col in zip(*rows)] if rows else [[] for _ in header]
    columns = _columns(cells, doc_type, tree, None, n, "")
    if is_columnar(cls) and tensor_type is None:
        tensor_type = infer_tensor_type(doc_fields(doc_type), columns)
    return build_array(cls, n, columns, tensor_type, sep=SEPARATOR)
