"""Documents as plain rows (``to_list``/``from_list``), and the column machinery that the
table codecs (Arrow and Parquet, pandas, CSV) share.

Reading side: a *source* hands out a field's values for every document at once: a
:class:`ListSource` over documents (a ``DocList``, or the nested documents of a field) and a
:class:`VecSource` over a ``DocVec``'s columns, which it reads directly (stacked tensors stay
stacked; no document views are built).

Writing side: a codec turns its input into one *column* per field (:class:`TensorData`,
:class:`ValueData`, :class:`NestedData`, :class:`DocListData`), and :func:`build_array` turns
columns into a ``DocList`` (documents built without per-document validation of tensors) or a
``DocVec`` (its column storage built directly from the stacked tensors).

Validation: tensors are checked against the field's shape once per column; other fields are
validated a whole column at a time with a pydantic ``TypeAdapter``. A document class with
validators of its own (``@field_validator``, ``@model_validator``) gets each document
validated by ``model_validate`` instead, so those validators run. A value that does not fit
raises :class:`~docstack.errors.SchemaMismatchError` naming the column and the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Annotated, Any, Callable, Optional, Union

import numpy as np
from pydantic import ConfigDict, TypeAdapter, ValidationError

from docstack._internal.fields import FieldKind, doc_fields, unwrap_optional
from docstack.base_doc import AnyDoc, BaseDocWithoutId
from docstack.base_doc.doc import construct_doc, construct_docs
from docstack.errors import DeserializationError, SchemaMismatchError
from docstack.typing.tensor._base import concrete_tensor_class
from docstack.typing.tensor._convert import (
    framework_of,
    to_numpy,
)
from docstack.typing.tensor._convert import to_framework as _convert_to_framework
from docstack.typing.tensor._shape import check_shape
from docstack.typing.tensor.any_tensor import AnyTensor

__all__ = [
    "SEPARATOR",
    "array_to_list",
    "array_from_list",
    "ListSource",
    "VecSource",
    "source_of",
    "TensorData",
    "ValueData",
    "NestedData",
    "DocListData",
    "Column",
    "build_array",
    "build_docs",
    "tensor_data_from_values",
    "infer_tensor_type",
    "RowLabel",
    "infer_kinds",
    "item_adapter",
    "is_columnar",
    "plain_doc_type",
    "to_framework",
    "tensor_type_of",
    "FRAMEWORKS",
    "column_tree",
]

#: the tensor frameworks a column may record
FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow")

#: joins the field names of a nested document's column in tables and CSV: ``image__url``
SEPARATOR = "__"

RowLabel = Callable[[int], str]

# the config of docstack documents that matters for values written to JSON
_ADAPTER_CONFIG = ConfigDict(
    arbitrary_types_allowed=True,
    ser_json_bytes="base64",
    val_json_bytes="base64",
    ser_json_inf_nan="constants",
)


def _row_label(i: int) -> str:
    return f"row {i}"


# -- small helpers ------------------------------------------------------------------------


def is_columnar(cls: type) -> bool:
    """Whether an array class is a ``DocVec`` (column-wise) rather than a ``DocList``."""
    return bool(getattr(cls, "_docstack_columnar", False))


def plain_doc_type(doc: Any) -> type:
    """The document class of ``doc``: the class itself, not the view class of a ``DocVec`` row."""
    tp = type(doc)
    return getattr(tp, "__docstack_view_of__", None) or tp


def to_framework(value: Any, framework: Optional[str]) -> Any:
    """``value`` (numpy) as a plain tensor of ``framework`` (``None`` or 'numpy': unchanged);
    an unknown framework name is a ``DeserializationError``."""
    if framework is not None and framework not in FRAMEWORKS:
        raise DeserializationError(f"unknown tensor framework {framework!r}")
    return _convert_to_framework(value, framework)


def tensor_type_of(framework: Optional[str]) -> Optional[type]:
    """The tensor class of a ``DocVec``'s ``AnyTensor`` columns for a framework name."""
    if framework is None or framework == "numpy":
        return None
    if framework not in FRAMEWORKS:
        raise DeserializationError(f"unknown tensor framework {framework!r}")
    return concrete_tensor_class("tensor", framework)


def _make_adapter(tp: Any) -> TypeAdapter:
    try:
        return TypeAdapter(tp, config=_ADAPTER_CONFIG)
    except Exception:  # noqa: BLE001 - models and dataclasses bring their own config
        return TypeAdapter(tp)


def _annotated(annotation: Any, metadata: tuple[Any, ...]) -> Any:
    return Annotated[(annotation, *metadata)] if metadata else annotation  # type: ignore[misc]


@cache
def _cached_adapter(tp: Any, as_list: bool) -> TypeAdapter:
    return _make_adapter(list[tp] if as_list else tp)  # type: ignore[valid-type]


