"""``DocVec``: documents stored column by column."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any, ClassVar, overload

import numpy as np

from docstack.array._column_storage import (
    AnyStorage,
    ColumnStorage,
    TensorColumn,
    column_class,
    stack_tensors,
    tensor_rows,
    zeros_rows,
)
from docstack.array.any_array import AnyDocArray, T_doc, normalize_index
from docstack.array.doc_list import DocList, _index_array
from docstack.base_doc import AnyDoc
from docstack.base_doc._view import in_field, make_view, validate_field_values
from docstack.base_doc.doc import construct_docs
from docstack.errors import DocTypeError
from docstack.typing.tensor._convert import framework_of
from docstack.typing.tensor._shape import check_shape

__all__ = ["DocVec"]


class DocVec(AnyDocArray[T_doc]):
    """Documents of one type stored column by column.

    Each tensor field is one stacked tensor (``docs.embedding`` is an ``(n, dim)`` array you
    can hand to a model), each nested document field a nested ``DocVec``, each ``DocList``
    field a list of ``DocVec`` (one per document), and any other field a list. An untyped
    ``DocList`` field (its documents may be of any types) is a list of ``DocList``.

    ``docs[i]`` is a view: it looks and behaves like a document, and assigning to its fields
    (or changing its tensors in place) writes into the columns. A slice is a window on the
    original: its tensor columns share memory with the original's, and every write through
    it (to a view's field, or a whole column) reaches the original (torch cannot slice with
    a negative step, so there the slice's torch columns are copies, yet writes through it
    still reach the original). Index lists and boolean masks copy the documents' data:
    tensors, nested documents and ``DocList`` fields (other values, such as a ``list`` or a
    ``dict`` field's, are shared, as in any shallow copy); so does :meth:`copy`.

    An ``Optional`` tensor field may be ``None`` in some documents: the column is stacked
    with a mask, ``docs[i].field`` is ``None`` where it is missing, and ``docs.field`` is the
    stacked tensor when no document misses it, else a list with ``None`` entries (see
    :meth:`get_tensor_column` for the stacked tensor and mask). Tensors whose shapes differ
    between documents are kept as a list.

    Parameters
    ----------
    docs:
        The documents (any iterable of ``T``).
    tensor_type:
        The tensor class for ``AnyTensor``-typed fields: ``NdArray`` (default),
        ``TorchTensor`` or ``JaxArray``. Fields typed with a concrete framework keep it.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocVec
    >>> from docstack.typing import NdArray
    >>> class ImageDoc(BaseDoc):
    ...     image: NdArray[3, 8, 8]
    >>> docs = DocVec[ImageDoc]([ImageDoc(image=np.zeros((3, 8, 8))) for _ in range(10)])
    >>> docs.image.shape
    (10, 3, 8, 8)
    >>> docs[0].is_view()
    True
    """

    __docstack_array_base__: ClassVar[type]
    _docstack_columnar: ClassVar[bool] = True

    def __init__(self, docs: Iterable[Any] = (), tensor_type: type | None = None) -> None:
        t = self.doc_type
        if t is AnyDoc:
            raise DocTypeError("DocVec needs a document type: DocVec[MyDoc](docs)")
        if tensor_type is not None and tensor_type._docstack_framework == "any":
            tensor_type = None
        items = self._validate_docs(docs)
        _refuse_lost_fields(type(self), items)
        storage = ColumnStorage(t, len(items), dict(self._field_kinds()), tensor_type)
        for name, kind in storage.kinds.items():
            values = list(map(attrgetter(name), items))
            _fill_column(storage, name, kind, values)
        object.__setattr__(self, "_storage", storage)

    def _check_doc(self, doc: Any, position: int | None = None) -> Any:
        doc = super()._check_doc(doc, position)
        _refuse_lost_fields(type(self), [doc], position)
        _refuse_lost_nested(type(self), doc)
        return doc

    @classmethod
    def _from_storage(cls, storage: AnyStorage) -> DocVec:
        out = cls.__new__(cls)
        object.__setattr__(out, "_storage", storage)
        return out

    @property
    def tensor_type(self) -> type:
        """The tensor class of ``AnyTensor`` fields' columns (``NdArray`` by default)."""
        from docstack.typing.tensor.ndarray import NdArray

        return self._storage.tensor_type or NdArray

    # -- sequence API -----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._storage.length

    def __iter__(self) -> Iterator[T_doc]:
        storage, t = self._storage, self.doc_type
        for i in range(storage.length):
            yield make_view(t, storage, i)

    @overload
    def __getitem__(self, key: int) -> T_doc: ...

    @overload
    def __getitem__(self, key: Any) -> DocVec[T_doc]: ...

    def __getitem__(self, key: Any) -> Any:
        if key is None:  # DocArray's "everything": the array itself
            return self
        storage = self._storage
        if isinstance(key, slice):
            return type(self)._from_storage(storage.select(key))
        positions = _index_array(key, storage.length)
        if positions is None:
            if not isinstance(key, (int, np.integer)):
                raise IndexError(f"documents are indexed by ints, slices or masks, got {key!r}")
            return make_view(self.doc_type, storage, normalize_index(key, storage.length))
        return type(self)._from_storage(storage.select(positions))

    def __setitem__(self, key: Any, value: Any) -> None:
        storage = self._storage
        if isinstance(key, (int, np.integer)):
            i = normalize_index(key, storage.length)
            doc = self._check_doc(value, i)
            for name in storage.kinds:
                storage.set_value(name, i, getattr(doc, name))
            return
        positions = (
            np.arange(storage.length)[key]
            if isinstance(key, slice)
            else _index_array(key, storage.length)
        )
        if positions is None:
            raise IndexError(f"documents are indexed by ints, slices or masks, got {key!r}")
        docs = list(value)
        if len(docs) != len(positions):
            raise ValueError(f"cannot assign {len(docs)} documents to {len(positions)} positions")
        checked = [self._check_doc(d, int(i)) for i, d in zip(positions, docs)]
        for i, doc in zip(positions, checked):
            self[int(i)] = doc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DocVec):
            return NotImplemented
        if other.doc_type is not self.doc_type or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (length={len(self)})>"

    def __reduce__(self) -> Any:
        return (_rebuild_doc_vec, (self.doc_type, self.to_doc_list(), self._storage.tensor_type))

    # -- columns ----------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.get_column(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.doc_type.model_fields:
            self.set_column(name, value)
        else:
            object.__setattr__(self, name, value)

    def get_column(self, name: str) -> Any:
        """The column of field ``name``.

        Returns
        -------
        The stacked tensor for a tensor field (the column itself: in-place changes write
        through), a ``DocVec`` for a nested document field, a list of ``DocVec`` for a
        ``DocList`` field and a list for any other field. A tensor column is ``None`` when no
        document has a value, and a list with ``None`` entries when only some have one.
        """
        storage = self._storage
        if name not in storage.kinds:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}: {self.doc_type.__name__} "
                f"has no field {name!r} (fields: {', '.join(storage.kinds)})"
            )
        where, col = storage.column(name)
        if where == "tensor":
            if col is None:
                return None
            if col.is_full():
                return col.data
            return [storage.get_value(name, i) for i in range(storage.length)]
        if where == "doc":
            return col
        return list(col)

    def get_tensor_column(self, name: str) -> tuple[Any, np.ndarray | None]:
        """The stacked tensor of field ``name`` and its presence mask.

        The mask is ``None`` when every document has a value; rows where the mask is
        ``False`` hold zeros.

        Example
        -------
        >>> from typing import Optional
        >>> from docstack import BaseDoc, DocVec
        >>> from docstack.typing import NdArray
        >>> class D(BaseDoc):
        ...     v: Optional[NdArray[2]] = None
        >>> data, mask = DocVec[D]([D(v=[1, 2]), D()]).get_tensor_column('v')
        >>> mask.tolist()
        [True, False]
        """
        storage = self._storage
        kind = storage.kinds.get(name)
        if kind is None or kind.kind != "tensor":
            raise KeyError(f"{name!r} is not a tensor field of {self.doc_type.__name__}")
        where, col = storage.column(name)
        if where != "tensor":
            raise ValueError(
                f"field {name!r} holds tensors of different shapes and is kept as a list"
            )
        if col is None:
            return None, np.zeros(storage.length, dtype=bool)
        return col.data, None if col.mask is None else col.mask.copy()

    def set_column(self, name: str, value: Any) -> None:
        """Replace the column of field ``name``.

        A tensor field takes a stacked tensor with one row per document (checked against the
        field's shape) or a sequence of per-document values; a nested document field takes a
        ``DocVec`` or sequence of documents; other fields take a sequence of values, each
        validated like an assignment. ``None`` sets the field of every document to ``None``
        (a field that does not allow ``None`` refuses it). On error nothing changes.

        On a slice, the new values are written into the rows of the original.

        Example
        -------
        >>> from docstack import BaseDoc, DocVec
        >>> from docstack.typing import NdArray
        >>> class D(BaseDoc):
        ...     v: NdArray[2]
        >>> docs = DocVec[D]([D(v=[0, 0]) for _ in range(3)])
        >>> docs[1:].set_column('v', [[1, 1], [2, 2]])
        >>> docs.v.tolist()
        [[0, 0], [1, 1], [2, 2]]
        """
        storage = self._storage
        kind = storage.kinds.get(name)
        if kind is None:
            raise AttributeError(f"{self.doc_type.__name__} has no field {name!r}")
        n = storage.length
        if value is None:
            value = [None] * n
        if isinstance(storage, ColumnStorage):
            _build_column(storage, name, kind, value, self.doc_type)
            return
        # a slice: build the column aside, then write it into the original's rows
        built = ColumnStorage(self.doc_type, n, storage.kinds, storage.tensor_type)
        _build_column(built, name, kind, value, self.doc_type)
        storage.assign_rows(name, range(n), built)

    def copy(self) -> DocVec[T_doc]:
        """A DocVec with copies of this one's columns: writes to either never reach the other.

        Tensors, nested documents and ``DocList`` fields are copied; other values (a
        ``list`` or ``dict`` field's) are shared, as in any shallow copy.

        Example
        -------
        >>> from docstack import BaseDoc, DocVec
        >>> from docstack.typing import NdArray
        >>> class D(BaseDoc):
        ...     v: NdArray[2]
        >>> docs = DocVec[D]([D(v=[1, 2])])
        >>> other = docs.copy()
        >>> other[0].v[0] = 9
        >>> docs[0].v.tolist(), other[0].v.tolist()
        ([1, 2], [9, 2])
        """
        return self[np.arange(len(self))]

    # -- conversions ------------------------------------------------------------------------

    def to_doc_list(self) -> DocList[T_doc]:
        """Convert to a ``DocList`` of standalone documents.

        Tensor fields of the new documents are views of this DocVec's columns (no copy);
        copy them if you keep writing to both.
        """
        storage, t = self._storage, self.doc_type
        n = storage.length
        columns: dict[str, list[Any]] = {}
        for name in storage.kinds:
            where, col = storage.column(name)
            if where == "tensor":
                if col is None:
                    columns[name] = [None] * n
                else:
                    rows = tensor_rows(col.data)
                    if col.mask is not None:
                        rows = [r if m else None for r, m in zip(rows, col.mask.tolist())]
                    columns[name] = rows
            elif where == "doc":
                columns[name] = list(col.to_doc_list())
            elif where == "doclist":
                columns[name] = [None if v is None else v.to_doc_list() for v in col]
            else:
                columns[name] = col
        names = list(columns)
        docs = construct_docs(t, names, [columns[k] for k in names], set(names), n=len(self))
        return DocList[t](docs, validate_input_docs=False)

    def to(self, device: str) -> DocVec[T_doc]:
        """Move every torch column to ``device`` (e.g. ``'cuda'``), in place; returns self.

        A slice first becomes a copy of its documents: once moved, it can no longer share
        memory with the original, so writes to it stop reaching the original.

        Raises
        ------
        NotImplementedError
            ``device`` is not ``'cpu'`` and the tensor columns are numpy only (numpy lives on
            the CPU: nothing could move). Numpy columns beside torch ones stay on the CPU.
        """
        if str(device) != "cpu":
            numpy_column = _column_of(self._storage, "numpy")
            if numpy_column is not None and _column_of(self._storage, "torch") is None:
                raise NotImplementedError(
                    f"column {numpy_column!r} is a numpy array, which lives on the CPU only: "
                    f"it cannot move to {device!r}; build the DocVec with "
                    f"tensor_type=TorchTensor to use devices"
                )
        storage = self._storage.detached()
        object.__setattr__(self, "_storage", storage)
        for col in storage.tensors.values():
            if col is not None and framework_of(col.data) == "torch":
                col.data = type(col.data)._docstack_convert(col.data.unwrap().to(device))
        for nested in storage.docs.values():
            nested.to(device)
        for vecs in storage.doc_lists.values():
            for v in vecs:
                if v is not None:
                    v.to(device)
        return self

    def traverse_flat(self, access_path: str) -> Any:
        """As :meth:`AnyDocArray.traverse_flat`, but a top-level tensor field whose every
        document has a value gives its stacked column (one tensor, no copy)."""
        col = self._storage.tensors.get(access_path)
        if col is not None and col.mask is None:
            return getattr(self, access_path)
        return super().traverse_flat(access_path)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from docstack.array._doc_vec_schema import doc_vec_core_schema

        # pydantic may ask the origin (DocVec) for the schema of DocVec[D]: D is the source's
        target = source if isinstance(source, type) and issubclass(source, cls) else cls
        return doc_vec_core_schema(target, handler)

    def __delitem__(self, key: Any) -> None:
        raise NotImplementedError(
            "a DocVec has a fixed length: its columns are stacked arrays. Select the documents "
            "to keep (dv[mask] or dv[indices]), or convert with to_doc_list() to delete"
        )

    def _column_summary(self) -> list[tuple[str, str]]:
        storage = self._storage
        rows = []
        for name in storage.kinds:
            where, col = storage.column(name)
            if where == "tensor":
                if col is None:
                    rows.append((name, "all None"))
                else:
                    text = f"{type(col.data).__name__} {tuple(col.data.shape)}"
                    if col.mask is not None:
                        text += f", {int(col.mask.sum())} present"
                    rows.append((name, text))
            elif where == "doc":
                rows.append((name, f"{type(col).__name__}"))
            elif where == "doclist":
                rows.append((name, f"list of {storage.length} DocVec"))
            else:
                rows.append((name, "list"))
        return rows


