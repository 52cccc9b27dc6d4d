"""What every chunker shares: the :class:`Chunk` it answers, the :class:`Chunker` base and checks."""

from __future__ import annotations

import abc
import importlib
from collections.abc import Sequence
from itertools import repeat
from types import ModuleType
from typing import Any, NamedTuple, Optional

import numpy as np

from docstack.errors import DocstackError, MissingDependencyError

__all__ = ["Chunk", "Chunker", "ChunkingError"]


class ChunkingError(DocstackError, ValueError):
    """A chunker was configured or called with values it cannot work with.

    >>> issubclass(ChunkingError, ValueError)
    True
    """


class Chunk(NamedTuple):
    """One piece of a text: its text, its ``[start, end)`` character span and an embedding.

    For every chunker that does not rewrite text, ``text[start:end] == chunk.text`` where
    ``text`` is the (possibly repaired, see ``repair``) text that was chunked. A summary
    chunk's ``text`` is the summary and its span is the part of the text it summarises.

    >>> Chunk('world', 6, 11)
    Chunk(text='world', start=6, end=11, embedding=None)
    """

    text: str
    start: int
    end: int
    embedding: Optional[np.ndarray] = None


_new_tuple = tuple.__new__


def require(module: str, package: str) -> ModuleType:
    """Import an optional dependency of chunking, or raise naming the ``chunking`` extra.

    >>> require('numpy', 'numpy').__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is needed for this chunker but is not installed: "
            f'pip install "docstack[chunking]" (or pip install {package})'
        ) from exc


def check_size(size: int, overlap: int, unit: str = "characters") -> tuple[int, int]:
    """Validate a chunk size and its overlap; answer them as ints.

    >>> check_size(10, 2)
    (10, 2)
    >>> check_size(4, 4)
    Traceback (most recent call last):
    ...
    docstack.chunking._base.ChunkingError: overlap (4 characters) must be smaller than size (4 characters)
    """
    size, overlap = int(size), int(overlap)
    if size < 1:
        raise ChunkingError(f"size must be at least 1 {unit}, got {size}")
    if overlap < 0:
        raise ChunkingError(f"overlap must be >= 0 {unit}, got {overlap}")
    if overlap >= size:
        raise ChunkingError(f"overlap ({overlap} {unit}) must be smaller than size ({size} {unit})")
    return size, overlap


def chunks_from_spans(text: str, starts: np.ndarray, ends: np.ndarray) -> list[Chunk]:
    """Chunks for the spans ``[starts[i], ends[i])`` of ``text``.

    >>> chunks_from_spans('ab cd', np.array([0, 3]), np.array([2, 5]))
    [Chunk(text='ab', start=0, end=2, embedding=None), Chunk(text='cd', start=3, end=5, embedding=None)]
    """
    s, e = starts.tolist(), ends.tolist()
    texts = map(text.__getitem__, map(slice, s, e))
    # tuple.__new__ skips the namedtuple's Python-level __new__ (a third of the cost)
    return list(map(_new_tuple, repeat(Chunk), zip(texts, s, e, repeat(None))))


class Chunker(abc.ABC):
    """Splits one text into :class:`Chunk` objects; subclasses implement :meth:`_split`.

    Parameters
    ----------
    repair:
        Fix encoding damage (mojibake such as ``'â€™'`` for ``'’'``) with ``ftfy`` before
        chunking. Offsets then refer to the repaired text, which :meth:`prepare` answers
        (and :func:`docstack.chunking.chunk` stores back into the parent document).

    Empty text (or text of whitespace only, for chunkers that split on boundaries) gives
    zero chunks, never an error.

    Example
    -------
    >>> class Halves(Chunker):
    ...     def _split(self, text):
    ...         mid = len(text) // 2
    ...         return [Chunk(text[:mid], 0, mid), Chunk(text[mid:], mid, len(text))]
    >>> [c.text for c in Halves().split('abcd')]
    ['ab', 'cd']
    >>> Halves(repair=True).prepare('Thatâ€™s')
    'That’s'
    """

    #: whether each chunk's text is exactly ``text[start:end]``
    keeps_text: bool = True

    def __init__(self, *, repair: bool = False) -> None:
        self.repair = bool(repair)

    def prepare(self, text: str) -> str:
        """The text the chunk offsets refer to: ``text`` itself, or repaired by ``ftfy``.

        >>> from docstack.chunking import SentenceChunker
        >>> SentenceChunker(repair=True).prepare('donâ€™t panic')
        'don’t panic'
        """
        if not isinstance(text, str):
            raise ChunkingError(f"a chunker takes a str, not a {type(text).__name__}")
        if self.repair and text:
            ftfy = require("ftfy", "ftfy")
            return ftfy.fix_text(text, uncurl_quotes=False)
        return text

    def split(self, text: str) -> list[Chunk]:
        """Chunk ``text`` (repaired first when ``repair=True``), in text order.

        >>> from docstack.chunking import FixedSizeChunker
        >>> [c.text for c in FixedSizeChunker(3).split('abcdefg')]
        ['abc', 'def', 'g']
        """
        text = self.prepare(text)
        return self._split(text) if text else []

    def split_batch(self, texts: Sequence[str]) -> list[list[Chunk]]:
        """Chunk several texts; chunkers that embed override this to embed in one batch.

        >>> from docstack.chunking import FixedSizeChunker
        >>> [len(c) for c in FixedSizeChunker(2).split_batch(['abc', ''])]
        [2, 0]
        """
        return self.split_prepared_batch([self.prepare(t) for t in texts])

    def split_prepared_batch(self, texts: Sequence[str]) -> list[list[Chunk]]:
        """Chunk texts already passed through :meth:`prepare` (no second repair).

        >>> from docstack.chunking import FixedSizeChunker
        >>> FixedSizeChunker(5).split_prepared_batch(['hello'])[0][0].text
        'hello'
        """
        return [self._split(t) if t else [] for t in texts]

    @abc.abstractmethod
    def _split(self, text: str) -> list[Chunk]:
        """Chunk a non-empty, already prepared text."""

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and v is not None
        )
        return f"{type(self).__name__}({fields})"


def as_embed_fn(encoder: Any) -> Any:
    """A function ``list[str] -> float32 (n, dim)`` from an ``Encoder`` or a plain callable.

    >>> fn = as_embed_fn(lambda texts: [[len(t), 1] for t in texts])
    >>> fn(['ab']).tolist()
    [[2.0, 1.0]]
    """
    method = getattr(encoder, "encode", None)
    fn = method if callable(method) else encoder
    if not callable(fn):
        raise ChunkingError(
            f"expected a docstack.embed.Encoder or a callable list[str] -> (n, dim) array, "
            f"got a {type(encoder).__name__}"
        )

    def embed(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(fn(list(texts)), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ChunkingError(
                f"the encoder answered shape {vectors.shape} for {len(texts)} texts; "
                f"expected ({len(texts)}, dim)"
            )
        return vectors

    return embed


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
