"""Chunkers that cut where sentence embeddings change: semantic breakpoints and topic tiling."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from docstack.chunking._base import (
    Chunk,
    Chunker,
    ChunkingError,
    as_embed_fn,
    chunks_from_spans,
    unit_rows,
)
from docstack.chunking._sentences import group_spans, sentence_spans

__all__ = ["SemanticChunker", "TopicChunker", "depth_scores"]


def _window_means(unit: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each gap between sentences i and i + 1: the mean of the ``window`` sentences
    before it and of the ``window`` sentences after it."""
    n = unit.shape[0]
    csum = np.concatenate((np.zeros((1, unit.shape[1]), unit.dtype), np.cumsum(unit, axis=0)))
    gap = np.arange(1, n)
    left = csum[gap] - csum[np.maximum(gap - window, 0)]
    right = csum[np.minimum(gap + window, n)] - csum[gap]
    return left, right


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", unit_rows(a), unit_rows(b))


def depth_scores(similarities: np.ndarray) -> np.ndarray:
    """TextTiling depth of each valley: how far it lies below the peaks on either side.

    Going left (and right) from a gap the similarity may only rise; the highest point reached
    is that side's peak, and the depth is ``(left_peak - s) + (right_peak - s)``.

    >>> depth_scores(np.array([0.9, 0.5, 0.8, 0.7, 0.9])).round(2).tolist()
    [0.0, 0.7, 0.0, 0.3, 0.0]
    """
    s = np.asarray(similarities, dtype=np.float64)
    n = s.size
    if n == 0:
        return s
    idx = np.arange(n)
    # the left climb from i stops at the last j <= i whose left neighbour is lower than it
    rises_left = np.ones(n, dtype=bool)
    rises_left[1:] = s[:-1] < s[1:]
    left_peak = s[np.maximum.accumulate(np.where(rises_left, idx, 0))]
    rises_right = np.ones(n, dtype=bool)
    rises_right[:-1] = s[1:] < s[:-1]
    right_at = np.minimum.accumulate(np.where(rises_right, idx, n - 1)[::-1])[::-1]
    right_peak = s[right_at]
    return (left_peak - s) + (right_peak - s)


