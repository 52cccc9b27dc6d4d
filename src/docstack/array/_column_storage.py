"""The columns behind a ``DocVec``: stacked tensors, nested ``DocVec``s and plain lists.

A :class:`ColumnStorage` owns its columns. A slice of a ``DocVec`` owns nothing: its
storage is a :class:`StorageWindow`, a range of positions in the storage it was cut from.
Reads of a window derive its columns from the owner's (slices of the stacked tensors,
which share memory), and writes go to the owner. So a write through a slice, or a view of
one, always reaches the original, even when it replaces a column object (a tensor column
upcast to a wider dtype, a presence mask created for a ``None``, a column turned ragged).
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from typing import Any, Literal, Union

import numpy as np

from docstack._internal.fields import FieldKind
from docstack.typing.tensor._base import AbstractTensor, concrete_tensor_class
from docstack.typing.tensor._convert import (
    framework_of,
    to_framework,
    to_numpy,
)

__all__ = [
    "ColumnStorage",
    "StorageWindow",
    "AnyStorage",
    "TensorColumn",
    "stack_tensors",
    "column_class",
    "zeros_rows",
    "tensor_rows",
]

#: Where a field's column lives: a stacked tensor (or ``None``), a nested ``DocVec``, one
#: ``DocVec`` per document, or a plain list.
ColumnKind = Literal["tensor", "doc", "doclist", "list"]


def column_class(kind: FieldKind, tensor_type: type | None) -> type[AbstractTensor]:
    """The unparametrized tensor class that holds a tensor field's column."""
    cls = kind.tensor_cls
    assert cls is not None
    if cls._docstack_framework == "any":
        framework = "numpy" if tensor_type is None else tensor_type._docstack_framework
        return concrete_tensor_class(cls._docstack_family, framework)
    return cls.__docstack_base__


def stack_tensors(values: list[Any], framework: str, types: set[type] | None = None) -> Any:
    """Stack same-shape tensors into one plain tensor of ``framework``.

    ``types``, the set of the values' types, when the caller already has it.
    """
    if types is None:
        types = set(map(type, values))
    frameworks = {_type_framework(tp) for tp in types}
    if frameworks == {"torch"}:
        torch = sys.modules["torch"]
        stacked = torch.stack([v.as_subclass(torch.Tensor) for v in values])
    elif frameworks == {"jax"}:
        import jax.numpy as jnp

        stacked = jnp.stack([getattr(v, "tensor", v) for v in values])
    elif frameworks == {"numpy"}:
        # np.array over a list of equal-shape arrays is a single C loop
        stacked = np.array(values).view(np.ndarray)
    else:
        stacked = np.array([to_numpy(v) for v in values]).view(np.ndarray)
    return _to_framework(stacked, framework)


def tensor_rows(data: Any) -> list[Any]:
    """The rows of a stacked column, each a tensor of the column's class.

    Iterating a 1-d numpy array yields numpy scalars, not 0-d arrays: those rows are taken
    one by one so every document still holds an array.
    """
    if isinstance(data, np.ndarray) and data.ndim == 1:
        return [data[i, ...] for i in range(data.shape[0])]
    return list(data)


def zeros_rows(framework: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """A writable zero buffer of ``shape`` for a column of ``framework``.

    A torch column gets a torch tensor; any other column a numpy array that the caller
    fills and then converts (jax arrays cannot be written in place, so jax rows are filled
    in numpy first).
    """
    if framework == "torch":
        return sys.modules["torch"].zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=np.dtype(dtype))


def _type_framework(tp: type) -> str | None:
    if issubclass(tp, np.ndarray):
        return "numpy"
    torch = sys.modules.get("torch")
    if torch is not None and issubclass(tp, torch.Tensor):
        return "torch"
    if getattr(tp, "_docstack_framework", None) == "jax":
        return "jax"
    jax = sys.modules.get("jax")
    if jax is not None and issubclass(tp, jax.Array):
        return "jax"
    return None


def _to_framework(value: Any, framework: str) -> Any:
    # a TensorFlow column is filled in numpy (its tensors cannot be written in place) and
    # converted by its tensor class once built
    return to_framework(value, "numpy" if framework == "tensorflow" else framework)


def _copy_value(value: Any) -> Any:
    """A copy of a ragged tensor, a document or a DocList held in a list column."""
    if value is None:
        return None
    framework = framework_of(value)
    if framework == "torch":
        return value.clone()
    if framework in ("jax", "tensorflow"):  # immutable
        return value
    if framework is not None:
        return value.copy()
    return copy.deepcopy(value)


