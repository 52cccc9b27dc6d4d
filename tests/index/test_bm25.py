"""Tests of the in-memory BM25 index (docstack.index._bm25) against a real SQLite FTS5 table."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstack.index import _bm25
from docstack.index._bm25 import BM25Index, fts_match_expression, tokenize

REL = 1e-9


class Fts:
    """The reference: an FTS5 table with the same documents (None texts left out)."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")

    def add(self, keys, texts) -> None:
        for key, text in zip(np.asarray(keys).tolist(), texts):
            self.conn.execute("DELETE FROM t WHERE rowid = ?", (key,))
            if text is not None:
                self.conn.execute("INSERT INTO t (rowid, body) VALUES (?, ?)", (key, text))

    def remove(self, keys) -> None:
        for key in np.asarray(keys).tolist():
            self.conn.execute("DELETE FROM t WHERE rowid = ?", (key,))

    def __len__(self) -> int:
        return self.conn.execute("SELECT count(*) FROM t").fetchone()[0]

    def search(self, query: str, limit: int, allowed=None) -> tuple[list[int], list[float]]:
        expr = fts_match_expression(query)
        if expr is None:
            return [], []
        rows = self.conn.execute(
            "SELECT rowid, -bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t), rowid", (expr,)
        ).fetchall()
        if allowed is not None:
            rows = [(k, s) for k, s in rows if 0 <= k < len(allowed) and allowed[k]]
        rows = rows[:limit]
        return [k for k, _ in rows], [s for _, s in rows]


def assert_same(index: BM25Index, fts: Fts, query: str, limit: int = 1000, allowed=None):
    keys, scores = index.search(query, limit=limit, allowed=allowed)
    assert keys.dtype == np.int64 and scores.dtype == np.float64
    want_keys, want_scores = fts.search(query, limit, allowed)
    assert keys.tolist() == want_keys, (query, scores.tolist(), want_scores)
    assert scores.tolist() == pytest.approx(want_scores, rel=REL, abs=0)
    return keys, scores


