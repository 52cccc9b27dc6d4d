"""Rerankers: reorder a search's candidates by a second, costlier or diversity-aware score.

Every reranker keeps one contract: ``rerank(query, docs, scores)`` answers ``(docs, scores)``
with the documents best first and **higher-is-better** scores whose meaning the class states
(the incoming scores may be distances or similarities; they only give the first-stage order).
In a query builder, ``index.build_query()....rerank(reranker, depth=50).build(limit=10)``
fetches ``depth`` candidates, reranks them and keeps ``limit``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from docstack.errors import DocstackError
from docstack.retrieval._fusion import reciprocal_rank_fusion, weighted_fusion

__all__ = ["CrossEncoderReranker", "FusionReranker", "MMRReranker", "Reranker", "RerankError"]


class RerankError(DocstackError, ValueError):
    """A reranker was given a query or documents it cannot score.

    Example
    -------
    >>> MMRReranker('emb', lambda_=2.0)
    Traceback (most recent call last):
    ...
    docstack.retrieval._rerank.RerankError: lambda_ must be in [0, 1], got 2.0
    """


def _take(docs: Any, order: np.ndarray) -> Any:
    """The documents in ``order`` (a DocList stays a DocList of the same type)."""
    picked = [docs[int(i)] for i in order]
    try:
        return type(docs)(picked, validate_input_docs=False)
    except TypeError:
        return type(docs)(picked)


class Reranker(abc.ABC):
    """Reorders candidates: subclasses implement :meth:`rerank`.

    ``query_kind`` says which part of a built hybrid query the reranker reads when the query
    builder supplies it: ``'text'`` (the first text search's text) or ``'vector'`` (the first
    vector search's vector).

    Example
    -------
    >>> import numpy as np
    >>> class Shortest(Reranker):
    ...     def rerank(self, query, docs, scores):
    ...         lengths = np.array([len(d) for d in docs], dtype=np.float64)
    ...         order = np.argsort(lengths, kind='stable')
    ...         return [docs[i] for i in order], -lengths[order]
    >>> Shortest().rerank('q', ['ccc', 'a', 'bb'], np.zeros(3))[0]
    ['a', 'bb', 'ccc']
    """

    query_kind: ClassVar[Literal["text", "vector"]] = "text"

    @abc.abstractmethod
    def rerank(self, query: Any, docs: Any, scores: np.ndarray) -> tuple[Any, np.ndarray]:
        """Answer ``(docs, scores)`` best first, scores higher-is-better.

        The incoming ``scores`` may be distances; what comes out must be higher-is-better:

        >>> import numpy as np
        >>> class NearestFirst(Reranker):
        ...     def rerank(self, query, docs, scores):  # scores: distances, smaller is nearer
        ...         order = np.argsort(scores, kind='stable')
        ...         return [docs[i] for i in order], -scores[order]
        >>> NearestFirst().rerank('q', ['far', 'near'], np.array([0.9, 0.1]))
        (['near', 'far'], array([-0.1, -0.9]))
        """


def _field_matrix(docs: Any, field: str) -> np.ndarray:
    """Stack one vector field of every document into a float64 matrix."""
    rows = []
    for i, doc in enumerate(docs):
        value = doc
        for part in field.split("__"):
            value = getattr(value, part, None)
        if value is None:
            raise RerankError(f"document {i} ({getattr(doc, 'id', '?')!r}) has no {field!r}")
        rows.append(np.asarray(value, dtype=np.float64).ravel())
    try:
        return np.stack(rows)
    except ValueError as exc:
        raise RerankError(f"the {field!r} vectors differ in length: {exc}") from exc


def _key(doc: Any) -> Any:
    """What identifies a candidate across reorderings: its ``id``, else the object."""
    doc_id = getattr(doc, "id", None)
    return doc_id if doc_id is not None else id(doc)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


class MMRReranker(Reranker):
    """Maximal marginal relevance: pick, one at a time, the candidate maximising
    ``lambda_ * sim(query, d) - (1 - lambda_) * max sim(d, already picked)`` (cosine).

    ``lambda_=1`` is plain relevance order, lower values favour diversity. A reranked score is
    that objective when the document was picked, capped by the score before it (the first
    pick has no redundancy term, so the second's objective may exceed it): scores never rise
    down the list. ``field``
    names the documents' vector field; ``limit`` caps how many are picked (all by default).

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[2]
    >>> docs = DocList[Doc]([Doc(id='a', emb=[1, 0]), Doc(id='a2', emb=[1, 0.01]),
    ...                      Doc(id='b', emb=[0.6, 0.8])])
    >>> ranked, scores = MMRReranker('emb', lambda_=0.5).rerank(np.array([1.0, 0.2]), docs,
    ...                                                         np.zeros(3))
    >>> ranked.id
    ['a2', 'b', 'a']
    """

    query_kind = "vector"

    def __init__(self, field: str, lambda_: float = 0.5, limit: int | None = None) -> None:
        if not 0.0 <= float(lambda_) <= 1.0:
            raise RerankError(f"lambda_ must be in [0, 1], got {lambda_!r}")
        if limit is not None and limit < 0:
            raise RerankError(f"limit must be >= 0, got {limit}")
        self.field, self.lambda_, self.limit = field, float(lambda_), limit

    def rerank(self, query: Any, docs: Any, scores: np.ndarray) -> tuple[Any, np.ndarray]:
        """Reorder ``docs`` by maximal marginal relevance to the query vector.

        Any documents with the vector field work; ``'a2'`` nearly repeats ``'a'``:

        >>> import numpy as np
        >>> from types import SimpleNamespace as Doc
        >>> docs = [Doc(id='a', emb=[1, 0]), Doc(id='a2', emb=[1, 0.1]), Doc(id='b', emb=[0, 1])]
        >>> query = np.array([1.0, 0.5])
        >>> ranked, _ = MMRReranker('emb', lambda_=1.0).rerank(query, docs, np.zeros(3))
        >>> [d.id for d in ranked]  # relevance alone
        ['a2', 'a', 'b']
        >>> ranked, scores = MMRReranker('emb', lambda_=0.3).rerank(query, docs, np.zeros(3))
        >>> [d.id for d in ranked], scores.round(3).tolist()  # the near duplicate goes last
        (['a2', 'b', 'a'], [0.28, 0.065, -0.428])
        """
        n = len(docs)
        k = n if self.limit is None else min(self.limit, n)
        if k == 0:
            return _take(docs, np.zeros(0, dtype=np.int64)), np.zeros(0)
        cand = _unit(_field_matrix(docs, self.field))
        q = _unit(np.asarray(query, dtype=np.float64).ravel())
        if q.shape[0] != cand.shape[1]:
            raise RerankError(f"query has {q.shape[0]} dims, {self.field!r} has {cand.shape[1]}")
        relevance = cand @ q
        redundancy = np.full(n, -np.inf)
        free = np.ones(n, dtype=bool)
        order = np.empty(k, dtype=np.int64)
        out = np.empty(k)
        lam = self.lambda_
        for step in range(k):
            penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
            objective = np.where(free, lam * relevance - (1 - lam) * penalty, -np.inf)
            best = int(np.argmax(objective))
            order[step], out[step] = best, objective[best]
            free[best] = False
            redundancy = np.maximum(redundancy, cand @ cand[best])
        return _take(docs, order), np.minimum.accumulate(out)


class CrossEncoderReranker(Reranker):
    """Score each (query, document text) pair with a cross-encoder and sort by it.

    ``model`` is a sentence-transformers ``CrossEncoder`` (its ``predict``) or a transformers
    sequence-classification model with its ``tokenizer``. The reranked score is the model's
    relevance logit (the only logit, or the last class's when there are several): higher is
    more relevant; equal scores keep the incoming order. ``field`` names the text field.

    Example
    -------
    >>> import numpy as np
    >>> class Overlap:  # any object with predict(pairs) -> scores works as a model
    ...     def predict(self, pairs, batch_size=32):
    ...         return [len(set(q.split()) & set(t.split())) for q, t in pairs]
    >>> texts = ['blue sea', 'red fox runs', 'red sea']
    >>> docs, scores = CrossEncoderReranker(Overlap()).rerank('red sea', texts, np.zeros(3))
    >>> docs, scores.tolist()
    (['red sea', 'blue sea', 'red fox runs'], [2.0, 1.0, 1.0])
    """

    query_kind = "text"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        field: str = "text",
        batch_size: int = 32,
        max_length: int = 512,
    ) -> None:
        if tokenizer is None and not hasattr(model, "predict"):
            raise RerankError(
                "give a sentence-transformers CrossEncoder, or a transformers model with its "
                "tokenizer="
            )
        if batch_size < 1:
            raise RerankError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.tokenizer, self.field = model, tokenizer, field
        self.batch_size, self.max_length = int(batch_size), int(max_length)

    def _texts(self, docs: Any) -> list[str]:
        texts = []
        for i, doc in enumerate(docs):
            text = doc if isinstance(doc, str) else getattr(doc, self.field, None)
            if not isinstance(text, str):
                raise RerankError(f"document {i} has no text in field {self.field!r}")
            texts.append(text)
        return texts

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """The model's relevance score of each text for ``query``.

        >>> class Length:
        ...     def predict(self, pairs, batch_size=32):
        ...         return [len(t) for _, t in pairs]
        >>> CrossEncoderReranker(Length()).score('q', ['ab', 'c']).tolist()
        [2.0, 1.0]
        """
        if not isinstance(query, str):
            raise RerankError(f"a cross-encoder needs a text query, got {type(query).__name__}")
        if not texts:
            return np.zeros(0)
        if self.tokenizer is None:
            pairs = [(query, t) for t in texts]
            return np.asarray(self.model.predict(pairs, batch_size=self.batch_size), np.float64)
        import torch

        out = []
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                enc = self.tokenizer(
                    [query] * len(batch),
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                logits = self.model(**enc).logits
                out.append(logits[:, -1].float().cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def rerank(self, query: Any, docs: Any, scores: np.ndarray) -> tuple[Any, np.ndarray]:
        """Reorder ``docs`` by the cross-encoder's score for ``query``.

        Documents keep their type; their text is read from ``field``:

        >>> import numpy as np
        >>> from docstack.documents import TextDoc
        >>> from docstack import DocList
        >>> class Overlap:  # stands in for a CrossEncoder: predict(pairs) -> scores
        ...     def predict(self, pairs, batch_size=32):
        ...         return [len(set(q.split()) & set(t.split())) for q, t in pairs]
        >>> docs = DocList[TextDoc]([TextDoc(id='1', text='blue sea'),
        ...                          TextDoc(id='2', text='red sea bream')])
        >>> ranked, scores = CrossEncoderReranker(Overlap()).rerank('red sea', docs, np.ones(2))
        >>> type(ranked).__name__, ranked.id, scores.tolist()
        ('DocList[TextDoc]', ['2', '1'], [2.0, 1.0])
        """
        relevance = self.score(query, self._texts(docs))
        order = np.argsort(-relevance, kind="stable")
        return _take(docs, order), relevance[order]


class FusionReranker(Reranker):
    """Fuse the first-stage order with another reranker's order, instead of replacing it.

    ``method='rrf'`` (reciprocal rank fusion with constant ``k``) or ``'weighted'`` (weighted
    sum of min-max normalised scores); ``weights`` are (first stage, reranker). The reranked
    score is the fused score (higher is better). With ``'weighted'``, ``higher_is_better``
    tells the direction of the incoming scores.

    Example
    -------
    >>> import numpy as np
    >>> class Reverse(Reranker):
    ...     def rerank(self, query, docs, scores):
    ...         return docs[::-1], np.arange(len(docs), 0, -1, dtype=float)
    >>> fused = FusionReranker(Reverse(), weights=(2.0, 1.0), k=1)
    >>> fused.rerank('q', ['a', 'b', 'c'], np.array([3.0, 2.0, 1.0]))[0]
    ['a', 'b', 'c']
    """

    def __init__(
        self,
        reranker: Reranker,
        method: Literal["rrf", "weighted"] = "rrf",
        weights: tuple[float, float] = (1.0, 1.0),
        k: int = 60,
        higher_is_better: bool = True,
    ) -> None:
        if method not in ("rrf", "weighted"):
            raise RerankError(f"method must be 'rrf' or 'weighted', got {method!r}")
        if not isinstance(reranker, Reranker):
            raise RerankError(f"FusionReranker wraps a Reranker, got {type(reranker).__name__}")
        self.reranker, self.method, self.weights = reranker, method, tuple(weights)
        self.k, self.higher_is_better = k, higher_is_better
        self.query_kind = reranker.query_kind  # type: ignore[misc]

    def rerank(self, query: Any, docs: Any, scores: np.ndarray) -> tuple[Any, np.ndarray]:
        """Fuse the incoming order with the wrapped reranker's order.

        The first stage ranks ``'blue sea'`` first, a cross-encoder ``'red sea'``; fused with
        equal weights the first stage's favourite stays on top, weighting the cross-encoder
        twice as much lets it win:

        >>> import numpy as np
        >>> class Overlap:
        ...     def predict(self, pairs, batch_size=32):
        ...         return [len(set(q.split()) & set(t.split())) for q, t in pairs]
        >>> texts, first = ['blue sea', 'red fox', 'red sea'], np.array([3.0, 2.0, 1.0])
        >>> cross = CrossEncoderReranker(Overlap())
        >>> FusionReranker(cross).rerank('red sea', texts, first)[0]
        ['blue sea', 'red sea', 'red fox']
        >>> FusionReranker(cross, weights=(1.0, 2.0)).rerank('red sea', texts, first)[0]
        ['red sea', 'blue sea', 'red fox']
        """
        n = len(docs)
        scores = np.asarray(scores, dtype=np.float64)
        if len(scores) != n:
            raise RerankError(f"got {len(scores)} scores for {n} documents")
        positions = {_key(d): i for i, d in enumerate(docs)}
        second, second_scores = self.reranker.rerank(query, docs, scores)
        second_pos = [positions[_key(d)] for d in second]
        if self.method == "rrf":
            keys, fused = reciprocal_rank_fusion(
                [list(range(n)), second_pos], k=self.k, weights=self.weights
            )
        else:
            keys, fused = weighted_fusion(
                [(list(range(n)), scores), (second_pos, second_scores)],
                self.weights,
                [self.higher_is_better, True],
            )
        return _take(docs, np.asarray(keys, dtype=np.int64)), fused


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
