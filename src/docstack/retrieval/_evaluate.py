"""Evaluate searches of a Document Index against relevance judgments."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from docstack.retrieval._metrics import DEFAULT_METRICS, MetricError, Qrels
from docstack.retrieval._results import (
    ComparisonTable,
    EvaluationResult,
    compare_all,
    evaluate_run,
)

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["evaluate", "search_run"]

Mode = Union[str, Callable[[Any], Any]]
_MODES = ("vector", "text", "hybrid")


def _encode(texts: list[str], encoder: Any) -> np.ndarray:
    if encoder is None:
        raise MetricError(
            "text queries for a vector search need query_encoder= (a docstack Encoder or a "
            "callable from a list of texts to a 2-d array), or a vector field that declares "
            "its encoder"
        )
    if hasattr(encoder, "encode_query"):  # a docstack Encoder, or one declared on a field
        return encoder.encode_query(texts)
    vectors = np.asarray(encoder(texts), dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(texts):
        raise MetricError(
            f"query_encoder answered shape {vectors.shape} for {len(texts)} texts; "
            "expected (n_texts, dim)"
        )
    return vectors


def _vectors(queries: list[Any], encoder: Any) -> list[Any]:
    """Each query's vector: texts encoded in one batch, vectors and documents as given."""
    out = list(queries)
    text_at = [i for i, q in enumerate(queries) if isinstance(q, str)]
    if text_at:
        encoded = _encode([queries[i] for i in text_at], encoder)
        for i, vec in zip(text_at, encoded):
            out[i] = vec
    return out


def _ids(found: Any) -> list[Hashable]:
    """Document ids, best first, from a search's answer."""
    docs = found[0] if isinstance(found, tuple) else found
    if hasattr(docs, "documents"):
        docs = docs.documents
    return [d if isinstance(d, (str, int)) else d.id for d in docs]


def search_run(
    index: DocumentIndex,
    queries: Mapping[Hashable, Any],
    *,
    mode: Mode = "vector",
    search_field: str = "",
    text_field: str = "",
    query_encoder: Any = None,
    limit: int = 100,
) -> dict[Hashable, list[Hashable]]:
    """Run one search per query and answer the run ``{qid: [doc id, ...]}``, best first.

    Parameters
    ----------
    index:
        Any docstack ``DocumentIndex``.
    queries:
        ``{qid: query}``; a query is a text, a vector or a document.
    mode:
        ``'vector'`` (``find`` on ``search_field``; texts are embedded with
        ``query_encoder``), ``'text'`` (BM25 ``text_search`` on ``search_field``),
        ``'hybrid'`` (vector search on ``search_field`` fused by RRF with text search on
        ``text_field``), or a callable from one query to a ``FindResult``, a document list
        or a list of ids.
    query_encoder:
        A :class:`docstack.embed.Encoder` or a callable from a list of texts to a 2-d array;
        by default the encoder the vector field declares (``Field(encoder=...)``), if any.
    limit:
        How many documents each search returns.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     text: str
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.index([Doc(id='a', text='red fox'), Doc(id='b', text='blue sea')])
    >>> search_run(index, {'q1': 'fox'}, mode='text', search_field='text')
    {'q1': ['a']}
    """
    qids = list(queries)
    items = [queries[q] for q in qids]
    if (
        query_encoder is None
        and mode in ("vector", "hybrid")
        and any(isinstance(i, str) for i in items)
    ):
        from docstack.index._embed import field_encoder

        query_encoder = field_encoder(index, search_field)
    if callable(mode):
        return {q: _ids(mode(item)) for q, item in zip(qids, items)}
    if mode not in _MODES:
        raise MetricError(f"mode must be one of {_MODES} or a callable, got {mode!r}")
    if mode == "text":
        for q, item in zip(qids, items):
            if not isinstance(item, str):
                raise MetricError(f"query {q!r}: a text search needs a str, got {type(item)}")
        return {q: _ids(index.text_search(t, search_field, limit)) for q, t in zip(qids, items)}
    if mode == "hybrid":
        if not text_field:
            raise MetricError("mode='hybrid' needs text_field= (the field of the text search)")
        texts = [item if isinstance(item, str) else item[0] for item in items]
        direct = [None if isinstance(item, str) else item[1] for item in items]
        vectors = _vectors([t if d is None else d for t, d in zip(texts, direct)], query_encoder)
        run = {}
        for q, text, vec in zip(qids, texts, vectors):
            built = (
                index.build_query()
                .find(vec, search_field=search_field)
                .text_search(text, search_field=text_field)
                .build(limit=limit)
            )
            run[q] = _ids(index.execute_query(built))
        return run
    vectors = _vectors(items, query_encoder)
    if vectors and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in vectors):
        found = index.find_batched(np.stack(vectors), search_field, limit)
        return {q: _ids(docs) for q, docs in zip(qids, found.documents)}
    return {q: _ids(index.find(v, search_field, limit)) for q, v in zip(qids, vectors)}


