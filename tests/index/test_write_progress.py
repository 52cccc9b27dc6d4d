"""index(show_progress=True) on the engine backends shows a bar over the write requests of
batch_size rows, advanced after each request (a failed request leaves it where it stopped)."""

from __future__ import annotations

import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack.typing import NdArray


class Doc(BaseDoc):
    text: str = Field(default="", json_schema_extra={"full_text_search": False})
    emb: NdArray[2]


def docs(n: int, long_at: int | None = None) -> DocList[Doc]:
    return DocList[Doc](
        [
            Doc(id=f"d{i}", text="x" * (70_000 if i == long_at else 3), emb=[1.0, float(i)])
            for i in range(n)
        ]
    )


def milvus(tmp_path):
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    from docstack.index import MilvusDocumentIndex

    return MilvusDocumentIndex[Doc](uri=str(tmp_path / "m.db"), index_name="p", batch_size=7)


def qdrant(tmp_path):
    pytest.importorskip("qdrant_client")
    from docstack.index import QdrantDocumentIndex

    return QdrantDocumentIndex[Doc](location=":memory:", batch_size=7)


@pytest.mark.parametrize("factory", [milvus, qdrant])
def test_the_bar_covers_every_request(factory, tmp_path, capsys):
    index = factory(tmp_path)
    index.index(docs(20))
    assert capsys.readouterr().out == ""  # no bar unless asked
    index.index(docs(20), show_progress=True)
    out = capsys.readouterr().out
    assert "Writing to" in out and "100%" in out
    assert len(index) == 20
    assert index._write_progress is False  # set only while the write runs


def test_a_failed_request_leaves_the_bar_at_the_rows_written(tmp_path, capsys):
    index = milvus(tmp_path)
    from docstack.index.backends.milvus import MilvusError

    # the second request of 7 rows holds a string Milvus refuses (longer than 65535 bytes)
    with pytest.raises(MilvusError, match="were not written.*7 written before"):
        index.index(docs(20, long_at=10), show_progress=True)
    out = capsys.readouterr().out
    assert "Writing to Milvus collection p" in out and " 35%" in out  # 7 of 20 rows
    assert index._write_progress is False
