"""Documents as pandas DataFrames.

Layout: one column per field, in declaration order, the ``id`` included. A nested document's
fields are flattened into columns named ``outer__inner`` (``image__url``; to any depth). A
tensor is one object per cell (the numpy array, or the torch/jax/TensorFlow tensor the
document holds; a ``DocVec``'s cells are rows of its stacked column), a ``DocList`` field a
``DocList`` per cell. An untyped ``DocList`` (of ``AnyDoc``) gets one column per field
name, with the values as they are (no flattening).

Missing values: ``to_dataframe`` keeps ``None`` as ``None`` (a column of a field that has
``None`` in some document is of ``object`` dtype, so pandas does not turn it into ``NaN``).
``from_dataframe`` reads ``None``, ``pd.NA``, ``pd.NaT`` and ``NaN`` as ``None`` in the column
of an ``Optional`` field (pandas marks missing values with ``NaN``), but for an
``Optional[float]`` field a ``NaN`` in an ``object`` column stays ``NaN`` (that is how
``to_dataframe`` writes a float field's ``NaN`` values, so they read back as they were).
A nested document whose columns are all missing is ``None`` when its field is ``Optional``.

Reading checks the columns first: a column that names no field (``image__urll``) raises
:class:`~docstack.errors.SchemaMismatchError`, as does a missing column of a required field;
a cell that does not validate raises it naming the row and the column.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from docstack._internal.fields import FieldKind, doc_fields, unwrap_optional
from docstack._internal.optional import import_optional
from docstack.base_doc import AnyDoc
from docstack.errors import DeserializationError, SchemaMismatchError
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
    infer_tensor_type,
    is_columnar,
    source_of,
)

__all__ = ["array_to_dataframe", "array_from_dataframe", "SEPARATOR"]


_Source = Union[ListSource, VecSource]


# -- writing -------------------------------------------------------------------------------


def _flatten(src: _Source, prefix: str, out: dict[str, list[Any]]) -> None:
    """One list of cells per (flattened) column of the source's documents."""
    for name, kind in src.kinds.items():
        key = prefix + name
        if src.untyped:
            out[key] = src.values(name)
        elif kind.kind == "tensor":
            out[key] = src.tensor_cells(name)
        elif kind.kind == "doc" and kind.doc_cls not in (None, AnyDoc):
            nested, _ = src.nested(name)
            _flatten(nested, key + SEPARATOR, out)
        elif kind.kind == "doclist":
            out[key] = src.doclist_cells(name)
        else:
            out[key] = src.values(name)


def _series(pd: Any, values: list[Any], kind: Optional[FieldKind]) -> Any:
    """A column that keeps ``None`` (and tensors, arrays and lists as single cells)."""
    if kind is not None and kind.kind in ("tensor", "doclist", "doc"):
        return pd.Series(_object_array(values), dtype=object)
    series = pd.Series(values, dtype=object if not values else None)
    if series.dtype != object and any(v is None for v in values):
        return pd.Series(_object_array(values), dtype=object)
    if kind is not None and unwrap_optional(kind.annotation) == (float, True):
        return pd.Series(_object_array(values), dtype=object)
    return series


def _object_array(values: list[Any]) -> np.ndarray:
    """One object per cell (numpy would turn equal-shape arrays into one 2-d block)."""
    arr = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        arr[i] = value
    return arr


def _leaf_kinds(doc_type: type, prefix: str, out: dict[str, FieldKind]) -> None:
    for name, kind in doc_fields(doc_type).items():
        if kind.kind == "doc" and kind.doc_cls not in (None, AnyDoc):
            _leaf_kinds(kind.doc_cls, prefix + name + SEPARATOR, out)
        else:
            out[prefix + name] = kind


def array_to_dataframe(docs: Any) -> Any:
    """The documents of a ``DocList`` or ``DocVec`` as a ``pandas.DataFrame``.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.

    Returns
    -------
    A DataFrame with one row per document and one column per (flattened) field; see the
    module documentation for the layout.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> df = DocList[TextDoc]([TextDoc(text='a', id='1')]).to_dataframe()
    >>> list(df.columns)
    ['id', 'text', 'url', 'embedding', 'bytes_']
    >>> df['text'].tolist()
    ['a']
    """
    pd = import_optional("pandas")
    src = source_of(docs)
    cells: dict[str, list[Any]] = {}
    _flatten(src, "", cells)
    kinds: dict[str, FieldKind] = {}
    if not src.untyped:
        _leaf_kinds(src.doc_type, "", kinds)
    else:
        kinds = dict(src.kinds)
    data = {key: _series(pd, values, kinds.get(key)) for key, values in cells.items()}
    return pd.DataFrame(data, index=pd.RangeIndex(src.length), columns=list(cells))


# -- reading -------------------------------------------------------------------------------


