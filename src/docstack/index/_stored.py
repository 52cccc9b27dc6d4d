"""How the values of index columns are stored and restored: tensors as bytes, the original
dtype of vectors that are searched as float32, and stored values back to the field types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from docstack._internal.fields import unwrap_optional
from docstack.typing.tensor._convert import to_numpy

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._schema import Column

__all__ = ["decode_tensor", "encode_tensor", "originals", "restore_column"]


def originals(column: list[Any]) -> list[Any] | None:
    """Copies of the vectors whose dtype is not float32 (None where it is, or missing)."""
    out: list[Any] = [None] * len(column)
    kept = False
    for i, v in enumerate(column):
        if v is None:
            continue
        if type(v) is np.ndarray and v.dtype == np.float32:
            continue
        arr = to_numpy(v)
        if arr.dtype != np.float32:
            out[i] = np.array(arr)
            kept = True
    return out if kept else None


def restore_column(col: Column, stored: Sequence[Any], n: int) -> list[Any]:
    kind = col.kind
    if kind in ("str", "int", "float", "presence"):
        if (
            kind == "str"
            and col.annotation is not str
            and unwrap_optional(col.annotation)[0] is not str
        ):
            validate = col.adapter.validate_python
            return [None if v is None else validate(v) for v in stored]
        if kind == "presence":
            return [bool(v) for v in stored]
        return list(stored)
    if kind == "bool":
        return [None if v is None else bool(v) for v in stored]
    if kind == "vector":
        cls = col.tensor_cls
        plain = (
            getattr(cls, "_docstack_plain", False)
            and getattr(cls, "_docstack_framework", "") == "numpy"
        )
        if plain:
            if isinstance(stored, np.ndarray):
                return list(stored)  # a gathered 2-D copy: each row a view of it
            present = [v for v in stored if v is not None]
            if present and len(present) == len(stored):
                shapes = {v.shape for v in present}
                if len(shapes) == 1 and len({v.dtype for v in present}) == 1:
                    # one copy of all rows in one call; each row a view of the copy
                    return list(np.array(present))
            return [None if v is None else np.array(v) for v in stored]
        validate = col.adapter.validate_python
        return [None if v is None else validate(np.array(v)) for v in stored]
    if kind == "tensor":
        validate = col.adapter.validate_python
        return [None if v is None else validate(decode_tensor(v)) for v in stored]
    if kind == "bytes":
        validate = col.adapter.validate_python
        return [None if v is None else validate(bytes(v)) for v in stored]
    validate_json = col.adapter.validate_json
    return [None if v is None else validate_json(v) for v in stored]


def encode_tensor(value: Any) -> bytes:
    """A tensor as bytes: a small JSON header (dtype, shape) and the raw buffer.

    Example
    -------
    >>> decode_tensor(encode_tensor(np.arange(6).reshape(2, 3))).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    arr = np.ascontiguousarray(to_numpy(value))
    if arr.dtype.hasobject:
        raise ValueError("cannot store a tensor of Python objects")
    header = orjson.dumps({"dtype": arr.dtype.str, "shape": list(arr.shape)})
    return len(header).to_bytes(4, "little") + header + arr.tobytes()


def decode_tensor(data: bytes) -> np.ndarray:
    """The array :func:`encode_tensor` wrote."""
    size = int.from_bytes(data[:4], "little")
    header = orjson.loads(data[4 : 4 + size])
    arr = np.frombuffer(data, dtype=np.dtype(header["dtype"]), offset=4 + size)
    return arr.reshape(header["shape"]).copy()


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