@dataclass
class TensorColumn:
    """A stacked tensor column; ``mask[i]`` is False where document ``i`` has ``None``."""

    data: Any  # an instance of the column class, first axis = documents
    mask: np.ndarray | None = None  # None: every document has a value

    def is_full(self) -> bool:
        """Whether every document has a value."""
        return self.mask is None or bool(self.mask.all())


@dataclass
class ColumnStorage:
    """Column-wise storage of ``length`` documents of ``doc_type``; it owns its columns.

    * ``tensors``: a stacked :class:`TensorColumn` per tensor field (``None`` when no
      document has a value);
    * ``docs``: a nested ``DocVec`` per nested-document field;
    * ``doc_lists``: per ``DocList`` field, one ``DocVec`` per document;
    * ``lists``: a Python list per other field, and for tensor fields whose shapes differ
      between documents (ragged), nested documents that are ``None`` in some documents and
      untyped ``DocList`` fields.
    """

    doc_type: type
    length: int
    kinds: dict[str, FieldKind]
    tensor_type: type | None
    tensors: dict[str, TensorColumn | None] = field(default_factory=dict)
    docs: dict[str, Any] = field(default_factory=dict)
    doc_lists: dict[str, list[Any]] = field(default_factory=dict)
    lists: dict[str, list[Any]] = field(default_factory=dict)

    # -- per document ---------------------------------------------------------------------

    def get_value(self, name: str, index: int) -> Any:
        """The value of field ``name`` of document ``index``."""
        if name in self.tensors:
            col = self.tensors[name]
            if col is None or (col.mask is not None and not col.mask[index]):
                return None
            # ``[index, ...]``: a 0-d array (not a numpy scalar) when rows are 0-d
            return col.data[index, ...]
        if name in self.docs:
            return self.docs[name][index]
        if name in self.doc_lists:
            return self.doc_lists[name][index]
        return self.lists[name][index]

    def set_value(self, name: str, index: int, value: Any) -> None:
        """Store a validated value as field ``name`` of document ``index``."""
        if name in self.tensors:
            self._set_tensor(name, index, value)
        elif name in self.docs:
            if value is None:
                # the nested column can no longer be stacked: fall back to a list
                nested = self.docs.pop(name)
                self.lists[name] = [d._to_doc() for d in nested]
                self.lists[name][index] = None
            else:
                self.docs[name][index] = value
        elif name in self.doc_lists:
            from docstack.array.doc_vec import DocVec

            kind = self.kinds[name]
            self.doc_lists[name][index] = (
                None
                if value is None
                else DocVec[kind.doc_cls](list(value), tensor_type=self.tensor_type)
            )
        else:
            self.lists[name][index] = value

    def _set_tensor(self, name: str, index: int, value: Any) -> None:
        col = self.tensors[name]
        cls = column_class(self.kinds[name], self.tensor_type)
        if value is None:
            if col is not None:
                if col.mask is None:
                    col.mask = np.ones(self.length, dtype=bool)
                col.mask[index] = False
            return
        fw = cls._docstack_framework
        row = _to_framework(value.unwrap() if hasattr(value, "unwrap") else value, fw)
        if col is None:
            data = zeros_rows(fw, (self.length, *tuple(row.shape)), row.dtype)
            col = self.tensors[name] = TensorColumn(
                cls._docstack_convert(data), np.zeros(self.length, dtype=bool)
            )
        if tuple(col.data.shape[1:]) != tuple(row.shape):
            self._make_ragged(name)
            self.lists[name][index] = cls._docstack_convert(row)
            return
        col.data = _assign_rows(col.data, index, row, cls)
        if col.mask is not None:
            col.mask[index] = True

    def _make_ragged(self, name: str) -> None:
        """Turn a stacked tensor column into a list column of per-document tensors."""
        col = self.tensors.pop(name)
        if col is None:
            self.lists[name] = [None] * self.length
        else:
            self.lists[name] = [
                None if (col.mask is not None and not col.mask[i]) else col.data[i]
                for i in range(self.length)
            ]

    # -- whole columns ----------------------------------------------------------------------

    def column(self, name: str) -> tuple[ColumnKind, Any]:
        """Where field ``name`` is stored, and its column.

        ``("tensor", TensorColumn | None)``, ``("doc", DocVec)``, ``("doclist", list)`` or
        ``("list", list)``. The column is the storage's own: callers only read it.
        """
        if name in self.tensors:
            return "tensor", self.tensors[name]
        if name in self.docs:
            return "doc", self.docs[name]
        if name in self.doc_lists:
            return "doclist", self.doc_lists[name]
        return "list", self.lists[name]

    def _column_dicts(self) -> tuple[dict[str, Any], ...]:
        return (self.tensors, self.docs, self.doc_lists, self.lists)

    def drop_column(self, name: str) -> None:
        """Forget the column of field ``name`` (before it is rebuilt)."""
        for target in self._column_dicts():
            target.pop(name, None)

    def replace_column(self, name: str, source: ColumnStorage) -> None:
        """Make ``source``'s column of field ``name`` (built aside, for as many documents)
        this storage's."""
        self.drop_column(name)
        for target, built in zip(self._column_dicts(), source._column_dicts()):
            if name in built:
                target[name] = built[name]

    def assign_rows(self, name: str, rows: range, source: ColumnStorage) -> None:
        """Write column ``name`` of ``source`` (one row per position) into ``rows``.

        Stacked tensor columns of the same row shape are written in one operation (the
        column is upcast if the new rows need a wider dtype), nested document columns field
        by field and list columns by one slice assignment; anything else row by row.
        """
        where, col = self.column(name)
        src_where, src = source.column(name)
        key = _as_slice(rows)
        if where == src_where == "tensor" and col is not None and src is not None:
            if tuple(col.data.shape[1:]) == tuple(src.data.shape[1:]):
                cls = column_class(self.kinds[name], self.tensor_type)
                col.data = _assign_rows(col.data, key, _plain(src.data), cls)
                if col.mask is not None or src.mask is not None:
                    if col.mask is None:
                        col.mask = np.ones(self.length, dtype=bool)
                    col.mask[key] = True if src.mask is None else src.mask
                return
        elif where == src_where and where in ("list", "doclist"):
            col[key] = src
            return
        elif where == src_where == "doc":
            nested, src_nested = col._storage, src._storage
            for sub in nested.kinds:
                nested.assign_rows(sub, rows, src_nested)
            return
        for i, position in enumerate(rows):
            self.set_value(name, position, source.get_value(name, i))

    # -- whole storage ----------------------------------------------------------------------

    def select(self, key: slice | np.ndarray) -> AnyStorage:
        """The documents at ``key``: a window for a slice (it shares everything with this
        storage), a new storage holding copies for an array of positions."""
        if isinstance(key, slice):
            return StorageWindow(self, range(self.length)[key])
        length = len(key)
        idx = key.tolist()
        out = ColumnStorage(self.doc_type, length, self.kinds, self.tensor_type)
        for name, col in self.tensors.items():
            if col is None:
                out.tensors[name] = None
            else:
                mask = None if col.mask is None else col.mask[key]
                out.tensors[name] = TensorColumn(_take(col.data, key), mask)
        for name, nested in self.docs.items():
            out.docs[name] = nested[key]
        for name, vecs in self.doc_lists.items():
            out.doc_lists[name] = [None if vecs[i] is None else vecs[i].copy() for i in idx]
        for name, values in self.lists.items():
            picked = [values[i] for i in idx]
            if self.kinds[name].kind != "other":
                # ragged tensors and nested documents are the documents' data, copied like
                # the stacked columns; other values (str, list, dict...) are shared, as in
                # any shallow copy
                picked = [_copy_value(v) for v in picked]
            out.lists[name] = picked
        return out

    def detached(self) -> ColumnStorage:
        """A storage that owns its columns: this one."""
        return self