def _adapter(annotation: Any, metadata: tuple[Any, ...], as_list: bool) -> TypeAdapter:
    tp = _annotated(annotation, metadata)
    try:
        return _cached_adapter(tp, as_list)
    except TypeError:  # an annotation that cannot be hashed: build it each time
        return _make_adapter(list[tp] if as_list else tp)  # type: ignore[valid-type]


def item_adapter(annotation: Any, metadata: tuple[Any, ...] = ()) -> TypeAdapter:
    """A ``TypeAdapter`` for one value of a field (with its constraints), configured as
    docstack documents are for JSON (bytes as base64, NaN and infinities as constants)."""
    return _adapter(annotation, metadata, False)


def _list_adapter(annotation: Any, metadata: tuple[Any, ...] = ()) -> TypeAdapter:
    return _adapter(annotation, metadata, True)


def _field_key(doc_type: type, name: str) -> tuple[Any, tuple[Any, ...]]:
    """The annotation and constraint metadata of a field, hashable for the adapter caches."""
    info = doc_type.model_fields.get(name)
    if info is None:
        return Any, ()
    try:
        metadata = tuple(info.metadata)
        hash(metadata)
    except TypeError:
        metadata = ()
    return info.annotation, metadata


@cache
def _needs_model_validation(doc_type: type) -> bool:
    """Whether the class declares validators beyond docstack's own input shorthands."""
    if doc_type is AnyDoc:
        return False
    decorators = getattr(doc_type, "__pydantic_decorators__", None)
    if decorators is None:
        return False
    for group in (
        decorators.validators,
        decorators.field_validators,
        decorators.root_validators,
        decorators.model_validators,
    ):
        for dec in group.values():
            func = getattr(dec.func, "__func__", dec.func)
            if not str(getattr(func, "__module__", "")).startswith("docstack."):
                return True
    return False


def _first_error(exc: ValidationError) -> tuple[Any, str]:
    err = exc.errors(include_url=False)[0]
    loc = err.get("loc", ())
    return loc, f"{err.get('msg', 'invalid value')} (got {_short(err.get('input'))})"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- the untyped case ----------------------------------------------------------------------


def infer_kinds(docs: Sequence[Any]) -> dict[str, FieldKind]:
    """Classify the fields of documents of no declared type (``AnyDoc`` or mixed classes).

    The fields are the union over the documents, in first-seen order. A field whose values
    are all tensors is a tensor field (``AnyTensor``: each keeps its framework), one whose
    values are documents of one class a nested document field, one whose values are
    document arrays of one document type a ``DocList`` field; anything else is a plain value.
    """
    names: dict[str, None] = {}
    for doc in docs:
        if doc is None:
            continue
        names.update(dict.fromkeys(type(doc).model_fields))
        extra = doc.__pydantic_extra__
        if extra:
            names.update(dict.fromkeys(extra))
    kinds: dict[str, FieldKind] = {}
    for name in names:
        values = [getattr(d, name, None) for d in docs if d is not None]
        present = [v for v in values if v is not None]
        kinds[name] = _infer_kind(name, present)
    return kinds


def _infer_kind(name: str, present: list[Any]) -> FieldKind:
    if present and all(framework_of(v) is not None for v in present):
        return FieldKind(name, Optional[AnyTensor], "tensor", True, tensor_cls=AnyTensor)
    if present and all(isinstance(v, BaseDocWithoutId) for v in present):
        classes = {plain_doc_type(v) for v in present}
        if len(classes) == 1:
            (cls,) = classes
            return FieldKind(name, Optional[cls], "doc", True, doc_cls=cls)
    if present and all(getattr(type(v), "__docstack_doc_array__", False) for v in present):
        doc_types = {type(v).doc_type for v in present}
        if len(doc_types) == 1:
            (doc_type,) = doc_types
            from docstack.array.doc_list import DocList

            array_cls = DocList if doc_type is AnyDoc else DocList[doc_type]
            return FieldKind(name, Optional[array_cls], "doclist", True, doc_cls=doc_type)
    return FieldKind(name, Optional[Any], "other", True)


# -- reading documents column by column ----------------------------------------------------


@dataclass
class TensorData:
    """The values of a tensor field, one per document.

    Either ``stacked`` (a numpy array, first axis = documents; rows where ``mask`` is
    ``False`` are filler) or ``rows`` (one value or ``None`` per document). Neither means
    every document has ``None``. ``frameworks`` records the framework the values had: one
    name for the column, or one per row. ``raw`` rows still need validating (values a user
    put in a table cell).
    """

    length: int
    stacked: Optional[np.ndarray] = None
    mask: Optional[np.ndarray] = None
    rows: Optional[list[Any]] = None
    frameworks: Union[str, list[Optional[str]], None] = None
    raw: bool = False

    def row_framework(self, i: int) -> Optional[str]:
        """The framework row ``i`` had (``None``: unknown)."""
        fw = self.frameworks
        return fw[i] if isinstance(fw, list) else fw


