"""The service describes list fields as filterable and filters on them."""

from __future__ import annotations

from typing import Optional

import pytest
from fastapi.testclient import TestClient

from docstack import BaseDoc
from docstack.index import InMemoryExactNNIndex
from docstack.server import create_app
from docstack.server._describe import describe_index
from docstack.typing import NdArray


class Tagged(BaseDoc):
    title: str
    tags: list[str] = []
    years: Optional[list[int]] = None
    meta: dict = {}
    emb: NdArray[2]


@pytest.fixture()
def tagged() -> InMemoryExactNNIndex:
    index = InMemoryExactNNIndex[Tagged]()
    index.index(
        [
            Tagged(id="t0", title="lamp", tags=["red", "desk"], years=[2020], emb=[1, 0]),
            Tagged(id="t1", title="chair", tags=[], years=None, emb=[0, 1]),
            Tagged(id="t2", title="desk", tags=["desk"], years=[2019, 2021], emb=[1, 1]),
        ]
    )
    return index


def test_describe_lists_list_fields_among_the_filter_fields(tagged):
    info = describe_index("tagged", tagged)
    assert info["filter_fields"] == ["id", "tags", "title", "years"]
    fields = {f["name"]: f for f in info["fields"]}
    assert fields["tags"]["filterable"] and fields["years"]["filterable"]
    assert not fields["meta"]["filterable"]


def test_search_filters_on_list_fields(tagged):
    client = TestClient(create_app({"tagged": tagged}))
    listed = client.get("/api/indexes").json()["indexes"][0]
    assert "tags" in listed["filter_fields"]
    body = client.post(
        "/api/indexes/tagged/search", json={"filter": {"tags": "desk", "years": {"$gt": 2020}}}
    ).json()
    assert [d["id"] for d in body["documents"]] == ["t2"]
    body = client.post("/api/indexes/tagged/search", json={"filter": {"tags": {"$size": 0}}})
    assert [d["id"] for d in body.json()["documents"]] == ["t1"]
    bad = client.post("/api/indexes/tagged/search", json={"filter": {"meta": "x"}})
    assert bad.status_code == 400 and "meta" in bad.text