class StorageWindow:
    """The documents at ``positions`` of a :class:`ColumnStorage`: what a slice holds.

    A window owns nothing. Its columns are derived from the owner's on each read (tensor
    columns as slices that share memory; lists as copies), and every write goes to the
    owner, so the two never disagree.
    """

    __slots__ = ("owner", "positions", "_key")

    def __init__(self, owner: ColumnStorage, positions: range) -> None:
        self.owner = owner
        self.positions = positions
        self._key = _as_slice(positions)

    @property
    def doc_type(self) -> type:
        """The document type."""
        return self.owner.doc_type

    @property
    def kinds(self) -> dict[str, FieldKind]:
        """The classified fields of the document type."""
        return self.owner.kinds

    @property
    def tensor_type(self) -> type | None:
        """The tensor class of ``AnyTensor`` columns (``None``: numpy)."""
        return self.owner.tensor_type

    @property
    def length(self) -> int:
        """The number of documents."""
        return len(self.positions)

    def get_value(self, name: str, index: int) -> Any:
        """The value of field ``name`` of document ``index``."""
        return self.owner.get_value(name, self.positions[index])

    def set_value(self, name: str, index: int, value: Any) -> None:
        """Store a validated value as field ``name`` of document ``index``, in the owner."""
        self.owner.set_value(name, self.positions[index], value)

    def column(self, name: str) -> tuple[ColumnKind, Any]:
        """Where field ``name`` is stored, and this window's part of the owner's column.

        Tensor columns share memory with the owner's (but for torch and a negative step,
        which torch cannot slice); lists and nested arrays are fresh objects.
        """
        where, col = self.owner.column(name)
        key = self._key
        if where == "tensor":
            if col is None:
                return where, None
            mask = None if col.mask is None else col.mask[key]
            return where, TensorColumn(_slice_rows(col.data, key), mask)
        return where, col[key]

    def assign_rows(self, name: str, rows: range, source: ColumnStorage) -> None:
        """Write column ``name`` of ``source`` into this window's ``rows``, in the owner."""
        self.owner.assign_rows(name, self.positions[_as_slice(rows)], source)

    def select(self, key: slice | np.ndarray) -> AnyStorage:
        """The documents at ``key`` of this window (see :meth:`ColumnStorage.select`)."""
        if isinstance(key, slice):
            return StorageWindow(self.owner, self.positions[key])
        r = self.positions
        return self.owner.select(r.start + np.asarray(key, dtype=np.int64) * r.step)

    def detached(self) -> ColumnStorage:
        """A storage of copies of this window's documents, sharing nothing with the owner."""
        r = self.positions
        return self.owner.select(np.arange(r.start, r.stop, r.step, dtype=np.int64))


