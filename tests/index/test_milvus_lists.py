"""Lists of scalars as Milvus ARRAY fields (Milvus Lite in process): stored typed, read back
equal, filtered in Milvus with the portable language's answers, limits refused before any
write, and collections written with JSON lists still open and filter."""

from __future__ import annotations

import random
from typing import List, Optional

import numpy as np
import pytest
from pydantic import Field

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from docstack import BaseDoc, DocList  # noqa: E402
from docstack._internal.query import parse_filter  # noqa: E402
from docstack._internal.query_eval import evaluate
from docstack.index import MilvusDocumentIndex  # noqa: E402
from docstack.index.backends.milvus import (  # noqa: E402
    MilvusLimitError,
    MilvusSchemaError,
)
from docstack.typing import NdArray  # noqa: E402

STRINGS = ["a", 'q"uote', "back\\", "", "ünï 漢字", "10", "x' or 1==1", "tab\tnl\n"]
INTS = [0, 1, 2, -1, -(2**60), 2**53 + 1, 7]
FLOATS = [0.0, 1.0, 2.5, -1.5, 1e300]


class Lists(BaseDoc):
    tags: List[str] = []
    nums: Optional[List[int]] = None
    scores: list[float] = []
    flags: list[bool] = []
    nested: list[list[int]] = []
    emb: NdArray[2]


def make_docs(n: int = 60, seed: int = 3) -> list[Lists]:
    rng = random.Random(seed)
    return [
        Lists(
            id=f"d{i}",
            tags=rng.sample(STRINGS, rng.randint(0, 3)),
            nums=None if rng.random() < 0.2 else rng.sample(INTS, rng.randint(0, 3)),
            scores=rng.sample(FLOATS, rng.randint(0, 2)),
            flags=rng.sample([True, False], rng.randint(0, 2)),
            nested=[[i], [i, i + 1]],
            emb=[1.0, float(i)],
        )
        for i in range(n)
    ]


def open_index(tmp_path, doc_type=Lists, name="lists"):
    return MilvusDocumentIndex[doc_type](uri=str(tmp_path / "m.db"), index_name=name)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    index = open_index(tmp_path_factory.mktemp("lists"))
    docs = make_docs()
    index.index(DocList[Lists](docs))
    return index, docs


def expected_ids(docs, query):
    columns = {(f,): [getattr(d, f) for d in docs] for f in ("tags", "nums", "scores", "flags")}
    mask = evaluate(parse_filter(query), columns.__getitem__, len(docs))
    return [d.id for d, keep in zip(docs, mask) if keep]


def test_lists_are_typed_arrays_and_read_back_equal(loaded):
    index, docs = loaded
    from pymilvus import DataType

    fields = {
        f["name"]: f for f in index._client.describe_collection("lists")["fields"]
    }  # the collection as Milvus describes it
    assert {n: fields[n]["element_type"] for n in ("tags", "nums", "scores", "flags")} == {
        "tags": DataType.VARCHAR,
        "nums": DataType.INT64,
        "scores": DataType.DOUBLE,
        "flags": DataType.BOOL,
    }
    assert fields["nested"]["type"] == DataType.JSON  # a list of lists stays JSON
    got = index[[d.id for d in docs]]
    for a, b in zip(got, docs):
        assert a.model_dump(exclude={"emb"}) == b.model_dump(exclude={"emb"})
    one = next(d for d in got if d.nums and d.scores and d.flags)
    assert {type(v) for v in one.nums} == {int}
    assert {type(v) for v in one.scores} == {float}
    assert {type(v) for v in one.flags} == {bool}


def random_list_filter(rng: random.Random) -> dict:
    field = rng.choice(["tags", "nums", "scores", "flags"])
    op = rng.choice(["$eq", "$neq", "$in", "$nin", "$size", "$exists", "$gt", "$regex"])
    pool = STRINGS + INTS + FLOATS + [True, False, None, 2.0, float("nan")]
    if op == "$size":
        value: object = rng.randint(0, 3)
    elif op == "$exists":
        value = rng.choice([True, False])
    elif op == "$regex":
        value = rng.choice(["^a", "\\\\", "漢"])
    elif op in ("$in", "$nin"):
        value = rng.sample(pool, rng.randint(0, 3))
        if rng.random() < 0.15:
            value.append(["a", "10"])  # a whole list: docstack evaluates it
    elif op == "$gt":
        value = rng.choice(INTS) if field != "tags" else rng.choice(STRINGS)
    else:
        value = rng.choice(pool)
    leaf = {field: {op: value}}
    roll = rng.random()
    if roll < 0.2:
        return {"$or": [leaf, {"tags": {"$size": 1}}]}
    if roll < 0.35:
        return {"$not": leaf}
    if roll < 0.5:
        return {"$and": [leaf, {"nums": {"$exists": True}}]}
    return leaf


def test_random_list_filters_give_the_languages_answers(loaded):
    index, docs = loaded
    rng = random.Random(20261203)
    checked = 0
    for _ in range(150):
        query = random_list_filter(rng)
        expected = expected_ids(docs, query)
        assert index.filter(query, limit=100).id == expected, query
        checked += bool(expected)
    assert checked > 40


