"""Documents and result sets as the service's JSON: docstack's own JSON of each document
(tensors as lists), with the shape and dtype of every tensor for the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from docstack.index._base import DocumentIndex
from docstack.io._json import array_json_bytes
from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["docs_payload", "tensor_info"]

_TENSOR_KINDS = ("vector", "tensor")


def _value_at(doc: Any, path: Sequence[str]) -> Any:
    value = doc
    for part in path:
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def tensor_info(index: DocumentIndex, docs: Sequence[Any]) -> list[dict[str, dict[str, Any]]]:
    """For each document, ``{field: {'shape': [...], 'dtype': '...'}}`` of its tensors.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[3]
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> tensor_info(index, [Doc(emb=np.zeros(3, np.float32))])
    [{'emb': {'shape': [3], 'dtype': 'float32'}}]
    """
    columns = [c for c in index._schema.columns.values() if c.kind in _TENSOR_KINDS]
    out = []
    for doc in docs:
        info = {}
        for column in columns:
            value = _value_at(doc, column.path)
            if value is None or framework_of(value) is None:
                continue
            arr = to_numpy(value)
            info[column.name] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
        out.append(info)
    return out


def _blank(
    index: DocumentIndex, rows: list[dict[str, Any]], kinds: tuple[str, ...], value: Any
) -> None:
    """Replace the values of the given column kinds in decoded documents (in place)."""
    paths = [c.path for c in index._schema.columns.values() if c.kind in kinds]
    for row in rows:
        for path in paths:
            holder: Any = row
            for part in path[:-1]:
                holder = holder.get(part) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and holder.get(path[-1]) is not None:
                holder[path[-1]] = value


def _summary_json(index: DocumentIndex, docs: list[Any]) -> bytes:
    """The JSON of documents with tensors as ``null`` and bytes as ``true``.

    Top-level tensors are left out before writing (shallow copies whose tensors are
    ``None``): writing a 384-d vector only to parse it back and drop it cost more than the
    rest of a search result's JSON. Nested tensors and bytes fields are blanked in the
    decoded JSON instead.
    """
    from docstack.array.doc_list import DocList

    columns = index._schema.columns.values()
    paths = [c.path for c in columns if c.kind in _TENSOR_KINDS]
    doc_type = index.schema
    direct = all(len(p) == 1 for p in paths) and all(type(d) is doc_type for d in docs)
    if not direct or any(c.kind == "bytes" for c in columns):
        rows = orjson.loads(array_json_bytes(docs))
        _blank(index, rows, _TENSOR_KINDS, None)
        _blank(index, rows, ("bytes",), True)
        return orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY)
    light = []
    for doc in docs:
        copy = doc.model_copy()
        for (name,) in paths:
            copy.__dict__[name] = None
        light.append(copy)
    return array_json_bytes(DocList[doc_type](light, validate_input_docs=False))


def docs_payload(
    index: DocumentIndex,
    docs: Any,
    extra: dict[str, Any],
    scores: np.ndarray | None = None,
    tensors: str = "full",
) -> bytes:
    """The JSON of a page or result set: ``extra``'s keys, then ``documents`` (docstack's
    JSON of each document), ``scores`` (or ``null``) and ``tensor_info``.

    ``tensors='full'`` writes tensors as nested lists; ``'summary'`` writes ``null`` for
    every tensor and ``true`` for every bytes field (the page shows ``tensor_info`` and
    fetches media from the media endpoints instead).

    Example
    -------
    >>> import orjson
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> index = InMemoryExactNNIndex[TextDoc]()
    >>> body = docs_payload(index, [TextDoc(id='1', text='hi')], {'total': 1})
    >>> out = orjson.loads(body)
    >>> out['total'], out['documents'][0]['text'], out['scores']
    (1, 'hi', None)
    """
    docs = list(docs)
    head = orjson.dumps(extra)[:-1]
    if tensors == "summary" and docs:
        body = _summary_json(index, docs)
    else:
        body = array_json_bytes(docs) if docs else b"[]"
    score_bytes = b"null"
    if scores is not None:
        values = np.asarray(scores, dtype=np.float64)
        clean = np.where(np.isfinite(values), values, np.nan)
        score_bytes = orjson.dumps([None if v != v else float(v) for v in clean.tolist()])
    info = orjson.dumps(tensor_info(index, docs))
    sep = b"," if len(head) > 1 else b""
    return (
        head
        + sep
        + b'"documents":'
        + body
        + b',"scores":'
        + score_bytes
        + b',"tensor_info":'
        + info
        + b"}"
    )


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
