"""What the text encoders share: query and passage prefixes, and length-sorted batches."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from docstack.embed._base import Encoder

__all__ = ["TextEncoder"]


def _with_prefix(texts: Sequence[str], prefix: str) -> Sequence[str]:
    return [prefix + t for t in texts] if prefix else texts


class TextEncoder(Encoder):
    """A text-only encoder whose queries and passages may carry different prefixes.

    :meth:`encode` embeds passages (``passage_prefix`` + text), :meth:`encode_query` embeds
    queries (``query_prefix`` + text); subclasses implement :meth:`_embed_texts`.

    >>> import numpy as np
    >>> class Lengths(TextEncoder):
    ...     name, dim, query_prefix = 'lengths', 1, 'q: '
    ...     def _embed_texts(self, texts, query):
    ...         return np.array([[len(t)] for t in texts])
    >>> Lengths().encode(['ab']).tolist(), Lengths().encode_query(['ab']).tolist()
    ([[2.0]], [[5.0]])
    """

    #: text put before each query by :meth:`encode_query`
    query_prefix: str = ""
    #: text put before each passage by :meth:`encode`
    passage_prefix: str = ""
    sort_by_length = True

    @abc.abstractmethod
    def _embed_texts(self, texts: Sequence[str], query: bool) -> Any:
        """Embed one batch of (already prefixed) texts; ``query`` says which side they are."""

    def _encode_batch(self, items: Sequence[Any], modality: str) -> Any:
        return self._embed_texts(_with_prefix(items, self.passage_prefix), False)

    def _encode_query_batch(self, items: Sequence[Any], modality: str) -> Any:
        return self._embed_texts(_with_prefix(items, self.query_prefix), True)
