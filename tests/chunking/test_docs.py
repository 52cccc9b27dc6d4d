"""ChunkDoc, chunk() over parent documents, group_by_parent, and search end to end."""

from __future__ import annotations

import numpy as np
import pytest
from chunking_helpers import CARS, CATS, HashedWords

from docstack import BaseDoc, DocList
from docstack.chunking import (
    ChunkDoc,
    ChunkingError,
    FixedSizeChunker,
    LateChunker,
    SentenceChunker,
    chunk,
    group_by_parent,
)
from docstack.documents import TextDoc
from docstack.errors import DocTypeError
from docstack.index import InMemoryExactNNIndex
from docstack.typing import NdArray


class Article(BaseDoc):
    title: str = ""
    body: str = ""


def test_chunk_gives_parents_with_positioned_chunks():
    docs = [TextDoc(id="a", text="One here. Two there."), TextDoc(id="b", text="")]
    out = chunk(docs, SentenceChunker())
    assert type(out[0]).__name__ == "TextDocWithChunks" and isinstance(out[0], TextDoc)
    assert out.id == ["a", "b"]
    assert [(c.text, c.position, c.parent_id) for c in out[0].chunks] == [
        ("One here.", 0, "a"),
        ("Two there.", 1, "a"),
    ]
    assert len(out[1].chunks) == 0
    for c in out[0].chunks:
        assert out[0].text[c.start : c.end] == c.text
    assert not hasattr(docs[0], "chunks")  # the inputs are left as they were


def test_chunk_uses_an_existing_chunks_field_and_its_chunk_type():
    class ChunkVec(ChunkDoc):
        embedding: NdArray[256] | None = None

    class Page(BaseDoc):
        body: str
        parts: DocList[ChunkVec] = DocList[ChunkVec]()

    out = chunk(
        [Page(id="p", body="Cats purr. Cars drive.")],
        SentenceChunker(),
        text_field="body",
        chunks_field="parts",
        encoder=HashedWords(),
    )
    assert type(out[0]) is Page
    assert all(isinstance(c, ChunkVec) for c in out[0].parts)
    assert out[0].parts[0].embedding.shape == (256,)
    with pytest.raises(ChunkingError, match="must be a DocList of ChunkDoc"):
        chunk([Article(body="x")], SentenceChunker(), text_field="body", chunks_field="title")


def test_chunk_errors_name_the_document_and_field():
    class Loose(BaseDoc):
        text: object = None

    with pytest.raises(DocTypeError, match=r"document 'd7': field 'text' holds a int"):
        chunk([Loose(id="d7", text=3)], SentenceChunker())
    with pytest.raises(DocTypeError, match=r"document 'd8'.*no field 'content'"):
        chunk([TextDoc(id="d8", text="x")], SentenceChunker(), text_field="content")
    with pytest.raises(DocTypeError, match=r"'d9': field 'text' holds a NoneType"):
        chunk([TextDoc(id="d9")], SentenceChunker())


def test_chunk_with_repair_stores_the_repaired_text():
    pytest.importorskip("ftfy")
    out = chunk([TextDoc(id="m", text="Thatâ€™s fine. Yes.")], SentenceChunker(repair=True))
    assert out[0].text == "That’s fine. Yes."
    assert [c.text for c in out[0].chunks] == ["That’s fine.", "Yes."]


def test_late_chunk_embeddings_are_kept_by_chunk():
    def tokens(text):
        spans = np.array([[i, i + 1] for i, ch in enumerate(text) if ch.isalpha()])
        return np.ones((len(spans), 3)) * np.arange(len(spans))[:, None], spans

    out = chunk([TextDoc(id="x", text="Ab. Cd.")], LateChunker(tokens), encoder=HashedWords())
    assert [c.embedding.tolist() for c in out[0].chunks] == [[0.5] * 3, [2.5] * 3]


