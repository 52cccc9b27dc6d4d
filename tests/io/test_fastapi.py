"""Tests of documents in FastAPI: request bodies, response models, the OpenAPI schema,
validation errors and :class:`docstack.io.DocstackResponse`, through a real app and
FastAPI's test client."""

import json
import math
import warnings
from typing import Annotated, Optional

import numpy as np
import pytest
import torch
from fastapi import Body, FastAPI

from docstack import BaseDoc, DocList, DocVec
from docstack.documents import TextDoc
from docstack.errors import SerializationError
from docstack.io import DocstackResponse
from docstack.typing import NdArray, TorchTensor

with warnings.catch_warnings():
    # starlette's test client warns about its httpx backend on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Inner(BaseDoc):
    vec: Optional[NdArray[3]] = None
    note: str = ""


class Item(BaseDoc):
    text: str
    embedding: NdArray[128]
    inner: Optional[Inner] = None
    raw: Optional[bytes] = None


class Query(BaseDoc):
    text: str
    tensor: Optional[TorchTensor[2]] = None


# FastAPI takes a list subclass it cannot see the item type of for uploaded files: a
# DocList body parameter says Body()
ItemsBody = Annotated[DocList[Item], Body()]


def make_items(n: int = 3) -> DocList[Item]:
    rng = np.random.default_rng(1)
    return DocList[Item](
        [
            Item(
                text=f"item {i} ✓",
                embedding=rng.random(128).astype(np.float32),
                inner=Inner(vec=[1.0, 2.0, 3.0 + i]) if i % 2 else Inner(),
                raw=bytes([i, 250, 251]),
            )
            for i in range(n)
        ]
    )


def build_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items", response_model=DocList[Item])
    def echo_items(docs: ItemsBody) -> DocList[Item]:
        assert type(docs) is DocList[Item]
        assert isinstance(docs[0].embedding, np.ndarray)
        return docs

    @app.post("/items-annotated")
    def echo_annotated(docs: Annotated[DocList[Item], Body(embed=False)]) -> DocList[Item]:
        return docs

    @app.post("/first")
    def first(docs: ItemsBody) -> Item:
        return docs[0]

    @app.post("/query")
    def query(doc: Query) -> Query:
        assert isinstance(doc.tensor, TorchTensor) or doc.tensor is None
        return doc

    @app.post("/item", response_model=Item)
    def one(doc: Item) -> Item:
        return doc

    @app.get("/text")
    def text() -> TextDoc:
        return TextDoc(text="hello", id="t1")

    @app.post("/fast", response_class=DocstackResponse)
    def fast(docs: ItemsBody) -> DocstackResponse:
        return DocstackResponse(docs)

    @app.post("/fast-vec", response_class=DocstackResponse)
    def fast_vec(docs: ItemsBody) -> DocstackResponse:
        return DocstackResponse(docs.to_doc_vec())

    @app.post("/fast-model", response_model=DocList[Item], response_class=DocstackResponse)
    def fast_model(docs: ItemsBody) -> DocList[Item]:
        return docs

    @app.get("/scores", response_class=DocstackResponse)
    def scores() -> DocstackResponse:
        return DocstackResponse(
            {
                "numpy": np.array([[0.5, 1.0], [2.0, np.nan]]),
                "torch": torch.tensor([1, 2, 3]),
                "count": np.int64(3),
                "doc": TextDoc(text="x", id="d"),
            }
        )

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(build_app())


def post_json(client: TestClient, url: str, text: str):
    return client.post(url, content=text, headers={"content-type": "application/json"})


# -- request bodies and response models ----------------------------------------------------------


def test_doc_list_body_and_response_model_round_trip(client):
    docs = make_items(4)
    response = post_json(client, "/items", docs.to_json())
    assert response.status_code == 200, response.text
    back = DocList[Item].from_json(response.content)
    assert back == docs
    assert [d.id for d in back] == [d.id for d in docs]
    assert back[0].raw == docs[0].raw
    assert response.json()[0]["embedding"] == docs[0].embedding.tolist()


def test_annotated_body_and_return_annotation(client):
    docs = make_items(2)
    response = post_json(client, "/items-annotated", docs.to_json())
    assert response.status_code == 200, response.text
    assert DocList[Item].from_json(response.text) == docs


def test_doc_vec_json_is_a_valid_body(client):
    dv = make_items(3).to_doc_vec()
    response = post_json(client, "/items", dv.to_json())
    assert response.status_code == 200, response.text
    assert DocVec[Item].from_json(response.content) == dv


def test_response_text_is_to_json_text(client):
    docs = make_items(2)
    response = post_json(client, "/items", docs.to_json())
    assert response.text == docs.to_json()


def test_base_doc_in_and_out(client):
    doc = make_items(2)[1]
    response = post_json(client, "/item", doc.to_json())
    assert response.status_code == 200, response.text
    back = Item.from_json(response.content)
    assert back == doc and back.id == doc.id
    assert back.inner.vec.tolist() == [1.0, 2.0, 4.0]


def test_doc_list_in_single_doc_out(client):
    docs = make_items(3)
    response = post_json(client, "/first", docs.to_json())
    assert response.status_code == 200, response.text
    assert Item.from_json(response.content) == docs[0]


