"""Chunks as documents: :class:`ChunkDoc`, :func:`chunk` over parents, :func:`group_by_parent`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

import numpy as np
from pydantic import Field, create_model

from docstack.array import DocList
from docstack.base_doc import BaseDoc
from docstack.chunking._base import Chunker, ChunkingError, as_embed_fn
from docstack.errors import DocTypeError
from docstack.typing import AnyEmbedding

__all__ = ["ChunkDoc", "ParentHit", "chunk", "group_by_parent"]


class ChunkDoc(BaseDoc):
    """One chunk of a parent document's text, ready to index (e.g. as a sub-index).

    ``parent.text[start:end] == text`` for chunkers that keep text (see
    :class:`~docstack.chunking.SummaryChunker` for summaries). The index reserves the names
    ``parent_id`` and ``position`` for its own bookkeeping, so the fields are
    ``parent_doc_id`` and ``chunk_position``; the properties :attr:`parent_id` and
    :attr:`position` read them. Subclass it to give ``embedding`` a fixed dimension
    (``embedding: NdArray[384]``) for indexes that need one.

    Example
    -------
    >>> c = ChunkDoc(text='world', start=6, end=11, chunk_position=1, parent_doc_id='d1')
    >>> c.parent_id, c.position, 'hello world'[c.start:c.end] == c.text
    ('d1', 1, True)
    """

    text: str = ""
    start: int = 0
    end: int = 0
    chunk_position: int = 0
    parent_doc_id: str = ""
    embedding: Optional[AnyEmbedding] = None

    @property
    def parent_id(self) -> str:
        """The id of the document this chunk was cut from.

        >>> ChunkDoc(parent_doc_id='p').parent_id
        'p'
        """
        return self.parent_doc_id

    @property
    def position(self) -> int:
        """This chunk's 0-based position among its parent's chunks.

        >>> ChunkDoc(chunk_position=2).position
        2
        """
        return self.chunk_position


_WITH_CHUNKS: dict[tuple[type, str, type], type] = {}


def _with_chunks(doc_type: type[BaseDoc], field: str, chunk_type: type[ChunkDoc]) -> type:
    """``doc_type`` itself when it has ``field``, else a subclass adding ``field``."""
    if field in doc_type.model_fields:
        return doc_type
    key = (doc_type, field, chunk_type)
    if key not in _WITH_CHUNKS:
        list_type = DocList[chunk_type]  # type: ignore[valid-type]
        _WITH_CHUNKS[key] = create_model(  # type: ignore[call-overload]
            f"{doc_type.__name__}WithChunks",
            __base__=doc_type,
            __module__=doc_type.__module__,
            **{field: (list_type, Field(default_factory=list_type))},
        )
    return _WITH_CHUNKS[key]


def _chunk_type_of(doc_type: type[BaseDoc], field: str, default: type[ChunkDoc]) -> type:
    info = doc_type.model_fields.get(field)
    if info is None:
        return default
    inner = getattr(info.annotation, "doc_type", None)
    if not (isinstance(inner, type) and issubclass(inner, ChunkDoc)):
        raise ChunkingError(
            f"field {field!r} of {doc_type.__name__} must be a DocList of ChunkDoc (or a "
            f"subclass) to hold chunks, not {info.annotation}"
        )
    return inner


def chunk(
    docs: Sequence[BaseDoc],
    chunker: Chunker,
    text_field: str = "text",
    chunks_field: str = "chunks",
    *,
    encoder: Any = None,
    chunk_type: type[ChunkDoc] = ChunkDoc,
) -> DocList:
    """Chunk every document's text into a ``DocList[ChunkDoc]`` held by the document.

    The documents answered are copies of ``docs`` (the inputs are left as they were); when
    their class has no ``chunks_field`` they are of a subclass adding it (``TextDoc`` gives
    ``TextDocWithChunks``), so they index with the chunks as a sub-index. When the chunker
    repairs text (``repair=True``) the copies hold the repaired text, which the offsets
    refer to.

    Parameters
    ----------
    docs:
        The parent documents.
    chunker:
        Any :class:`~docstack.chunking.Chunker`.
    text_field, chunks_field:
        The field holding the text, and the ``DocList`` field the chunks go in.
    encoder:
        Embed every chunk's text (all documents in one batch) into ``embedding``: a
        :class:`docstack.embed.Encoder` or a callable ``list[str] -> (n, dim)``. Chunks a
        :class:`~docstack.chunking.LateChunker` embedded keep their own vectors.
    chunk_type:
        The chunk document class when the parent class has no ``chunks_field`` yet.

    Returns
    -------
    ``DocList`` of the parents, each with its chunks (positions from 0, ``parent_doc_id``
    set to the parent's id).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> from docstack.chunking import SentenceChunker
    >>> parents = chunk([TextDoc(id='d1', text='One. Two.')], SentenceChunker())
    >>> [(c.text, c.position, c.parent_id) for c in parents[0].chunks]
    [('One.', 0, 'd1'), ('Two.', 1, 'd1')]
    """
    docs = list(docs)
    texts = []
    for doc in docs:
        if text_field not in type(doc).model_fields:
            raise DocTypeError(
                f"document {doc.id!r} ({type(doc).__name__}) has no field {text_field!r} to chunk"
            )
        value = getattr(doc, text_field)
        if not isinstance(value, str):
            raise DocTypeError(
                f"document {doc.id!r}: field {text_field!r} holds a {type(value).__name__}, "
                "but chunking needs a str"
            )
        texts.append(chunker.prepare(value))
    pieces = chunker.split_prepared_batch(texts)

    vectors = None
    if encoder is not None:
        vectors = as_embed_fn(encoder)([c.text for cs in pieces for c in cs])
    out_types = {}
    result = []
    row = 0
    for doc, text, doc_chunks in zip(docs, texts, pieces):
        cls = type(doc)
        if cls not in out_types:
            ctype = _chunk_type_of(cls, chunks_field, chunk_type)
            out_types[cls] = (_with_chunks(cls, chunks_field, ctype), ctype)
        out_cls, ctype = out_types[cls]
        items = []
        for i, c in enumerate(doc_chunks):
            emb = c.embedding if vectors is None or c.embedding is not None else vectors[row]
            row += 1
            items.append(
                ctype(
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    chunk_position=i,
                    parent_doc_id=doc.id,
                    embedding=emb,
                )
            )
        values = {name: getattr(doc, name) for name in cls.model_fields}
        values[text_field] = text
        values[chunks_field] = DocList[ctype](items)
        result.append(out_cls(**values) if out_cls is not cls else doc.model_copy(update=values))
    types = {type(d) for d in result}
    list_type = DocList[types.pop()] if len(types) == 1 else DocList
    return list_type(result)


class ParentHit(NamedTuple):
    """One parent found through its chunks: its id, its best chunk's score, its best chunks.

    ``parent`` is the parent document when the search answered it (a sub-index search).

    Example
    -------
    >>> hits = [ChunkDoc(text=t, parent_doc_id=p)
    ...         for t, p in [('cats nap', 'a'), ('dogs run', 'b'), ('cats purr', 'a')]]
    >>> best = group_by_parent(hits, [0.9, 0.8, 0.7], chunks_per_parent=2)[0]
    >>> best.parent_id, best.score, [c.text for c in best.chunks], best.chunk_scores.tolist()
    ('a', 0.9, ['cats nap', 'cats purr'], [0.9, 0.7])
    >>> best.parent is None  # chunk hits alone do not hold their parents
    True
    """

    parent_id: str
    score: float
    chunks: list
    chunk_scores: np.ndarray
    parent: Any = None


def _direction(scores: np.ndarray) -> bool:
    """Whether higher scores are better, read from best-first ordered scores."""
    steps = np.diff(scores)
    if np.all(steps <= 0):
        return True
    if np.all(steps >= 0):
        return False
    raise ChunkingError(
        "the scores are not in best-first order, so their direction is unknown: pass "
        "higher_is_better=True (similarities) or False (distances)"
    )


def group_by_parent(
    hits: Any,
    scores: Any = None,
    limit: int = 10,
    *,
    chunks_per_parent: int = 1,
    higher_is_better: Optional[bool] = None,
) -> list[ParentHit]:
    """The best distinct parents of chunk hits, ranked by their best chunk's score.

    Parameters
    ----------
    hits:
        Chunk documents (each with ``parent_doc_id``), a ``FindResult`` of them, or a
        ``SubindexFindResult`` (whose root documents are the parents).
    scores:
        The chunks' scores, when ``hits`` is not a search result.
    limit:
        How many parents.
    chunks_per_parent:
        How many of each parent's best chunks to keep.
    higher_is_better:
        The score direction; by default read from the order of the scores (a search answers
        best first), which needs them sorted.

    Returns
    -------
    A list of :class:`ParentHit`, best first.

    Example
    -------
    >>> hits = [ChunkDoc(parent_doc_id=p) for p in ['a', 'b', 'a', 'c']]
    >>> [(h.parent_id, h.score, len(h.chunks))
    ...  for h in group_by_parent(hits, [0.9, 0.8, 0.7, 0.1], limit=2, chunks_per_parent=2)]
    [('a', 0.9, 2), ('b', 0.8, 1)]
    """
    roots = None
    if hasattr(hits, "sub_documents") and hasattr(hits, "root_documents"):
        roots, chunks, scores = list(hits.root_documents), list(hits.sub_documents), hits.scores
    elif hasattr(hits, "documents") and hasattr(hits, "scores") and scores is None:
        chunks, scores = list(hits.documents), hits.scores
    else:
        chunks = list(hits)
    if scores is None:
        raise ChunkingError("group_by_parent needs the chunks' scores (or a FindResult)")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size != len(chunks):
        raise ChunkingError(f"got {len(chunks)} chunks but {scores.size} scores")
    if int(limit) < 1 or int(chunks_per_parent) < 1:
        raise ChunkingError(
            f"limit ({limit}) and chunks_per_parent ({chunks_per_parent}) must be at least 1"
        )
    if not chunks:
        return []
    if roots is not None:
        parent_ids = [r.id for r in roots]
    else:
        parent_ids = [getattr(c, "parent_doc_id", None) for c in chunks]
        missing = [getattr(c, "id", i) for i, c in enumerate(parent_ids) if not c]
        if missing:
            raise ChunkingError(f"chunks {missing[:5]} have no parent_doc_id")
    higher = _direction(scores) if higher_is_better is None else bool(higher_is_better)
    order = np.argsort(-scores if higher else scores, kind="stable")
    _, codes = np.unique(np.asarray(parent_ids, dtype=object).astype(str), return_inverse=True)
    ranked = codes[order]
    # each parent's rank is the rank of its best chunk; keep the first limit parents
    _, first_at = np.unique(ranked, return_index=True)
    best_parents = ranked[np.sort(first_at)][: int(limit)]
    slot = {int(p): i for i, p in enumerate(best_parents.tolist())}
    picked: list[list[int]] = [[] for _ in best_parents]
    for i in order.tolist():
        group = slot.get(int(codes[i]))
        if group is not None and len(picked[group]) < chunks_per_parent:
            picked[group].append(i)
    return [
        ParentHit(
            parent_ids[idx[0]],
            float(scores[idx[0]]),
            [chunks[i] for i in idx],
            scores[idx],
            roots[idx[0]] if roots is not None else None,
        )
        for idx in picked
    ]
