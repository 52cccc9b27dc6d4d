"""Schema-declared embeddings: the checks made when the schema is read, and reopening."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc
from docstack.embed import Encoder
from docstack.index import EncoderMismatchError, HnswDocumentIndex, InMemoryExactNNIndex
from docstack.typing import NdArray


class Hashing(Encoder):
    """Texts hashed into buckets: a deterministic real model with a name of our choice."""

    modalities = frozenset({"text"})

    def __init__(self, name: str = "hashing", dim: int = 4) -> None:
        self.name, self.dim = name, dim

    def _encode_batch(self, items, modality):
        out = np.zeros((len(items), self.dim), np.float32)
        for i, t in enumerate(items):
            for w in t.split():
                out[i, sum(map(ord, w)) % self.dim] += 1
        return out + 0.01


def _doc_class(encoder, dim=4):
    class Note(BaseDoc):
        text: str
        embedding: NdArray[dim] = Field(embed_from="text", encoder=encoder)

    return Note


def test_a_document_may_leave_the_vector_out():
    Note = _doc_class(Hashing())
    assert Note(text="x").embedding is None
    # the encoder object is not in the JSON schema (OpenAPI pages serialise it)
    schema = json.dumps(Note.model_json_schema())
    assert '"embed_from": "text"' in schema and '"encoder": "hashing"' in schema


def test_reopening_with_another_encoder_is_a_clear_error(tmp_path):
    index = HnswDocumentIndex[_doc_class(Hashing("model-a"))](work_dir=str(tmp_path))
    index.index(_doc_class(Hashing("model-a"))(id="1", text="alpha beta"))
    del index
    # the same encoder reopens
    same = HnswDocumentIndex[_doc_class(Hashing("model-a"))](work_dir=str(tmp_path))
    assert same.num_docs() == 1
    del same
    with pytest.raises(EncoderMismatchError, match="model-a.*model-b"):
        HnswDocumentIndex[_doc_class(Hashing("model-b"))](work_dir=str(tmp_path))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: _doc_class(Hashing(dim=5), dim=4), "dimension 4.*answers 5"),
        (lambda: _doc_class("not an encoder"), "no encoder"),
        (lambda: _doc_class(object()), "must be a docstack.embed.Encoder"),
    ],
)
def test_bad_declarations_name_the_field(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        InMemoryExactNNIndex[build()]()


def test_embed_from_must_name_a_field_the_encoder_takes():
    class Missing(BaseDoc):
        text: str
        embedding: NdArray[4] = Field(embed_from="body", encoder=Hashing())

    with pytest.raises(ValueError, match="'body'"):
        InMemoryExactNNIndex[Missing]()

    class Number(BaseDoc):
        count: int
        embedding: NdArray[4] = Field(embed_from="count", encoder=Hashing())

    with pytest.raises(ValueError, match="int field"):
        InMemoryExactNNIndex[Number]()

    from docstack.typing import ImageNdArray

    class Picture(BaseDoc):
        image: ImageNdArray
        embedding: NdArray[4] = Field(embed_from="image", encoder=Hashing())

    with pytest.raises(ValueError, match="takes \\['text'\\].*image"):
        InMemoryExactNNIndex[Picture]()


def test_an_image_query_on_a_text_encoder_is_refused_and_text_queries_need_the_field():
    index = InMemoryExactNNIndex[_doc_class(Hashing())]()
    index.index(_doc_class(Hashing())(text="alpha"))

    class Plain(BaseDoc):
        emb: NdArray[2]

    plain = InMemoryExactNNIndex[Plain]()
    with pytest.raises(TypeError, match="document or a vector"):
        plain.find("alpha", search_field="emb")
    assert index.find("alpha", search_field="embedding", limit=1).documents.text == ["alpha"]


def test_an_untyped_vector_takes_the_encoder_dimension():
    from docstack.typing import NdArray as Any1d

    class Loose(BaseDoc):
        text: str
        embedding: Any1d = Field(embed_from="text", encoder=Hashing(dim=6))

    index = InMemoryExactNNIndex[Loose]()
    assert index._schema.columns["embedding"].dim == 6
    index.index(Loose(text="a b"))
    assert np.asarray(index[index.filter({}).id[0]].embedding).shape == (6,)


def _reopen_checks(open_index):
    first = open_index(Hashing("model-a"))
    first.index(_doc_class(Hashing("model-a"))(id="1", text="alpha"))
    if hasattr(first, "close"):
        first.close()
    again = open_index(Hashing("model-a"))
    assert again.num_docs() == 1
    if hasattr(again, "close"):
        again.close()
    with pytest.raises(EncoderMismatchError, match="model-a"):
        open_index(Hashing("model-b"))


def test_milvus_records_the_encoder_in_the_collection(tmp_path):
    pytest.importorskip("milvus_lite", reason="pip install 'docstack[milvus]'")
    from docstack.index import MilvusDocumentIndex

    uri = str(tmp_path / "m.db")
    _reopen_checks(lambda enc: MilvusDocumentIndex[_doc_class(enc)](uri=uri, index_name="notes"))


def test_qdrant_records_the_encoder_in_the_collection(tmp_path):
    pytest.importorskip("qdrant_client", reason="pip install 'docstack[qdrant]'")
    from docstack.index import QdrantDocumentIndex

    path = str(tmp_path / "q")
    _reopen_checks(
        lambda enc: QdrantDocumentIndex[_doc_class(enc)](path=path, collection_name="notes")
    )


def test_an_encoder_without_embed_from_embeds_queries_only():
    class Given(BaseDoc):
        text: str
        embedding: NdArray[4] = Field(json_schema_extra={"encoder": Hashing()})

    with pytest.raises(ValueError):
        Given(text="no vector")  # still required: nothing computes it
    index = InMemoryExactNNIndex[Given]()
    enc = Hashing()
    index.index([Given(id=t, text=t, embedding=enc.encode([t])[0]) for t in ("ab", "cd ef")])
    assert index.find("cd ef", search_field="embedding", limit=1).documents.id == ["cd ef"]
