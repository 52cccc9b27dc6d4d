"""Tests of documents in FastAPI: request bodies, response models, the OpenAPI schema,
validation errors and :class:`docstack.io.DocstackResponse`, through a real app and
FastAPI's test client."""

import json
import math
import subprocess
import sys
import typing
import warnings
from typing import Annotated, Optional

import numpy as np
import pytest
import torch
from fastapi import Body, FastAPI
from pydantic import BaseModel

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


class Chunk(BaseDoc):
    text: str
    vec: Optional[NdArray[3]] = None


class Page(BaseDoc):
    title: str
    chunks: DocList[Chunk]


class Batch(BaseModel):
    name: str
    docs: DocList[Item]


# the forms that needed saying before a bare DocList was a body: they must keep working
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
    def echo_items(docs: DocList[Item]) -> DocList[Item]:
        assert type(docs) is DocList[Item]
        assert isinstance(docs[0].embedding, np.ndarray)
        return docs

    @app.post("/items-async")
    async def echo_items_async(docs: DocList[Item]) -> DocList[Item]:
        assert type(docs) is DocList[Item]
        return docs

    @app.post("/items-string-annotation")  # as under `from __future__ import annotations`
    def echo_string_annotation(docs: "DocList[Item]") -> "DocList[Item]":
        assert type(docs) is DocList[Item]
        return docs

    @app.post("/items-body")
    def echo_body(docs: ItemsBody) -> DocList[Item]:
        assert type(docs) is DocList[Item]
        return docs

    @app.post("/items-default-body")
    async def echo_default_body(docs: DocList[Item] = Body()) -> DocList[Item]:  # noqa: B008
        return docs

    @app.post("/items-annotated")
    def echo_annotated(docs: Annotated[DocList[Item], Body(embed=False)]) -> DocList[Item]:
        return docs

    @app.post("/items-embedded")
    def echo_embedded(docs: Annotated[DocList[Item], Body(embed=True)]) -> DocList[Item]:
        return docs

    @app.post("/items-and-query")
    async def items_and_query(docs: DocList[Item], query: Query) -> dict:
        assert type(docs) is DocList[Item]
        return {"n": len(docs), "query": query.text}

    @app.post("/queries")
    def queries(docs: DocList[Query]) -> DocList[Query]:
        assert all(isinstance(d.tensor, TorchTensor) for d in docs)
        return docs

    @app.post("/pages")
    async def pages(docs: DocList[Page]) -> DocList[Page]:
        assert type(docs[0].chunks) is DocList[Chunk]
        return docs

    @app.post("/page")
    def page(doc: Page) -> Page:
        assert type(doc.chunks) is DocList[Chunk]
        return doc

    @app.post("/batch")
    def batch(body: Batch) -> Batch:
        assert type(body.docs) is DocList[Item]
        return body

    @app.post("/first")
    def first(docs: DocList[Item]) -> Item:
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
    def fast(docs: DocList[Item]) -> DocstackResponse:
        return DocstackResponse(docs)

    @app.post("/fast-vec", response_class=DocstackResponse)
    def fast_vec(docs: DocList[Item]) -> DocstackResponse:
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


# -- a bare DocList parameter is a JSON body ------------------------------------------------------


def test_doc_list_shows_fastapi_its_document_type():
    # FastAPI reads a list subclass whose typing.get_args() are () as a list of uploaded files
    assert typing.get_args(DocList[Item]) == (Item,)
    assert typing.get_origin(DocList[Item]) is DocList
    # ... and it is still a real class of real lists
    assert isinstance(DocList[Item], type) and issubclass(DocList[Item], list)
    assert issubclass(DocList[Item], typing.Sequence) and issubclass(DocList[Item], typing.List)
    assert type(DocList[Item]([])) is DocList[Item] and DocList[Item][Item] is DocList[Item]
    assert typing.get_type_hints(Page)["chunks"] is DocList[Chunk]
    assert repr(DocList[Item]) == "<class 'docstack.array.doc_list.DocList[Item]'>"


@pytest.mark.parametrize("url", ["/items", "/items-async", "/items-string-annotation"])
def test_bare_doc_list_body_sync_and_async(client, url):
    route = next(r for r in client.app.routes if getattr(r, "path", None) == url)
    assert type(route.body_field.field_info).__name__ == "Body"  # not File, not Form
    docs = make_items(3)
    response = post_json(client, url, docs.to_json())
    assert response.status_code == 200, response.text
    back = DocList[Item].from_json(response.content)
    assert back == docs and [d.id for d in back] == [d.id for d in docs]
    assert back[1].inner.vec.tolist() == [1.0, 2.0, 4.0]
    assert back[2].raw == docs[2].raw
    assert response.json()[0]["embedding"] == docs[0].embedding.tolist()


def test_bare_doc_list_of_torch_tensors(client):
    rows = [{"text": "a", "tensor": [0.5, 1.5]}, {"text": "b", "tensor": [2.0, 3.0]}]
    response = client.post("/queries", json=rows)
    assert response.status_code == 200, response.text
    assert [r["tensor"] for r in response.json()] == [[0.5, 1.5], [2.0, 3.0]]