@dataclass
class ValueData:
    """The values of a field, one per document, still to validate (``json``: JSON texts)."""

    values: list[Any]
    json: bool = False


@dataclass
class NestedData:
    """A nested document field: the columns of the documents that are present.

    ``valid[i]`` is ``False`` where document ``i`` has ``None``; the columns hold only the
    present documents (``count`` of them), in order. ``kinds`` classifies the fields of an
    untyped (``AnyDoc``) nested document.
    """

    columns: dict[str, Column]
    count: int
    valid: Optional[np.ndarray] = None
    kinds: Optional[dict[str, FieldKind]] = None


@dataclass
class DocListData:
    """A ``DocList`` field: the documents of every row, one after the other (``inner``);
    row ``i`` holds ``inner[offsets[i]:offsets[i + 1]]`` and is ``None`` where ``valid[i]``
    is ``False``."""

    offsets: np.ndarray
    inner: NestedData
    valid: Optional[np.ndarray] = None


Column = Union[TensorData, ValueData, NestedData, DocListData]


def tensor_data_from_values(values: list[Any]) -> TensorData:
    """Per-document tensors (or ``None``) as :class:`TensorData`, stacked when every present
    one has the same shape and dtype."""
    n = len(values)
    positions = [i for i, v in enumerate(values) if v is not None]
    if not positions:
        return TensorData(n)
    present = [values[i] for i in positions]
    if set(map(type, present)) == {np.ndarray}:  # the common case, without a check per value
        arrays = present
        frameworks: Union[str, list[Optional[str]]] = "numpy"
    else:
        fws = [framework_of(v) or "numpy" for v in present]
        arrays = [np.asarray(to_numpy(v)) for v in present]
        if len(set(fws)) == 1:
            frameworks = fws[0]
        else:
            frameworks = [None] * n
            for i, fw in zip(positions, fws):
                frameworks[i] = fw
    first = arrays[0]
    if len({a.dtype for a in arrays}) == 1 and len({a.shape for a in arrays}) == 1:
        stacked = np.stack(arrays)
        if len(positions) == n:
            return TensorData(n, stacked=stacked, frameworks=frameworks)
        full = np.zeros((n, *first.shape), dtype=first.dtype)
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        full[mask] = stacked
        return TensorData(n, stacked=full, mask=mask, frameworks=frameworks)
    rows: list[Any] = [None] * n
    for i, a in zip(positions, arrays):
        rows[i] = a
    return TensorData(n, rows=rows, frameworks=frameworks)


class ListSource:
    """Documents (``None`` where a nested document is missing) read field by field."""

    def __init__(
        self,
        docs: Sequence[Any],
        doc_type: type,
        kinds: Optional[dict[str, FieldKind]] = None,
    ) -> None:
        self.docs = docs if isinstance(docs, list) else list(docs)
        self.doc_type = doc_type
        self.length = len(self.docs)
        self.untyped = doc_type is AnyDoc
        self.complete = not any(d is None for d in self.docs)
        if kinds is None:
            kinds = infer_kinds(self.docs) if self.untyped else doc_fields(doc_type)
        self.kinds = kinds

    def values(self, name: str) -> list[Any]:
        """The value of field ``name`` of every document (``None`` for a missing document)."""
        if self.complete and not self.untyped:
            return list(map(attrgetter(name), self.docs))
        return [None if d is None else getattr(d, name, None) for d in self.docs]

    def tensor(self, name: str) -> TensorData:
        """The tensors of field ``name``, stacked where they can be."""
        return tensor_data_from_values(self.values(name))

    def tensor_cells(self, name: str) -> list[Any]:
        """The tensors of field ``name`` as the documents hold them."""
        return self.values(name)

    def nested(self, name: str) -> tuple[Any, Optional[np.ndarray]]:
        """The nested documents of field ``name`` as a source, and which are present."""
        values = self.values(name)
        kind = self.kinds[name]
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        doc_cls = kind.doc_cls if kind.doc_cls is not None else AnyDoc
        src = ListSource(values, doc_cls)
        return src, None if valid.all() else valid

    def doclist_cells(self, name: str) -> list[Any]:
        """The document arrays of field ``name`` (``None`` where missing)."""
        return self.values(name)

    def doclist(self, name: str) -> tuple[np.ndarray, Optional[np.ndarray], Any]:
        """The documents of every row's array of field ``name``, one after the other."""
        return _flatten_arrays(self.doclist_cells(name), self.kinds[name])


