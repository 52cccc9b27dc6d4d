"""The seed's sending examples ("Performant serialization is important", "Sending via REST
API/JSON"), run with ``docstack`` in place of ``docarray`` and the slide's typos mended."""

from __future__ import annotations

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from docstack import BaseDoc, DocList
from docstack.base_doc import DocArrayResponse
from docstack.documents import ImageDoc
from docstack.typing import NdArray


class InputDoc(BaseDoc):
    img: ImageDoc
    text: str


class OutputDoc(BaseDoc):
    embedding_clip: NdArray
    embedding_bert: NdArray


def embed(value: object) -> np.ndarray:
    """A stand-in model: a vector derived from the input's text."""
    rng = np.random.default_rng(abs(hash(str(value))) % 2**32)
    return rng.standard_normal(4).astype(np.float32)


app = FastAPI()


@app.post("/embed/", response_model=OutputDoc, response_class=DocArrayResponse)
async def create_item(doc: InputDoc) -> OutputDoc:
    ## call my fancy model to generate the embeddings
    doc = OutputDoc(embedding_clip=embed(doc.img), embedding_bert=embed(doc.text))
    return doc


def test_fastapi_example_answers_with_embeddings():
    input_doc = InputDoc(text="hello", img=ImageDoc(url="https://example.com/a.png"))
    with TestClient(app) as client:
        response = client.post(
            "/embed/", content=input_doc.to_json(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 200, response.text
    doc = OutputDoc.from_json(response.content)
    np.testing.assert_allclose(doc.embedding_bert, embed("hello"), rtol=1e-6)
    assert doc.embedding_clip.shape == (4,)


def test_fastapi_example_refuses_a_bad_body_naming_the_field():
    with TestClient(app) as client:
        response = client.post("/embed/", json={"text": "no image"})
    assert response.status_code == 422
    assert "img" in response.text


def test_ready_to_wire_methods_of_the_slide():
    """JSON, bytes, files, base64, protobuf, lists and data frames, as the slide lists them."""
    docs = DocList[InputDoc](
        [InputDoc(text=f"t{i}", img=ImageDoc(url=f"https://example.com/{i}.png")) for i in range(3)]
    )
    assert DocList[InputDoc].from_json(docs.to_json()) == docs
    assert DocList[InputDoc].from_bytes(docs.to_bytes(compress="lz4"), compress="lz4") == docs
    assert DocList[InputDoc].from_base64(docs.to_base64()) == docs
    assert DocList[InputDoc].from_protobuf(docs.to_protobuf()) == docs
    assert DocList[InputDoc].from_list(docs.to_list()) == docs
    assert DocList[InputDoc].from_dataframe(docs.to_dataframe()) == docs