def fts_tokens(texts: list[str]) -> list[list[str]]:
    """FTS5's own tokens of each text (through an fts5vocab table)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", list(enumerate(texts)))
    out: list[list[str]] = [[] for _ in texts]
    for term, doc, _offset in conn.execute("SELECT term, doc, offset FROM v ORDER BY doc, offset"):
        out[doc].append(term)
    return out


# --------------------------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------------------------


def test_tokenize_ascii():
    assert tokenize("Hello, World! foo_bar x2y 42 AT&T's") == [
        "hello",
        "world",
        "foo",
        "bar",
        "x2y",
        "42",
        "at",
        "t",
        "s",
    ]
    assert tokenize("") == []
    assert tokenize("  --  ") == []
    assert tokenize("a\x00b\tc\nd") == ["a", "b", "c", "d"]


def test_tokenize_latin_folds_case_and_removes_diacritics():
    assert tokenize("Crème BRÛLÉE à l'été") == ["creme", "brulee", "a", "l", "ete"]
    assert tokenize("Straße ÆØÅ œuvre") == ["straße", "æøa", "œuvre"]
    assert tokenize("e\u0301te\u0301 Ǖ İstanbul") == ["ete", "ǖ", "istanbul"]
    assert tokenize("µ ª ¹²³ ¼ x\u00adb") == ["μ", "ª", "¹²³", "¼", "x", "b"]


def test_tokenize_agrees_with_fts5_on_every_code_point_below_u037f():
    chars = [chr(cp) for cp in range(1, 0x37F)]
    texts = chars + ["a" + c + "b" for c in chars] + ["X" + c for c in chars]
    assert [tokenize(t) for t in texts] == fts_tokens(texts)


def test_tokenize_agrees_with_fts5_on_common_scripts():
    texts = [
        "Привет, МИР! Ёлка",
        "Γειά σου Κόσμε ΣΟΦΙΑ",
        "日本語のテキスト、漢字",
        "שלום עולם",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "Tiếng Việt có dấu",
        "emoji 😀 in text 🎉 ok",
        "full-width ＡＢＣ１２３",
        "private \ue000\ue001 use",
    ]
    assert [tokenize(t) for t in texts] == fts_tokens(texts)


_LATIN = "".join(chr(cp) for cp in range(0x20, 0x250) if cp != 0x7F)
_MARKS = "\u0300\u0301\u0305\u0308\u0327\u0338"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(_LATIN + _MARKS + " \t\n\x00-_'", max_size=30), min_size=1, max_size=20))
def test_tokenize_agrees_with_fts5_on_random_latin_text(texts):
    assert [tokenize(t) for t in texts] == fts_tokens(texts)


def test_long_tokens_are_cut_like_fts5():
    texts = ["a" * 40000 + " b", "é" * 20000, "x" * 32767 + "é", "ж" * 20000]
    ours = [tokenize(t) for t in texts]
    assert ours == fts_tokens(texts)
    assert [len(t[0].encode()) for t in ours] == [32768, 20000, 32768, 32768]
    # FTS5 keeps the first byte of a character cut in two (not valid UTF-8); we drop it
    assert tokenize("x" * 32767 + "ж") == ["x" * 32767]


# --------------------------------------------------------------------------------------------
# match expressions
# --------------------------------------------------------------------------------------------


def test_fts_match_expression():
    assert fts_match_expression("") is None
    assert fts_match_expression("  ?! -- ") is None
    assert fts_match_expression("b a B") == '"b" OR "a"'
    assert fts_match_expression('NEAR(a b) AND c* OR "d" NOT col:e ^f') == (
        '"near" OR "a" OR "b" OR "and" OR "c" OR "or" OR "d" OR "not" OR "col" OR "e" OR "f"'
    )


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_fts_match_expression_is_always_valid_fts5(text):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")
    conn.execute("INSERT INTO t (body) VALUES (?)", (text,))
    expr = fts_match_expression(text)
    if expr is None:
        assert tokenize(text) == []
        return
    # never a syntax error, and a document matches its own tokens (where our tokenizer agrees
    # with FTS5's, whose Unicode tables are older: see the module notes)
    found = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expr,)).fetchone()
    if tokenize(text) == fts_tokens([text])[0]:
        assert found == (1,)


# --------------------------------------------------------------------------------------------
# the index: API and edge cases
# --------------------------------------------------------------------------------------------

DOCS = [
    "the quick brown fox",
    "the lazy dog",
    "a dog chases a cat",
    "cats and dogs and more dogs",
    "a quick dog",
    "",
    "THE END",
]


def build(docs=DOCS, keys=None):
    keys = np.arange(len(docs)) if keys is None else np.asarray(keys)
    index, fts = BM25Index(), Fts()
    index.add(keys, docs)
    fts.add(keys, docs)
    return index, fts


def test_scores_match_the_formula():
    index, fts = build(["a b", "a a c", "d", "e", "f"])
    keys, scores = assert_same(index, fts, "a")
    n, avgdl, hits = 5, 8 / 5, 2
    idf = math.log((n - hits + 0.5) / (hits + 0.5))

    def term(f, d):
        return idf * (f * 2.2) / (f + 1.2 * (0.25 + 0.75 * d / avgdl))

    assert keys.tolist() == [1, 0]
    assert scores.tolist() == pytest.approx([term(2, 3), term(1, 2)], rel=REL)


def test_idf_floor_for_common_terms():
    index, fts = build(["a", "a b", "a c", "d"])  # 'a' in 3 of 4: log(1.5/3.5) < 0
    keys, scores = assert_same(index, fts, "a")
    avgdl = 6 / 4
    want = [1e-6 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * d / avgdl)) for d in (1, 2, 2)]
    assert keys.tolist() == [0, 1, 2]
    assert scores.tolist() == pytest.approx(want, rel=REL)


def test_basic_search_agrees_with_fts5():
    index, fts = build()
    for query in ["dog", "quick dog", "the", "cats dogs", "DOG dogs Dog", "end", "fox cat"]:
        for limit in (1, 2, 3, 100):
            assert_same(index, fts, query, limit)


def test_empty_and_unmatched_queries():
    index, fts = build()
    for query in ["", "   ", "?!", "zebra", "zebra unicorn"]:
        keys, scores = index.search(query, limit=5)
        assert keys.tolist() == [] and scores.tolist() == []
        assert keys.dtype == np.int64 and scores.dtype == np.float64
        assert_same(index, fts, query)
    empty = BM25Index()
    assert len(empty) == 0
    assert empty.search("dog", limit=5)[0].tolist() == []
    assert index.search("dog", limit=0)[0].tolist() == []


def test_limit_larger_than_matches():
    index, fts = build()
    keys, _ = assert_same(index, fts, "dog", limit=50)
    assert sorted(keys.tolist()) == [1, 2, 4]


def test_none_texts_are_not_indexed():
    docs = ["apple pie", None, "apple", None, ""]
    index, fts = build(docs)
    assert len(index) == len(fts) == 3
    assert 1 not in index and 0 in index and 4 in index
    assert_same(index, fts, "apple pie")
    # setting a text to None unindexes the key
    index.add(np.array([0]), [None])
    fts.add([0], [None])
    assert len(index) == 2 and 0 not in index
    assert_same(index, fts, "apple pie")


def test_allowed_mask():
    index, fts = build()
    for allowed in (
        np.array([True, False, True, True, False, True, True]),
        np.array([False, True]),  # shorter than the keys: the rest is not allowed
        np.zeros(7, bool),
        np.ones(20, bool),
    ):
        for limit in (1, 2, 10):
            assert_same(index, fts, "dog the quick", limit, allowed)


def test_key_space_bounds_the_keys():
    index, _ = build()
    keys, _ = index.search("dog", limit=10, key_space=3)
    assert sorted(keys.tolist()) == [1, 2]


def test_ties_are_broken_by_smaller_key():
    index, fts = build(["x y", "x y", "y x", "x"], keys=[9, 3, 5, 7])
    keys, scores = assert_same(index, fts, "x y", limit=10)
    assert keys.tolist() == [3, 5, 9, 7]
    assert scores[0] == scores[1] == scores[2] > scores[3]
    assert index.search("x y", limit=2)[0].tolist() == [3, 5]


def test_updates_match_delete_and_insert():
    index, fts = build()
    for keys, texts in [
        ([1], ["the lazy cat"]),  # update
        ([3, 10], ["no more dogs", "a new dog"]),  # update and insert
        ([10, 10], ["first text", "the dog wins"]),  # the last text of a key wins
        ([2], [""]),
    ]:
        index.add(np.array(keys), texts)
        fts.add(keys[:1] if keys == [10, 10] else keys, texts[-1:] if keys == [10, 10] else texts)
        assert len(index) == len(fts)
        for query in ["dog", "the cat", "first", "dogs more"]:
            assert_same(index, fts, query)
    index.remove(np.array([0, 4, 99]))  # 99 is not indexed: ignored
    fts.remove([0, 4])
    assert len(index) == len(fts)
    assert_same(index, fts, "quick dog the")
    index.remove(np.array([], dtype=np.int64))
    assert len(index) == len(fts)


def test_remove_everything_then_add_again():
    index, fts = build()
    index.remove(np.arange(7))
    fts.remove(range(7))
    assert len(index) == 0
    assert index.search("dog", limit=5)[0].tolist() == []
    index.add(np.array([3]), ["dog dog"])
    fts.add([3], ["dog dog"])
    assert_same(index, fts, "dog")


def test_add_validates_input():
    index = BM25Index()
    with pytest.raises(ValueError, match="keys"):
        index.add(np.array([1, 2]), ["a"])
    with pytest.raises(TypeError, match="str or None"):
        index.add(np.array([1]), [5])


@pytest.mark.parametrize("dense", [1, 10**9], ids=["sum-into-slots", "sort-postings"])
@pytest.mark.parametrize("min_unsorted", [0, 4096])
def test_many_updates_compaction_and_term_index(monkeypatch, min_unsorted, dense):
    monkeypatch.setattr(_bm25, "_MIN_UNSORTED", min_unsorted)
    monkeypatch.setattr(_bm25, "_DENSE", dense)  # both ways of summing a document's terms
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(300)] + ["été", "Ete", "naïve"])
    probs = 1 / np.arange(1, len(words) + 1)
    probs /= probs.sum()

    def text() -> str:
        return " ".join(rng.choice(words, size=rng.integers(0, 25), p=probs))

    index, fts = BM25Index(), Fts()
    keys = np.arange(2000)
    docs = [text() for _ in keys]
    index.add(keys, docs)
    fts.add(keys, docs)
    queries = ["w0", "w1 w2 w3", "w299 ete", "naive w17 w0", "w5 w5 w6"]
    for _step in range(4):
        gone = rng.choice(keys, size=600, replace=False)
        index.remove(gone)
        fts.remove(gone)
        again = rng.choice(keys, size=300, replace=False)
        texts = [text() if rng.random() > 0.1 else None for _ in again]
        index.add(again, texts)
        fts.add(again, texts)
        assert len(index) == len(fts)
        allowed = rng.random(2100) < 0.5
        for query in queries:
            assert_same(index, fts, query, limit=10)
            assert_same(index, fts, query, limit=5000)
            assert_same(index, fts, query, limit=7, allowed=allowed)


# --------------------------------------------------------------------------------------------
# the property test: random corpora and updates, scores equal FTS5's
# --------------------------------------------------------------------------------------------

WORDS = ["apple", "Apple", "banana", "cherry", "été", "Ete", "naïve", "straße", "x", "y", "2024"]
SEPARATORS = [" ", "  ", ", ", "-", "_", "'", "\n", "! "]

texts = st.one_of(
    st.none(),
    st.just(""),
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=12).map(
        lambda parts: "".join(w + s for w, s in parts)
    ),
)
batches = st.lists(st.tuples(st.integers(0, 15), texts), min_size=1, max_size=8)
steps = st.lists(
    st.one_of(
        batches.map(lambda b: ("add", b)),
        st.lists(st.integers(0, 17), max_size=5).map(lambda k: ("remove", k)),
    ),
    min_size=1,
    max_size=6,
)
queries = st.lists(st.sampled_from([*WORDS, "zzz", "!", "APPLE banana"]), max_size=4).map(" ".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=steps,
    queries=st.lists(queries, min_size=1, max_size=4),
    limit=st.integers(1, 20),
    allowed=st.none() | st.lists(st.booleans(), max_size=18).map(lambda a: np.array(a, bool)),
    min_unsorted=st.sampled_from([0, 1, 4096]),
)
def test_scores_equal_fts5_after_random_updates(steps, queries, limit, allowed, min_unsorted):
    saved = _bm25._MIN_UNSORTED
    _bm25._MIN_UNSORTED = min_unsorted
    try:
        index, fts = BM25Index(), Fts()
        for kind, payload in steps:
            if kind == "add":
                keys = [k for k, _ in payload]
                docs = [t for _, t in payload]
                index.add(np.array(keys, np.int64), docs)
                fts.add(keys, docs)
            else:
                index.remove(np.array(payload, np.int64))
                fts.remove(payload)
            assert len(index) == len(fts)
            for query in queries:
                assert_same(index, fts, query, limit, allowed)
    finally:
        _bm25._MIN_UNSORTED = saved