def _flatten_arrays(
    cells: list[Any], kind: FieldKind
) -> tuple[np.ndarray, Optional[np.ndarray], ListSource]:
    lengths = np.fromiter((0 if c is None else len(c) for c in cells), np.int64, len(cells))
    offsets = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    valid = np.fromiter((c is not None for c in cells), dtype=bool, count=len(cells))
    flat: list[Any] = []
    for c in cells:
        if c is not None:
            flat.extend(c)
    doc_cls = kind.doc_cls if kind.doc_cls is not None else AnyDoc
    return offsets, None if valid.all() else valid, ListSource(flat, doc_cls)


class VecSource:
    """A ``DocVec``'s columns (or a slice's part of them), read without building views."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.doc_type = storage.doc_type
        self.kinds = storage.kinds
        self.length = storage.length
        self.untyped = False

    def values(self, name: str) -> list[Any]:
        """The value of field ``name`` of every document."""
        where, col = self.storage.column(name)
        if where == "list":
            return list(col)
        if where == "doc":
            return list(col.to_doc_list())
        if where == "doclist":
            return [None if v is None else v.to_doc_list() for v in col]
        return self.tensor_cells(name)

    def tensor(self, name: str) -> TensorData:
        """The stacked column of field ``name`` as numpy (a list column when ragged)."""
        where, col = self.storage.column(name)
        n = self.length
        if where != "tensor":
            return tensor_data_from_values(list(col))
        if col is None:
            return TensorData(n)
        data = col.data
        fw = framework_of(data) or "numpy"
        stacked = np.asarray(to_numpy(data))
        mask = None if col.mask is None or col.mask.all() else np.asarray(col.mask)
        return TensorData(n, stacked=stacked, mask=mask, frameworks=fw)

    def tensor_cells(self, name: str) -> list[Any]:
        """The tensors of field ``name``, one per document, as the column's framework holds
        them (rows of a stacked column are views of it)."""
        where, col = self.storage.column(name)
        if where != "tensor":
            return list(col)
        if col is None:
            return [None] * self.length
        rows = list(col.data)
        if col.mask is not None:
            rows = [r if m else None for r, m in zip(rows, col.mask.tolist())]
        return rows

    def nested(self, name: str) -> tuple[Any, Optional[np.ndarray]]:
        """The nested documents of field ``name`` as a source, and which are present."""
        where, col = self.storage.column(name)
        if where == "doc":
            return VecSource(col._storage), None
        values = list(col)
        kind = self.kinds[name]
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        doc_cls = kind.doc_cls if kind.doc_cls is not None else AnyDoc
        return ListSource(values, doc_cls), None if valid.all() else valid

    def doclist_cells(self, name: str) -> list[Any]:
        """The document arrays of field ``name`` as ``DocList``s (``None`` where missing)."""
        where, col = self.storage.column(name)
        if where == "doclist":
            return [None if v is None else v.to_doc_list() for v in col]
        return list(col)

    def doclist(self, name: str) -> tuple[np.ndarray, Optional[np.ndarray], Any]:
        """The documents of every row's array of field ``name``, one after the other."""
        return _flatten_arrays(self.doclist_cells(name), self.kinds[name])


def source_of(docs: Any) -> Union[ListSource, VecSource]:
    """The source that reads ``docs`` (a ``DocList`` or ``DocVec``) column by column."""
    storage = getattr(docs, "_storage", None)
    if storage is not None and is_columnar(type(docs)):
        return VecSource(storage)
    doc_type = getattr(type(docs), "doc_type", AnyDoc)
    return ListSource(list(docs), doc_type)


# -- building documents from columns -------------------------------------------------------


def _missing_values(doc_type: type, name: str, n: int, where: str) -> list[Any]:
    info = doc_type.model_fields.get(name)
    if info is None:
        return [None] * n
    if info.is_required():
        raise SchemaMismatchError(
            f"no column {where!r} for the required field {name!r} of {doc_type.__name__}"
        )
    return [info.get_default(call_default_factory=True) for _ in range(n)]


def _check_present(
    kind: FieldKind, valid: Optional[np.ndarray], where: str, label: RowLabel
) -> None:
    if valid is not None and not kind.optional and not valid.all():
        raise _missing_row(kind, where, label, int(np.argmin(valid)))


def _scatter(values: list[Any], valid: Optional[np.ndarray], n: int) -> list[Any]:
    if valid is None:
        return values
    out: list[Any] = [None] * n
    for pos, value in zip(np.flatnonzero(valid).tolist(), values):
        out[pos] = value
    return out


def _compact_label(label: RowLabel, valid: Optional[np.ndarray]) -> RowLabel:
    if valid is None:
        return label
    positions = np.flatnonzero(valid)
    return lambda j: label(int(positions[j]))