def test_empty_doc_list_body(client):
    response = client.post("/items-async", json=[])
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize("url", ["/items-body", "/items-default-body", "/items-annotated"])
def test_body_forms_still_work(client, url):
    docs = make_items(2)
    response = post_json(client, url, docs.to_json())
    assert response.status_code == 200, response.text
    assert DocList[Item].from_json(response.content) == docs


def test_embedded_body(client):
    docs = make_items(2)
    response = client.post("/items-embedded", json={"docs": json.loads(docs.to_json())})
    assert response.status_code == 200, response.text
    assert DocList[Item].from_json(response.content) == docs
    response = post_json(client, "/items-embedded", docs.to_json())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "docs"]


def test_doc_list_beside_another_body_parameter(client):
    rows = json.loads(make_items(2).to_json())
    response = client.post("/items-and-query", json={"docs": rows, "query": {"text": "q"}})
    assert response.status_code == 200, response.text
    assert response.json() == {"n": 2, "query": "q"}
    rows[1]["embedding"] = "not a vector"
    response = client.post("/items-and-query", json={"docs": rows, "query": {"text": "q"}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "docs", 1, "embedding"]


def test_doc_list_nested_in_documents(client):
    pages = DocList[Page](
        [
            Page(title="p1", chunks=[Chunk(text="a", vec=[1, 2, 3]), Chunk(text="b")]),
            Page(title="p2", chunks=[]),
        ]
    )
    response = post_json(client, "/pages", pages.to_json())
    assert response.status_code == 200, response.text
    back = DocList[Page].from_json(response.content)
    assert back == pages
    assert back[0].chunks[0].vec.tolist() == [1.0, 2.0, 3.0]
    response = post_json(client, "/page", pages[0].to_json())
    assert response.status_code == 200, response.text
    assert Page.from_json(response.content) == pages[0]

    rows = json.loads(pages.to_json())
    rows[0]["chunks"][1]["vec"] = [1.0, 2.0]
    response = client.post("/pages", json=rows)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 0, "chunks", 1, "vec"]


def test_doc_list_in_a_pydantic_model_body(client):
    docs = make_items(2)
    response = client.post("/batch", json={"name": "b", "docs": json.loads(docs.to_json())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "b"
    assert DocList[Item].from_json(json.dumps(body["docs"])) == docs
    response = client.post("/batch", json={"name": "b", "docs": [{"text": "no embedding"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "docs", 0, "embedding"]


def test_bare_body_needs_no_python_multipart():
    script = """
import sys, warnings
sys.modules["python_multipart"] = None  # importing either now fails
sys.modules["multipart"] = None
from fastapi import FastAPI
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from docstack import DocList
from docstack.documents import TextDoc

app = FastAPI()

@app.post("/echo")
async def echo(docs: DocList[TextDoc]) -> DocList[TextDoc]:
    return docs

@app.post("/echo-sync")
def echo_sync(docs: DocList[TextDoc]) -> DocList[TextDoc]:
    return docs

client = TestClient(app)
for url in ("/echo", "/echo-sync"):
    response = client.post(url, json=[{"text": "a", "id": "1"}])
    assert response.status_code == 200, response.text
    assert response.json()[0]["text"] == "a", response.text
print("served without python-multipart")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "served without python-multipart" in result.stdout


def test_doc_vec_is_a_request_body():
    app = FastAPI()

    @app.post("/vec")
    def vec(docs: DocVec[Item]) -> list[str]:
        assert type(docs) is DocVec[Item]
        return list(docs.id)

    client = TestClient(app)
    dv = make_items(3).to_doc_vec()
    response = post_json(client, "/vec", dv.to_json())
    assert response.status_code == 200, response.text
    assert response.json() == list(dv.id)
    bad = post_json(client, "/vec", '[{"id": "a", "text": 5}]')
    assert bad.status_code == 422


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


def test_openapi_of_bare_nested_and_embedded_bodies(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def body_schema(url):
        request_body = spec["paths"][url]["post"]["requestBody"]
        assert request_body["required"] is True
        assert list(request_body["content"]) == ["application/json"]  # no form data
        return request_body["content"]["application/json"]["schema"]

    for url in ("/items-async", "/items-body", "/items-default-body", "/items-annotated"):
        body = body_schema(url)
        assert body["type"] == "array" and body["items"] == {"$ref": "#/components/schemas/Item"}

    pages = body_schema("/pages")
    assert pages["items"] == {"$ref": "#/components/schemas/Page"}
    chunks = schemas["Page"]["properties"]["chunks"]
    assert chunks["type"] == "array" and chunks["items"] == {"$ref": "#/components/schemas/Chunk"}
    assert schemas["Chunk"]["properties"]["vec"]["anyOf"][0]["maxItems"] == 3

    embedded = schemas[body_schema("/items-embedded")["$ref"].rsplit("/", 1)[1]]
    assert embedded["required"] == ["docs"]
    assert embedded["properties"]["docs"]["items"] == {"$ref": "#/components/schemas/Item"}

    batch = schemas[body_schema("/batch")["$ref"].rsplit("/", 1)[1]]["properties"]["docs"]
    assert batch["type"] == "array" and batch["items"] == {"$ref": "#/components/schemas/Item"}

    queries = body_schema("/queries")
    assert queries["items"] == {"$ref": "#/components/schemas/Query"}


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