def _build_column(storage: ColumnStorage, name: str, kind: Any, value: Any, doc_type: type) -> None:
    """Validate ``value`` (a stacked tensor or one value per document) as the new column of
    field ``name`` and store it in ``storage``; on error ``storage`` is unchanged."""
    n = storage.length
    if kind.kind == "tensor" and framework_of(value) is not None:
        cls = column_class(kind, storage.tensor_type)
        data = cls._docstack_convert(value)
        if len(data.shape) == 0 or data.shape[0] != n:
            raise ValueError(
                f"column {name!r} needs one row per document ({n}), got shape {tuple(data.shape)}"
            )
        spec = kind.tensor_cls.__docstack_shape__
        reason = None if spec is None else check_shape(tuple(data.shape[1:]), spec)
        if reason is not None:
            raise ValueError(f"column {name!r}: every row must match: {reason}")
        storage.drop_column(name)
        storage.tensors[name] = TensorColumn(data)
        return
    values = list(value)
    if len(values) != n:
        raise ValueError(f"column {name!r} needs {n} values, got {len(values)}")
    values = validate_field_values(doc_type, name, values)
    # built aside first: a column that cannot be built (a nested document of a subclass
    # with fields the column's type lacks) leaves the old one in place
    built = ColumnStorage(storage.doc_type, n, storage.kinds, storage.tensor_type)
    _fill_column(built, name, kind, values)
    storage.replace_column(name, built)


