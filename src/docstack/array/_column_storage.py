"""The columns behind a ``DocVec``: stacked tensors, nested ``DocVec``s and plain lists."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from docstack._internal.fields import FieldKind
from docstack.typing.tensor._base import AbstractTensor, concrete_tensor_class
from docstack.typing.tensor._convert import framework_of, to_jax, to_numpy, to_torch

__all__ = ["ColumnStorage", "TensorColumn", "stack_tensors", "column_class"]


def column_class(kind: FieldKind, tensor_type: type | None) -> type[AbstractTensor]:
    """The unparametrized tensor class that holds a tensor field's column."""
    cls = kind.tensor_cls
    assert cls is not None
    if cls._docstack_framework == "any":
        framework = "numpy" if tensor_type is None else tensor_type._docstack_framework
        return concrete_tensor_class(cls._docstack_family, framework)
    return cls.__docstack_base__


def stack_tensors(values: list[Any], framework: str) -> Any:
    """Stack same-shape tensors into one plain tensor of ``framework``."""
    frameworks = {_type_framework(tp) for tp in set(map(type, values))}
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
    if framework == "torch":
        return to_torch(value)
    if framework == "jax":
        return to_jax(value)
    return to_numpy(value)


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
    """Column-wise storage of ``length`` documents of ``doc_type``.

    * ``tensors``: a stacked :class:`TensorColumn` per tensor field (``None`` when no
      document has a value);
    * ``docs``: a nested ``DocVec`` per nested-document field;
    * ``doc_lists``: per ``DocList`` field, one ``DocVec`` per document;
    * ``lists``: a Python list per other field, and for tensor fields whose shapes differ
      between documents (ragged) or nested documents that are ``None`` in some documents.
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
            return col.data[index]
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
            data = _zeros(fw, (self.length, *tuple(row.shape)), row.dtype)
            col = self.tensors[name] = TensorColumn(
                cls._docstack_convert(data), np.zeros(self.length, dtype=bool)
            )
        if tuple(col.data.shape[1:]) != tuple(row.shape):
            self._make_ragged(name)
            self.lists[name][index] = cls._docstack_convert(row)
            return
        col.data = _assign_row(col.data, index, row, cls)
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

    # -- whole storage ----------------------------------------------------------------------

    def select(self, key: slice | np.ndarray) -> ColumnStorage:
        """A storage of the documents at ``key`` (a slice keeps tensor memory shared)."""
        if isinstance(key, slice):
            length = len(range(*key.indices(self.length)))
            pick_list = lambda values: values[key]  # noqa: E731
        else:
            length = len(key)
            idx = key.tolist()
            pick_list = lambda values: [values[i] for i in idx]  # noqa: E731
        out = ColumnStorage(self.doc_type, length, self.kinds, self.tensor_type)
        for name, col in self.tensors.items():
            if col is None:
                out.tensors[name] = None
            else:
                data = col.data[key] if isinstance(key, slice) else _take(col.data, key)
                mask = None if col.mask is None else col.mask[key]
                out.tensors[name] = TensorColumn(data, mask)
        for name, nested in self.docs.items():
            out.docs[name] = nested[key]
        for name, vecs in self.doc_lists.items():
            out.doc_lists[name] = pick_list(vecs)
        for name, values in self.lists.items():
            out.lists[name] = pick_list(values)
        return out


def _zeros(framework: str, shape: tuple[int, ...], dtype: Any) -> Any:
    if framework == "torch":
        return sys.modules["torch"].zeros(shape, dtype=dtype)
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def _take(data: Any, positions: np.ndarray) -> Any:
    fw = framework_of(data)
    if fw == "torch":
        torch = sys.modules["torch"]
        return data[torch.from_numpy(np.ascontiguousarray(positions))]
    return data[positions]


def _assign_row(data: Any, index: int, row: Any, cls: type) -> Any:
    """Write ``row`` into ``data[index]``, upcasting the column if the row needs it."""
    fw = cls._docstack_framework
    if fw == "jax":
        import jax.numpy as jnp

        target = jnp.promote_types(data.dtype, row.dtype)
        base = data.tensor if target == data.dtype else data.tensor.astype(target)
        return cls(base.at[index].set(row))
    if fw == "torch":
        torch = sys.modules["torch"]
        target = torch.promote_types(data.dtype, row.dtype)
        if target != data.dtype:
            data = cls._docstack_convert(data.unwrap().to(target))
        data.unwrap()[index] = row
        return data
    if not np.can_cast(row.dtype, data.dtype, casting="same_kind") or (
        data.dtype.kind in "iu" and row.dtype.kind == "f"
    ):
        data = data.astype(np.result_type(data.dtype, row.dtype))
    data[index] = row
    return data