def _item_label(label: RowLabel, offsets: np.ndarray) -> RowLabel:
    def item(j: int) -> str:
        row = int(np.searchsorted(offsets, j, side="right")) - 1
        return f"{label(row)}, item {j - int(offsets[row])}"

    return item


def _validate_values(
    doc_type: type, kind: FieldKind, col: ValueData, where: str, label: RowLabel
) -> list[Any]:
    """Validate a column of plain values against the field (JSON texts decoded first)."""
    annotation, metadata = _field_key(doc_type, kind.name)
    values = col.values
    if col.json:
        adapter = item_adapter(annotation, metadata)
        out = []
        for i, text in enumerate(values):
            if text is None:
                out.append(None)
                continue
            try:
                out.append(adapter.validate_json(text))
            except ValidationError as exc:
                _, msg = _first_error(exc)
                raise SchemaMismatchError(f"column {where!r}, {label(i)}: {msg}") from exc
        values = out
        if annotation is Any:
            return values
    if annotation is Any:
        return list(values)
    try:
        return _list_adapter(annotation, metadata).validate_python(values)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        row = loc[0] if loc and isinstance(loc[0], int) else 0
        inner = ".".join(str(p) for p in loc[1:])
        detail = f" at {inner}" if inner else ""
        raise SchemaMismatchError(f"column {where!r}, {label(row)}{detail}: {msg}") from exc


def _missing_row(kind: FieldKind, where: str, label: RowLabel, i: int) -> SchemaMismatchError:
    return SchemaMismatchError(
        f"column {where!r}, {label(i)}: missing value for field {kind.name!r}, which is not "
        "Optional"
    )


def _tensor_values(kind: FieldKind, col: TensorData, where: str, label: RowLabel) -> list[Any]:
    """One value of the field's tensor type per document (``None`` where missing)."""
    cls = kind.tensor_cls
    assert cls is not None
    n = col.length
    any_framework = cls._docstack_framework == "any"
    if col.stacked is not None:
        stacked = col.stacked
        spec = cls.__docstack_shape__
        if spec is not None:
            reason = check_shape(tuple(stacked.shape[1:]), spec)
            if reason is not None:
                raise SchemaMismatchError(f"column {where!r}: {cls.__name__}: {reason}")
        _check_present(kind, col.mask, where, label)
        convert = cls._docstack_convert
        target = col.frameworks if any_framework else cls._docstack_framework
        if isinstance(target, list):
            values = [convert(to_framework(row, target[i])) for i, row in enumerate(stacked)]
        else:
            # one conversion of the whole column, then its rows (views where the framework
            # has them)
            values = [convert(row) for row in to_framework(stacked, target)]
        if col.mask is not None:
            values = [v if m else None for v, m in zip(values, col.mask.tolist())]
        return values
    if col.rows is None:
        if n and not kind.optional:
            raise _missing_row(kind, where, label, 0)
        return [None] * n
    validate = cls._docstack_validate
    out: list[Any] = []
    for i, value in enumerate(col.rows):
        if value is None:
            if not kind.optional:
                raise _missing_row(kind, where, label, i)
            out.append(None)
            continue
        if not col.raw and any_framework:
            value = to_framework(value, col.row_framework(i))
        try:
            out.append(validate(value))
        except (ValueError, TypeError) as exc:
            raise SchemaMismatchError(f"column {where!r}, {label(i)}: {exc}") from exc
    return out


def _join(path: str, name: str, sep: str) -> str:
    return f"{path}{sep}{name}" if path else name


def _array_class(kind: FieldKind) -> type:
    cls, _ = unwrap_optional(kind.annotation)
    if not getattr(cls, "__docstack_doc_array__", False):
        from docstack.array.doc_list import DocList

        cls = DocList if kind.doc_cls in (None, AnyDoc) else DocList[kind.doc_cls]
    return cls


def _make_array(array_cls: type, docs: list[Any]) -> Any:
    if is_columnar(array_cls):
        return array_cls(docs)
    return array_cls(docs, validate_input_docs=False)


