"""What is particular to ``HnswDocumentIndex``: persistence in ``work_dir``, the sealed HNSW
graph and its growing segment, graph files (damaged, stray), filtered search through the graph,
search settings, threads, progress bars, FTS5 text search and the meaning of scores."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Optional

import hnswlib
import numpy as np
import pytest
from pydantic import Field
from pydantic.warnings import PydanticDeprecatedSince20

from docstack import BaseDoc, DocList
from docstack.errors import DocstackError
from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex
from docstack.typing import NdArray

# ``Field(space=..., dim=...)`` as DocArray documents it: pydantic warns about the extra keywords
_field_warnings = warnings.catch_warnings()
_field_warnings.__enter__()
warnings.simplefilter("ignore", PydanticDeprecatedSince20)


# ---------------------------------------------------------------------------- helpers


def _np_scores(matrix: np.ndarray, query: np.ndarray, space: str) -> np.ndarray:
    """What a score means, computed with numpy in float64."""
    m = matrix.astype(np.float64)
    q = query.astype(np.float64)
    if space == "cosine":
        return (m @ q) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    if space == "ip":
        return m @ q
    return np.linalg.norm(m - q, axis=1)  # l2: the euclidean distance, not squared


def _graph_files(work_dir: Path, table: str = "docs", field: str = "emb") -> list[Path]:
    return sorted((work_dir / "hnsw").glob(f"{table}.{field}.*.bin"))


def _graph_seq(path: Path) -> int:
    return int(path.name.split(".")[-2])


class Item(BaseDoc):
    grp: int
    emb: NdArray[16]


def _items(start: int, n: int, seed: int, groups: int = 10) -> tuple[DocList, np.ndarray]:
    vectors = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    docs = DocList[Item](
        [Item(id=f"i{start + j}", grp=(start + j) % groups, emb=vectors[j]) for j in range(n)]
    )
    return docs, vectors


def _assert_top1(index, ids: list[str], vectors: np.ndarray, flt: dict | None = None) -> None:
    """Each vector finds its own document first, with cosine similarity 1."""
    for doc_id, vec in zip(ids, vectors):
        if flt is None:
            docs, scores = index.find(vec, search_field="emb", limit=3)
        else:
            q = index.build_query().find(vec, search_field="emb").filter(filter_query=flt)
            docs, scores = index.execute_query(q.build(limit=3))
        assert docs[0].id == doc_id, (doc_id, docs.id, scores)
        assert scores[0] == pytest.approx(1.0, abs=1e-5)


def _merged_index(tmp_path: Path, n: int = 1000, **kwargs):
    """An index of ``n`` items whose graph holds most of them (merge threshold 300)."""
    kwargs.setdefault("merge_threshold", 300)
    index = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), **kwargs)
    vectors = []
    for start in range(0, n, 200):
        docs, vecs = _items(start, min(200, n - start), seed=start)
        index.index(docs)
        vectors.append(vecs)
    return index, np.concatenate(vectors)


# ---------------------------------------------------------------------------- persistence


class Chunk(BaseDoc):
    text: str
    vec: NdArray  # no dimension: learnt from the data


class Article(BaseDoc):
    title: str
    n: int
    emb: NdArray  # no dimension either
    chunks: DocList[Chunk]


def _articles(count: int) -> DocList[Article]:
    rng = np.random.default_rng(3)
    return DocList[Article](
        [
            Article(
                id=f"a{i}",
                title=f"article {i}",
                n=i,
                emb=rng.standard_normal(12).astype(np.float32),
                chunks=DocList[Chunk](
                    [
                        Chunk(
                            id=f"a{i}-c{j}",
                            text=f"chunk {j} of {i}",
                            vec=rng.standard_normal(6).astype(np.float32),
                        )
                        for j in range(3)
                    ]
                ),
            )
            for i in range(count)
        ]
    )


@pytest.mark.parametrize("merge_threshold", [10_000, 40])
def test_reopen_keeps_docs_subindexes_and_inferred_dims(tmp_path, merge_threshold):
    work_dir = tmp_path / "idx"
    docs = _articles(60)
    index = HnswDocumentIndex[Article](work_dir=str(work_dir), merge_threshold=merge_threshold)
    index.index(docs)
    graph_before = {p.name: p.stat().st_mtime_ns for p in (work_dir / "hnsw").glob("*.bin")}
    if merge_threshold == 40:
        assert any(name.startswith("docs.emb.") for name in graph_before)
        assert any(name.startswith("docs__chunks.vec.") for name in graph_before)
    index.close()

    again = HnswDocumentIndex[Article](work_dir=str(work_dir), merge_threshold=merge_threshold)
    assert again.num_docs() == 60
    stored = again[[d.id for d in docs]]
    for want, got in zip(docs, stored):
        assert (got.id, got.title, got.n) == (want.id, want.title, want.n)
        np.testing.assert_array_equal(got.emb, want.emb)
        assert got.chunks.id == want.chunks.id
        assert got.chunks.text == want.chunks.text
        for w, g in zip(want.chunks, got.chunks):
            np.testing.assert_array_equal(g.vec, w.vec)
    # the saved graphs were loaded, not rebuilt
    graph_after = {p.name: p.stat().st_mtime_ns for p in (work_dir / "hnsw").glob("*.bin")}
    assert graph_after == graph_before

    # the learnt dimensions came back with the data
    with pytest.raises(ValueError, match="dimension"):
        again.find(np.ones(5), search_field="emb")
    with pytest.raises(ValueError, match="dimension"):
        again.find_subindex(np.ones(12), subindex="chunks", search_field="vec")
    for d in docs[::7]:
        matches, scores = again.find(d.emb, search_field="emb", limit=2)
        assert matches[0].id == d.id and scores[0] == pytest.approx(1.0, abs=1e-5)
        chunk = d.chunks[1]
        roots, subs, scores = again.find_subindex(
            chunk.vec, subindex="chunks", search_field="vec", limit=2
        )
        assert subs[0].id == chunk.id and roots[0].id == d.id
        assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert again.filter({"n": {"$gte": 57}}).id == ["a57", "a58", "a59"]
    assert again.filter_subindex({"text": {"$eq": "chunk 2 of 5"}}, subindex="chunks").id == [
        "a5-c2"
    ]

    # and it takes new documents of the learnt dimensions
    extra = _articles(61)[60:]
    again.index(extra)
    assert again.num_docs() == 61
    matches, _ = again.find(extra[0].emb, search_field="emb", limit=1)
    assert matches[0].id == "a60"
    again.close()


class Renamed(BaseDoc):
    title: str
    n: str  # was int
    emb: NdArray
    chunks: DocList[Chunk]


class ChunkWithInt(BaseDoc):
    text: int  # was str
    vec: NdArray


class OtherChunks(BaseDoc):
    title: str
    n: int
    emb: NdArray
    chunks: DocList[ChunkWithInt]


def test_open_with_another_schema_raises(tmp_path):
    work_dir = str(tmp_path / "idx")
    index = HnswDocumentIndex[Article](work_dir=work_dir)
    index.index(_articles(3))
    index.close()
    with pytest.raises(DocstackError, match="another schema"):
        HnswDocumentIndex[Renamed](work_dir=work_dir)
    with pytest.raises(DocstackError, match="another schema"):  # a sub-index changed
        HnswDocumentIndex[OtherChunks](work_dir=work_dir)
    # the stored index is untouched
    again = HnswDocumentIndex[Article](work_dir=work_dir)
    assert again.num_docs() == 3
    assert again["a1"].chunks.text == ["chunk 0 of 1", "chunk 1 of 1", "chunk 2 of 1"]
    again.close()


def test_opening_an_open_work_dir_again_hands_it_over(tmp_path):
    # DocArray code opens a work_dir again without closing the first index: the new index
    # takes it over, and the old handle refuses every further call instead of drifting
    work_dir = str(tmp_path / "idx")
    first = HnswDocumentIndex[Item](work_dir=work_dir)
    docs, vectors = _items(0, 10, seed=0)
    first.index(docs)
    second = HnswDocumentIndex[Item](work_dir=work_dir)
    assert second.num_docs() == 10
    _assert_top1(second, docs.id, vectors)
    calls = [
        lambda: first.index(_items(10, 1, seed=1)[0]),
        first.num_docs,
        lambda: first["i0"],
        lambda: "i0" in first,
        lambda: first.find(vectors[0], search_field="emb"),
        lambda: first.filter({"grp": 1}),
        lambda: first.delete(ids=["i0"]),
    ]
    for call in calls:
        with pytest.raises(DocstackError, match="replaced by another one opened on"):
            call()
    first.close()  # closing the replaced handle is harmless and releases nothing
    more, more_vectors = _items(10, 200, seed=1)
    second.index(more)
    _assert_top1(second, more.id, more_vectors)
    second.close()
    second.close()  # closing twice is harmless
    with pytest.raises(DocstackError, match="was closed"):
        second.num_docs()
    third = HnswDocumentIndex[Item](work_dir=work_dir)
    assert third.num_docs() == 210
    third.close()


def test_a_failed_reopen_leaves_the_open_index_as_it_was(tmp_path):
    work_dir = str(tmp_path / "idx")
    first = HnswDocumentIndex[Dim16](work_dir=work_dir)
    first.index([Dim16(id="a", emb=np.ones(16))])
    with pytest.raises(DocstackError, match="dimension"):
        HnswDocumentIndex[Dim32](work_dir=work_dir)
    first.index([Dim16(id="b", emb=np.ones(16))])
    assert first.num_docs() == 2
    first.close()
    assert HnswDocumentIndex[Dim16](work_dir=work_dir).num_docs() == 2


def test_a_handed_over_work_dir_stays_locked_against_other_processes(tmp_path):
    import subprocess
    import sys
    import textwrap

    work_dir = str(tmp_path / "idx")
    first = HnswDocumentIndex[Dim16](work_dir=work_dir)
    first.index([Dim16(id="a", emb=np.ones(16))])
    second = HnswDocumentIndex[Dim16](work_dir=work_dir)
    del first  # the replaced handle going away must not release the lock either
    import gc

    gc.collect()
    script = textwrap.dedent(
        f"""
        from docstack import BaseDoc
        from docstack.errors import DocstackError
        from docstack.index import HnswDocumentIndex
        from docstack.typing import NdArray

        class Dim16(BaseDoc):
            emb: NdArray[16]

        try:
            HnswDocumentIndex[Dim16](work_dir={work_dir!r})
        except DocstackError as e:
            print("refused" if "already open" in str(e) else "other error")
        else:
            print("opened")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "refused", out.stderr
    second.close()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "opened", out.stderr


