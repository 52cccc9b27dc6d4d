"""The graph of a bulk first load is built while its write commits (``_hnsw_early``): it
holds exactly the committed live rows, searches like the exact index, and a rolled-back
write's graph is never adopted."""

from __future__ import annotations

import numpy as np
import pytest

from docstack import BaseDoc
from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex
from docstack.typing import NdArray


class Doc(BaseDoc):
    text: str = ""
    emb: NdArray[8]


def _docs(ids: range, seed: int) -> list[Doc]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(ids), 8)).astype(np.float32)
    return [Doc(id=f"d{i}", text=f"t{i}", emb=v) for i, v in zip(ids, vectors)]


def _graph_ids(index: HnswDocumentIndex) -> set[int]:
    """The labels the graph finds and does not hold as deleted: a search for as many
    neighbours as the index has live rows returns them all, and one more is refused."""
    graph = index._segments["emb"].graph
    assert graph is not None
    n, q = len(index._seq_of), np.ones((1, 8), dtype=np.float32)
    graph.set_ef(1000)
    labels, _ = graph.knn_query(q, k=n)
    with pytest.raises(RuntimeError):
        graph.knn_query(q, k=n + 1)
    graph.set_ef(64)
    return {int(s) for s in labels[0]}


def _check(index: HnswDocumentIndex, docs: list[Doc]) -> None:
    """The graph holds exactly the live rows, and searches answer like the exact index."""
    assert _graph_ids(index) == set(index._seq_of.values())
    assert index.num_docs() == len(docs)
    _same_answers(index, docs)


def _same_answers(index: HnswDocumentIndex, docs: list[Doc]) -> None:
    exact = InMemoryExactNNIndex[Doc]()
    exact.index(docs)
    queries = np.random.default_rng(9).standard_normal((5, 8)).astype(np.float32)
    for q in queries:
        got, _ = index.find(q, search_field="emb", limit=5)
        want, _ = exact.find(q, search_field="emb", limit=5)
        assert list(got.id) == list(want.id)


def test_bulk_first_load_builds_the_graph_during_the_write(tmp_path):
    index = HnswDocumentIndex[Doc](work_dir=str(tmp_path), merge_threshold=50)
    docs = _docs(range(200), 0)
    index.index(docs)
    seg = index._segments["emb"]
    assert seg.early is None  # adopted by the merge after the commit
    assert seg.upto == index._next_seq - 1
    _check(index, docs)
    index.close()
    reopened = HnswDocumentIndex[Doc](work_dir=str(tmp_path), merge_threshold=50)
    _check(reopened, docs)
    reopened.close()


def test_rows_held_from_earlier_writes_and_replaced_ones(tmp_path):
    index = HnswDocumentIndex[Doc](work_dir=str(tmp_path), merge_threshold=50)
    first = _docs(range(30), 1)
    index.index(first)  # below the threshold: growing rows, no graph
    assert index._segments["emb"].graph is None
    second = _docs(range(20, 70), 2)  # replaces d20..d29, then crosses the threshold
    index.index(second)
    assert index._segments["emb"].graph is not None
    _check(index, first[:20] + second)
    index.close()


def test_a_rolled_back_write_leaves_no_graph_behind(tmp_path):
    index = HnswDocumentIndex[Doc](work_dir=str(tmp_path), merge_threshold=50)
    lost = _docs(range(100), 3)
    batch = index._schema.to_rows(lost, dict(index._dims))
    with pytest.raises(RuntimeError, match="cut short"):
        with index._store.transaction():
            index._b_upsert(batch)
            assert index._early_tx == index._store.tx_serial  # its graph is being built
            raise RuntimeError("cut short")
    assert index.num_docs() == 0
    assert "emb" not in index._segments or index._segments["emb"].early is None
    kept = _docs(range(100, 160), 4)
    index.index(kept)
    _check(index, kept)
    index.close()


def test_a_progress_bar_write_merges_in_steps(tmp_path):
    index = HnswDocumentIndex[Doc](work_dir=str(tmp_path), merge_threshold=50)
    docs = _docs(range(120), 5)
    index.index(docs, show_progress=True)
    _check(index, docs)
    index.close()