AnyStorage = Union[ColumnStorage, StorageWindow]


def _as_slice(positions: range) -> slice:
    """The slice that picks ``positions`` out of a sequence."""
    stop: int | None = positions.stop
    if positions.step < 0 and positions.stop < 0:
        stop = None  # the range runs down to index 0; a slice stop of -1 would mean the end
    return slice(positions.start, stop, positions.step)


def _slice_rows(data: Any, key: slice) -> Any:
    if key.step < 0 and framework_of(data) == "torch":
        return data[_torch_positions(data, key)]
    return data[key]


def _torch_positions(data: Any, key: slice) -> Any:
    """``key`` as a tensor of positions (torch cannot slice with a negative step)."""
    r = range(data.shape[0])[key]
    return sys.modules["torch"].arange(r.start, r.stop, r.step)


def _take(data: Any, positions: np.ndarray) -> Any:
    fw = framework_of(data)
    if fw == "torch":
        torch = sys.modules["torch"]
        return data[torch.from_numpy(np.ascontiguousarray(positions))]
    return data[positions]


def _plain(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _assign_rows(data: Any, key: int | slice, rows: Any, cls: type) -> Any:
    """Write ``rows`` into ``data[key]``, upcasting the column if the rows need it."""
    fw = cls._docstack_framework
    if fw == "jax":
        import jax.numpy as jnp

        target = jnp.promote_types(data.dtype, rows.dtype)
        base = data.tensor if target == data.dtype else data.tensor.astype(target)
        return cls(base.at[key].set(rows))
    if fw == "torch":
        torch = sys.modules["torch"]
        target = torch.promote_types(data.dtype, rows.dtype)
        if target != data.dtype:
            data = cls._docstack_convert(data.unwrap().to(target))
        if isinstance(key, slice) and key.step < 0:
            key = _torch_positions(data, key)
        data.unwrap()[key] = rows
        return data
    if fw == "tensorflow":  # immutable tensors: write into a numpy copy, then convert back
        from docstack.typing.tensor._convert import to_numpy

        arr, new = to_numpy(data), to_numpy(rows)
        if not np.can_cast(new.dtype, arr.dtype, casting="same_kind") or (
            arr.dtype.kind in "iu" and new.dtype.kind == "f"
        ):
            arr = arr.astype(np.result_type(arr.dtype, new.dtype))
        arr[key] = new
        return cls._docstack_convert(arr)
    if not np.can_cast(rows.dtype, data.dtype, casting="same_kind") or (
        data.dtype.kind in "iu" and rows.dtype.kind == "f"
    ):
        data = data.astype(np.result_type(data.dtype, rows.dtype))
    elif not data.flags.writeable:
        # a column read without a copy (from Arrow, say) is read-only: copy on first write
        data = data.copy()
    data[key] = rows
    return data