def test_group_by_parent_ranks_parents_by_their_best_chunk():
    hits = [ChunkDoc(id=f"c{i}", parent_doc_id=p) for i, p in enumerate("abacbd")]
    dists = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    groups = group_by_parent(hits, dists, limit=3, chunks_per_parent=2)
    assert [g.parent_id for g in groups] == ["a", "b", "c"]
    assert [c.id for c in groups[0].chunks] == ["c0", "c2"]
    assert groups[0].chunk_scores.tolist() == [0.1, 0.3] and groups[1].score == 0.2
    # the same hits as similarities, given unordered with the direction named
    sims = [0.9, 0.1, 0.2, 0.95, 0.3, 0.0]
    groups = group_by_parent(hits, sims, limit=2, higher_is_better=True)
    assert [(g.parent_id, g.score) for g in groups] == [("c", 0.95), ("a", 0.9)]
    with pytest.raises(ChunkingError, match="higher_is_better"):
        group_by_parent(hits, sims)
    with pytest.raises(ChunkingError, match="6 chunks but 2 scores"):
        group_by_parent(hits, [1, 2])
    with pytest.raises(ChunkingError, match="no parent_doc_id"):
        group_by_parent([ChunkDoc()], [1.0])
    assert group_by_parent([], [], limit=3) == []


def test_search_chunks_as_a_subindex_and_group_hits_into_parents():
    texts = {
        "cats": " ".join(CATS),
        "cars": " ".join(CARS),
        "mixed": f"{CARS[0]} {CATS[1]} {CARS[2]}",
    }
    encoder = HashedWords()
    parents = chunk(
        [TextDoc(id=k, text=v) for k, v in texts.items()], SentenceChunker(), encoder=encoder
    )
    index = InMemoryExactNNIndex[type(parents[0])]()
    index.index(parents)
    query = encoder.encode(["a cat chases mice around the barn"])[0]
    result = index.find_subindex(query, subindex="chunks", search_field="embedding", limit=6)
    groups = group_by_parent(result, limit=2, chunks_per_parent=2)
    # both parents holding the cat sentence rank first, each with its best chunks
    assert {g.parent_id for g in groups} == {"cats", "mixed"}
    assert all(g.chunks[0].text == CATS[1] for g in groups)
    assert groups[0].parent is not None and groups[0].parent.id == groups[0].parent_id
    assert groups[0].score == pytest.approx(1.0, abs=1e-5)
    # a flat FindResult of chunks gives the same parents
    chunks_index = InMemoryExactNNIndex[ChunkDoc]()
    chunks_index.index(DocList[ChunkDoc]([c for p in parents for c in p.chunks]))
    flat = chunks_index.find(query, search_field="embedding", limit=6)
    assert [g.parent_id for g in group_by_parent(flat, limit=2)] == [g.parent_id for g in groups]


def test_fixed_size_chunks_of_many_documents_index_and_filter_by_parent():
    parents = chunk(
        [TextDoc(id=f"d{i}", text=("word " * 40) + str(i)) for i in range(5)],
        FixedSizeChunker(50, overlap=10),
        encoder=HashedWords(),
    )
    flat = DocList[ChunkDoc]([c for p in parents for c in p.chunks])
    index = InMemoryExactNNIndex[ChunkDoc]()
    index.index(flat)
    found = index.filter({"parent_doc_id": {"$eq": "d3"}}, limit=100)
    assert len(found) == len(parents[3].chunks)
    assert sorted(found.chunk_position) == list(range(len(parents[3].chunks)))


def test_chunks_with_a_fixed_dimension_index_in_the_embedded_hnsw_index(tmp_path):
    pytest.importorskip("hnswlib")
    from docstack.index import HnswDocumentIndex

    class Chunk256(ChunkDoc):
        embedding: NdArray[256] | None = None

    encoder = HashedWords()
    parents = chunk(
        [TextDoc(id="cats", text=" ".join(CATS)), TextDoc(id="cars", text=" ".join(CARS))],
        SentenceChunker(),
        encoder=encoder,
        chunk_type=Chunk256,
    )
    assert all(isinstance(c, Chunk256) for p in parents for c in p.chunks)
    index = HnswDocumentIndex[type(parents[0])](work_dir=str(tmp_path))
    index.index(parents)
    query = encoder.encode(["electric cars charge batteries"])[0]
    found = index.find_subindex(query, subindex="chunks", search_field="embedding", limit=4)
    best = group_by_parent(found, limit=1)[0]
    assert best.parent_id == "cars" and best.chunks[0].text == CARS[2]