def test_a_work_dir_open_in_another_process_is_refused_until_it_exits(tmp_path):
    import subprocess
    import sys
    import textwrap

    work_dir = tmp_path / "idx"
    script = textwrap.dedent(
        f"""
        import sys, time
        from docstack import BaseDoc
        from docstack.index import HnswDocumentIndex
        from docstack.typing import NdArray

        class Doc(BaseDoc):
            emb: NdArray[4]

        index = HnswDocumentIndex[Doc](work_dir={str(work_dir)!r})
        index.index([Doc(emb=[1, 0, 0, 0])])
        print("open", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "open"

        class Doc(BaseDoc):
            emb: NdArray[4]

        with pytest.raises(DocstackError, match="already open"):
            HnswDocumentIndex[Doc](work_dir=str(work_dir))
    finally:
        proc.kill()
        proc.wait()
    # the lock died with the process
    reopened = HnswDocumentIndex[Doc](work_dir=str(work_dir))
    assert reopened.num_docs() == 1
    reopened.close()


def test_a_failed_open_releases_the_work_dir(tmp_path):
    work_dir = str(tmp_path / "idx")
    index = HnswDocumentIndex[Dim16](work_dir=work_dir)
    index.index([Dim16(emb=np.ones(16))])
    index.close()
    with pytest.raises(DocstackError, match="dimension"):
        HnswDocumentIndex[Dim32](work_dir=work_dir)
    again = HnswDocumentIndex[Dim16](work_dir=work_dir)
    assert again.num_docs() == 1
    again.close()


def test_an_index_dropped_without_close_releases_the_work_dir(tmp_path):
    import gc

    work_dir = str(tmp_path / "idx")
    index = HnswDocumentIndex[Item](work_dir=work_dir)
    index.index(_items(0, 3, seed=0)[0])
    del index
    gc.collect()
    again = HnswDocumentIndex[Item](work_dir=work_dir)
    assert again.num_docs() == 3
    again.close()


class Dim16(BaseDoc):
    emb: NdArray[16]


class Dim32(BaseDoc):
    emb: NdArray[32]


def test_open_with_another_dimension_raises_docstack_error(tmp_path):
    work_dir = str(tmp_path / "idx")
    index = HnswDocumentIndex[Dim16](work_dir=work_dir)
    index.index([Dim16(emb=np.ones(16)) for _ in range(3)])
    index.close()
    with pytest.raises(DocstackError, match="dimension"):
        HnswDocumentIndex[Dim32](work_dir=work_dir)


class PlainDoc(BaseDoc):
    emb: NdArray[8]  # cosine by default; configure() may change it


class CosineDoc(BaseDoc):
    emb: NdArray[8] = Field(space="cosine")


class L2Doc(BaseDoc):
    emb: NdArray[8] = Field(space="l2")


def _scaled_vectors(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(11)
    return (rng.standard_normal((n, 8)) * rng.uniform(0.5, 5, (n, 1))).astype(np.float32)


def test_reopen_with_another_space_does_not_use_the_old_graph(tmp_path):
    work_dir = str(tmp_path / "idx")
    vectors = _scaled_vectors()
    index = HnswDocumentIndex[CosineDoc](work_dir=work_dir, merge_threshold=100)
    index.index([CosineDoc(id=str(i), emb=v) for i, v in enumerate(vectors)])
    assert _graph_files(Path(work_dir))
    index.close()
    try:
        l2 = HnswDocumentIndex[L2Doc](work_dir=work_dir, merge_threshold=100)
    except DocstackError:
        return  # refusing to open is fine too
    for i in (0, 17, 399):
        docs, scores = l2.find(vectors[i], search_field="emb", limit=5)
        want = np.sort(_np_scores(vectors, vectors[i], "l2"))[:5]
        assert docs[0].id == str(i)
        np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-4)


def test_reopen_after_configured_space_does_not_use_the_configured_graph(tmp_path):
    work_dir = str(tmp_path / "idx")
    vectors = _scaled_vectors()
    index = HnswDocumentIndex[PlainDoc](work_dir=work_dir, merge_threshold=100)
    index.index([PlainDoc(id=str(i), emb=v) for i, v in enumerate(vectors)])
    index.configure(default_column_config={np.ndarray: {"space": "l2"}})
    docs, scores = index.find(vectors[3], search_field="emb", limit=1)
    assert docs[0].id == "3" and scores[0] == pytest.approx(0.0, abs=1e-4)
    # once the l2 graph is saved, the cosine one it replaces is gone
    index.index([PlainDoc(id=f"new{i}", emb=v) for i, v in enumerate(vectors[:150])])
    files = sorted(p.name for p in _graph_files(Path(work_dir)))
    assert len(files) == 1 and ".l2." in files[0], files
    index.delete(ids=[f"new{i}" for i in range(150)])
    index.close()
    again = HnswDocumentIndex[PlainDoc](work_dir=work_dir, merge_threshold=100)
    for i in (3, 50, 222):
        docs, scores = again.find(vectors[i], search_field="emb", limit=5)
        want = np.sort(_np_scores(vectors, vectors[i], "cosine"))[::-1][:5]
        assert docs[0].id == str(i)
        np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------- merges


@pytest.mark.parametrize("exact_search_threshold", [0, 20_000])
def test_merge_writes_a_graph_file_and_search_stays_exact(tmp_path, exact_search_threshold):
    index, vectors = _merged_index(tmp_path, exact_search_threshold=exact_search_threshold)
    files = _graph_files(tmp_path / "idx")
    assert len(files) == 1, files
    # the graph covers rows up to some seq; the rest is the growing segment
    assert 300 <= _graph_seq(files[0]) < 1000
    graph = hnswlib.Index(space="cosine", dim=16)
    graph.load_index(str(files[0]))
    assert graph.get_current_count() == _graph_seq(files[0])

    ids = [f"i{j}" for j in range(1000)]
    sample = list(range(0, 1000, 37)) + [999]  # in the graph and in the growing segment
    _assert_top1(index, [ids[j] for j in sample], vectors[sample])
    for j in sample:
        _assert_top1(index, [ids[j]], vectors[[j]], {"grp": {"$eq": j % 10}})
        # a filter excluding the document: it is not returned
        q = index.build_query().find(vectors[j], search_field="emb")
        res = index.execute_query(q.filter(filter_query={"grp": {"$ne": j % 10}}).build(5))
        assert ids[j] not in res.documents.id
        assert all(d.grp != j % 10 for d in res.documents)
    index.close()


def test_upsert_after_merge_replaces_the_graph_version(tmp_path):
    index, vectors = _merged_index(tmp_path)
    seq = _graph_seq(_graph_files(tmp_path / "idx")[0])
    changed = list(range(0, 300, 10))  # all in the graph
    new = np.random.default_rng(99).standard_normal((len(changed), 16)).astype(np.float32)
    index.index(DocList[Item]([Item(id=f"i{j}", grp=77, emb=v) for j, v in zip(changed, new)]))
    assert index.num_docs() == 1000

    def check(idx) -> None:
        for j, v in zip(changed, new):
            docs, scores = idx.find(vectors[j], search_field="emb", limit=3)
            assert not (docs[0].id == f"i{j}" and scores[0] > 0.9999), "old version found"
            assert f"i{j}" not in docs.id or scores[list(docs.id).index(f"i{j}")] < 0.9999
            _assert_top1(idx, [f"i{j}"], v[None])
            _assert_top1(idx, [f"i{j}"], v[None], {"grp": {"$eq": 77}})
        assert sorted(idx.filter({"grp": {"$eq": 77}}, limit=100).id) == sorted(
            f"i{j}" for j in changed
        )

    check(index)
    index.close()
    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=300)
    assert _graph_seq(_graph_files(tmp_path / "idx")[0]) >= seq
    check(again)
    again.close()


def test_delete_after_merge(tmp_path):
    index, vectors = _merged_index(tmp_path)
    ids = [f"i{j}" for j in range(1000)]
    gone = set(range(0, 1000, 9))
    del index[[ids[j] for j in range(0, 1000, 9) if j % 2 == 0]]
    deleted = index.delete(ids=[ids[j] for j in range(0, 1000, 9) if j % 2 == 1])
    assert deleted == len([j for j in range(0, 1000, 9) if j % 2 == 1])
    n_grp3 = index.delete(filter={"grp": {"$eq": 3}})
    gone |= {j for j in range(1000) if j % 10 == 3}
    assert n_grp3 == len([j for j in range(1000) if j % 10 == 3 and j % 9 != 0])
    live = [j for j in range(1000) if j not in gone]

    def check(idx) -> None:
        assert idx.num_docs() == len(live)
        for j in sorted(gone)[::5]:
            assert ids[j] not in idx
            docs, scores = idx.find(vectors[j], search_field="emb", limit=5)
            assert ids[j] not in docs.id
            assert len(docs) == 5
            res = idx.execute_query(
                idx.build_query()
                .find(vectors[j], search_field="emb")
                .filter(filter_query={"grp": {"$eq": j % 10}})
                .build(5)
            )
            assert ids[j] not in res.documents.id
        _assert_top1(idx, [ids[j] for j in live[::11]], vectors[live[::11]])
        assert len(idx.filter({"grp": {"$eq": 3}})) == 0

    check(index)
    index.close()
    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=300)
    check(again)
    again.close()


def test_search_after_deleting_most_of_the_graph(tmp_path):
    index, vectors = _merged_index(tmp_path, n=2000, merge_threshold=2000)
    assert _graph_seq(_graph_files(tmp_path / "idx")[0]) == 2000
    keep = list(range(0, 2000, 50))
    index.delete(ids=[f"i{j}" for j in range(2000) if j % 50])
    assert index.num_docs() == len(keep)
    _assert_top1(index, [f"i{j}" for j in keep], vectors[keep])
    docs, scores = index.find(vectors[1], search_field="emb", limit=len(keep) + 10)
    assert sorted(docs.id) == sorted(f"i{j}" for j in keep)
    want = np.sort(_np_scores(vectors[keep], vectors[1], "cosine"))[::-1]
    np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-6)
    index.close()


# ---------------------------------------------------------------------------- filtered recall


class Sel(BaseDoc):
    rank: int
    emb: NdArray[32]


N_SEL = 20_000


@pytest.fixture(scope="module")
def selectivity_index(tmp_path_factory):
    """20k random 32-d vectors, all in the graph; ``rank`` is a random permutation, so
    ``rank < f * N`` keeps a fraction ``f`` of them. One thread builds the graph, so it is
    the same on every run."""
    rng = np.random.default_rng(2024)
    vectors = rng.standard_normal((N_SEL, 32)).astype(np.float32)
    rank = rng.permutation(N_SEL)
    work_dir = tmp_path_factory.mktemp("sel") / "idx"
    index = _open_sel(work_dir, exact_search_threshold=1000)
    for start in range(0, N_SEL, 5000):
        index.index(
            DocList[Sel](
                [
                    Sel(id=str(i), rank=int(rank[i]), emb=vectors[i])
                    for i in range(start, start + 5000)
                ]
            )
        )
    assert _graph_seq(_graph_files(work_dir)[0]) == N_SEL  # every row is in the graph
    queries = rng.standard_normal((40, 32)).astype(np.float32)
    state = {"index": index}
    yield state, vectors, rank, queries, work_dir
    state["index"].close()


def _open_sel(work_dir: Path, **kwargs):
    return HnswDocumentIndex[Sel](
        work_dir=str(work_dir),
        merge_threshold=5000,
        default_column_config={np.ndarray: {"num_threads": 1}},
        **kwargs,
    )


def _filtered_recall(index, vectors, rank, queries, fraction, limit=10, unfiltered=False):
    n_match = int(N_SEL * fraction)
    matching = rank < n_match
    recalls = []
    exact = True
    for q in queries:
        if unfiltered:
            docs, scores = index.find(q, search_field="emb", limit=limit)
        else:
            docs, scores = index.execute_query(
                index.build_query()
                .find(q, search_field="emb")
                .filter(filter_query={"rank": {"$lt": n_match}})
                .build(limit)
            )
        s = np.where(matching, _np_scores(vectors, q, "cosine"), -np.inf)
        truth = np.argsort(-s, kind="stable")[:limit]
        got = np.asarray([int(i) for i in docs.id])
        assert len(got) == limit
        assert matching[got].all(), "a document outside the filter"
        # the scores are the true cosine similarities of what was returned, best first
        np.testing.assert_allclose(scores, s[got], rtol=1e-5, atol=1e-6)
        assert np.all(np.diff(scores) <= 1e-7)
        recalls.append(len(set(got) & set(truth)) / limit)
        exact = exact and list(got) == list(truth)
    return float(np.mean(recalls)), exact


@pytest.mark.parametrize(
    ("fraction", "unfiltered"),
    [(0.001, False), (0.01, False), (0.1, False), (0.5, False), (1.0, False), (1.0, True)],
)
def test_filtered_search_recall_at_every_selectivity(selectivity_index, fraction, unfiltered):
    """Recall@10 against numpy among the matching rows, with ef=128 (random 32-d vectors are
    a hard case: at the default ef=64 even unfiltered recall is about 0.92-0.94)."""
    state, vectors, rank, queries, _ = selectivity_index
    index = state["index"]
    index.configure(default_column_config={np.ndarray: {"ef": 128}})
    recall, exact = _filtered_recall(index, vectors, rank, queries, fraction, unfiltered=unfiltered)
    if fraction * N_SEL <= 1000:  # at most exact_search_threshold matches: exact search
        assert exact
        assert recall == 1.0
    assert recall >= 0.95, f"recall@10 {recall:.3f} at selectivity {fraction}"


def test_filtered_search_is_exact_below_the_default_threshold(selectivity_index):
    state, vectors, rank, queries, work_dir = selectivity_index
    # reopened with the default exact_search_threshold (20000): the saved graph is loaded
    state["index"].close()
    state["index"] = _open_sel(work_dir)
    try:
        recall, exact = _filtered_recall(state["index"], vectors, rank, queries[:15], 0.1)
        assert exact and recall == 1.0
    finally:
        state["index"].close()
        state["index"] = _open_sel(work_dir, exact_search_threshold=1000)


def test_filtered_recall_is_not_worse_than_unfiltered_at_default_ef(selectivity_index):
    state, vectors, rank, queries, _ = selectivity_index
    index = state["index"]
    index.configure(default_column_config={np.ndarray: {"ef": 64}})
    unfiltered, _ = _filtered_recall(index, vectors, rank, queries, 1.0, unfiltered=True)
    half, _ = _filtered_recall(index, vectors, rank, queries, 0.5)
    assert half >= unfiltered - 0.01, (half, unfiltered)


# ---------------------------------------------------------------------------- graph files


def _seq_and_file(tmp_path: Path) -> tuple[int, Path]:
    files = _graph_files(tmp_path / "idx")
    assert len(files) == 1
    return _graph_seq(files[0]), files[0]


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage_header", "random"])
def test_damaged_graph_file_is_ignored_and_rebuilt(tmp_path, damage):
    index, vectors = _merged_index(tmp_path, n=1000, merge_threshold=1000)
    index.close()
    seq, path = _seq_and_file(tmp_path)
    assert seq == 1000
    data = path.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    elif damage == "garbage_header":
        data = b"\xff" * 64 + data[64:]
    else:
        data = np.random.default_rng(0).bytes(len(data))
    path.write_bytes(data)

    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=1000)
    assert again.num_docs() == 1000
    sample = list(range(0, 1000, 13))
    _assert_top1(again, [f"i{j}" for j in sample], vectors[sample])
    _assert_top1(again, [f"i{j}" for j in sample[:10]], vectors[sample[:10]], {"grp": {"$gte": 0}})
    docs, scores = again.find(vectors[5], search_field="emb", limit=10)
    want = np.sort(_np_scores(vectors, vectors[5], "cosine"))[::-1][:10]
    np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-6)
    again.close()
    # a sound graph of every row is on disk again
    seq2, path2 = _seq_and_file(tmp_path)
    assert seq2 == 1000
    graph = hnswlib.Index(space="cosine", dim=16)
    graph.load_index(str(path2))
    assert graph.get_current_count() == 1000


def test_stray_graph_file_beyond_the_database_is_ignored(tmp_path):
    index, vectors = _merged_index(tmp_path, n=600, merge_threshold=600)
    index.close()
    seq, path = _seq_and_file(tmp_path)
    assert seq == 600
    # a graph saved for 100 more rows that were never committed: other vectors, seqs 601..700,
    # named as the index names its graphs
    stray_path = path.with_name(path.name.replace(".600.bin", ".700.bin"))
    stray_vectors = np.random.default_rng(5).standard_normal((700, 16)).astype(np.float32)
    stray = hnswlib.Index(space="cosine", dim=16)
    stray.init_index(max_elements=800, M=16, ef_construction=100)
    stray.add_items(stray_vectors, np.arange(1, 701))
    stray.save_index(str(stray_path))
    assert _graph_files(tmp_path / "idx") == sorted([path, stray_path])

    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=600)
    # the next 100 rows take exactly the seqs the stray graph claims to hold
    docs, new_vectors = _items(600, 100, seed=1234)
    again.index(docs)
    assert again.num_docs() == 700
    _assert_top1(again, docs.id, new_vectors)
    _assert_top1(again, docs.id[:20], new_vectors[:20], {"grp": {"$lt": 10}})
    _assert_top1(again, [f"i{j}" for j in range(0, 600, 7)], vectors[::7])
    # no stray vector is ever found
    docs_s, scores_s = again.find(stray_vectors[650], search_field="emb", limit=1)
    assert scores_s[0] < 0.9999
    again.close()
    # the database now reaches seq 700 too: the stray graph must not be taken for its graph
    reopened = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=600)
    _assert_top1(reopened, docs.id, new_vectors)
    _assert_top1(reopened, [f"i{j}" for j in range(0, 600, 7)], vectors[::7])
    reopened.close()


def test_leftover_temporary_graph_file_is_removed_on_open(tmp_path):
    index, _ = _merged_index(tmp_path, n=400, merge_threshold=400)
    index.close()
    seq, path = _seq_and_file(tmp_path)
    leftover = path.with_name(path.name.replace(f".{seq}.bin", ".900.bin.tmp"))
    leftover.write_bytes(path.read_bytes()[:1000])
    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=400)
    again.close()
    assert not leftover.exists()


# ---------------------------------------------------------------------------- settings


def test_configure_sets_ef_and_rebuilds_for_graph_settings(tmp_path):
    index, vectors = _merged_index(tmp_path, n=1000, merge_threshold=1000)
    seg = index._segments["emb"]
    assert seg.graph is not None and seg.graph.ef == 64  # the default
    index.configure(default_column_config={np.ndarray: {"ef": 128}})
    assert seg.graph.ef == 128
    assert index._schema.columns["emb"].config["ef"] == 128
    _assert_top1(index, [f"i{j}" for j in range(0, 1000, 50)], vectors[::50])
    assert seg.graph.ef == 128  # a search with a large k does not leave its ef behind
    index.find(vectors[0], search_field="emb", limit=300)
    assert seg.graph.ef == 128

    # a graph setting: the graph is rebuilt with it
    index.configure(default_column_config={np.ndarray: {"M": 8}})
    _, path = _seq_and_file(tmp_path)
    graph = hnswlib.Index(space="cosine", dim=16)
    graph.load_index(str(path))
    assert graph.M == 8
    assert graph.get_current_count() == 1000
    _assert_top1(index, [f"i{j}" for j in range(0, 1000, 50)], vectors[::50])
    index.close()


class Part(BaseDoc):
    v: NdArray[4]


class Whole(BaseDoc):
    e: NdArray[4]
    parts: DocList[Part]


def test_configure_reaches_subindexes(tmp_path):
    rng = np.random.default_rng(0)
    index = HnswDocumentIndex[Whole](work_dir=str(tmp_path / "idx"))
    docs = [
        Whole(
            id=f"w{i}",
            e=rng.standard_normal(4),
            parts=[Part(id=f"p{i}", v=rng.standard_normal(4) * 3)],
        )
        for i in range(30)
    ]
    index.index(docs)
    index.configure(default_column_config={np.ndarray: {"space": "ip"}})
    v = docs[1].parts[0].v
    _, e_scores = index.find(docs[1].e, search_field="e", limit=1)
    assert e_scores[0] == pytest.approx(float(docs[1].e @ docs[1].e), rel=1e-5)  # root: ip
    roots, subs, scores = index.find_subindex(v, subindex="parts", search_field="v", limit=1)
    parts = np.stack([d.parts[0].v for d in docs])
    best = int(np.argmax(parts @ v))
    assert subs[0].id == f"p{best}"
    assert scores[0] == pytest.approx(float(parts[best] @ v), rel=1e-5)  # inner product
    index.close()


class FieldEf(BaseDoc):
    emb: NdArray[16] = Field(ef=200, M=24)


def test_field_settings_win_over_configure(tmp_path):
    index = HnswDocumentIndex[FieldEf](
        work_dir=str(tmp_path / "idx"),
        merge_threshold=100,
        default_column_config={np.ndarray: {"ef": 20, "M": 4}},
    )
    vectors = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
    index.index([FieldEf(emb=v) for v in vectors])
    assert index._segments["emb"].graph.ef == 200
    graph = hnswlib.Index(space="cosine", dim=16)
    graph.load_index(str(_graph_files(tmp_path / "idx")[0]))
    assert graph.M == 24
    index.close()


# ---------------------------------------------------------------------------- threads, progress


class Note(BaseDoc):
    text: str
    k: int
    emb: NdArray[8]


def _notes(start: int, n: int) -> tuple[DocList, np.ndarray]:
    words = ["alpha", "beta", "gamma", "delta", "omega"]
    vectors = np.random.default_rng(start).standard_normal((n, 8)).astype(np.float32)
    docs = DocList[Note](
        [
            Note(
                id=f"n{start + j}",
                text=f"{words[(start + j) % 5]} note {start + j}",
                k=start + j,
                emb=vectors[j],
            )
            for j in range(n)
        ]
    )
    return docs, vectors


def test_readers_and_a_writer_in_threads(tmp_path):
    index = HnswDocumentIndex[Note](work_dir=str(tmp_path / "idx"), merge_threshold=400)
    first, first_vectors = _notes(0, 200)
    index.index(first)
    errors: list[BaseException] = []
    stop = threading.Event()
    counts = {"find": 0, "filter": 0, "text": 0}

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                j = int(rng.integers(200))
                docs, scores = index.find(first_vectors[j], search_field="emb", limit=5)
                assert docs[0].id == f"n{j}" and scores[0] == pytest.approx(1.0, abs=1e-5)
                counts["find"] += 1
                got = index.filter({"k": {"$lt": 10}}, limit=100)
                assert sorted(got.k) == list(range(10))
                counts["filter"] += 1
                docs, scores = index.text_search("gamma", search_field="text", limit=5)
                assert len(docs) == 5 and all("gamma" in d.text for d in docs)
                assert np.all(np.diff(scores) <= 1e-12)
                counts["text"] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    all_vectors = [first_vectors]
    try:
        for start in range(200, 3200, 300):
            docs, vecs = _notes(start, 300)
            index.index(docs)
            all_vectors.append(vecs)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[0]
    assert min(counts.values()) > 0, counts
    assert index.num_docs() == 3200
    assert _graph_files(tmp_path / "idx")
    vectors = np.concatenate(all_vectors)
    sample = list(range(0, 3200, 97))
    _assert_top1(index, [f"n{j}" for j in sample], vectors[sample])
    assert len(index.text_search("omega", search_field="text", limit=10_000).documents) == 640
    index.close()


def test_show_progress_while_merging(tmp_path, capsys):
    index = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=1000)
    docs, vectors = _items(0, 3000, seed=0)
    index.index(docs, show_progress=True)
    capsys.readouterr()
    assert _graph_seq(_graph_files(tmp_path / "idx")[0]) == 3000
    _assert_top1(index, [f"i{j}" for j in range(0, 3000, 101)], vectors[::101])
    # without a merge too
    more, more_vectors = _items(3000, 10, seed=1)
    index.index(more, show_progress=True)
    _assert_top1(index, more.id, more_vectors)
    index.close()


# ---------------------------------------------------------------------------- text search


class Text(BaseDoc):
    body: str
    title: Optional[str] = None


def _corpus() -> list[Text]:
    rng = np.random.default_rng(8)
    vocab = [
        "red",
        "green",
        "blue",
        "fox",
        "dog",
        "cat",
        "wine",
        "sea",
        "sky",
        "stone",
        "Rust",
        "python",
        "river",
        "moon",
    ]
    docs = []
    for i in range(300):
        n = int(rng.integers(1, 25))
        words = rng.choice(
            vocab, size=n, p=np.linspace(2, 0.2, len(vocab)) / np.linspace(2, 0.2, len(vocab)).sum()
        )
        docs.append(
            Text(id=f"t{i}", body=" ".join(words), title=None if i % 4 == 0 else f"title {i % 7}")
        )
    return docs


@pytest.mark.parametrize(
    "query", ["red", "moon", "python river", "Fox DOG cat", "stone, sky!", "absent words"]
)
def test_text_search_bm25_matches_the_in_memory_index(tmp_path, query):
    docs = _corpus()
    hnsw = HnswDocumentIndex[Text](work_dir=str(tmp_path / "idx"))
    memory = InMemoryExactNNIndex[Text]()
    # in two writes, with a replacement and a deletion, so the statistics see both
    for idx in (hnsw, memory):
        idx.index(docs[:200])
        idx.index(docs[150:])
        idx.index(Text(id="t3", body="red red moon river"))
        del idx["t7"]
    h_docs, h_scores = hnsw.text_search(query, search_field="body", limit=400)
    m_docs, m_scores = memory.text_search(query, search_field="body", limit=400)
    assert len(h_docs) == len(m_docs)
    if query == "absent words":
        assert len(h_docs) == 0
        return
    assert len(h_docs) > 0
    np.testing.assert_allclose(h_scores, m_scores, rtol=1e-9)
    assert dict(zip(h_docs.id, h_scores)) == pytest.approx(dict(zip(m_docs.id, m_scores)), rel=1e-9)
    assert h_docs.id == m_docs.id
    assert np.all(np.diff(h_scores) <= 0)
    # the title column: documents without one are simply not matched
    h_t = hnsw.text_search("title", search_field="title", limit=400)
    m_t = memory.text_search("title", search_field="title", limit=400)
    assert h_t.documents.id == m_t.documents.id
    np.testing.assert_allclose(h_t.scores, m_t.scores, rtol=1e-9)
    hnsw.close()


def test_text_search_uses_fts5_and_survives_reopen(tmp_path):
    work_dir = tmp_path / "idx"
    index = HnswDocumentIndex[Text](work_dir=str(work_dir))
    index.index(_corpus())
    first = index.text_search("blue wine", search_field="body", limit=400)
    assert len(first.documents) > 0
    index.close()
    con = sqlite3.connect(str(work_dir / "docstack.sqlite3"))
    try:
        sql = [r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
    finally:
        con.close()
    assert any("fts5" in s.lower() for s in sql), sql
    again = HnswDocumentIndex[Text](work_dir=str(work_dir))
    # kept in step with writes made after the FTS table exists
    again.index(Text(id="new", body="blue blue blue wine wine"))
    second = again.text_search("blue wine", search_field="body", limit=400)
    assert second.documents[0].id == "new"
    assert sorted(second.documents.id) == sorted([*first.documents.id, "new"])
    again.update("new", body="nothing here")
    assert "new" not in again.text_search("blue wine", search_field="body", limit=400).documents.id
    again.close()


# ---------------------------------------------------------------------------- scores


class SpaceCos(BaseDoc):
    emb: NdArray[24] = Field(space="cosine")


class SpaceL2(BaseDoc):
    emb: NdArray[24] = Field(space="l2")


class SpaceIp(BaseDoc):
    emb: NdArray[24] = Field(space="ip")


@pytest.mark.parametrize(
    ("doc_type", "space"), [(SpaceCos, "cosine"), (SpaceL2, "l2"), (SpaceIp, "ip")]
)
def test_graph_scores_mean_what_the_metric_says(tmp_path, doc_type, space):
    rng = np.random.default_rng(21)
    vectors = (rng.standard_normal((3000, 24)) * rng.uniform(0.2, 3.0, (3000, 1))).astype(
        np.float32
    )
    # random vectors of varied norms are hard for l2 graphs: search broadly (raw hnswlib
    # with these settings has the same recall)
    index = HnswDocumentIndex[doc_type](
        work_dir=str(tmp_path / "idx"),
        merge_threshold=3000,
        exact_search_threshold=0,
        default_column_config={np.ndarray: {"ef": 256}},
    )
    index.index(DocList[doc_type]([doc_type(id=str(i), emb=v) for i, v in enumerate(vectors)]))
    assert _graph_seq(_graph_files(tmp_path / "idx")[0]) == 3000  # all in the graph
    queries = (rng.standard_normal((20, 24)) * 1.5).astype(np.float32)
    recalls = []
    for q in queries:
        docs, scores = index.find(q, search_field="emb", limit=10)
        truth_scores = _np_scores(vectors, q, space)
        got = np.asarray([int(i) for i in docs.id])
        # each score is the metric of the query and that document (l2: not squared)
        np.testing.assert_allclose(scores, truth_scores[got], rtol=1e-4, atol=1e-4)
        if space == "l2":
            assert np.all(np.diff(scores) >= -1e-6) and np.all(scores >= 0)
            truth = np.argsort(truth_scores, kind="stable")[:10]
        else:
            assert np.all(np.diff(scores) <= 1e-6)
            truth = np.argsort(-truth_scores, kind="stable")[:10]
        recalls.append(len(set(got) & set(truth)) / 10)
        # filtered through the graph too
        res = index.execute_query(
            index.build_query()
            .find(q, search_field="emb")
            .filter(filter_query={"id": {"$ne": "0"}})
            .build(5)
        )
        got_f = np.asarray([int(i) for i in res.documents.id])
        np.testing.assert_allclose(res.scores, truth_scores[got_f], rtol=1e-4, atol=1e-4)
    assert np.mean(recalls) >= 0.9
    if space == "cosine":
        docs, scores = index.find(vectors[7] * 3, search_field="emb", limit=1)
        assert docs[0].id == "7" and scores[0] == pytest.approx(1.0, abs=1e-5)
    elif space == "l2":
        docs, scores = index.find(vectors[7], search_field="emb", limit=1)
        assert docs[0].id == "7" and scores[0] == pytest.approx(0.0, abs=1e-3)
        shifted = vectors[7] + np.float32(0.5)  # distance 0.5 * sqrt(24), not its square
        docs, scores = index.find(shifted, search_field="emb", limit=1)
        if docs[0].id == "7":
            assert scores[0] == pytest.approx(0.5 * np.sqrt(24), rel=1e-4)
    index.close()


def test_scores_in_graph_and_growing_segment_agree(tmp_path):
    """A document scores the same whether it sits in the graph or in the growing segment."""
    index, vectors = _merged_index(tmp_path, n=1000, merge_threshold=300)
    seq = _graph_seq(_graph_files(tmp_path / "idx")[0])
    q = np.random.default_rng(3).standard_normal(16).astype(np.float32)
    docs, scores = index.find(q, search_field="emb", limit=1000)
    assert len(docs) == 1000
    got = np.asarray([int(i[1:]) for i in docs.id])
    np.testing.assert_allclose(scores, _np_scores(vectors, q, "cosine")[got], rtol=1e-5, atol=1e-6)
    assert (got < seq).any() and (got >= seq).any()
    index.close()


def test_work_dir_copy_is_a_full_backup(tmp_path):
    index, vectors = _merged_index(tmp_path, n=800, merge_threshold=300)
    index.close()
    shutil.copytree(tmp_path / "idx", tmp_path / "copy")
    shutil.rmtree(tmp_path / "idx")
    copy = HnswDocumentIndex[Item](work_dir=str(tmp_path / "copy"), merge_threshold=300)
    assert copy.num_docs() == 800
    _assert_top1(copy, [f"i{j}" for j in range(0, 800, 41)], vectors[::41])
    copy.close()


_field_warnings.__exit__(None, None, None)


def test_a_repeated_filtered_search_sees_every_write_in_between(tmp_path):
    """Exact filtered searches reuse the rows they gathered for the same filter; any write
    (new rows, changed vectors, deletions) must be seen by the next search."""
    index = HnswDocumentIndex[Item](work_dir=str(tmp_path / "idx"), merge_threshold=100)
    docs, vectors = _items(0, 400, seed=3)
    index.index(docs)
    flt = {"grp": {"$eq": 4}}

    def top(vec):
        q = index.build_query().find(vec, search_field="emb").filter(filter_query=flt)
        found, scores = index.execute_query(q.build(limit=3))
        return found.id, scores

    assert top(vectors[4])[0][0] == "i4"
    assert top(vectors[4])[0][0] == "i4"  # the second search is served by the cached rows
    # a changed vector
    index.index([Item(id="i14", grp=4, emb=vectors[4])])
    ids, scores = top(vectors[4])
    assert set(ids[:2]) == {"i4", "i14"} and scores[1] == pytest.approx(1.0, abs=1e-5)
    # a deletion
    del index["i4"]
    assert top(vectors[4])[0][0] == "i14"
    # a new matching row
    fresh = np.random.default_rng(9).standard_normal(16).astype(np.float32)
    index.index([Item(id="new", grp=4, emb=fresh)])
    assert top(fresh)[0][0] == "new"
    # a row that stops matching
    index.update("new", grp=5)
    assert "new" not in top(fresh)[0]
    index.close()


class Noted(BaseDoc):
    note: str
    grp: int
    emb: NdArray[16]


def _noted(n: int, seed: int, width: int = 10) -> tuple[DocList, np.ndarray]:
    vectors = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    docs = DocList[Noted](
        [Noted(id=f"n{j}", note=f"{j:0{width}d}", grp=j % 3, emb=vectors[j]) for j in range(n)]
    )
    return docs, vectors


@pytest.mark.parametrize("budget", [256 << 20, 0, 1_000])
def test_results_are_the_same_with_the_row_cache_on_off_or_outgrown(tmp_path, budget):
    """The row cache (stored values in memory) serves results only while it fits its budget;
    either way every read sees every write."""
    index = HnswDocumentIndex[Noted](work_dir=str(tmp_path / "idx"), row_cache_bytes=budget)
    docs, vectors = _noted(40, seed=1)
    index.index(docs[:20])
    found, _ = index.find(vectors[3], search_field="emb", limit=1)
    assert found[0].note == "0000000003"
    index.index(docs[20:])  # with a 1 kB budget, the cache outgrows it here
    index.update("n3", note="changed", grp=7)
    del index["n5"]
    index.index([Noted(id="n6", note="replaced", grp=1, emb=vectors[6])])
    got = index[[f"n{j}" for j in range(40) if j != 5]]
    notes = {d.id: (d.note, d.grp) for d in got}
    assert notes["n3"] == ("changed", 7)
    assert notes["n6"] == ("replaced", 1)
    assert notes["n39"] == ("0000000039", 0)
    assert "n5" not in index
    found, _ = index.find(vectors[6], search_field="emb", limit=1)
    assert (found[0].id, found[0].note) == ("n6", "replaced")
    expected_cache = {256 << 20: True, 0: False, 1_000: False}[budget]
    assert (index._cache is not None) == expected_cache
    index.close()
    # reopened, the cache is filled from the database again
    again = HnswDocumentIndex[Noted](work_dir=str(tmp_path / "idx"), row_cache_bytes=budget)
    assert again["n3"].note == "changed" and again["n6"].note == "replaced"
    again.close()


def test_a_rolled_back_write_never_reaches_the_row_cache(tmp_path):
    index = HnswDocumentIndex[Noted](work_dir=str(tmp_path / "idx"))
    docs, vectors = _noted(10, seed=2)
    index.index(docs)
    assert index["n1"].note == "0000000001"  # the cache is filled
    bad = [Noted(id="n1", note="never", grp=0, emb=vectors[1]), {"id": "x"}]
    with pytest.raises(Exception):  # noqa: B017 - the second document is invalid
        index.index(bad)
    assert index["n1"].note == "0000000001"
    found, _ = index.find(vectors[1], search_field="emb", limit=1)
    assert found[0].note == "0000000001"
    index.close()


class Mixed(BaseDoc):
    blob: Optional[bytes] = None
    label: str = ""
    emb: Optional[NdArray[4]] = None


@pytest.mark.parametrize("budget", [256 << 20, 0])
def test_row_cache_keeps_bytes_missing_and_float64_vectors(tmp_path, budget):
    """Results gathered column-wise from the cache equal those read from SQLite: bytes values
    stay whole, a document without a vector comes back with None, a float64 vector keeps
    its dtype, and seqs beyond the cache's first capacity (1024) are found."""
    index = HnswDocumentIndex[Mixed](work_dir=str(tmp_path / "idx"), row_cache_bytes=budget)
    rng = np.random.default_rng(3)
    docs = [
        Mixed(
            id=f"m{j}",
            blob=bytes([j % 256]) * 3,
            label=f"l{j}",
            emb=rng.random(4).astype(np.float32),
        )
        for j in range(1500)
    ]
    docs[7] = Mixed(id="m7", blob=None, label="no vector")
    docs[8] = Mixed(id="m8", blob=b"", label="float64", emb=np.array([1.0, 2.0, 3.0, 4.5]))
    index.index(docs)
    del index["m1200"]
    got = index[["m7", "m8", "m1499", "m3"]]
    assert [d.id for d in got] == ["m7", "m8", "m1499", "m3"]
    assert got[0].emb is None and got[0].blob is None and got[0].label == "no vector"
    assert got[1].blob == b"" and got[1].emb.dtype == np.float64
    assert got[2].blob == bytes([1499 % 256]) * 3
    assert np.array_equal(got[2].emb, docs[1499].emb)
    with pytest.raises(KeyError, match="m1200"):
        index["m1200"]
    found, _ = index.find(docs[1300].emb, search_field="emb", limit=3)
    assert found[0].id == "m1300" and found[0].blob == docs[1300].blob
    found, _ = index.find(docs[8].emb, search_field="emb", limit=1)
    assert found[0].id == "m8" and found[0].emb.dtype == np.float64
    index.close()


def test_an_sqlite_without_fts5_is_a_clear_error(tmp_path):
    """TensorFlow brings an SQLite without FTS5 that serves the whole process when it is
    imported before sqlite3: text search then says why, instead of 'no such module'."""
    import subprocess
    import sys

    script = f"""
import tensorflow  # before sqlite3: its SQLite, without FTS5, serves the process
import numpy as np
from docstack import BaseDoc
from docstack.errors import DocstackError
from docstack.index import HnswDocumentIndex
from docstack.typing import NdArray

class Doc(BaseDoc):
    text: str
    emb: NdArray[2]

index = HnswDocumentIndex[Doc](work_dir={str(tmp_path / "idx")!r})
index.index([Doc(id="a", text="red apple", emb=np.ones(2))])
found, _ = index.find(np.ones(2), search_field="emb", limit=1)
assert found[0].id == "a"  # vector search does not need FTS5
import sqlite3
try:
    sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    print("FTS5 present")
except sqlite3.OperationalError:
    print("FTS5 absent")
try:
    found, _ = index.text_search("apple", search_field="text")
    print("FOUND", found.id)
except DocstackError as exc:
    print("ERROR", exc)
assert index["a"].text == "red apple"
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if "FTS5 present" in proc.stdout:  # a TensorFlow build that leaves SQLite alone
        assert "FOUND ['a']" in proc.stdout
    else:
        assert "has no FTS5" in proc.stdout and "before tensorflow" in proc.stdout


def test_reopened_index_reads_rows_into_the_cache_as_searches_need_them(tmp_path):
    """No single query pays for loading every row: after reopening, a search reads only its
    own result rows; an update of a row not held yet is read back with its new value."""
    work = str(tmp_path / "idx")
    index = HnswDocumentIndex[Item](work_dir=work)
    docs, vectors = _items(0, 300, seed=4)
    index.index(docs)
    index.close()
    again = HnswDocumentIndex[Item](work_dir=work)
    found, _ = again.find(vectors[7], search_field="emb", limit=3)
    assert found[0].id == "i7"
    cache = again._cache
    assert cache is not None and int(cache.live.sum()) == 3
    again.update("i100", grp=99)  # not held: nothing to change in the cache
    assert int(cache.live.sum()) == 3
    found, _ = again.find(vectors[100], search_field="emb", limit=1)
    assert (found[0].id, found[0].grp) == ("i100", 99)
    everything = again[[f"i{j}" for j in range(300)]]
    assert [d.grp for d in everything][:3] == [0, 1, 2] and everything[100].grp == 99
    assert int(cache.live.sum()) == 300
    again.close()