def _field_values(
    doc_type: type, kind: FieldKind, col: Column, where: str, label: RowLabel, sep: str
) -> list[Any]:
    """One validated value per document for one field, from its column."""
    if isinstance(col, ValueData):
        return _validate_values(doc_type, kind, col, where, label)
    if isinstance(col, TensorData):
        if kind.kind != "tensor":
            raise SchemaMismatchError(
                f"column {where!r} holds tensors, but field {kind.name!r} is not a tensor field"
            )
        return _tensor_values(kind, col, where, label)
    if isinstance(col, NestedData):
        _check_present(kind, col.valid, where, label)
        doc_cls = kind.doc_cls if kind.doc_cls is not None else AnyDoc
        docs = build_docs(
            doc_cls, col.count, col.columns, _compact_label(label, col.valid), where, sep, col.kinds
        )
        n = len(col.valid) if col.valid is not None else col.count
        return _scatter(docs, col.valid, n)
    # DocListData
    _check_present(kind, col.valid, where, label)
    inner = col.inner
    doc_cls = kind.doc_cls if kind.doc_cls is not None else AnyDoc
    flat = build_docs(
        doc_cls,
        inner.count,
        inner.columns,
        _item_label(label, col.offsets),
        where,
        sep,
        inner.kinds,
    )
    array_cls = _array_class(kind)
    bounds = col.offsets.tolist()
    valid = None if col.valid is None else col.valid.tolist()
    return [
        None if valid is not None and not valid[i] else _make_array(array_cls, flat[a:b])
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]


def _validate_doc(doc_type: type, values: dict[str, Any], label: str, path: str, sep: str) -> Any:
    try:
        return doc_type.model_validate(values)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        column = _join(path, sep.join(str(p) for p in loc), sep) if loc else path or "?"
        raise SchemaMismatchError(f"column {column!r}, {label}: {msg}") from exc


def build_docs(
    doc_type: type,
    n: int,
    columns: Mapping[str, Column],
    label: RowLabel = _row_label,
    path: str = "",
    sep: str = ".",
    kinds: Optional[dict[str, FieldKind]] = None,
) -> list[Any]:
    """``n`` documents of ``doc_type`` from one column per field.

    A field without a column takes its default (every document gets its own), and a
    required one raises :class:`SchemaMismatchError`. ``label`` names a row in errors,
    ``path`` and ``sep`` the column (``image.url`` or ``image__url``).
    """
    if kinds is None:
        kinds = (
            doc_fields(doc_type)
            if doc_type is not AnyDoc
            else {k: FieldKind(k, Optional[Any], "other", True) for k in columns}
        )
    values: dict[str, list[Any]] = {}
    for name, kind in kinds.items():
        where = _join(path, name, sep)
        col = columns.get(name)
        if col is None:
            if doc_type is AnyDoc:
                continue
            values[name] = _missing_values(doc_type, name, n, where)
        else:
            values[name] = _field_values(doc_type, kind, col, where, label, sep)
    if n == 0:
        return []
    names = list(values)
    if not names:
        return [construct_doc(doc_type, {}, set()) for _ in range(n)]
    rows = zip(*values.values())
    if _needs_model_validation(doc_type):
        return [
            _validate_doc(doc_type, dict(zip(names, row)), label(i), path, sep)
            for i, row in enumerate(rows)
        ]
    return construct_docs(doc_type, names, list(values.values()), set(names))


def _build_storage(
    doc_type: type,
    n: int,
    columns: Mapping[str, Column],
    tensor_type: Optional[type],
    label: RowLabel,
    path: str,
    sep: str,
) -> Any:
    """The column storage of a ``DocVec`` of ``n`` documents, built column by column."""
    from docstack.array._column_storage import ColumnStorage, TensorColumn, column_class
    from docstack.array.doc_vec.doc_vec import DocVec, _fill_column

    kinds = doc_fields(doc_type)
    storage = ColumnStorage(doc_type, n, dict(kinds), tensor_type)
    for name, kind in kinds.items():
        where = _join(path, name, sep)
        col = columns.get(name)
        if col is None:
            _fill_column(storage, name, kind, _missing_values(doc_type, name, n, where))
        elif isinstance(col, TensorData) and col.stacked is not None and kind.kind == "tensor":
            cls = column_class(kind, tensor_type)
            spec = kind.tensor_cls.__docstack_shape__  # type: ignore[union-attr]
            if spec is not None:
                reason = check_shape(tuple(col.stacked.shape[1:]), spec)
                if reason is not None:
                    raise SchemaMismatchError(
                        f"column {where!r}: {kind.tensor_cls.__name__}: {reason}"  # type: ignore[union-attr]
                    )
            _check_present(kind, col.mask, where, label)
            if col.mask is not None and not col.mask.any():
                storage.tensors[name] = None
                continue
            data = cls._docstack_convert(col.stacked)
            mask = None if col.mask is None else np.array(col.mask, dtype=bool)
            storage.tensors[name] = TensorColumn(data, mask)
        elif (
            isinstance(col, NestedData)
            and col.valid is None
            and kind.kind == "doc"
            and kind.doc_cls not in (None, AnyDoc)
            and not _needs_model_validation(kind.doc_cls)
        ):
            nested = _build_storage(kind.doc_cls, n, col.columns, tensor_type, label, where, sep)
            storage.docs[name] = DocVec[kind.doc_cls]._from_storage(nested)
        elif (
            isinstance(col, DocListData)
            and kind.kind == "doclist"
            and kind.doc_cls not in (None, AnyDoc)
            and not _needs_model_validation(kind.doc_cls)
        ):
            _check_present(kind, col.valid, where, label)
            inner = col.inner
            flat_storage = _build_storage(
                kind.doc_cls,
                inner.count,
                inner.columns,
                tensor_type,
                _item_label(label, col.offsets),
                where,
                sep,
            )
            flat = DocVec[kind.doc_cls]._from_storage(flat_storage)
            bounds = col.offsets.tolist()
            valid = None if col.valid is None else col.valid.tolist()
            storage.doc_lists[name] = [
                None if valid is not None and not valid[i] else flat[a:b]
                for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
            ]
        else:
            values = _field_values(doc_type, kind, col, where, label, sep)
            _fill_column(storage, name, kind, values)
    return storage


