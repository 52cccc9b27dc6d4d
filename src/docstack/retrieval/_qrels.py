"""A small test collection with relevance judgments, built from any texts."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

__all__ = ["SyntheticCollection", "make_first_sentence_qrels", "split_sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]*[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at ``.``, ``!`` or ``?`` followed by a capital or digit.

    A plain rule, enough to build test collections; give a real splitter (pysbd,
    sentencex) to :func:`make_first_sentence_qrels` where it matters.

    Example
    -------
    >>> split_sentences('Vectors are fast. Text is slow! Is it? yes.')
    ['Vectors are fast.', 'Text is slow!', 'Is it? yes.']
    """
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


class SyntheticCollection(NamedTuple):
    """Documents, queries and judgments: ``corpus`` ``{doc id: text}``, ``queries``
    ``{qid: text}``, ``qrels`` ``{qid: {doc id: 1}}``.

    A named tuple, so it unpacks into the three parts an evaluation needs.

    Example
    -------
    >>> text = 'Cats sleep a lot. They nap in the sun all day.'
    >>> corpus, queries, qrels = make_first_sentence_qrels([text], min_chars=10)
    >>> queries
    {'q:t0p0': 'Cats sleep a lot.'}
    >>> corpus, qrels
    ({'t0p0': 'They nap in the sun all day.'}, {'q:t0p0': {'t0p0': 1}})
    """

    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def make_first_sentence_qrels(
    texts: Sequence[str],
    *,
    min_sentences: int = 2,
    min_chars: int = 40,
    keep_query_in_doc: bool = False,
    sentence_splitter: Callable[[str], list[str]] = split_sentences,
) -> SyntheticCollection:
    """Build a collection where each paragraph's first sentence is the query for it.

    Texts are split into paragraphs at blank lines; a paragraph with at least
    ``min_sentences`` sentences and ``min_chars`` characters becomes document
    ``'t{i}p{j}'`` (text ``i``, paragraph ``j``) and its first sentence query ``'q:t{i}p{j}'``,
    judged relevant (grade 1) to that paragraph only. By default the document keeps the rest
    of the paragraph without the query sentence, so finding it takes more than an exact match.

    Example
    -------
    >>> text = ('Cats sleep a lot. They nap in the sun all day.\\n\\n'
    ...         'Dogs like walks. A long walk makes a happy dog.')
    >>> c = make_first_sentence_qrels([text], min_chars=10)
    >>> c.queries['q:t0p1'], c.corpus['t0p1'], c.qrels['q:t0p1']
    ('Dogs like walks.', 'A long walk makes a happy dog.', {'t0p1': 1})
    """
    if min_sentences < 1:
        raise ValueError(f"min_sentences must be >= 1, got {min_sentences}")
    corpus: dict[str, str] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        for j, paragraph in enumerate(_PARAGRAPH.split(text)):
            paragraph = " ".join(paragraph.split())
            sentences = sentence_splitter(paragraph)
            if len(sentences) < min_sentences or len(paragraph) < min_chars:
                continue
            doc_id = f"t{i}p{j}"
            body = paragraph if keep_query_in_doc else " ".join(sentences[1:])
            corpus[doc_id] = body or paragraph
            queries[f"q:{doc_id}"] = sentences[0]
            qrels[f"q:{doc_id}"] = {doc_id: 1}
    return SyntheticCollection(corpus, queries, qrels)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
