"""Text chunkers: split long text into chunks with exact character offsets, before embedding.

Chunkers (each a :class:`Chunker` whose :meth:`~Chunker.split` answers :class:`Chunk` objects):
:class:`FixedSizeChunker` (characters or tokens, with overlap), :class:`SentenceChunker`,
:class:`RecursiveChunker` (paragraphs, then sentences, then words), :class:`SemanticChunker`
(breakpoints where neighbouring sentences' embeddings diverge), :class:`TopicChunker`
(TextTiling-style topic segments), :class:`SummaryChunker` (your ``str -> str`` summariser)
and :class:`LateChunker` (token embeddings of the whole text pooled per chunk).
:func:`chunk` turns documents into parents holding ``DocList[ChunkDoc]`` chunks, ready to index
as a sub-index, and :func:`group_by_parent` turns chunk hits back into the best parents.

Example
-------
>>> from docstack.chunking import SentenceChunker
>>> [(c.text, c.start, c.end) for c in SentenceChunker().split('Hello there. Bye now.')]
[('Hello there.', 0, 12), ('Bye now.', 13, 21)]
"""

from docstack.chunking._base import Chunk, Chunker, ChunkingError
from docstack.chunking._docs import ChunkDoc, ParentHit, chunk, group_by_parent
from docstack.chunking._embedding import SemanticChunker, TopicChunker, depth_scores
from docstack.chunking._fixed import FixedSizeChunker, RecursiveChunker, load_tokenizer
from docstack.chunking._sentences import SentenceChunker, sentence_spans
from docstack.chunking._summary import (
    LateChunker,
    SummaryChunker,
    sentence_transformer_token_embedder,
)

__all__ = [
    "Chunk",
    "ChunkDoc",
    "Chunker",
    "ChunkingError",
    "FixedSizeChunker",
    "LateChunker",
    "ParentHit",
    "RecursiveChunker",
    "SemanticChunker",
    "SentenceChunker",
    "SummaryChunker",
    "TopicChunker",
    "chunk",
    "depth_scores",
    "group_by_parent",
    "load_tokenizer",
    "sentence_spans",
    "sentence_transformer_token_embedder",
]
