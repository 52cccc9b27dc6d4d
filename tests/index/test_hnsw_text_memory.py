"""The embedded index's in-memory copy of its BM25 tables: built in the background after a
field's second search, it answers exactly as FTS5 (the same documents, scores and order),
takes every committed write (including those that land while it is being built), and steps
aside inside a transaction, when turned off, and for a one-off search."""

from __future__ import annotations

import threading
from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.index import HnswDocumentIndex
from docstack.index.backends import _hnsw_text

WORDS = "red green blue fox dog cat apple river stone light dark quick slow old new".split()


class Note(BaseDoc):
    body: Optional[str] = None
    title: str = ""
    year: int = 0


def notes(start: int, n: int, seed: int) -> DocList[Note]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(start, start + n):
        words = rng.choice(WORDS, size=int(rng.integers(0, 12)))
        body = None if i % 17 == 5 else " ".join(words)
        out.append(Note(id=f"n{i}", body=body, title=str(rng.choice(WORDS)), year=i % 7))
    return DocList[Note](out)


def queries(seed: int, n: int = 40) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(WORDS + ["absent"], size=int(rng.integers(1, 4)))) for _ in range(n)
    ]


def answers(index, texts, flt=None, limit=7):
    out = []
    for text in texts:
        if flt is None:
            docs, scores = index.text_search(text, search_field="body", limit=limit)
        else:
            q = index.build_query().text_search(text, search_field="body").filter(flt).build(limit)
            docs, scores = index.execute_query(q)
        out.append((list(docs.id), np.asarray(scores, np.float64)))
    return out


def same(a, b):
    assert len(a) == len(b)
    for (ids_a, s_a), (ids_b, s_b) in zip(a, b):
        assert ids_a == ids_b
        np.testing.assert_allclose(s_a, s_b, rtol=1e-12, atol=1e-12)


def fts_answers(index, texts, flt=None):
    """What FTS5 answers (the copy turned off for these searches)."""
    index._db_config.text_memory = False
    try:
        return answers(index, texts, flt)
    finally:
        index._db_config.text_memory = True


def built(index) -> HnswDocumentIndex:
    """Search twice (the build starts), wait for the copy."""
    index.text_search("red", search_field="body", limit=1)
    index.text_search("red", search_field="body", limit=1)
    assert index._text_mem.wait(30)
    assert "body" in index._text_mem.ready, index._text_mem.failed
    return index


@pytest.fixture()
def index(tmp_path):
    idx = HnswDocumentIndex[Note](work_dir=str(tmp_path / "idx"))
    idx.index(notes(0, 400, seed=1))
    yield idx
    idx.close()


def test_the_copy_answers_as_fts5_with_and_without_filters(index):
    texts = queries(2)
    before = answers(index, texts[:3])  # the first searches: FTS5, and the build starts
    built(index)
    same(answers(index, texts[:3]), before)
    same(answers(index, texts), fts_answers(index, texts))
    flt = {"year": {"$gte": 3}}
    same(answers(index, texts, flt), fts_answers(index, texts, flt))
    assert any(ids for ids, _ in answers(index, texts, flt))


def test_one_search_builds_nothing(index):
    index.text_search("fox", search_field="body", limit=3)
    assert not index._text_mem.ready and not index._text_mem._building


def test_committed_writes_reach_the_copy(index):
    built(index)
    index.index(notes(400, 50, seed=3))  # new documents
    index.index(notes(0, 30, seed=4))  # replaced documents (same ids, new texts)
    del index["n100"], index["n101"]
    index.update("n200", body="absent absent fox")
    index.update("n201", body=None)
    texts = queries(5) + ["absent fox"]
    same(answers(index, texts), fts_answers(index, texts))
    assert answers(index, ["absent"])[0][0] == ["n200"]
    assert "body" in index._text_mem.ready  # the copy answered throughout


def test_writes_committed_during_the_build_are_replayed(index, monkeypatch):
    gate, entered = threading.Event(), threading.Event()
    build = _hnsw_text.TextMemory._build

    def held(self, *args):
        entered.set()
        assert gate.wait(30)
        build(self, *args)

    monkeypatch.setattr(_hnsw_text.TextMemory, "_build", held)
    index.text_search("red", search_field="body", limit=1)
    index.text_search("red", search_field="body", limit=1)
    assert entered.wait(30)
    index.index(notes(400, 40, seed=6))
    del index["n7"]
    index.update("n8", body="absent stone")
    texts = queries(7) + ["absent"]
    during = answers(index, texts)  # FTS5 answers while the copy is not ready
    assert "body" not in index._text_mem.ready
    gate.set()
    assert index._text_mem.wait(30) and "body" in index._text_mem.ready
    same(answers(index, texts), during)
    assert answers(index, ["absent"])[0][0] == ["n8"]


def test_turned_off_never_builds(tmp_path):
    idx = HnswDocumentIndex[Note](work_dir=str(tmp_path / "off"), text_memory=False)
    idx.index(notes(0, 50, seed=8))
    for _ in range(3):
        idx.text_search("fox", search_field="body", limit=3)
    assert not idx._text_mem.ready and not idx._text_mem._building
    idx.close()


def test_reopened_index_builds_its_copy_from_the_stored_table(tmp_path):
    work_dir = str(tmp_path / "again")
    idx = built(HnswDocumentIndex[Note](work_dir=work_dir))
    idx.index(notes(0, 120, seed=9))
    texts = queries(10)
    first = answers(idx, texts)
    idx.close()
    again = built(HnswDocumentIndex[Note](work_dir=work_dir))
    same(answers(again, texts), first)
    again.close()


def test_a_failed_build_leaves_fts5_answering(index, monkeypatch):
    def broken(self):
        raise MemoryError("no room")

    monkeypatch.setattr("docstack.index._bm25.BM25Index.prepare", broken)
    index.text_search("red", search_field="body", limit=1)
    index.text_search("red", search_field="body", limit=1)
    assert index._text_mem.wait(30)
    assert isinstance(index._text_mem.failed["body"], MemoryError)
    texts = queries(11)
    same(answers(index, texts), fts_answers(index, texts))


def test_closing_during_the_build_is_quiet(tmp_path, monkeypatch):
    gate = threading.Event()
    build = _hnsw_text.TextMemory._build

    def held(self, *args):
        assert gate.wait(30)
        build(self, *args)

    monkeypatch.setattr(_hnsw_text.TextMemory, "_build", held)
    idx = HnswDocumentIndex[Note](work_dir=str(tmp_path / "closing"))
    idx.index(notes(0, 30, seed=12))
    idx.text_search("red", search_field="body", limit=1)
    idx.text_search("red", search_field="body", limit=1)
    memory = idx._text_mem
    idx.close()
    gate.set()
    assert memory.wait(30)
    assert not memory.ready and not memory.failed


def test_a_build_that_cannot_start_leaves_fts5_answering(index, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("too many open files")

    monkeypatch.setattr(_hnsw_text, "connect", refuse)
    texts = queries(13)
    first = answers(index, texts)  # the second search tries to start the build
    assert isinstance(index._text_mem.failed["body"], OSError)
    assert not index._text_mem._building and not index._text_mem.ready
    index.index(notes(400, 10, seed=14))  # commits log nothing for a build that is not
    same(answers(index, texts), fts_answers(index, texts))
    assert len(first) == len(texts)