def _is_missing(pd: Any, value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def _column_values(pd: Any, series: Any, kind: FieldKind) -> list[Any]:
    """The cells of a column as Python values, missing ones as ``None`` where the field
    is ``Optional``."""
    values = series.tolist()
    if not kind.optional:
        return values
    missing = series.isna().to_numpy(dtype=bool, na_value=True)
    if not missing.any():
        return values
    keep_nan = series.dtype == object and unwrap_optional(kind.annotation)[0] is float
    for i in np.flatnonzero(missing).tolist():
        v = values[i]
        if keep_nan and isinstance(v, float) and v != v:
            continue
        if _is_missing(pd, v) or not keep_nan:
            values[i] = None
    return values


class _Frame:
    """The columns of a DataFrame, read into field values on first use."""

    def __init__(self, pd: Any, df: Any) -> None:
        self.pd = pd
        self.df = df
        self.cache: dict[str, list[Any]] = {}

    def values(self, column: str, kind: FieldKind) -> list[Any]:
        """The cells of ``column`` as values of a field of ``kind``."""
        if column not in self.cache:
            self.cache[column] = _column_values(self.pd, self.df[column], kind)
        return self.cache[column]


def _missing_mask(frame: _Frame, doc_type: type, node: dict[str, Any], n: int) -> np.ndarray:
    """Rows where every column under ``node`` is missing."""
    out = np.ones(n, dtype=bool)
    kinds = doc_fields(doc_type)
    for name, child in node.items():
        kind = kinds[name]
        if isinstance(child, dict):
            out &= _missing_mask(frame, kind.doc_cls, child, n)  # type: ignore[arg-type]
        else:
            missing = frame.df[child].isna().to_numpy(dtype=bool, na_value=True)
            out &= missing
    return out


def _columns(
    frame: _Frame,
    doc_type: type,
    node: dict[str, Any],
    positions: Optional[np.ndarray],
    n: int,
) -> dict[str, Column]:
    """The field columns of the documents at ``positions`` (``None``: every row)."""
    kinds = doc_fields(doc_type)
    out: dict[str, Column] = {}
    for name, child in node.items():
        kind = kinds[name]
        if isinstance(child, dict):
            doc_cls = kind.doc_cls
            assert doc_cls is not None
            valid = None
            sub_positions = positions
            if kind.optional:
                missing = _missing_mask(frame, doc_cls, child, n)
                if positions is not None:
                    missing = missing[positions]
                if missing.any():
                    valid = ~missing
                    base = np.arange(n) if positions is None else positions
                    sub_positions = base[valid]
            count = n if sub_positions is None else len(sub_positions)
            out[name] = NestedData(_columns(frame, doc_cls, child, sub_positions, n), count, valid)
            continue
        values = frame.values(child, kind)
        if positions is not None:
            values = [values[i] for i in positions.tolist()]
        if kind.kind == "tensor":
            out[name] = TensorData(len(values), rows=values, raw=True)
        else:
            out[name] = ValueData(values)
    return out


def _row_label(pd: Any, df: Any) -> Any:
    index = df.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return lambda i: f"row {i}"
    return lambda i: f"row {i} (index {index[i]!r})"


def array_from_dataframe(cls: type, df: Any, tensor_type: Optional[type] = None) -> Any:
    """Documents of ``cls`` (a parametrized ``DocList`` or ``DocVec``) from a DataFrame.

    Parameters
    ----------
    cls:
        ``DocList[MyDoc]`` or ``DocVec[MyDoc]``; an untyped ``DocList`` reads one ``AnyDoc``
        per row with a field per column.
    df:
        A DataFrame of :func:`array_to_dataframe`'s layout, or any whose column names are
        field names (nested ones as ``outer__inner``). Tensor cells may hold arrays,
        tensors of any framework or lists of numbers.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns (by default the framework
        the cells share, else numpy).

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    SchemaMismatchError
        A column names no field, a required field has no column, or a cell does not
        validate (the message names the row and the column).

    Example
    -------
    >>> import pandas as pd
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> docs = DocList[TextDoc].from_dataframe(pd.DataFrame({'text': ['a', None]}))
    >>> docs.text
    ['a', None]
    """
    pd = import_optional("pandas")
    if not isinstance(df, pd.DataFrame):
        raise DeserializationError(f"expected a pandas.DataFrame, got {type(df).__name__}")
    if df.columns.has_duplicates:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise SchemaMismatchError(f"the DataFrame has duplicate columns: {', '.join(dupes)}")
    n = len(df)
    label = _row_label(pd, df)
    frame = _Frame(pd, df)
    doc_type = cls.doc_type
    if doc_type is AnyDoc:
        kinds = {str(c): FieldKind(str(c), Optional[Any], "other", True) for c in df.columns}
        columns: dict[str, Column] = {
            str(c): ValueData(frame.values(c, kinds[str(c)])) for c in df.columns
        }
        return build_array(cls, n, columns, None, label, SEPARATOR, kinds)
    columns = list(df.columns)
    tree = column_tree(doc_type, columns, columns, SEPARATOR)
    columns = _columns(frame, doc_type, tree, None, n)
    if is_columnar(cls) and tensor_type is None:
        tensor_type = infer_tensor_type(doc_fields(doc_type), columns)
    return build_array(cls, n, columns, tensor_type, label, SEPARATOR)