def evaluate(
    index: DocumentIndex,
    queries: Mapping[Hashable, Any],
    qrels: Qrels,
    *,
    search_field: str = "",
    mode: Mode = "vector",
    text_field: str = "",
    query_encoder: Any = None,
    limit: int = 100,
    metrics: Iterable[str] = DEFAULT_METRICS,
    setups: Mapping[str, Mapping[str, Any] | Mode] | None = None,
    compare_metric: str = "ndcg@10",
    relevance_level: float = 1,
    name: str | None = None,
) -> EvaluationResult | ComparisonTable:
    """Search ``index`` with every query and score the results against ``qrels``.

    A document's id is its ``id`` field; each search's order is the ranking (whatever the
    direction of its scores). Every query is evaluated: one whose search finds nothing
    scores 0. Queries without judgments are skipped.

    Parameters
    ----------
    index, queries, mode, search_field, text_field, query_encoder, limit:
        The searches, as in :func:`search_run`.
    qrels:
        ``{qid: {doc id: grade}}``.
    metrics:
        Metric names (see :func:`evaluate_run`).
    setups:
        Several setups side by side, by name: each a dict of the search settings above
        (those not given come from the call's own) or a mode. The first is the baseline;
        the answer is a :class:`ComparisonTable` with paired tests on ``compare_metric``.
    name:
        The result's name (the mode by default).

    Returns
    -------
    EvaluationResult, or ComparisonTable with ``setups``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     text: str
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.index([Doc(id='a', text='red fox'), Doc(id='b', text='red sea, blue sea')])
    >>> result = evaluate(index, {'q1': 'fox', 'q2': 'sea'}, {'q1': {'a': 1}, 'q2': {'b': 1}},
    ...                   mode='text', search_field='text', metrics=['mrr', 'hits@1'])
    >>> result.mean()
    {'mrr': 1.0, 'hits@1': 1.0}
    """
    metrics = list(metrics)
    base = {
        "mode": mode,
        "search_field": search_field,
        "text_field": text_field,
        "query_encoder": query_encoder,
        "limit": limit,
    }
    judged = {q: queries[q] for q in queries if q in qrels}

    def one(setup_name: str, settings: Mapping[str, Any]) -> EvaluationResult:
        unknown = set(settings) - set(base)
        if unknown:
            raise MetricError(f"setup {setup_name!r}: unknown settings {sorted(unknown)}")
        run = search_run(index, judged, **{**base, **settings})
        return evaluate_run(
            run,
            qrels,
            metrics,
            name=setup_name,
            relevance_level=relevance_level,
            ties="given",
        )

    if setups is None:
        label = name or (mode if isinstance(mode, str) else getattr(mode, "__name__", "run"))
        return one(label, {})
    results = {
        setup_name: one(setup_name, s if isinstance(s, Mapping) else {"mode": s})
        for setup_name, s in setups.items()
    }
    return compare_all(results, compare_metric)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