def test_list_filters_compile_to_milvus_array_functions(loaded):
    index, docs = loaded
    node = index._parse_filter({"tags": {"$in": ['q"uote', "back\\"]}, "nums": {"$size": 2}})
    expr = index._expression(node)
    assert "array_contains_any(tags, [" in expr and "array_length(nums) == 2" in expr
    assert index.filter({"nums": -1}).id == expected_ids(docs, {"nums": -1})
    # filtered vector search uses the same expression
    query = index.build_query().find([1.0, 30.0], search_field="emb").filter({"tags": "a"})
    found = index.execute_query(query.build(limit=5))
    with_a = set(expected_ids(docs, {"tags": "a"}))
    assert found.documents.id and set(found.documents.id) <= with_a


class Limited(BaseDoc):
    tags: list[str] = Field(default=[], json_schema_extra={"max_capacity": 3, "max_length": 8})
    nums: list[int] = []
    scores: list[float] = []
    emb: NdArray[2]


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            {"tags": ["a", "b", "c", "d"]},
            r"'tags' of document 'bad' holds 4 elements.*max_capacity 3",
        ),
        ({"tags": ["ünïcode"]}, r"'tags' of document 'bad' holds a string of 9 UTF-8 bytes.*8"),
        ({"scores": [float("nan")]}, r"'scores' of document 'bad'.*NaN or infinite"),
    ],
)
def test_values_beyond_the_limits_are_refused_before_any_write(tmp_path, bad, message):
    index = open_index(tmp_path, Limited)
    good = Limited(id="good", tags=["abc", "12345678"], emb=[1, 0])
    with pytest.raises(MilvusLimitError, match=message):
        index.index(DocList[Limited]([good, Limited(id="bad", emb=[0, 1], **bad)]))
    assert len(index) == 0
    index.index(DocList[Limited]([good]))
    assert index["good"].tags == ["abc", "12345678"]


def test_ints_beyond_int64_are_refused_before_any_write(tmp_path):
    # every index refuses them (the schema checks list[int] as it checks int fields)
    index = open_index(tmp_path, Limited)
    good = Limited(id="good", tags=["abc"], emb=[1, 0])
    with pytest.raises(ValueError, match=r"document 'bad': field 'nums' .*64 bits"):
        index.index(DocList[Limited]([good, Limited(id="bad", emb=[0, 1], nums=[1, 2**63])]))
    assert len(index) == 0


def test_bad_limits_are_named(tmp_path):
    class Huge(BaseDoc):
        tags: list[str] = Field(default=[], json_schema_extra={"max_capacity": 5000})
        emb: NdArray[2]

    with pytest.raises(ValueError, match=r"'tags': max_capacity must be an int from 1 to 4096"):
        open_index(tmp_path, Huge).index(DocList[Huge]([Huge(emb=[1, 0])]))


def test_a_collection_with_json_lists_still_opens_reads_and_filters(tmp_path):
    """Collections written before lists became arrays keep their JSON fields."""
    from docstack.index._schema import IndexSchema
    from docstack.index.backends._milvus_schema import CollectionLayout

    docs = make_docs(30, seed=5)
    index = open_index(tmp_path, name="old")
    old = CollectionLayout(IndexSchema.from_doc_type(Lists, {}), False, arrays=False)
    schema, params = old.build(index._client, {"emb": 2})
    index._client.create_collection("old", schema=schema, index_params=params)
    rows = old.encode(_rows(docs), 1)
    index._client.insert("old", rows)

    reopened = open_index(tmp_path, name="old")
    assert reopened._get_layout().arrays.elements == {}
    assert [d.tags for d in reopened[[d.id for d in docs]]] == [d.tags for d in docs]
    rng = random.Random(9)
    for _ in range(40):
        query = random_list_filter(rng)
        assert reopened.filter(query, limit=100).id == expected_ids(docs, query), query
    extra = make_docs(32, seed=6)[30:]
    for d in extra:
        d.id = f"new{d.id}"
    reopened.index(DocList[Lists](extra))  # written as JSON, as the collection stores it
    assert reopened[extra[1].id].nums == extra[1].nums


def _rows(docs):
    from docstack.index._schema import IndexSchema

    return IndexSchema.from_doc_type(Lists, {}).to_rows(docs, {"emb": 2})


def test_an_array_of_another_element_type_is_a_schema_error(tmp_path):
    open_index(tmp_path).index(DocList[Lists](make_docs(2)))

    class Other(Lists):
        tags: list[int] = []  # the same fields, but a list of int where tags were str

    with pytest.raises(MilvusSchemaError, match=r"'tags'.*list of int"):
        open_index(tmp_path, Other)


def test_bool_arrays_filter_and_documents_keep_their_vectors(loaded):
    index, docs = loaded
    found = index.filter({"flags": True}, limit=3)
    assert all(True in d.flags for d in found)
    np.testing.assert_array_equal(found[0].emb, next(d.emb for d in docs if d.id == found[0].id))
