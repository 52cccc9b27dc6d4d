"""Read-only handles on an embedded index: shared by any number of readers in any number of
processes, excluded by a writer (and excluding it), refusing every write before it does any
work, and changing nothing on disk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack.embed import Encoder
from docstack.errors import DocstackError
from docstack.index import HnswDocumentIndex
from docstack.typing import NdArray


class CountingEncoder(Encoder):
    name, dim = "counting", 4
    calls = 0

    def _encode_batch(self, items, modality):
        CountingEncoder.calls += 1
        return np.array([[len(t), 1, 0, 0] for t in items], np.float32)


class Page(BaseDoc):
    text: str
    note: Optional[str] = None
    year: int = 0
    emb: NdArray[8]


class Part(BaseDoc):
    label: str


class Book(BaseDoc):
    title: str
    parts: DocList[Part]


class Embedded(BaseDoc):
    text: str
    vec: Optional[NdArray[4]] = Field(
        None, json_schema_extra={"embed_from": "text", "encoder": CountingEncoder()}
    )


def pages(n: int, seed: int = 0) -> DocList[Page]:
    rng = np.random.default_rng(seed)
    words = "red fox blue whale green tree grey stone".split()
    return DocList[Page](
        Page(
            id=f"p{i}",
            text=" ".join(rng.choice(words, 4)),
            note=" ".join(rng.choice(words, 3)),
            year=2000 + i % 5,
            emb=rng.standard_normal(8).astype(np.float32),
        )
        for i in range(n)
    )


def snapshot(work_dir: Path) -> dict[str, tuple[int, float]]:
    """Every file of the index with its size and modification time."""
    return {
        str(p.relative_to(work_dir)): (p.stat().st_size, p.stat().st_mtime)
        for p in sorted(work_dir.rglob("*"))
        if p.is_file() and p.name != "docstack.lock" and not p.name.endswith(("-shm", "-wal"))
    }


@pytest.fixture()
def work_dir(tmp_path):
    path = tmp_path / "idx"
    index = HnswDocumentIndex[Page](work_dir=str(path), merge_threshold=40)
    index.index(pages(100))  # a graph of the first rows, a growing tail after it
    index.text_search("red", search_field="text", limit=1)  # 'text' has an FTS5 table
    index.close()
    return path


def test_readers_share_the_work_dir_in_one_process_and_across_processes(work_dir):
    one = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    two = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    query = pages(1, seed=9)[0].emb
    assert list(one.find(query, search_field="emb", limit=5).documents.id) == list(
        two.find(query, search_field="emb", limit=5).documents.id
    )
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_hnsw_read_only import Page
        from docstack.index import HnswDocumentIndex
        index = HnswDocumentIndex[Page](work_dir={str(work_dir)!r}, read_only=True)
        docs, _ = index.text_search('red fox', search_field='text', limit=3)
        print(index.num_docs(), ','.join(docs.id))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    count, ids = out.stdout.split()
    mine = one.text_search("red fox", search_field="text", limit=3).documents.id
    assert int(count) == 100 and ids.split(",") == list(mine)
    one.close()
    two.close()


def test_a_writer_and_readers_exclude_each_other(work_dir):
    writer = HnswDocumentIndex[Page](work_dir=str(work_dir))
    with pytest.raises(DocstackError, match="open for writing"):
        HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    writer.close()
    reader = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    with pytest.raises(DocstackError, match="read_only=True"):
        HnswDocumentIndex[Page](work_dir=str(work_dir))
    assert reader.num_docs() == 100  # the refused writer left the reader as it was
    reader.close()
    HnswDocumentIndex[Page](work_dir=str(work_dir)).close()  # free again


def test_every_write_is_refused_and_nothing_changes_on_disk(work_dir):
    before = snapshot(work_dir)
    reader = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    writes = [
        lambda: reader.index(pages(3, seed=5)),
        lambda: reader.__delitem__("p1"),
        lambda: reader.delete(filter={"year": 2001}),
        lambda: reader.update("p2", year=1999),
    ]
    for write in writes:
        with pytest.raises(DocstackError, match="read_only"):
            write()
    assert reader.num_docs() == 100 and reader["p2"].year == 2002
    # searches of every kind, a text field without an FTS5 table included
    reader.find(pages(1, seed=3)[0].emb, search_field="emb", limit=3)
    reader.filter({"year": {"$gt": 2002}}, limit=5)
    for _ in range(3):
        reader.text_search("whale", search_field="note", limit=3)
    reader.close()
    assert snapshot(work_dir) == before


def test_a_reader_searches_as_the_writer_does(work_dir):
    reader = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    got = {
        "vector": reader.find(pages(1, seed=4)[0].emb, search_field="emb", limit=8),
        "text": reader.text_search("grey stone", search_field="text", limit=8),
        "note": reader.text_search("blue tree", search_field="note", limit=8),
    }
    reader.close()
    writer = HnswDocumentIndex[Page](work_dir=str(work_dir), merge_threshold=40)
    want = {
        "vector": writer.find(pages(1, seed=4)[0].emb, search_field="emb", limit=8),
        "text": writer.text_search("grey stone", search_field="text", limit=8),
        "note": writer.text_search("blue tree", search_field="note", limit=8),  # FTS5
    }
    writer.close()
    for kind in got:
        assert list(got[kind].documents.id) == list(want[kind].documents.id), kind
        np.testing.assert_allclose(got[kind].scores, want[kind].scores, rtol=1e-6)


def test_a_write_is_refused_before_the_encoder_runs(tmp_path):
    path = str(tmp_path / "emb")
    HnswDocumentIndex[Embedded](work_dir=path).index([Embedded(text="a fox")])
    reader = HnswDocumentIndex[Embedded](work_dir=path, read_only=True)
    calls = CountingEncoder.calls
    with pytest.raises(DocstackError, match="read_only"):
        reader.index([Embedded(text="another fox")])
    assert CountingEncoder.calls == calls and reader.num_docs() == 1
    reader.close()


def test_sub_indexes_open_read_only(tmp_path):
    path = str(tmp_path / "books")
    writer = HnswDocumentIndex[Book](work_dir=path)
    writer.index([Book(id="b", title="t", parts=DocList[Part]([Part(label="x")]))])
    writer.close()
    reader = HnswDocumentIndex[Book](work_dir=path, read_only=True)
    assert reader["b"].parts[0].label == "x"
    with pytest.raises(DocstackError, match="read_only"):
        reader.index([Book(id="c", title="u", parts=DocList[Part]([]))])
    reader.close()


def test_nothing_to_open_read_only(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(DocstackError, match="no index to open read-only"):
        HnswDocumentIndex[Page](work_dir=str(missing), read_only=True)
    assert not missing.exists()
    empty = tmp_path / "empty"  # a database with its settings and no table yet
    empty.mkdir()
    with sqlite3.connect(empty / "docstack.sqlite3") as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('format_version', '1')")
    with pytest.raises(DocstackError, match="no index of Page"):
        HnswDocumentIndex[Page](work_dir=str(empty), read_only=True)
    HnswDocumentIndex[Page](work_dir=str(empty)).close()  # the failed open released it
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "docstack.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(DocstackError, match="no index to open read-only"):
        HnswDocumentIndex[Page](work_dir=str(garbage), read_only=True)


def test_another_schema_is_refused(work_dir):
    class Other(BaseDoc):
        text: int

    with pytest.raises(DocstackError, match="another schema"):
        HnswDocumentIndex[Other](work_dir=str(work_dir), read_only=True)


def test_configure_on_a_reader_rebuilds_in_memory_and_leaves_the_files(work_dir):
    before = snapshot(work_dir)
    reader = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True, merge_threshold=40)
    query = pages(1, seed=21)[0].emb
    vectors = np.stack(pages(100).emb)
    cosine = vectors @ query / np.linalg.norm(vectors, axis=1) / np.linalg.norm(query)
    exact = np.argsort(-cosine)[:3]
    reader.configure(default_column_config={np.ndarray: {"M": 8, "ef_construction": 64}})
    assert reader._segments["emb"].graph is not None  # rebuilt, in memory
    found = reader.find(query, search_field="emb", limit=3).documents.id
    assert list(found) == [f"p{i}" for i in exact]
    reader.close()
    assert snapshot(work_dir) == before


def test_a_reader_never_writes_the_database_after_a_writer_crashed(tmp_path):
    work_dir = tmp_path / "crashed"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_hnsw_read_only import Page, pages
        from docstack.index import HnswDocumentIndex
        index = HnswDocumentIndex[Page](work_dir={str(work_dir)!r})
        index.index(pages(60))
        os._exit(0)  # no close: the committed pages stay in the write-ahead log
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert done.returncode == 0
    db = work_dir / "docstack.sqlite3"
    assert (work_dir / "docstack.sqlite3-wal").stat().st_size > 0
    size, data = db.stat().st_size, db.read_bytes()
    reader = HnswDocumentIndex[Page](work_dir=str(work_dir), read_only=True)
    assert reader.num_docs() == 60  # read through the log
    reader.close()
    assert db.stat().st_size == size and db.read_bytes() == data  # no checkpoint
    assert (work_dir / "docstack.sqlite3-wal").stat().st_size > 0
