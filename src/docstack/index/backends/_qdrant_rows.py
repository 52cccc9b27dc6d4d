"""How rows of a Document Index are stored as Qdrant points, and read back.

- Point ids: Qdrant takes unsigned ints or UUIDs, docstack any string; a document's point id is
  the UUID5 of its id (:func:`point_id`), and the id itself is kept in the payload (``'id'``),
  so an upsert by id replaces the point and the document reads back with its own id.
- Payload: one key per column (nested fields flattened, ``'thumb__url'``): ``str``/``int``/
  ``float``/``bool`` as themselves (``null`` when missing), fields holding dicts and lists as
  JSON values, tensors and bytes as base64 text. ``'seq'`` orders rows by their last write,
  ``'parent_id'``/``'position'`` link sub-documents to their parent.
- Vectors: searched as named vectors; their exact values (Qdrant stores cosine vectors
  normalised, and float32 only) are kept in the payload under ``'_vectors'``, so a document
  reads back with its own values and dtype.

Example
-------
>>> point_id('d1') == point_id('d1') != point_id('d2')
True
"""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import orjson

from docstack.index._schema import IndexSchema, RowBatch
from docstack.index._stored import encode_tensor

__all__ = ["VECTORS_KEY", "decode_payloads", "encode_batch", "gc_paused", "point_id"]

#: The payload key holding each vector's exact stored form.
VECTORS_KEY = "_vectors"
_NAMESPACE = uuid.UUID("6f1c3b0e-5a7d-4e2b-9c1a-d0c57ac4e5a1")
_NS_BYTES = _NAMESPACE.bytes


def point_id(doc_id: str) -> str:
    """The Qdrant point id of a docstack document id: ``str(uuid.uuid5(namespace, doc_id))``,
    computed without building ``UUID`` objects (a tenth of a bulk ``index()``'s own time).

    >>> point_id('d1') == str(uuid.uuid5(_NAMESPACE, 'd1'))
    True
    """
    digest = bytearray(hashlib.sha1(_NS_BYTES + doc_id.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch of acyclic rows is built.

    Building 20k points allocates a few containers per row; each allocation burst sets off
    collections that rescan every live object (the caller's documents too): half of the
    time spent encoding a bulk write. The rows hold no cycles, so nothing is left for the
    collector to find; it runs again, if it was running, when the block ends.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _exact_vectors(values: np.ndarray, originals: list[Any] | None) -> list[str]:
    """Each row's exact stored form (base64 of :func:`encode_tensor`): the float32 rows share
    one header, so they are encoded without a header per row; a row with an original of
    another dtype stores that original.

    >>> from docstack.index._stored import decode_tensor
    >>> rows = np.array([[1, 2], [3, 4]], dtype=np.float32)
    >>> out = _exact_vectors(rows, [None, np.array([3, 4], dtype=np.int16)])
    >>> [decode_tensor(base64.b64decode(v)).tolist() for v in out]
    [[1.0, 2.0], [3, 4]]
    >>> out[0] == _b64(encode_tensor(rows[0]))
    True
    """
    rows = np.ascontiguousarray(values, dtype=np.float32)
    if not len(rows):
        return []
    head = encode_tensor(rows[:1].reshape(rows.shape[1:]))[: -rows.shape[1] * 4 or None]
    if rows.shape[1]:
        raw = rows.view(np.dtype((np.void, rows.shape[1] * 4))).ravel().tolist()
    else:
        raw = [b""] * len(rows)
    b64 = binascii.b2a_base64
    out = [b64(head + r, newline=False).decode("ascii") for r in raw]
    if originals is not None:
        for i, orig in enumerate(originals):
            if orig is not None:
                out[i] = _b64(encode_tensor(orig))
    return out


def encode_batch(
    schema: IndexSchema, batch: RowBatch, seqs: Sequence[int]
) -> tuple[list[dict[str, Any]], list[dict[str, list[float]]]]:
    """Per row, its payload and its named vectors (only those present)."""
    n = len(batch)
    payloads: list[dict[str, Any]] = [
        {"id": doc_id, "seq": int(seq)} for doc_id, seq in zip(batch.ids, seqs)
    ]
    vectors: list[dict[str, list[float]]] = [{} for _ in range(n)]
    stored: list[dict[str, str]] = [{} for _ in range(n)]
    if batch.parents is not None:
        positions = batch.positions or [0] * n
        for p, parent, pos in zip(payloads, batch.parents, positions):
            p["parent_id"] = parent
            p["position"] = int(pos)
    for name, col in schema.columns.items():
        if name == "id":
            continue
        values = batch.values[name]
        kind = col.kind
        if kind == "vector":
            missing = batch.vector_missing[name]
            rows = values.tolist() if values.shape[1] else [[]] * n
            exact = _exact_vectors(values, batch.originals.get(name))
            for i in np.flatnonzero(~missing).tolist():
                vectors[i][name] = rows[i]
                stored[i][name] = exact[i]
            continue
        if kind in ("tensor", "bytes"):
            column: list[Any] = [None if v is None else _b64(bytes(v)) for v in values]
        elif kind == "json":
            column = [None if v is None else orjson.loads(v) for v in values]
        elif kind == "float":
            column = [None if v is None else float(v) for v in values]
        elif kind == "int":
            column = [None if v is None else int(v) for v in values]
        elif kind in ("bool", "presence"):
            column = [None if v is None else bool(v) for v in values]
        else:
            column = list(values)
        for p, v in zip(payloads, column):
            p[name] = v
    if schema.vector_columns:
        for p, s in zip(payloads, stored):
            p[VECTORS_KEY] = s
    return payloads, vectors


def decode_payloads(
    schema: IndexSchema, payloads: Sequence[dict[str, Any]]
) -> tuple[list[str], dict[str, list[Any]]]:
    """The ids and stored column values (as :meth:`IndexSchema.to_docs` takes them)."""
    from docstack.index._stored import decode_tensor

    ids = [p["id"] for p in payloads]
    values: dict[str, list[Any]] = {}
    for name, col in schema.columns.items():
        if name == "id":
            continue
        kind = col.kind
        if kind == "vector":
            column = []
            for p in payloads:
                data = (p.get(VECTORS_KEY) or {}).get(name)
                column.append(None if data is None else decode_tensor(base64.b64decode(data)))
            values[name] = column
            continue
        raw = [p.get(name) for p in payloads]
        if kind in ("tensor", "bytes"):
            values[name] = [None if v is None else base64.b64decode(v) for v in raw]
        elif kind == "json":
            values[name] = [None if v is None else orjson.dumps(v) for v in raw]
        elif kind == "float":
            values[name] = [None if v is None else float(v) for v in raw]
        else:
            values[name] = raw
    return ids, values


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