class _SentenceEmbeddingChunker(Chunker):
    """Splits into sentences, embeds them all in one batch, and groups them (subclasses say
    where a new group starts)."""

    def __init__(self, encoder: Any, engine: str, max_size: Optional[int], repair: bool) -> None:
        super().__init__(repair=repair)
        self.encoder = encoder
        self._embed = as_embed_fn(encoder)
        self.engine = engine
        if max_size is not None and int(max_size) < 1:
            raise ChunkingError(f"max_size must be at least 1 character, got {max_size}")
        self.max_size = None if max_size is None else int(max_size)

    @abc.abstractmethod
    def _boundaries(self, embeddings: np.ndarray) -> np.ndarray:
        """Indices of the sentences (> 0) that start a new chunk, ascending."""

    def _split(self, text: str) -> list[Chunk]:
        return self.split_prepared_batch([text])[0]

    def split_prepared_batch(self, texts: Sequence[str]) -> list[list[Chunk]]:
        """Chunk prepared texts, embedding all their sentences in one call of the encoder.

        >>> from docstack.chunking import SemanticChunker
        >>> chunker = SemanticChunker(lambda ts: [[t.count('cat'), t.count('car')] for t in ts])
        >>> [len(c) for c in chunker.split_batch(['A cat. A cat. A car.', 'One car.'])]
        [2, 1]
        """
        spans = [sentence_spans(t, self.engine) for t in texts]
        sentences = [
            t[s:e]
            for t, (starts, ends) in zip(texts, spans)
            for s, e in zip(starts.tolist(), ends.tolist())
        ]
        vectors = self._embed(sentences)
        out, offset = [], 0
        for text, (starts, ends) in zip(texts, spans):
            n = starts.size
            if n == 0:
                out.append([])
                continue
            cuts = self._boundaries(vectors[offset : offset + n]) if n > 1 else np.zeros(0, int)
            offset += n
            first = np.concatenate(([0], cuts)).astype(np.int64)
            last = np.concatenate((cuts - 1, [n - 1])).astype(np.int64)
            c_starts, c_ends = starts[first], ends[last]
            if self.max_size is not None:
                c_starts, c_ends = self._cap(starts, ends, first, last)
            out.append(chunks_from_spans(text, c_starts, c_ends))
        return out

    def _cap(
        self, starts: np.ndarray, ends: np.ndarray, first: np.ndarray, last: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Re-pack groups longer than ``max_size`` into whole sentences that fit."""
        assert self.max_size is not None
        parts_s, parts_e = [], []
        for a, b in zip(first.tolist(), last.tolist()):
            if ends[b] - starts[a] <= self.max_size:
                parts_s.append(starts[a : a + 1])
                parts_e.append(ends[b : b + 1])
            else:
                s, e = group_spans(starts[a : b + 1], ends[a : b + 1], 1, 0, self.max_size)
                parts_s.append(s)
                parts_e.append(e)
        return np.concatenate(parts_s), np.concatenate(parts_e)


class SemanticChunker(_SentenceEmbeddingChunker):
    """Cuts between neighbouring sentences whose embeddings diverge the most.

    Each sentence is embedded (one batch for all texts); its vector is averaged with its
    ``window`` neighbours on each side, and a chunk ends where the cosine distance to the
    next sentence's vector is above ``threshold``, or, by default, above the
    ``percentile``-th percentile of the text's distances.

    Parameters
    ----------
    encoder:
        A :class:`docstack.embed.Encoder` or a callable ``list[str] -> (n, dim)`` array.
    percentile:
        Cut at distances above this percentile of the text's distances (default 90).
    threshold:
        Cut at cosine distances above this absolute value instead.
    window:
        Neighbours on each side averaged into a sentence's vector (0: the sentence alone).
    max_size:
        Re-pack a chunk longer than this many characters into whole sentences that fit.
    engine, repair:
        The sentence splitter (see :func:`sentence_spans`) and mojibake repair.

    Example
    -------
    >>> def topics(texts):
    ...     return [[t.count('cat'), t.count('car')] for t in texts]
    >>> chunker = SemanticChunker(topics, threshold=0.5)
    >>> [c.text for c in chunker.split('A cat sat. The cat slept. A car drove. The car stopped.')]
    ['A cat sat. The cat slept.', 'A car drove. The car stopped.']
    """

    def __init__(
        self,
        encoder: Any,
        *,
        percentile: float = 90.0,
        threshold: Optional[float] = None,
        window: int = 0,
        max_size: Optional[int] = None,
        engine: str = "fast",
        repair: bool = False,
    ) -> None:
        super().__init__(encoder, engine, max_size, repair)
        if not 0.0 <= float(percentile) <= 100.0:
            raise ChunkingError(f"percentile must be within [0, 100], got {percentile}")
        if int(window) < 0:
            raise ChunkingError(f"window must be >= 0, got {window}")
        self.percentile = float(percentile)
        self.threshold = None if threshold is None else float(threshold)
        self.window = int(window)

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """Cosine distance between each sentence's (window-averaged) vector and the next's.

        >>> SemanticChunker(len).distances(np.array([[1.0, 0], [1, 0], [0, 1]])).tolist()
        [0.0, 1.0]
        """
        unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
        if self.window:
            csum = np.concatenate((np.zeros((1, unit.shape[1])), np.cumsum(unit, axis=0)))
            idx = np.arange(unit.shape[0])
            lo = np.maximum(idx - self.window, 0)
            hi = np.minimum(idx + self.window + 1, unit.shape[0])
            unit = csum[hi] - csum[lo]
        return 1.0 - _cosine_rows(unit[:-1], unit[1:])

    def _boundaries(self, embeddings: np.ndarray) -> np.ndarray:
        dist = self.distances(embeddings)
        limit = (
            self.threshold
            if self.threshold is not None
            else float(np.percentile(dist, self.percentile))
        )
        return np.flatnonzero(dist > limit) + 1


class TopicChunker(_SentenceEmbeddingChunker):
    """Topic segments found TextTiling-style from sentence-window embeddings (no LLM).

    At every gap between sentences, the mean embedding of the ``window`` sentences before
    it is compared with that of the ``window`` after it; a topic shift is a deep valley of
    this similarity (:func:`depth_scores`). Cuts go at the deepest valleys: the
    ``n_topics - 1`` deepest when ``n_topics`` is given, else every valley deeper than
    ``mean - std / 2`` of the depths (Hearst's cutoff), never leaving fewer than
    ``min_sentences`` sentences in a segment.

    Parameters
    ----------
    encoder:
        A :class:`docstack.embed.Encoder` or a callable ``list[str] -> (n, dim)`` array.
    window:
        Sentences on each side of a gap (default 3).
    n_topics:
        Ask for this many segments (fewer when the text has too few sentences).
    min_sentences:
        The fewest sentences in a segment (default 2).
    max_size, engine, repair:
        As for :class:`SemanticChunker`.

    Example
    -------
    >>> def topics(texts):
    ...     return [[t.count('cat'), t.count('car'), 0.1] for t in texts]
    >>> text = 'A cat. My cat. Cat food. A car. My car. Car keys.'
    >>> [c.text for c in TopicChunker(topics, window=2, n_topics=2).split(text)]
    ['A cat. My cat. Cat food.', 'A car. My car. Car keys.']
    """

    def __init__(
        self,
        encoder: Any,
        *,
        window: int = 3,
        n_topics: Optional[int] = None,
        min_sentences: int = 2,
        max_size: Optional[int] = None,
        engine: str = "fast",
        repair: bool = False,
    ) -> None:
        super().__init__(encoder, engine, max_size, repair)
        if int(window) < 1:
            raise ChunkingError(f"window must be at least 1 sentence, got {window}")
        if n_topics is not None and int(n_topics) < 1:
            raise ChunkingError(f"n_topics must be at least 1, got {n_topics}")
        if int(min_sentences) < 1:
            raise ChunkingError(f"min_sentences must be at least 1, got {min_sentences}")
        self.window = int(window)
        self.n_topics = None if n_topics is None else int(n_topics)
        self.min_sentences = int(min_sentences)

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """Cosine similarity of the windows before and after each gap between sentences.

        >>> TopicChunker(len, window=1).similarities(np.array([[1.0, 0], [1, 0], [0, 1]])).tolist()
        [1.0, 0.0]
        """
        unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
        return _cosine_rows(*_window_means(unit, self.window))

    def _boundaries(self, embeddings: np.ndarray) -> np.ndarray:
        n = embeddings.shape[0]
        depth = depth_scores(self.similarities(embeddings))
        # candidates: local maxima of depth, deepest first
        padded = np.concatenate(([-np.inf], depth, [-np.inf]))
        peak = (depth > 0) & (depth >= padded[:-2]) & (depth >= padded[2:])
        if self.n_topics is None:
            peak &= depth > depth.mean() - depth.std() / 2
        order = np.flatnonzero(peak)
        order = order[np.argsort(-depth[order], kind="stable")]
        wanted = n if self.n_topics is None else self.n_topics - 1
        chosen: list[int] = []
        taken = np.array([0, n])
        for gap in order.tolist():
            if len(chosen) >= wanted:
                break
            cut = gap + 1  # the sentence that starts the new segment
            at = int(np.searchsorted(taken, cut))
            if cut - taken[at - 1] >= self.min_sentences and taken[at] - cut >= self.min_sentences:
                chosen.append(cut)
                taken = np.insert(taken, at, cut)
        return np.array(sorted(chosen), dtype=np.int64)
