"""The HTTP API of docstack.server, over FastAPI's TestClient: each endpoint and each bad
request (a clear 4xx, never a 500)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from docstack.server import create_app

from .conftest import API_KEY, COLOURS, ColourEncoder


@pytest.fixture()
def app(served, media_dir):
    return create_app(served, media_roots=[media_dir], max_limit=50, max_page_size=25)


@pytest.fixture()
def client(app):
    return TestClient(app, raise_server_exceptions=True)


@pytest.fixture()
def writer(served):
    return TestClient(create_app(served, writable=True, api_key=API_KEY))


def png(rgb, size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, "PNG")
    return out.getvalue()


def ids(body) -> list[str]:
    return [d["id"] for d in body["documents"]]


# ---------------------------------------------------------------- indexes and schema


def test_lists_indexes_with_counts_and_schema(client):
    body = client.get("/api/indexes").json()
    by_name = {i["name"]: i for i in body["indexes"]}
    assert set(by_name) == {"products", "moments", "points", "clips"}
    products = by_name["products"]
    assert products["num_docs"] == 30
    assert products["document_type"] == "Product"
    (vector,) = products["vector_fields"]
    assert vector["name"] == "embedding" and vector["dim"] == 3
    assert vector["metric"] == "cosine" and vector["higher_is_better"] is True
    assert vector["encoder"]["name"] == "colour"
    assert vector["encoder"]["modalities"] == ["image", "text"]
    fields = {f["name"]: f for f in products["fields"]}
    assert fields["year"]["kind"] == "int" and fields["year"]["filterable"]
    assert fields["image"]["media"] == "image" and fields["image"]["media_source"] == "tensor"
    assert products["default_text_field"] == "title"
    assert by_name["points"]["vector_fields"][0]["higher_is_better"] is False
    assert by_name["moments"]["moment"] == {"start": "start", "end": "end", "video": "video"}


def test_unknown_index_is_404_naming_the_indexes(client):
    r = client.get("/api/indexes/nope")
    assert r.status_code == 404
    assert "unknown index 'nope'" in r.json()["detail"] and "products" in r.json()["detail"]
    assert client.post("/api/indexes/nope/search", json={"text": "x"}).status_code == 404


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/indexes/{name}/search" in paths
    assert "/api/indexes/{name}/docs" in paths


# ---------------------------------------------------------------- documents


def test_pages_documents_in_insertion_order(client):
    body = client.get("/api/indexes/products/docs?offset=5&limit=3").json()
    assert ids(body) == ["p5", "p6", "p7"]
    assert body["total"] == 30 and body["offset"] == 5
    image = body["documents"][0]["image"]
    assert np.asarray(image).shape == (24, 32, 3)  # full: tensors as lists
    assert body["tensor_info"][0]["image"] == {"shape": [24, 32, 3], "dtype": "uint8"}


def test_summary_pages_leave_tensors_out(client):
    body = client.get("/api/indexes/products/docs?limit=2&tensors=summary").json()
    assert body["documents"][0]["image"] is None
    assert body["documents"][0]["embedding"] is None
    assert body["tensor_info"][1]["embedding"] == {"shape": [3], "dtype": "float32"}


def test_page_size_over_the_cap_is_422_naming_limit(client):
    r = client.get("/api/indexes/products/docs?limit=26")
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["query", "limit"] and "25" in detail["msg"]
    assert client.get("/api/indexes/products/docs?offset=-1").status_code == 422


def test_get_by_id_and_unknown_id(client):
    doc = client.get("/api/indexes/products/docs/p3").json()
    assert doc["title"] == "yellow mug number 3" and doc["year"] == 2003
    r = client.get("/api/indexes/products/docs/missing")
    assert r.status_code == 404 and "missing" in r.json()["detail"]


# ---------------------------------------------------------------- searches


def test_text_search_is_bm25_higher_is_better(client):
    body = client.post("/api/indexes/products/search", json={"text": "lamp", "limit": 50}).json()
    assert body["mode"] == "text" and body["score"] == "bm25"
    assert body["higher_is_better"] is True and body["score_label"] == "higher is better"
    assert len(ids(body)) == 15 and all("lamp" in d["title"] for d in body["documents"])
    assert body["scores"] == sorted(body["scores"], reverse=True)


def test_filter_narrows_a_text_search(client):
    req = {"text": "lamp", "filter": {"year": {"$gte": 2020}, "in_stock": True}, "limit": 50}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert ids(body) and all(d["year"] >= 2020 and d["in_stock"] for d in body["documents"])
    assert set(ids(body)) == {"p20", "p22", "p26", "p28"}


def test_filter_only(client):
    req = {"filter": {"price": {"$lt": 3}}, "tensors": "summary"}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert body["mode"] == "filter" and ids(body) == ["p0", "p1", "p2"]
    assert body["scores"] is None and body["higher_is_better"] is None


def test_vector_search_by_vector(client):
    req = {"vector": list(COLOURS["blue"]), "limit": 3}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert body["mode"] == "vector" and body["score"] == "cosine"
    assert all(d["title"].startswith("blue") for d in body["documents"])


def test_vector_search_by_text_through_the_encoder(client):
    req = {"text": "something green", "mode": "vector", "limit": 4}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert all(d["title"].startswith("green") for d in body["documents"])


def test_search_results_leave_tensors_out_unless_asked(client):
    req = {"text": "something blue", "mode": "vector", "limit": 2}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert [d["embedding"] for d in body["documents"]] == [None, None]
    assert [d["image"] for d in body["documents"]] == [None, None]
    assert body["tensor_info"][0]["embedding"] == {"shape": [3], "dtype": "float32"}
    full = client.post("/api/indexes/products/search", json={**req, "tensors": "full"}).json()
    assert ids(full) == ids(body)
    assert np.asarray(full["documents"][0]["embedding"]).shape == (3,)
    assert np.asarray(full["documents"][0]["image"]).shape == (24, 32, 3)


def test_search_results_leave_nested_tensors_out_unless_asked(client):
    body = client.post("/api/indexes/clips/search", json={"filter": {}}).json()
    sound = body["documents"][0]["sound"]
    assert sound["tensor"] is None and sound["frame_rate"] == 8000
    assert body["tensor_info"][0]["sound__tensor"]["dtype"] == "float32"
    full = client.post("/api/indexes/clips/search", json={"tensors": "full"}).json()
    assert len(full["documents"][0]["sound"]["tensor"]) > 0


def test_image_search_leaves_tensors_out_unless_asked(client):
    files = {"file": ("q.png", png(COLOURS["red"]), "image/png")}
    body = client.post("/api/indexes/products/search/image", files=files).json()
    assert body["documents"] and body["documents"][0]["embedding"] is None
    full = client.post(
        "/api/indexes/products/search/image", files=files, data={"tensors": "full"}
    ).json()
    assert len(full["documents"][0]["embedding"]) == 3


def test_hybrid_search_fuses_text_and_vector(client):
    req = {"text": "red mug", "mode": "hybrid", "limit": 5}
    body = client.post("/api/indexes/products/search", json=req).json()
    assert body["mode"] == "hybrid" and body["score"] == "rrf" and body["higher_is_better"]
    assert body["documents"][0]["title"].startswith("red mug")


def test_more_like_this_excludes_the_document_itself(client):
    body = client.post("/api/indexes/products/search", json={"like_id": "p0", "limit": 5}).json()
    assert "p0" not in ids(body)
    assert all(d["title"].startswith("red") for d in body["documents"][:5])
    r = client.post("/api/indexes/products/search", json={"like_id": "zzz"})
    assert r.status_code == 404 and "zzz" in r.json()["detail"]


def test_distance_metric_is_lower_is_better(client):
    body = client.post("/api/indexes/points/search", json={"vector": [0.9, 0], "limit": 2}).json()
    assert body["higher_is_better"] is False and body["score_label"] == "lower is better"
    assert ids(body) == ["q1", "q0"] and body["scores"][0] < body["scores"][1]


@pytest.mark.parametrize(
    ("request_body", "status", "needle"),
    [
        ({"text": "x", "filter": {"yeer": {"$gt": 1}}}, 400, "yeer"),
        ({"text": "x", "filter": {"year": {"$between": 1}}}, 400, "$between"),
        ({"text": "x", "text_field": "nope"}, 400, "nope"),
        ({"vector": [1, 2], "limit": 1}, 400, "dimension 2"),
        ({"vector": [1, 2, 3], "vector_field": "title"}, 400, "title"),
        ({"text": "x", "limit": 51}, 422, "50"),
        ({"text": "x", "bogus": 1}, 422, "bogus"),
        ({"mode": "text"}, 400, "text"),
        ({"text": "x", "score_threshold": "high"}, 422, "score_threshold"),
    ],
)
def test_bad_search_requests_are_4xx_saying_why(client, request_body, status, needle):
    r = client.post("/api/indexes/products/search", json=request_body)
    assert r.status_code == status, r.text
    assert needle in r.text


def test_text_vector_search_without_an_encoder_is_400(client):
    r = client.post("/api/indexes/points/search", json={"text": "x", "mode": "vector"})
    assert r.status_code == 400 and "no encoder" in r.json()["detail"]


def test_search_by_uploaded_image(client):
    files = {"file": ("q.png", png((25, 190, 45)), "image/png")}
    r = client.post("/api/indexes/products/search/image", files=files, data={"limit": "4"})
    assert r.status_code == 200, r.text
    assert all(d["title"].startswith("green") for d in r.json()["documents"])
    data = {"limit": "30", "filter": '{"year": {"$lt": 2010}}'}
    r = client.post("/api/indexes/products/search/image", files=files, data=data)
    assert r.status_code == 200 and len(ids(r.json())) == 10
    assert all(d["year"] < 2010 for d in r.json()["documents"])


@pytest.mark.parametrize(
    ("index", "payload", "data", "status", "needle"),
    [
        ("points", png((1, 2, 3)), {}, 400, "no encoder that embeds images"),
        ("products", b"not an image", {}, 400, "not"),
        ("products", png((1, 2, 3)), {"filter": "{oops"}, 400, "filter is not JSON"),
        ("products", png((1, 2, 3)), {"filter": "[1]"}, 400, "JSON object"),
        ("products", png((1, 2, 3)), {"limit": "51"}, 422, "limit"),
    ],
)
def test_bad_image_searches(client, index, payload, data, status, needle):
    files = {"file": ("q.png", payload, "image/png")}
    r = client.post(f"/api/indexes/{index}/search/image", files=files, data=data)
    assert r.status_code == status, r.text
    assert needle in r.text


# ---------------------------------------------------------------- thumbnails and media


def test_thumbnail_of_an_image_tensor(client):
    r = client.get("/api/indexes/products/docs/p2/thumbnail/image?size=16")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    assert max(image.size) <= 16
    assert image.convert("RGB").getpixel((8, 10)) == COLOURS["blue"]


def test_thumbnail_of_a_field_without_media_is_404(client):
    r = client.get("/api/indexes/products/docs/p2/thumbnail/title")
    assert r.status_code == 404 and "media fields" in r.json()["detail"]
    assert client.get("/api/indexes/products/docs/nope/thumbnail/image").status_code == 404
    assert client.get("/api/indexes/products/docs/p2/thumbnail/image?size=2").status_code == 422


def test_audio_tensor_streams_as_wav(client):
    r = client.get("/api/indexes/clips/docs/c0/media/sound__tensor")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and r.content[8:12] == b"WAVE"


def test_local_video_is_served_from_the_media_roots_with_ranges(client, media_dir):
    r = client.get("/api/indexes/moments/docs/m1/media/video")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert r.content == (media_dir / "clip.mp4").read_bytes()
    part = client.get("/api/indexes/moments/docs/m1/media/video", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.content) == 10


def test_files_outside_the_media_roots_are_refused(client, served):
    r = client.get("/api/indexes/moments/docs/m3/media/video")
    assert r.status_code == 403 and "outside" in r.json()["detail"]
    closed = TestClient(create_app(served))  # no media roots: no local file at all
    r = closed.get("/api/indexes/moments/docs/m1/media/video")
    assert r.status_code == 403 and "media_roots" in r.json()["detail"]


def test_remote_media_is_a_redirect_never_fetched(client):
    r = client.get("/api/indexes/moments/docs/m2/media/video", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "https://example.com/c.mp4"


# ---------------------------------------------------------------- safety and writes


def test_body_over_the_cap_is_413(served):
    small = TestClient(create_app(served, max_body_bytes=1000))
    r = small.post("/api/indexes/products/search", json={"text": "x" * 2000})
    assert r.status_code == 413 and "max_body_bytes=1000" in r.json()["detail"]

    def chunks():
        yield b'{"text": "'
        yield b"x" * 2000
        yield b'"}'

    r = small.post(
        "/api/indexes/products/search",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_read_only_by_default(client):
    assert client.post("/api/indexes/products/docs", json=[]).status_code == 405
    assert client.delete("/api/indexes/products/docs/p1").status_code == 405


def test_writable_without_a_key_is_refused_at_startup(served):
    with pytest.raises(ValueError, match="api_key"):
        create_app(served, writable=True)
    with pytest.raises(ValueError, match="max_limit"):
        create_app(served, max_limit=0)


def test_writes_need_the_key(writer):
    doc = {"id": "new", "title": "red kettle", "year": 2030, "price": 9.5, "embedding": [1, 0, 0]}
    assert writer.post("/api/indexes/products/docs", json=[doc]).status_code == 401
    bad = {"Authorization": "Bearer wrong-key-123"}
    assert writer.post("/api/indexes/products/docs", json=[doc], headers=bad).status_code == 401
    ok = {"Authorization": f"Bearer {API_KEY}"}
    r = writer.post("/api/indexes/products/docs", json=[doc], headers=ok)
    assert r.status_code == 200 and r.json() == {"indexed": 1, "ids": ["new"], "total": 31}
    found = writer.post("/api/indexes/products/search", json={"text": "kettle"}).json()
    assert ids(found) == ["new"]
    r = writer.delete("/api/indexes/products/docs/new", headers={"X-API-Key": API_KEY})
    assert r.status_code == 200 and r.json()["total"] == 30
    assert writer.get("/api/indexes/products/docs/new").status_code == 404


def test_bad_writes_are_4xx(writer, products):
    key = {"X-API-Key": API_KEY}
    r = writer.post(
        "/api/indexes/products/docs", json=[{"title": "x", "year": "soon"}], headers=key
    )
    assert r.status_code == 422 and "document 0" in r.text and "year" in r.text
    wrong_dim = [{"title": "x", "year": 1, "price": 1.0, "embedding": [1, 2]}]
    r = writer.post("/api/indexes/products/docs", json=wrong_dim, headers=key)
    assert r.status_code == 422 and "embedding" in r.text
    assert products.num_docs() == 30  # nothing written
    r = writer.delete("/api/indexes/products/docs/ghost", headers=key)
    assert r.status_code == 404 and "ghost" in r.json()["detail"]


def test_the_app_mounts_inside_another(served):
    parent = FastAPI()
    parent.mount("/search", create_app(served))
    client = TestClient(parent)
    assert client.get("/search/api/indexes/points").json()["num_docs"] == 5
    page = client.get("/search/")
    assert page.status_code == 200 and 'src="static/app.js"' in page.text
    assert client.get("/search/static/app.js").status_code == 200


def test_video_moment_documents_of_docstack_video_play_from_their_url(media_dir):
    from docstack.index import InMemoryExactNNIndex
    from docstack.video import VideoMomentDoc

    index = InMemoryExactNNIndex[VideoMomentDoc]()
    clip = str(media_dir / "clip.mp4")
    index.index([VideoMomentDoc(id="v", video_id="v1", video_url=clip, start=0.5, end=1.5)])
    client = TestClient(create_app({"v": index}, media_roots=[media_dir]))
    info = client.get("/api/indexes/v").json()
    assert info["moment"] == {"start": "start", "end": "end", "video": "video_url"}
    r = client.get("/api/indexes/v/docs/v/media/video_url")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"


# ---------------------------------------------------------------- query embeddings


class CountingColours(ColourEncoder):
    name = "colour-counting"

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def _encode_batch(self, items, modality):
        if modality == "text":
            self.texts.extend(items)
        return super()._encode_batch(items, modality)


def test_repeated_text_queries_are_embedded_once():
    from pydantic import Field

    from docstack import BaseDoc
    from docstack.index import InMemoryExactNNIndex
    from docstack.typing import NdArray

    encoder = CountingColours()

    class Swatch(BaseDoc):
        name: str
        colour: NdArray[3] = Field(json_schema_extra={"encoder": encoder})

    index = InMemoryExactNNIndex[Swatch]()
    index.index(
        [Swatch(id=n, name=n, colour=np.array(rgb, np.float32)) for n, rgb in COLOURS.items()]
    )
    client = TestClient(create_app({"swatches": index}))
    first = client.post(
        "/api/indexes/swatches/search", json={"text": "a green one", "mode": "vector"}
    )
    again = client.post(
        "/api/indexes/swatches/search", json={"text": "a green one", "mode": "hybrid"}
    )
    other = client.post("/api/indexes/swatches/search", json={"text": "blue", "mode": "vector"})
    assert first.json()["documents"][0]["id"] == "green"
    assert again.status_code == 200 and other.json()["documents"][0]["id"] == "blue"
    assert encoder.texts == ["a green one", "blue"]


def test_query_cache_keeps_the_newest_and_answers_read_only_vectors():
    from docstack.server._search import QueryVectorCache

    encoder, cache = CountingColours(), QueryVectorCache(size=2)
    for text in ("red", "blue", "red", "green", "blue"):
        vector = cache.get(encoder, text)
    assert encoder.texts == ["red", "blue", "green", "blue"]  # blue was evicted by green
    assert not vector.flags.writeable
    assert vector.tolist() == list(map(float, COLOURS["blue"]))


def test_ids_holding_slashes_are_reachable_by_every_id_endpoint():
    from urllib.parse import quote

    from docstack.index import InMemoryExactNNIndex

    from .conftest import Product

    index = InMemoryExactNNIndex[Product]()
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[..., 0] = 200
    # (an id holding "%" is left out: the test client decodes a path twice, uvicorn once)
    odd = ["shop/a/b", "shop/thumbnail", "/lead", "tail/", "a b/c"]
    index.index(
        [
            Product(id=i, title=f"t {n}", year=2000, price=1.0, image=pixels, embedding=[1, 0, 0])
            for n, i in enumerate(odd)
        ]
    )
    client = TestClient(create_app({"x": index}, writable=True, api_key=API_KEY))
    for doc_id in odd:
        for path in (quote(doc_id, safe=""), quote(doc_id, safe="/")):  # %2F, or / as is
            got = client.get(f"/api/indexes/x/docs/{path}")
            assert got.status_code == 200, (doc_id, path, got.text)
            assert got.json()["id"] == doc_id
            thumb = client.get(f"/api/indexes/x/docs/{path}/thumbnail/image?size=8")
            assert thumb.status_code == 200 and thumb.content[:4] == b"\x89PNG", doc_id
            assert client.get(f"/api/indexes/x/docs/{path}/media/image").status_code == 200
    assert client.get("/api/indexes/x/docs/shop/nope").status_code == 404
    headers = {"X-API-Key": API_KEY}
    gone = client.delete(f"/api/indexes/x/docs/{quote('shop/a/b', safe='')}", headers=headers)
    assert gone.status_code == 200 and gone.json() == {"deleted": "shop/a/b", "total": 4}
    assert client.get("/api/indexes/x/docs/shop/a/b").status_code == 404


def test_the_default_text_field_and_what_to_give_when_there_is_none():
    from docstack import BaseDoc
    from docstack.index import InMemoryExactNNIndex
    from docstack.typing import NdArray

    class Named(BaseDoc):
        title: str
        text: str

    class Ambiguous(BaseDoc):
        title: str
        body: str
        a: NdArray[2]
        b: NdArray[2]

    named = InMemoryExactNNIndex[Named]()
    named.index(
        [Named(id="x", title="fox", text="whale"), Named(id="y", title="whale", text="fox")]
    )
    ambiguous = InMemoryExactNNIndex[Ambiguous]()
    ambiguous.index([Ambiguous(id="z", title="fox", body="owl", a=[1, 0], b=[0, 1])])
    client = TestClient(create_app({"named": named, "ambiguous": ambiguous}))
    got = client.post("/api/indexes/named/search", json={"text": "fox", "mode": "text"})
    assert got.status_code == 200 and ids(got.json()) == ["y"]  # the field named text
    got = client.post("/api/indexes/ambiguous/search", json={"text": "fox", "mode": "text"})
    assert got.status_code == 400
    assert "give 'text_field'" in got.json()["detail"] and "'body'" in got.json()["detail"]
    got = client.post(
        "/api/indexes/ambiguous/search", json={"text": "fox", "mode": "text", "text_field": "title"}
    )
    assert got.status_code == 200 and ids(got.json()) == ["z"]
    got = client.post("/api/indexes/ambiguous/search", json={"vector": [1, 0]})
    assert got.status_code == 400 and "give 'vector_field'" in got.json()["detail"]
    assert "['a', 'b']" in got.json()["detail"]


def test_a_vector_search_of_an_index_without_vectors_says_so():
    from docstack import BaseDoc
    from docstack.index import InMemoryExactNNIndex

    class Note(BaseDoc):
        text: str

    index = InMemoryExactNNIndex[Note]()
    index.index([Note(text="a fox")])
    got = TestClient(create_app({"t": index})).post(
        "/api/indexes/t/search", json={"vector": [1.0, 0.0]}
    )
    assert got.status_code == 400 and "no vector field" in got.json()["detail"]