_NONE_TYPE = type(None)


def _types(values: list[Any], likely: type) -> set[type]:
    """The set of the values' types; counting in a list is twice as fast as building the set
    when every value is of the ``likely`` type, as in most columns."""
    types = list(map(type, values))
    return {likely} if types.count(likely) == len(types) and types else set(types)


@functools.lru_cache(maxsize=256)
def _lost_fields(doc_type: type, subclass: type) -> tuple[str, ...]:
    """The fields of ``subclass`` (a subclass of ``doc_type``) that ``doc_type`` lacks."""
    return tuple(name for name in subclass.model_fields if name not in doc_type.model_fields)


def _refuse_lost_fields(vec_type: type, items: list[Any], position: int | None = None) -> None:
    """Raise a DocTypeError if a document's class has fields the DocVec's type lacks.

    A DocVec keeps the columns of its document type only: the extra fields of a subclass
    (or its extra values, with ``extra='allow'``) would be dropped without a word.
    """
    doc_type = vec_type.doc_type
    types = _types(items, doc_type)
    for tp in types - {doc_type, _NONE_TYPE}:
        lost = _lost_fields(doc_type, tp)
        if not lost and tp.model_config.get("extra") != "allow":
            continue
        for i, doc in enumerate(items):
            extra = (*lost, *(doc.__pydantic_extra__ or ())) if type(doc) is tp else ()
            if not extra:
                continue
            where = f"the document at position {position if position is not None else i}"
            raise DocTypeError(
                f"{vec_type._type_label()} keeps the fields of {doc_type.__name__} only: "
                f"{where} is a {tp.__name__}, whose field(s) {', '.join(map(repr, extra))} "
                f"would be lost; use DocVec[{tp.__name__}], or a DocList, which keeps each "
                "document as it is"
            )