def test_nested_optional_tensor_none(client):
    doc = Item(text="a", embedding=np.zeros(128), inner=Inner(vec=None, note="no vec"))
    response = post_json(client, "/item", doc.to_json())
    assert response.status_code == 200, response.text
    assert response.json()["inner"] == {"id": doc.inner.id, "vec": None, "note": "no vec"}
    back = Item.from_json(response.content)
    assert back.inner.vec is None and back == doc


def test_torch_tensor_field_arrives_as_torch(client):
    response = client.post("/query", json={"text": "q", "tensor": [0.25, 0.5]})
    assert response.status_code == 200, response.text
    assert response.json()["tensor"] == [0.25, 0.5]
    response = client.post("/query", json={"text": "q"})
    assert response.json()["tensor"] is None


def test_ready_document_as_response(client):
    response = client.get("/text")
    assert response.status_code == 200
    assert response.json() == {
        "id": "t1",
        "text": "hello",
        "url": None,
        "embedding": None,
        "bytes_": None,
    }


# -- validation errors ------------------------------------------------------------------------------


def test_bad_body_is_a_422_naming_document_and_field(client):
    rows = json.loads(make_items(3).to_json())
    rows[2]["embedding"] = rows[2]["embedding"][:5]
    response = client.post("/items", json=rows)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", 2, "embedding"]
    assert "expected shape (128,)" in detail[0]["msg"]


def test_missing_field_and_wrong_type_are_422(client):
    response = client.post("/item", json={"embedding": [0.0] * 128})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]
    response = client.post("/query", json={"text": "q", "tensor": ["a", "b"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "tensor"]


def test_not_an_array_is_422(client):
    response = client.post("/items", json={"text": "a"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


# -- OpenAPI ------------------------------------------------------------------------------------------


def test_openapi_schema_of_body_and_response(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/items"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert body["items"] == {"$ref": "#/components/schemas/Item"}
    assert operation["requestBody"]["required"] is True
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["type"] == "array"
    assert response["items"]["$ref"].endswith("/Item")

    item = spec["components"]["schemas"]["Item"]
    assert item["type"] == "object"
    assert set(item["properties"]) == {"id", "text", "embedding", "inner", "raw"}
    assert set(item["required"]) == {"text", "embedding"}
    embedding = item["properties"]["embedding"]
    assert embedding["type"] == "array"
    assert embedding["items"] == {"type": "number"}
    assert embedding["minItems"] == embedding["maxItems"] == 128
    assert item["properties"]["text"]["type"] == "string"

    inner = spec["components"]["schemas"]["Inner"]
    vec = inner["properties"]["vec"]["anyOf"]
    assert {"type": "null"} in vec
    array = next(s for s in vec if s.get("type") == "array")
    assert array["items"] == {"type": "number"} and array["maxItems"] == 3


def test_openapi_schema_of_single_doc_and_torch_tensor(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/item"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Item"}
    query = spec["components"]["schemas"]["Query"]["properties"]["tensor"]["anyOf"]
    array = next(s for s in query if s.get("type") == "array")
    assert array["minItems"] == array["maxItems"] == 2
    assert array["x-docstack-tensor"]["framework"] == "torch"


# -- DocstackResponse ----------------------------------------------------------------------------------


def test_docstack_response_doc_list(client):
    docs = make_items(3)
    response = post_json(client, "/fast", docs.to_json())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.text == docs.to_json()
    assert DocList[Item].from_json(response.content) == docs
    json.loads(response.text)  # valid JSON for any client


def test_docstack_response_doc_vec(client):
    docs = make_items(3)
    response = post_json(client, "/fast-vec", docs.to_json())
    assert response.status_code == 200, response.text
    assert response.text == docs.to_json()
    assert DocVec[Item].from_json(response.content) == docs.to_doc_vec()


def test_docstack_response_as_response_class_with_model(client):
    docs = make_items(2)
    response = post_json(client, "/fast-model", docs.to_json())
    assert response.status_code == 200, response.text
    assert DocList[Item].from_json(response.content) == docs


def test_docstack_response_tensors_and_nan(client):
    response = client.get("/scores")
    assert response.status_code == 200
    assert response.content.startswith(b'{"numpy":[[0.5,1.0],[2.0,NaN]],"torch":[1,2,3],')
    data = json.loads(response.text)  # Python's json reads NaN
    assert math.isnan(data["numpy"][1][1])
    assert data["count"] == 3
    assert data["doc"] == {"id": "d", "text": "x", "url": None, "embedding": None, "bytes_": None}


def test_docstack_response_single_doc_and_list_of_docs():
    doc = TextDoc(text="hi", id="1", embedding=np.array([0.5, 2.0], np.float32))
    assert DocstackResponse(doc).body == doc.to_json().encode()
    other = Inner(vec=[1, 2, 3], id="2")
    body = DocstackResponse([doc, other]).body
    assert json.loads(body) == [json.loads(doc.to_json()), json.loads(other.to_json())]


def test_docstack_response_refuses_unserializable_content():
    with pytest.raises(SerializationError):
        DocstackResponse({"x": object()})


def test_docstack_response_is_exposed_by_docstack_io():
    import docstack.io

    assert docstack.io.DocstackResponse is DocstackResponse
    assert "DocstackResponse" in docstack.io.__all__
