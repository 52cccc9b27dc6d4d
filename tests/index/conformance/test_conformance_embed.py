"""Embeddings declared in the schema (``Field(embed_from=..., encoder=...)``), on every backend."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack.embed import Encoder, EncoderError
from docstack.typing import ImageNdArray, NdArray

WORDS = ["red", "green", "blue", "apple", "sky", "grass", "car", "sea"]


class WordCounts(Encoder):
    """A real (if small) text model: counts of a fixed vocabulary, plus one constant."""

    name, dim = "word-counts", len(WORDS) + 1

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def _encode_batch(self, items, modality):
        self.calls.append(list(items))
        rows = [[t.lower().split().count(w) for w in WORDS] + [0.5] for t in items]
        return np.asarray(rows, dtype=np.float32)


class ColourSpace(Encoder):
    """Texts and images in one space: colour words, and the mean colour of an image."""

    name, dim = "colour-space", 3
    modalities = frozenset({"text", "image"})

    def _encode_batch(self, items, modality):
        if modality == "text":
            table = {"red": [1, 0, 0], "green": [0, 1, 0], "blue": [0, 0, 1]}
            rows = [np.sum([table.get(w, [0.1, 0.1, 0.1]) for w in t.split()], 0) for t in items]
            return np.asarray(rows, dtype=np.float32) + 0.01
        return np.stack([np.asarray(img, np.float32).mean(axis=(0, 1)) / 255 for img in items])


ENCODER = WordCounts()


class Page(BaseDoc):
    text: str
    year: int = 2020
    embedding: NdArray[9] = Field(embed_from="text", encoder=ENCODER)


class Passage(BaseDoc):
    text: str
    embedding: NdArray[9] = Field(embed_from="text", encoder=ENCODER)


class Article(BaseDoc):
    title: str
    passages: DocList[Passage]


SPACE = ColourSpace()


class Item(BaseDoc):
    modality: str
    text: Optional[str] = None
    image: Optional[ImageNdArray] = None
    embedding: NdArray[3] = Field(embed_from=("text", "image"), encoder=SPACE)


def _pages():
    texts = ["red apple", "green grass", "blue sky", "blue sea", "red car red"]
    return DocList[Page]([Page(id=f"p{i}", text=t, year=2000 + i) for i, t in enumerate(texts)])


def test_index_computes_missing_vectors_and_find_embeds_the_text(make_index):
    ENCODER.calls.clear()
    index = make_index(Page)
    index.index(_pages())
    assert sum(len(c) for c in ENCODER.calls) == 5
    stored = index["p4"].embedding
    assert np.asarray(stored).tolist() == [2, 0, 0, 0, 0, 0, 1, 0, 0.5]
    docs, scores = index.find("red", search_field="embedding", limit=2)
    assert set(docs.id) == {"p0", "p4"} and docs.id[0] == "p4"
    assert scores[0] >= scores[1]


def test_find_batched_query_builder_and_query_documents_embed_too(make_index):
    index = make_index(Page)
    index.index(_pages())
    batched = index.find_batched(["blue sea", "green"], search_field="embedding", limit=1)
    assert [d.id for d in batched.documents] == [["p3"], ["p1"]]
    q = (
        index.build_query()
        .find("blue", search_field="embedding")
        .filter({"year": {"$gte": 2003}})
        .build(limit=3)
    )
    assert index.execute_query(q).documents.id[0] == "p3"
    docs, _ = index.find(Page(text="grass"), search_field="embedding", limit=1)
    assert docs.id == ["p1"]


def test_unchanged_source_keeps_its_vector_without_the_model(make_index):
    index = make_index(Page)
    index.index(_pages())
    ENCODER.calls.clear()
    index.index(Page(id="p0", text="red apple", year=1))  # same text, another year
    assert ENCODER.calls == []
    assert index["p0"].year == 1
    index.index(Page(id="p0", text="green apple"))
    assert ENCODER.calls == [["green apple"]]
    # a vector the document brings is kept as given, never recomputed
    own = np.arange(9, dtype=np.float32)
    index.index(Page(id="p9", text="sea", embedding=own))
    assert np.asarray(index["p9"].embedding).tolist() == own.tolist()
    assert ENCODER.calls == [["green apple"]]
    index.find("green", search_field="embedding", limit=1)  # the query is embedded
    assert ENCODER.calls == [["green apple"], ["green"]]


def test_chunks_in_a_subindex_are_embedded(make_index):
    index = make_index(Article)
    index.index(
        Article(
            id="a",
            title="colours",
            passages=[Passage(id="a0", text="red car"), Passage(id="a1", text="blue sea")],
        )
    )
    found = index.find_subindex("sea", subindex="passages", search_field="embedding", limit=1)
    roots, subs, _ = found
    assert subs.id == ["a1"] and roots.id == ["a"]


def test_texts_and_images_share_one_space_and_filter_by_modality(make_index):
    from docstack.index import find_by_modality

    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((4, 4, 3), np.uint8)
    blue[..., 2] = 255
    index = make_index(Item)
    index.index(
        DocList[Item](
            [
                Item(id="t-red", modality="text", text="red red"),
                Item(id="t-blue", modality="text", text="blue"),
                Item(id="i-red", modality="image", image=red),
                Item(id="i-blue", modality="image", image=blue),
            ]
        )
    )
    out = find_by_modality(index, "blue", search_field="embedding", limit=2)
    assert out["image"].documents.id[0] == "i-blue"
    assert out["text"].documents.id[0] == "t-blue"
    assert set(out["fused"].documents.id[:2]) == {"i-blue", "t-blue"}
    assert set(out["image"].documents.modality) == {"image"}


def test_a_wrong_answer_from_the_model_writes_nothing(make_index):
    class Broken(WordCounts):
        def _encode_batch(self, items, modality):
            return np.zeros((len(items), 4), np.float32)

    class Bad(BaseDoc):
        text: str
        embedding: NdArray[9] = Field(embed_from="text", encoder=Broken())

    index = make_index(Bad)
    with pytest.raises(EncoderError, match="expected"):
        index.index(Bad(text="red"))
    assert index.num_docs() == 0