def build_array(
    cls: type,
    n: int,
    columns: Mapping[str, Column],
    tensor_type: Optional[type] = None,
    label: RowLabel = _row_label,
    sep: str = ".",
    kinds: Optional[dict[str, FieldKind]] = None,
) -> Any:
    """An instance of ``cls`` (a parametrized ``DocList`` or ``DocVec``) from columns.

    A ``DocVec`` gets its storage built directly (stacked tensors wrapped as they are); a
    class with validators of its own is built from validated documents instead.
    """
    doc_type = cls.doc_type
    if is_columnar(cls):
        if _needs_model_validation(doc_type):
            docs = build_docs(doc_type, n, columns, label, "", sep, kinds)
            return cls(docs, tensor_type=tensor_type)
        storage = _build_storage(doc_type, n, columns, tensor_type, label, "", sep)
        return cls._from_storage(storage)
    docs = build_docs(doc_type, n, columns, label, "", sep, kinds)
    return cls(docs, validate_input_docs=False)


def infer_tensor_type(
    kinds: Mapping[str, FieldKind], columns: Mapping[str, Column]
) -> Optional[type]:
    """The tensor class that the values of the ``AnyTensor`` columns share, if not numpy.

    Used by readers of formats that record no ``DocVec`` tensor type (CSV, pandas, rows), so
    that torch tensors in the input give a ``DocVec`` of torch columns.
    """
    seen: set[str] = set()
    for name, kind in kinds.items():
        col = columns.get(name)
        if kind.kind != "tensor" or not isinstance(col, TensorData):
            continue
        if kind.tensor_cls is None or kind.tensor_cls._docstack_framework != "any":
            continue
        if col.rows is not None:
            seen.update(framework_of(v) or "numpy" for v in col.rows if v is not None)
        elif isinstance(col.frameworks, list):
            seen.update(f for f in col.frameworks if f is not None)
        elif col.frameworks is not None:
            seen.add(col.frameworks)
    if len(seen) == 1:
        return tensor_type_of(seen.pop())
    return None


# -- to_list / from_list ------------------------------------------------------------------


def _doc_dict(doc: Any) -> dict[str, Any]:
    out = {}
    for name in type(doc).model_fields:
        out[name] = _plain_value(getattr(doc, name))
    extra = doc.__pydantic_extra__
    if extra:
        for name, value in extra.items():
            out[name] = _plain_value(value)
    return out


def _plain_value(value: Any) -> Any:
    if isinstance(value, BaseDocWithoutId):
        return _doc_dict(value)
    if getattr(type(value), "__docstack_doc_array__", False):
        return array_to_list(value)
    return value


def _source_rows(src: Union[ListSource, VecSource]) -> list[dict[str, Any]]:
    if isinstance(src, ListSource) and src.untyped:
        return [None if d is None else _doc_dict(d) for d in src.docs]  # type: ignore[misc]
    columns: dict[str, list[Any]] = {}
    for name, kind in src.kinds.items():
        if kind.kind == "tensor":
            columns[name] = src.tensor_cells(name)
        elif kind.kind == "doc" and kind.doc_cls not in (None, AnyDoc):
            nested, valid = src.nested(name)
            rows: list[Any] = _source_rows(nested)
            if valid is not None:
                rows = [r if ok else None for r, ok in zip(rows, valid.tolist())]
            columns[name] = rows
        elif kind.kind == "doclist":
            columns[name] = [
                None if cell is None else array_to_list(cell) for cell in src.doclist_cells(name)
            ]
        else:
            columns[name] = [_plain_value(v) for v in src.values(name)]
    if not columns:
        return [{} for _ in range(src.length)]
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


