"""configure() on an existing Milvus collection (Milvus Lite): a change of a vector field's
index settings rebuilds its Milvus index, and searches keep the exact index's answers."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from docstack import BaseDoc, DocList  # noqa: E402
from docstack.index import InMemoryExactNNIndex, MilvusDocumentIndex  # noqa: E402
from docstack.typing import NdArray  # noqa: E402


class Doc(BaseDoc):
    tags: list[str] = []
    emb: NdArray[4]


def described(index) -> dict:
    client = index._client
    (name,) = client.list_indexes(index.collection_name, field_name="emb")
    return client.describe_index(index.collection_name, name)


def test_index_settings_changed_by_configure_rebuild_the_milvus_index(tmp_path):
    rng = np.random.default_rng(0)
    docs = DocList[Doc](
        [Doc(id=f"d{i}", tags=[f"t{i % 3}"], emb=rng.standard_normal(4)) for i in range(50)]
    )
    index = MilvusDocumentIndex[Doc](uri=str(tmp_path / "m.db"), index_name="c")
    index.index(docs)
    assert (described(index)["index_type"], described(index)["metric_type"]) == ("HNSW", "COSINE")
    q = rng.standard_normal(4)
    before = index.find(q, search_field="emb", limit=5)

    index.configure(default_column_config={np.ndarray: {"index_type": "FLAT"}})
    assert described(index)["index_type"] == "FLAT"
    after = index.find(q, search_field="emb", limit=5)
    assert after.documents.id == before.documents.id
    np.testing.assert_allclose(after.scores, before.scores, rtol=1e-6)

    index.configure(default_column_config={np.ndarray: {"index_type": "HNSW", "space": "l2"}})
    assert (described(index)["index_type"], described(index)["metric_type"]) == ("HNSW", "L2")
    exact = InMemoryExactNNIndex[Doc]()
    exact.configure(default_column_config={np.ndarray: {"space": "l2"}})
    exact.index(docs)
    a, b = index.find(q, search_field="emb", limit=5), exact.find(q, search_field="emb", limit=5)
    assert a.documents.id == b.documents.id
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5)
    # the collection keeps working for writes and list filters after the rebuild
    index.index(Doc(id="new", tags=["t9"], emb=q))
    assert index.filter({"tags": "t9"}).id == ["new"]


def test_configure_before_the_first_write_only_changes_the_settings(tmp_path):
    index = MilvusDocumentIndex[Doc](uri=str(tmp_path / "m.db"), index_name="fresh")
    index.configure(default_column_config={np.ndarray: {"index_type": "IVF_FLAT", "nlist": 4}})
    index.index(DocList[Doc]([Doc(emb=np.ones(4)), Doc(emb=-np.ones(4))]))
    assert described(index)["index_type"] == "IVF_FLAT"
    assert len(index.find(np.ones(4), search_field="emb", limit=2).documents) == 2
