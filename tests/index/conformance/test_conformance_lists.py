"""Filters on list fields (``list[int|float|str|bool]``, ``Optional`` or not, nested too): the
same answers on every backend, as documented in :mod:`docstack._internal.query`."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.index import HnswDocumentIndex
from docstack.typing import NdArray


class Banner(BaseDoc):
    labels: list[str] = []


class Doc(BaseDoc):
    title: str
    tags: list[str] = []
    nums: Optional[list[int]] = None
    scores: list[float] = []
    bools: list[bool] = []
    banner: Banner = Banner()
    emb: NdArray[3]


ROWS = [
    # id, tags, nums, scores, bools, banner labels
    ("d0", ["a", "b"], [1, 5], [0.5, 2.5], [True], ["x"]),
    ("d1", [], None, [], [], []),
    ("d2", ["b"], [], [1.0], [False], ["y", "x"]),
    ("d3", ["a", "a"], [2**53 + 1], [-1.5], [True, False], []),
    ("d4", ['say "hi"', "x' or 1==1 --"], [-(2**63), 2**63 - 1], [1e300], [False], ["ünï ✓"]),
    ("d5", ['{"$gt": ""}', "back\\slash"], [7], [0.0], [], ['["a"]']),
]


def make_docs() -> list[Doc]:
    return [
        Doc(
            id=i,
            title=f"doc {i}",
            tags=tags,
            nums=nums,
            scores=scores,
            bools=bools,
            banner=Banner(id=f"b{i}", labels=labels),
            emb=[1.0, k, 0.5],
        )
        for k, (i, tags, nums, scores, bools, labels) in enumerate(ROWS)
    ]


@pytest.fixture
def loaded(make_index):
    index = make_index(Doc)
    index.index(DocList[Doc](make_docs()))
    yield index
    close = getattr(index, "close", None)
    if close is not None:
        close()


CASES = [
    ({"tags": "a"}, ["d0", "d3"]),
    ({"tags": {"$eq": "b"}}, ["d0", "d2"]),
    ({"tags": {"$neq": "a"}}, ["d1", "d2", "d4", "d5"]),
    ({"tags": {"$in": ["b", "x' or 1==1 --"]}}, ["d0", "d2", "d4"]),
    ({"tags": {"$nin": ["b", "a"]}}, ["d1", "d4", "d5"]),
    ({"tags": {"$size": 0}}, ["d1"]),
    ({"tags": {"$size": 2}}, ["d0", "d3", "d4", "d5"]),
    ({"tags": {"$exists": True}}, ["d0", "d1", "d2", "d3", "d4", "d5"]),
    ({"tags": {"$gt": "a"}}, ["d0", "d2", "d4", "d5"]),
    ({"tags": {"$regex": "^b"}}, ["d0", "d2", "d5"]),
    ({"tags": {"$regex": "1==1"}}, ["d4"]),
    ({"tags": ["a", "b"]}, ["d0"]),
    ({"tags": []}, ["d1"]),
    ({"tags": 'say "hi"'}, ["d4"]),
    ({"tags": '{"$gt": ""}'}, ["d5"]),
    ({"tags": "back\\slash"}, ["d5"]),
    ({"tags": 1}, []),
    ({"nums": 5}, ["d0"]),
    ({"nums": 5.0}, ["d0"]),
    ({"nums": None}, ["d1"]),
    ({"nums": {"$exists": False}}, ["d1"]),
    ({"nums": {"$neq": 5}}, ["d1", "d2", "d3", "d4", "d5"]),
    ({"nums": {"$in": [7, None]}}, ["d1", "d5"]),
    ({"nums": {"$size": 0}}, ["d2"]),
    ({"nums": {"$gt": 4}}, ["d0", "d3", "d4", "d5"]),
    ({"nums": {"$lt": 0}}, ["d4"]),
    ({"nums": {"$gte": 2**53 + 1}}, ["d3", "d4"]),
    ({"nums": 2**53 + 1}, ["d3"]),
    ({"nums": 2**63 - 1}, ["d4"]),
    ({"nums": {"$gt": 2, "$lt": 3}}, ["d0", "d4"]),  # one element above 2, another below 3
    ({"nums": {"$not": {"$gt": 4}}}, ["d1", "d2"]),
    ({"scores": 1}, ["d2"]),
    ({"scores": {"$gte": 2.5}}, ["d0", "d4"]),
    ({"scores": {"$lt": 0}}, ["d3"]),
    ({"scores": 0}, ["d5"]),
    ({"scores": {"$size": 0}}, ["d1"]),
    ({"bools": True}, ["d0", "d3"]),
    ({"bools": 0}, ["d2", "d3", "d4"]),
    ({"bools": {"$neq": False}}, ["d0", "d1", "d5"]),
    ({"bools": {"$gte": 0}}, ["d0", "d2", "d3", "d4"]),
    ({"bools": {"$size": 2}}, ["d3"]),
    ({"banner__labels": "x"}, ["d0", "d2"]),
    ({"banner.labels": {"$size": 0}}, ["d1", "d3"]),
    ({"banner__labels": '["a"]'}, ["d5"]),
    ({"$or": [{"tags": "b"}, {"nums": None}]}, ["d0", "d1", "d2"]),
    ({"$and": [{"tags": {"$size": 2}}, {"bools": False}]}, ["d3", "d4"]),
    ({"$not": {"tags": {"$exists": True}}}, []),
]


@pytest.mark.parametrize(("query", "want"), CASES, ids=[repr(q) for q, _ in CASES])
def test_list_filters(loaded, query, want):
    assert sorted(loaded.filter(query, limit=10).id) == want


def test_list_fields_are_filterable_fields(loaded):
    names = set(loaded._schema.filter_columns)
    assert {"tags", "nums", "scores", "bools", "banner__labels"} <= names
    assert {"tags", "nums", "scores", "bools", "banner__labels"}.isdisjoint(
        loaded._schema.scalar_columns
    )


def test_vector_search_filtered_by_a_list_field(loaded):
    query = np.array([1.0, 5.0, 0.5])
    found = loaded.find(query, search_field="emb", limit=3)
    assert found.documents.id == ["d5", "d4", "d3"]
    q = loaded.build_query().find(query, search_field="emb").filter({"tags": "a"}).build(limit=3)
    assert loaded.execute_query(q).documents.id == ["d3", "d0"]
    q = (
        loaded.build_query()
        .find(query, search_field="emb")
        .filter({"nums": {"$neq": 7}, "scores": {"$size": 1}})
        .build(limit=2)
    )
    assert loaded.execute_query(q).documents.id == ["d4", "d3"]


def test_lists_come_back_unchanged_after_filtering(loaded):
    got = loaded.filter({"nums": {"$lt": 0}}, limit=10)
    assert got[0].nums == [-(2**63), 2**63 - 1]
    assert got[0].tags == ['say "hi"', "x' or 1==1 --"]


def test_upserts_refilter_lists(loaded):
    doc = make_docs()[1]
    doc.tags = ["z"]
    doc.nums = [3]
    loaded.index(DocList[Doc]([doc]))
    assert sorted(loaded.filter({"tags": {"$size": 0}}, limit=10).id) == []
    assert sorted(loaded.filter({"nums": 3}, limit=10).id) == ["d1"]
    assert sorted(loaded.filter({"nums": None}, limit=10).id) == []


def test_update_sets_scalars_only_and_says_so(loaded):
    with pytest.raises(ValueError, match=r"cannot update field 'tags'.*title"):
        loaded.update("d0", tags=["q"])
    assert loaded["d0"].tags == ["a", "b"]


def test_list_ints_beyond_int64_are_refused_before_any_write(make_index):
    index = make_index(Doc)
    good, bad = make_docs()[:2]
    bad.nums = [1, 2**63]
    with pytest.raises(ValueError, match=r"document 'd1': field 'nums' .*64 bits"):
        index.index(DocList[Doc]([good, bad]))
    assert index.num_docs() == 0


def test_an_embedded_index_reopens_and_filters_its_lists(tmp_path):
    # the stored format of list fields (JSON text) is unchanged: older indexes filter too
    index = HnswDocumentIndex[Doc](work_dir=str(tmp_path))
    index.index(DocList[Doc](make_docs()))
    index.close()
    reopened = HnswDocumentIndex[Doc](work_dir=str(tmp_path))
    try:
        assert sorted(reopened.filter({"tags": "a", "nums": {"$size": 2}}, limit=10).id) == ["d0"]
    finally:
        reopened.close()