def _refuse_lost_nested(vec_type: type, doc: Any) -> None:
    """:func:`_refuse_lost_fields` for the nested documents of ``doc``, at any depth, before
    it is written into a DocVec's columns (so a refused document changes nothing)."""
    for name, kind in vec_type._field_kinds().items():
        if kind.kind not in ("doc", "doclist") or kind.doc_cls is AnyDoc:
            continue
        value = getattr(doc, name)
        if value is None:
            continue
        nested_type = DocVec[kind.doc_cls]
        items = [value] if kind.kind == "doc" else list(value)
        try:
            _refuse_lost_fields(nested_type, items)
            for item in items:
                _refuse_lost_nested(nested_type, item)
        except DocTypeError as e:
            raise in_field(e, name, vec_type.doc_type) from None


def _fill_column(storage: ColumnStorage, name: str, kind: Any, values: list[Any]) -> None:
    """Build the column of one field from one value per document."""
    if kind.kind == "tensor":
        # one pass for the types: whether any value is None, and the frameworks to stack
        types = _types(values, np.ndarray)
        if _NONE_TYPE in types:
            rows = [v for v in values if v is not None]
            types.discard(_NONE_TYPE)
        else:
            rows = values
        if not rows:
            storage.tensors[name] = None
            return
        cls = column_class(kind, storage.tensor_type)
        fixed = getattr(kind.tensor_cls, "__docstack_fixed_shape__", None)
        if fixed is None and len({tuple(r.shape) for r in rows}) > 1:
            storage.lists[name] = [None if v is None else cls._docstack_convert(v) for v in values]
            return
        fw = cls._docstack_framework
        stacked = stack_tensors(rows, fw, types)
        mask = None
        if len(rows) != len(values):
            mask = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
            full = zeros_rows(fw, (len(values), *tuple(stacked.shape[1:])), stacked.dtype)
            full[np.flatnonzero(mask)] = stacked
            stacked = full
        storage.tensors[name] = TensorColumn(cls._docstack_convert(stacked), mask)
    elif kind.doc_cls is AnyDoc:
        # an untyped DocList (or AnyDoc) field: documents of any types, kept as they are
        storage.lists[name] = values
    elif kind.kind == "doc":
        if any(v is None for v in values):
            try:  # the same rule as a stacked column, though this list would keep them
                _refuse_lost_fields(DocVec[kind.doc_cls], values)
            except DocTypeError as e:
                raise in_field(e, name, storage.doc_type) from None
            storage.lists[name] = values
        else:
            try:
                nested = DocVec[kind.doc_cls](values, tensor_type=storage.tensor_type)
            except DocTypeError as e:  # name the field: the position is the document's
                raise in_field(e, name, storage.doc_type) from None
            storage.docs[name] = nested
    elif kind.kind == "doclist":
        vecs: list[Any] = []
        for i, v in enumerate(values):
            try:
                vecs.append(
                    None if v is None else DocVec[kind.doc_cls](v, tensor_type=storage.tensor_type)
                )
            except DocTypeError as e:
                raise in_field(e, name, storage.doc_type, i) from None
        storage.doc_lists[name] = vecs
    else:
        storage.lists[name] = values


def _rebuild_doc_vec(doc_type: type, docs: Sequence[Any], tensor_type: type | None) -> DocVec:
    return DocVec[doc_type](docs, tensor_type=tensor_type)


DocVec.__docstack_array_base__ = DocVec


# doctest compiles docstring examples with the __future__ flags it finds in the module
# namespace; without this, pydantic models defined in the examples could not resolve
# their string annotations
del annotations


def _column_of(storage: Any, framework: str, prefix: str = "") -> str | None:
    """The path of the first tensor column of ``framework`` in ``storage`` (nested DocVecs
    included), or ``None``."""
    for name, col in storage.tensors.items():
        if col is not None and framework_of(col.data) == framework:
            return prefix + name
    for name, nested in storage.docs.items():
        found = _column_of(nested._storage, framework, f"{prefix}{name}__")
        if found is not None:
            return found
    for name, vecs in storage.doc_lists.items():
        for v in vecs:
            sub = None if v is None else v._storage
            found = None if sub is None else _column_of(sub, framework, f"{prefix}{name}__")
            if found is not None:
                return found
    return None
