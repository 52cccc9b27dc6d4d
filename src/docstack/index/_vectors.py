"""Vectors of a batch of documents, stacked into one float32 array and checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from docstack.errors import ShapeError
from docstack.typing.tensor._convert import to_numpy

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._schema import Column

__all__ = ["stack_vectors"]


def stack_vectors(
    col: Column, column: list[Any], ids: list[str], dims: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of one column as a float32 ``(n, dim)`` array, and which rows are missing
    (rows of zeros there). Raises ``ShapeError``/``ValueError`` naming the document and field
    on a wrong dimension, a missing required vector, a non-numeric, NaN or infinite vector.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index._schema import IndexSchema
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[2] | None = None
    >>> col = IndexSchema.from_doc_type(Doc, {}).columns['emb']
    >>> vectors, missing = stack_vectors(col, [np.ones(2), None], ['a', 'b'], {})
    >>> vectors.tolist(), missing.tolist()
    ([[1.0, 1.0], [0.0, 0.0]], [False, True])
    """
    n = len(column)
    present = np.fromiter((v is not None for v in column), dtype=bool, count=n)
    if not col.optional and not present.all():
        i = int(np.argmin(present))
        raise ValueError(f"document {ids[i]!r}: vector field {col.name!r} is missing")
    dim = dims.get(col.name) or col.dim
    rows = [v for v in column if v is not None]
    if not rows:
        return np.zeros((n, dim or 0), dtype=np.float32), ~present
    try:
        stacked = None
        if set(map(type, rows)) == {np.ndarray}:
            shapes = {v.shape for v in rows}
            if len(shapes) == 1:
                (shape,) = shapes
                # rows of one 1-D shape: one concatenate (3x faster than np.stack,
                # which expands every row first)
                if len(shape) == 1:
                    stacked = np.concatenate(rows).reshape(len(rows), shape[0])
                else:
                    stacked = np.stack(rows)
        if stacked is None:
            arrays = [to_numpy(v) for v in rows]
            expect = dim if dim is not None else arrays[0].shape[-1]
            for j, a in enumerate(arrays):
                if a.ndim != 1 or a.shape[0] != expect:
                    i = int(np.flatnonzero(present)[j])
                    want = f"({dim},)" if dim is not None else "a 1-D vector"
                    raise ShapeError(
                        f"document {ids[i]!r}: field {col.name!r} has shape {a.shape}, "
                        f"expected {want}"
                    )
            stacked = np.stack(arrays)
    except (TypeError, ValueError) as e:
        if isinstance(e, ShapeError):
            raise
        raise ValueError(f"field {col.name!r}: cannot read vectors: {e}") from e
    if stacked.ndim != 2 or (dim is not None and stacked.shape[1] != dim):
        i = 0
        want = f"({dim},)" if dim is not None else "a 1-D vector"
        raise ShapeError(
            f"document {ids[int(np.flatnonzero(present)[i])]!r}: field {col.name!r} has "
            f"shape {stacked.shape[1:]}, expected {want}"
        )
    if stacked.dtype.kind not in "biuf":
        raise ValueError(f"field {col.name!r}: vectors must be numeric, got {stacked.dtype}")
    stacked = np.ascontiguousarray(stacked, dtype=np.float32)
    bad = ~np.isfinite(stacked).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(present)[int(np.argmax(bad))])
        raise ValueError(f"document {ids[i]!r}: field {col.name!r} holds NaN or infinity")
    if present.all():
        return stacked, ~present
    out = np.zeros((n, stacked.shape[1]), dtype=np.float32)
    out[present] = stacked
    return out, ~present


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
