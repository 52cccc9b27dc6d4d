"""The one small interface every embedding model adapter keeps."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from docstack.errors import DocstackError
from docstack.typing.bytes.image_bytes import ImageBytes
from docstack.typing.url.image_url import ImageUrl
from docstack.typing.url.text_url import TextUrl

__all__ = ["Encoder", "EncoderError", "modality_of"]

TEXT = "text"
IMAGE = "image"


class EncoderError(DocstackError, ValueError):
    """An encoder was given input it cannot embed, or answered with the wrong shape."""


def _is_pixels(item: Any) -> bool:
    """Whether ``item`` is pixel data itself: an array, a tensor or a PIL image."""
    return hasattr(item, "shape") or type(item).__module__.startswith("PIL")


def _image_source(doc: Any) -> Any:
    """The image a document holds: its ``tensor``, else its ``ImageUrl``, else its
    ``ImageBytes``; ``None`` when it holds none."""
    tensor = getattr(doc, "tensor", None)
    if tensor is not None and _is_pixels(tensor):
        return tensor
    for attr, kind in (("url", ImageUrl), ("bytes_", ImageBytes)):
        value = getattr(doc, attr, None)
        if isinstance(value, kind):
            return value
    return None


def _has_text(doc: Any) -> bool:
    return isinstance(getattr(doc, "text", None), str) or isinstance(
        getattr(doc, "url", None), TextUrl
    )


def modality_of(item: Any) -> str:
    """The modality an input belongs to: ``'text'`` or ``'image'``.

    - text: a ``str``, or a document with a ``text`` (``TextDoc``), or failing that a
      ``TextUrl`` in its ``url``;
    - image: a numpy array, a tensor, a PIL image, an ``ImageUrl`` or ``ImageBytes``, or a
      document holding one of these (``ImageDoc``: its ``tensor``, else its ``url``, else
      its ``bytes_``).

    A document with both a text and an image is text. :meth:`Encoder.encode` takes all of
    these and embeds what they hold (an image's url or bytes are loaded and decoded).

    >>> import numpy as np
    >>> from docstack.documents import ImageDoc, TextDoc
    >>> modality_of('a red car'), modality_of(TextDoc('a red car'))
    ('text', 'text')
    >>> modality_of(np.zeros((8, 8, 3), dtype=np.uint8))
    'image'
    >>> modality_of(ImageDoc(tensor=np.zeros((8, 8, 3), dtype=np.uint8)))
    'image'
    >>> modality_of(ImageDoc(url='photos/cat.png'))
    'image'
    """
    if isinstance(item, (ImageUrl, ImageBytes)):
        return IMAGE
    if isinstance(item, str):
        return TEXT
    if _is_pixels(item):
        return IMAGE
    if _has_text(item):
        return TEXT
    if _image_source(item) is not None:
        return IMAGE
    raise EncoderError(
        f"cannot tell the modality of a {type(item).__name__}: give a str or a document "
        "with a text for text, and an (H, W, C) array, a PIL image, an ImageUrl or a "
        "document with an image tensor, url or bytes_ for an image"
    )


def _text_input(item: Any, position: int) -> str:
    if isinstance(item, str):
        return item
    text = getattr(item, "text", None)
    if isinstance(text, str):
        return text
    url = getattr(item, "url", None)
    if isinstance(url, TextUrl):
        return url.load()
    raise EncoderError(
        f"input {position} is a {type(item).__name__} holding no text: embed texts and "
        "images in separate calls"
    )


def _image_input(item: Any, position: int) -> Any:
    if isinstance(item, str) and not isinstance(item, ImageUrl):
        raise EncoderError(
            f"input {position} is a str, not an image: embed texts and images in separate "
            "calls (an image's location is an ImageUrl)"
        )
    raw = isinstance(item, (ImageUrl, ImageBytes)) or _is_pixels(item)
    source = item if raw else _image_source(item)
    if source is None:
        raise EncoderError(
            f"input {position} is a {type(item).__name__} holding no image (no tensor, "
            "url or bytes_)"
        )
    if isinstance(source, (ImageUrl, ImageBytes)):
        return np.asarray(source.load())
    return source


def _raw_inputs(items: list[Any], modality: str) -> list[Any]:
    """``items`` as the model takes them: the text or the pixels of documents, urls and
    bytes loaded. Inputs that are already raw come back as the same list."""
    if modality == TEXT:
        if all(type(item) is str for item in items):
            return items
        return [_text_input(item, i) for i, item in enumerate(items)]
    if modality == IMAGE:
        if all(_is_pixels(item) for item in items):
            return items
        return [_image_input(item, i) for i, item in enumerate(items)]
    return items


def _length_order(texts: list[Any]) -> Optional[np.ndarray]:
    """Positions of ``texts`` longest first (None when they are already in that order)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    order = np.argsort(-lengths, kind="stable")
    return None if bool((np.diff(lengths) <= 0).all()) else order


class Encoder(abc.ABC):
    """An embedding model: a name, a dimension, the modalities it takes, and batch encoding.

    Subclasses set :attr:`name`, :attr:`dim` and :attr:`modalities` and implement
    :meth:`_encode_batch`; :meth:`encode` does the batching, the progress bar and the checks,
    and always answers a C-contiguous float32 ``(n, dim)`` array.

    >>> import numpy as np
    >>> class Lengths(Encoder):
    ...     name, dim, modalities = 'lengths', 2, frozenset({'text'})
    ...     def _encode_batch(self, items, modality):
    ...         return np.array([[len(t), 1.0] for t in items])
    >>> Lengths().encode(['ab', 'abc']).tolist()
    [[2.0, 1.0], [3.0, 1.0]]
    """

    #: a stable identifier of the model (recorded by an index that embeds with it)
    name: str = ""
    #: the length of every vector this encoder answers
    dim: int = 0
    #: the modalities :meth:`encode` accepts, e.g. ``frozenset({'text', 'image'})``
    modalities: frozenset[str] = frozenset({TEXT})
    #: how many inputs one call of the model takes by default
    batch_size: int = 32
    #: whether answered vectors have unit length (cosine and inner product then agree)
    normalized: bool = False
    #: batch texts of similar length together (a model that pads each batch to its longest
    #: input then wastes less work); rows are still answered in input order
    sort_by_length: bool = False

    @abc.abstractmethod
    def _encode_batch(self, items: Sequence[Any], modality: str) -> Any:
        """Embed one batch of inputs of one modality; any 2-d array-like of ``len(items)`` rows."""

    def encode_query(
        self,
        items: Sequence[Any],
        *,
        modality: Optional[str] = None,
        batch_size: Optional[int] = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed search queries: like :meth:`encode`, through :meth:`_encode_query_batch`
        (which models trained with a query prefix or a query tower override).

        >>> import numpy as np
        >>> class Ones(Encoder):
        ...     name, dim = 'ones', 3
        ...     def _encode_batch(self, items, modality):
        ...         return np.ones((len(items), 3))
        >>> Ones().encode_query(['q']).shape
        (1, 3)
        """
        return self._encode_with(
            self._encode_query_batch, items, modality, batch_size, show_progress
        )

    def _encode_query_batch(self, items: Sequence[Any], modality: str) -> Any:
        """Embed one batch of queries; by default as :meth:`_encode_batch` does."""
        return self._encode_batch(items, modality)

    def encode(
        self,
        items: Sequence[Any],
        *,
        modality: Optional[str] = None,
        batch_size: Optional[int] = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed ``items`` (all of one modality) in batches into a float32 ``(n, dim)`` array.

        Items are raw inputs (texts, image arrays) or what holds them (``TextDoc``,
        ``ImageDoc``, ``ImageUrl``: see :func:`modality_of`). ``modality`` defaults to that of
        the first item. An empty input gives a ``(0, dim)`` array without calling the model.

        >>> import numpy as np
        >>> class Twice(Encoder):
        ...     name, dim = 'twice', 1
        ...     def _encode_batch(self, items, modality):
        ...         return np.array([[2.0 * len(t)] for t in items])
        >>> Twice().encode(['a', 'bb', 'ccc'], batch_size=2).ravel().tolist()
        [2.0, 4.0, 6.0]
        >>> from docstack.documents import TextDoc
        >>> Twice().encode([TextDoc('a'), TextDoc('bb')]).ravel().tolist()
        [2.0, 4.0]
        """
        return self._encode_with(self._encode_batch, items, modality, batch_size, show_progress)

    def _encode_with(
        self,
        encode_batch: Callable[[Sequence[Any], str], Any],
        items: Sequence[Any],
        modality: Optional[str],
        batch_size: Optional[int],
        show_progress: bool,
    ) -> np.ndarray:
        """Run ``encode_batch`` over ``items`` in batches (what :meth:`encode` does; an
        adapter whose queries take another path passes that path here)."""
        if isinstance(items, (str, bytes)):
            raise EncoderError(
                f"{self.name or type(self).__name__}.encode takes a sequence of inputs; "
                "wrap a single text in a list"
            )
        items = list(items)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        modality = modality or modality_of(items[0])
        if modality not in self.modalities:
            raise EncoderError(
                f"encoder {self.name!r} takes {sorted(self.modalities)}, not {modality!r} input"
            )
        items = _raw_inputs(items, modality)
        size = int(batch_size or self.batch_size)
        if size < 1:
            raise EncoderError(f"batch_size must be >= 1, got {size}")
        order = _length_order(items) if self.sort_by_length and modality == TEXT else None
        if order is not None:
            items = [items[i] for i in order]
        out = np.empty((len(items), self.dim), dtype=np.float32)
        from docstack.io._bytes import progress_bar

        with progress_bar(show_progress, len(items), f"Embedding ({self.name})") as step:
            for start in range(0, len(items), size):
                batch = items[start : start + size]
                vectors = np.asarray(encode_batch(batch, modality), dtype=np.float32)
                if vectors.shape != (len(batch), self.dim):
                    raise EncoderError(
                        f"encoder {self.name!r} answered shape {vectors.shape} for "
                        f"{len(batch)} inputs; expected ({len(batch)}, {self.dim})"
                    )
                rows = (
                    slice(start, start + len(batch))
                    if order is None
                    else order[start : start + len(batch)]
                )
                out[rows] = vectors
                step(len(batch))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"