def array_to_list(docs: Any) -> list[dict[str, Any]]:
    """The documents of a ``DocList`` or ``DocVec`` as plain dicts.

    Each dict has one key per field (the ``id`` too); nested documents are dicts, ``DocList``
    fields lists of dicts, and tensors are kept as they are (the rows of a ``DocVec``'s
    stacked column are views of it). Other values are the documents' own objects, not
    copies.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.

    Returns
    -------
    A list with one dict per document.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> rows = DocList[TextDoc]([TextDoc(text='a', id='1')]).to_list()
    >>> rows[0]['text'], rows[0]['id']
    ('a', '1')
    """
    return _source_rows(source_of(docs))


def array_from_list(cls: type, rows: Iterable[Any], tensor_type: Optional[type] = None) -> Any:
    """Documents of ``cls`` (a parametrized ``DocList`` or ``DocVec``) from dicts.

    Each dict is validated into a document (as ``model_validate`` does); a document of the
    array's type is taken as it is.

    Parameters
    ----------
    cls:
        ``DocList[MyDoc]`` or ``DocVec[MyDoc]`` (an untyped ``DocList`` makes ``AnyDoc``s).
    rows:
        Dicts such as :func:`array_to_list` returns.
    tensor_type:
        ``DocVec`` only: the tensor class of ``AnyTensor`` columns; by default the framework
        the rows' ``AnyTensor`` values share, else numpy.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    DeserializationError
        A row is not a dict.
    SchemaMismatchError
        A row does not validate; the message names the row index and the field.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> DocList[TextDoc].from_list([{'text': 'a'}, {'text': 'b'}]).text
    ['a', 'b']
    """
    doc_type = cls.doc_type
    allowed = BaseDocWithoutId if doc_type is AnyDoc else doc_type
    docs = []
    for i, row in enumerate(rows):
        if isinstance(row, allowed):
            docs.append(row)
            continue
        if not isinstance(row, Mapping):
            raise DeserializationError(
                f"row {i} is a {type(row).__name__}, not a dict of field values"
            )
        try:
            docs.append(doc_type.model_validate(dict(row)))
        except ValidationError as exc:
            loc, msg = _first_error(exc)
            field_path = ".".join(str(p) for p in loc) or "?"
            raise SchemaMismatchError(
                f"row {i}: field {field_path!r} of {doc_type.__name__}: {msg}"
            ) from exc
    if is_columnar(cls):
        if tensor_type is None:
            kinds = doc_fields(doc_type)
            columns: dict[str, Column] = {
                name: TensorData(len(docs), rows=[getattr(d, name) for d in docs])
                for name, kind in kinds.items()
                if kind.kind == "tensor"
            }
            tensor_type = infer_tensor_type(kinds, columns)
        return cls(docs, tensor_type=tensor_type)
    return cls(docs, validate_input_docs=False)


def column_tree(
    doc_type: type, columns: Sequence[Any], leaves: Sequence[Any], sep: str = SEPARATOR
) -> dict[str, Any]:
    """Flat column names as a tree over the fields: a column ``image__url`` fills the field
    ``url`` of the nested document ``image`` (``{'image': {'url': leaf}}``), where ``leaves``
    holds what to keep for each column (its name, its position).

    Raises
    ------
    SchemaMismatchError
        A column names no field, or two columns fill the same field.

    Example
    -------
    >>> from docstack.documents import ImageDoc
    >>> from docstack import BaseDoc
    >>> class Page(BaseDoc):
    ...     image: ImageDoc
    >>> column_tree(Page, ['id', 'image__url'], [0, 1])
    {'id': 0, 'image': {'url': 1}}
    """
    tree: dict[str, Any] = {}
    unknown = []
    for column, leaf in zip(columns, leaves):
        if not isinstance(column, str):
            unknown.append(column)
            continue
        parts = column.split(sep)
        cls, node = doc_type, tree
        for depth, part in enumerate(parts):
            kind = doc_fields(cls).get(part)
            last = depth == len(parts) - 1
            if kind is None or (
                not last and (kind.kind != "doc" or kind.doc_cls in (None, AnyDoc))
            ):
                unknown.append(column)
                break
            if last:
                if part in node:
                    raise SchemaMismatchError(
                        f"column {column!r} fills field {part!r}, which another column "
                        f"({column} again, or {column}{sep}...) fills too"
                    )
                node[part] = leaf
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise SchemaMismatchError(
                        f"column {column!r} and a column for the whole field {part!r} both "
                        f"fill field {part!r}"
                    )
                cls, node = kind.doc_cls, child
    if unknown:
        names = ", ".join(repr(c) for c in unknown)
        raise SchemaMismatchError(
            f"Column names do not match the schema of {doc_type.__name__}: column(s) "
            f"{names} name no field of it (fields: "
            f"{', '.join(doc_fields(doc_type))}; nested fields as outer{sep}inner)"
        )
    return tree


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
