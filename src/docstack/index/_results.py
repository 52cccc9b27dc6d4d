"""What searches of a Document Index return."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["FindResult", "FindResultBatched", "SubindexFindResult"]


class FindResult(NamedTuple):
    """The documents a search found, best first, and their scores.

    Unpacks as ``docs, scores = index.find(...)``. The meaning of a score is fixed per metric
    (see :data:`docstack.index.INDEX_METRICS`); text search scores are BM25 (higher is
    better) and fused hybrid scores are higher-is-better.
    """

    documents: Any
    scores: np.ndarray


class FindResultBatched(NamedTuple):
    """One :class:`FindResult`'s worth per query: lists of document lists and score arrays."""

    documents: list[Any]
    scores: list[np.ndarray]


class SubindexFindResult(NamedTuple):
    """A sub-index search: the root documents, the matching sub-documents and their scores.

    ``root_documents[i]`` is the root document that (through any depth of nesting) holds
    ``sub_documents[i]``.
    """

    root_documents: Any
    sub_documents: Any
    scores: np.ndarray
