"""Chunks of a fixed size in characters or tokens, and recursive splitting on text structure."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from docstack.chunking._base import (
    Chunk,
    Chunker,
    ChunkingError,
    check_size,
    chunks_from_spans,
    require,
)

__all__ = ["FixedSizeChunker", "RecursiveChunker", "load_tokenizer"]


def load_tokenizer(tokenizer: Any) -> Any:
    """A ``tokenizers.Tokenizer`` that neither truncates nor pads, for counting tokens.

    Takes a ``tokenizers.Tokenizer``, a ``transformers`` fast tokenizer (its backend is
    used), or the path of a ``tokenizer.json``. The caller's tokenizer is copied, never
    changed.

    Example
    -------
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> tok = Tokenizer(models.WordLevel({'hello': 0, 'world': 1, '[UNK]': 2}, unk_token='[UNK]'))
    >>> tok.pre_tokenizer = pre_tokenizers.Whitespace()
    >>> tok.enable_truncation(1)
    >>> load_tokenizer(tok).encode('hello world').tokens
    ['hello', 'world']
    """
    tokenizers = require("tokenizers", "tokenizers")
    if isinstance(tokenizer, (str, os.PathLike)):
        copy = tokenizers.Tokenizer.from_file(os.fspath(tokenizer))
    else:
        backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
        if not isinstance(backend, tokenizers.Tokenizer):
            raise ChunkingError(
                "tokenizer must be a tokenizers.Tokenizer, a transformers fast tokenizer or "
                f"the path of a tokenizer.json, not a {type(tokenizer).__name__}"
            )
        copy = tokenizers.Tokenizer.from_str(backend.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


class FixedSizeChunker(Chunker):
    """Windows of ``size`` characters (or tokens) that start every ``size - overlap``.

    Character windows are exact: a window may end inside a word. Token windows hold
    ``size`` tokens of ``tokenizer`` (special tokens left out) and span from the first
    character of their first token to the last of their last, so a word longer than ``size``
    tokens is cut between its sub-word tokens. Only empty text gives zero chunks.

    Parameters
    ----------
    size:
        The window length, in characters (``unit='characters'``) or tokens.
    overlap:
        How much consecutive windows share; must be smaller than ``size``.
    unit:
        ``'characters'`` or ``'tokens'``.
    tokenizer:
        For ``unit='tokens'``: see :func:`load_tokenizer`.
    repair:
        Fix mojibake with ``ftfy`` first (offsets refer to the repaired text).

    Example
    -------
    >>> chunker = FixedSizeChunker(4, overlap=2)
    >>> [(c.text, c.start, c.end) for c in chunker.split('abcdefghij')]
    [('abcd', 0, 4), ('cdef', 2, 6), ('efgh', 4, 8), ('ghij', 6, 10)]
    """

    def __init__(
        self,
        size: int,
        overlap: int = 0,
        *,
        unit: str = "characters",
        tokenizer: Any = None,
        repair: bool = False,
    ) -> None:
        super().__init__(repair=repair)
        if unit not in ("characters", "tokens"):
            raise ChunkingError(f"unit must be 'characters' or 'tokens', got {unit!r}")
        self.size, self.overlap = check_size(size, overlap, unit)
        self.unit = unit
        if unit == "tokens" and tokenizer is None:
            raise ChunkingError("unit='tokens' needs a tokenizer")
        self._tokenizer = load_tokenizer(tokenizer) if unit == "tokens" else None

    def spans(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The windows' ``(starts, ends)`` arrays for an already prepared text.

        >>> s, e = FixedSizeChunker(3).spans('abcdefg')
        >>> s.tolist(), e.tolist()
        ([0, 3, 6], [3, 6, 7])
        """
        step = self.size - self.overlap
        if self._tokenizer is None:
            n = len(text)
            starts = np.arange(0, max(n - self.overlap, 1), step, dtype=np.int64)
            return starts, np.minimum(starts + self.size, n)
        offsets = np.asarray(
            self._tokenizer.encode(text, add_special_tokens=False).offsets, dtype=np.int64
        ).reshape(-1, 2)
        t = offsets.shape[0]
        if t == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        first = np.arange(0, max(t - self.overlap, 1), step)
        last = np.minimum(first + self.size, t) - 1
        return offsets[first, 0], offsets[last, 1]

    def _split(self, text: str) -> list[Chunk]:
        return chunks_from_spans(text, *self.spans(text))


class RecursiveChunker(Chunker):
    """Chunks of at most ``size`` characters (or tokens) cut at the largest boundary that fits.

    Paragraphs are kept whole when they fit, else split at sentences, then words, then
    characters; neighbouring pieces are merged up to ``size``. Splitting is done by
    ``semantic-text-splitter`` (Rust). Chunks are trimmed of surrounding whitespace, so
    ``text[start:end] == chunk.text``; a word longer than ``size`` is cut inside the word so
    that no chunk exceeds ``size``. Text of whitespace only gives zero chunks.

    Parameters
    ----------
    size:
        The largest chunk, in characters, or in tokens when ``tokenizer`` is given.
    overlap:
        At most this much of a chunk repeats the previous one; smaller than ``size``.
    tokenizer:
        Count tokens of this tokenizer instead of characters (see :func:`load_tokenizer`).
    repair:
        Fix mojibake with ``ftfy`` first (offsets refer to the repaired text).

    Example
    -------
    >>> text = 'First paragraph here.\\n\\nSecond one. It has two sentences.'
    >>> [c.text for c in RecursiveChunker(30).split(text)]
    ['First paragraph here.', 'Second one.', 'It has two sentences.']
    """

    def __init__(
        self,
        size: int,
        overlap: int = 0,
        *,
        tokenizer: Any = None,
        repair: bool = False,
    ) -> None:
        super().__init__(repair=repair)
        self.unit = "characters" if tokenizer is None else "tokens"
        self.size, self.overlap = check_size(size, overlap, self.unit)
        splitter_module = require("semantic_text_splitter", "semantic-text-splitter")
        splitter = splitter_module.TextSplitter
        if tokenizer is None:
            self._splitter = splitter(self.size, overlap=self.overlap)
        else:
            self._splitter = splitter.from_huggingface_tokenizer(
                load_tokenizer(tokenizer), self.size, overlap=self.overlap
            )

    def spans(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The chunks' ``(starts, ends)`` arrays for an already prepared text.

        >>> s, e = RecursiveChunker(5).spans('ab cd ef')
        >>> s.tolist(), e.tolist()
        ([0, 6], [5, 8])
        """
        pieces = self._splitter.chunk_indices(text)
        if not pieces:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = np.fromiter((p[0] for p in pieces), dtype=np.int64, count=len(pieces))
        lengths = np.fromiter(map(len, (p[1] for p in pieces)), np.int64, count=len(pieces))
        return starts, starts + lengths

    def _split(self, text: str) -> list[Chunk]:
        pieces = self._splitter.chunk_indices(text)
        return [Chunk(piece, start, start + len(piece)) for start, piece in pieces]
