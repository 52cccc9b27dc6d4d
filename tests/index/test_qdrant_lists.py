"""Filters on list fields in Qdrant: what runs in the engine (payload arrays matched natively)
and what runs in docstack's planner; the answers themselves are checked on every backend by
the conformance suite and the differential test."""

from __future__ import annotations

from typing import Optional

import pytest

pytest.importorskip("qdrant_client")

from qdrant_client import models  # noqa: E402

from docstack import BaseDoc, DocList  # noqa: E402
from docstack._internal.query import parse_filter  # noqa: E402
from docstack.index import QdrantDocumentIndex  # noqa: E402
from docstack.index.backends._qdrant_filter import NeedsPlanner, compile_filter  # noqa: E402
from docstack.typing import NdArray  # noqa: E402

KINDS = {("tags",): "list:str", ("nums",): "list:int", ("scores",): "list:float"}
KINDS[("bools",)] = "list:bool"


class Doc(BaseDoc):
    tags: list[str] = []
    nums: Optional[list[int]] = None
    scores: list[float] = []
    emb: NdArray[2]


def _has_id(flt: object) -> bool:
    """Whether a compiled filter names point ids (the planner's answer) anywhere."""
    if isinstance(flt, models.HasIdCondition):
        return True
    if isinstance(flt, models.Filter):
        parts = [*(flt.must or []), *(flt.should or []), *(flt.must_not or [])]
        return any(_has_id(p) for p in parts)
    return False


@pytest.mark.parametrize(
    "query",
    [
        {"tags": "a"},
        {"tags": {"$in": ["a", "b", None]}},
        {"tags": {"$nin": ["a"]}},
        {"nums": {"$gt": 2.5}},
        {"nums": {"$eq": None}},
        {"scores": 1},
        {"scores": {"$lte": 0.5}},
        {"bools": {"$gte": 0}},
        {"tags": {"$size": 0}},
        {"nums": {"$size": 2}},
        {"tags": {"$exists": False}},
        {"$not": {"tags": {"$neq": "x"}}},
    ],
)
def test_list_conditions_run_in_qdrant(query):
    flt = compile_filter(parse_filter(query), KINDS)
    assert isinstance(flt, (models.Filter, bool))


@pytest.mark.parametrize(
    "query",
    [
        {"tags": {"$regex": "^a"}},
        {"tags": ["a", "b"]},
        {"nums": {"$in": [1, [1, 2]]}},
        {"tags": {"$gt": "a"}},
    ],
)
def test_what_qdrant_cannot_express_goes_to_the_planner(query):
    with pytest.raises(NeedsPlanner):
        compile_filter(parse_filter(query), KINDS)


def test_a_missing_list_is_not_an_empty_one():
    # Qdrant's is_empty takes [] too: a missing list is is_null with no values
    flt = compile_filter(parse_filter({"tags": None}), KINDS)
    null, count = flt.must
    assert isinstance(null, models.IsNullCondition) and null.is_null.key == "tags"
    assert count.values_count == models.ValuesCount(lt=1)


def test_index_filters_lists_in_the_engine_and_the_planner():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    docs = [
        Doc(id="a", tags=["x", "y"], nums=[1, 2], scores=[0.5], emb=[1, 0]),
        Doc(id="b", tags=[], nums=None, scores=[], emb=[0, 1]),
        Doc(id="c", tags=["y"], nums=[], scores=[2.0, 3.0], emb=[1, 1]),
    ]
    index.index(DocList[Doc](docs))
    native = index._resolve(index._parse_filter({"tags": "y", "nums": {"$size": 0}}))
    assert isinstance(native, models.Filter) and not _has_id(native)
    assert index.filter({"tags": "y", "nums": {"$size": 0}}, limit=5).id == ["c"]
    assert index.filter({"tags": {"$size": 0}}, limit=5).id == ["b"]
    assert index.filter({"nums": None}, limit=5).id == ["b"]
    assert index.filter({"nums": {"$neq": 2}}, limit=5).id == ["b", "c"]
    planned = index._resolve(index._parse_filter({"tags": {"$regex": "^x"}}))
    assert _has_id(planned)
    assert index.filter({"tags": {"$regex": "^x"}}, limit=5).id == ["a"]
    assert index.filter({"tags": ["y"], "scores": {"$gt": 2.5}}, limit=5).id == ["c"]
