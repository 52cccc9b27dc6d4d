"""DocArray's Document Index API on docstack's backends: what DocArray code does, run on both.

Each test states one behaviour that code written for DocArray relies on (settings as
dataclasses, documents of another class, DocArray's metric names, query builder limits,
module paths, ...) and checks it on the in-memory and the embedded HNSW index, the latter
both with its growing segment (exact) and with every write merged into the graph.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack.documents import TextDoc
from docstack.errors import DocstackError, DocTypeError, ShapeError
from docstack.index import DocumentIndex, HnswDocumentIndex, InMemoryExactNNIndex
from docstack.typing import NdArray, NdArrayEmbedding

# DocArray code writes Field(space=..., dim=...), which pydantic 2 calls deprecated
warnings.filterwarnings("ignore", message=".*extra keyword arguments on `Field`.*")
pytestmark = pytest.mark.filterwarnings("ignore:Using extra keyword arguments on `Field`")

BACKENDS = ["in_memory", "hnsw", "hnsw_graph"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_index(backend, tmp_path):
    counter = itertools.count()

    def make(doc_type, *args, **kwargs):
        if backend == "in_memory":
            return InMemoryExactNNIndex[doc_type](*args, **kwargs)
        kwargs.setdefault("work_dir", str(tmp_path / f"index{next(counter)}"))
        if backend == "hnsw_graph":
            kwargs.update(merge_threshold=1, exact_search_threshold=0)
        return HnswDocumentIndex[doc_type](*args, **kwargs)

    return make


class Item(BaseDoc):
    text: str
    price: int
    tensor: NdArray[4]


def _items(n: int = 10) -> DocList[Item]:
    rng = np.random.default_rng(0)
    return DocList[Item](
        [Item(id=f"i{i}", text=f"text {i}", price=i, tensor=rng.random(4)) for i in range(n)]
    )


# ---------------------------------------------------------------------- Field(dim=...)


class ShapedWithDim(BaseDoc):
    tens: NdArray[10] = Field(dim=1000)


def test_the_types_own_shape_wins_over_field_dim(make_index):
    with pytest.warns(UserWarning, match=r"Field\(dim=1000\) is ignored.*dimension at 10"):
        index = make_index(ShapedWithDim)
    index.index([ShapedWithDim(id=str(i), tens=np.eye(10)[i]) for i in range(10)])
    docs, _ = index.find(np.eye(10)[3], search_field="tens", limit=1)
    assert docs.id == ["3"]
    with pytest.raises(ShapeError, match="dimension 10"):
        index.find(np.ones(1000), search_field="tens")


def test_field_dim_that_agrees_with_the_type_is_silent(make_index):
    class Agreeing(BaseDoc):
        tens: NdArray[10] = Field(dim=10)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index = make_index(Agreeing)
    assert index._column_infos["tens"].n_dim == 10


def test_field_dim_on_a_type_of_another_rank_is_refused(make_index):
    class Matrix(BaseDoc):
        tens: NdArray[2, 5] = Field(dim=10)

    with pytest.raises(ValueError, match=r"not 1-D"):
        make_index(Matrix)


# ---------------------------------------------------------------------- other document classes


class SameFields(BaseDoc):
    text: str
    price: int
    tensor: NdArray[4]


class FewerFields(BaseDoc):
    text: str
    tensor: NdArray[4]


class WithDefault(BaseDoc):
    text: str
    price: int = 7
    tensor: NdArray[4]


def test_documents_of_a_class_with_the_same_fields_are_converted(make_index):
    index = make_index(Item)
    docs = [SameFields(id=f"s{i}", text=f"t{i}", price=i, tensor=np.eye(4)[i]) for i in range(4)]
    index.index(docs)
    assert index.num_docs() == 4
    got = index["s2"]
    assert type(got) is Item
    assert (got.text, got.price) == ("t2", 2)
    assert np.allclose(got.tensor, np.eye(4)[2])
    found, _ = index.find(np.eye(4)[1], search_field="tensor", limit=1)
    assert found.id == ["s1"]
    assert all(d in index for d in docs)


def test_a_doclist_of_another_class_is_converted(make_index):
    index = make_index(Item)
    index.index(
        DocList[SameFields](
            [SameFields(id=f"s{i}", text="x", price=i, tensor=np.ones(4)) for i in range(3)]
        )
    )
    assert sorted(index.filter({}, limit=10).id) == ["s0", "s1", "s2"]


def test_missing_fields_take_the_schemas_defaults(make_index):
    index = make_index(WithDefault)
    index.index(FewerFields(id="f", text="hello", tensor=np.ones(4)))
    assert index["f"].price == 7


def test_a_required_field_missing_from_the_other_class_is_refused(make_index):
    index = make_index(Item)
    with pytest.raises(DocTypeError, match="FewerFields") as info:
        index.index(
            [
                Item(id="ok", text="a", price=1, tensor=np.ones(4)),
                FewerFields(id="f1", text="x", tensor=np.ones(4)),
            ]
        )
    assert "price" in str(info.value) and "f1" in str(info.value)
    assert index.num_docs() == 0  # nothing of the call was written


def test_a_field_the_schema_lacks_is_refused_not_dropped(make_index):
    index = make_index(FewerFields)
    with pytest.raises(DocTypeError, match=r"has no field\(s\) \['price'\]"):
        index.index(Item(id="i", text="x", price=3, tensor=np.ones(4)))
    assert index.num_docs() == 0


class Inner(BaseDoc):
    tens: NdArray[4]


class InnerTwin(BaseDoc):
    tens: NdArray[4]


class Outer(BaseDoc):
    d: Inner
    parts: DocList[Inner]


class OuterTwin(BaseDoc):
    d: InnerTwin
    parts: DocList[InnerTwin]


def test_nested_documents_and_sub_documents_are_converted_too(make_index):
    index = make_index(Outer)
    twin = OuterTwin(
        id="o",
        d=InnerTwin(id="d", tens=np.ones(4)),
        parts=[InnerTwin(id=f"p{j}", tens=np.eye(4)[j]) for j in range(3)],
    )
    index.index(twin)
    got = index["o"]
    assert type(got.d) is Inner and got.d.id == "d"
    assert [type(p) for p in got.parts] == [Inner] * 3
    assert got.parts.id == ["p0", "p1", "p2"]
    roots, subs, _ = index.find_subindex(
        np.eye(4)[2], subindex="parts", search_field="tens", limit=1
    )
    assert roots.id == ["o"] and subs.id == ["p2"]


def test_a_builtin_document_indexes_into_a_schema_derived_from_it(make_index):
    class TextSchema(TextDoc):
        embedding: Optional[NdArrayEmbedding] = Field(dim=10)

    index = make_index(TextSchema)
    docs = DocList[TextDoc](
        [TextDoc(id=f"t{i}", text=f"{i}", embedding=np.eye(10)[i]) for i in range(10)]
    )
    index.index(docs)
    assert index.num_docs() == 10
    found, _ = index.find(np.eye(10)[4], search_field="embedding", limit=1)
    assert found.id == ["t4"] and type(found[0]) is TextSchema


# ---------------------------------------------------------------------- metrics


@pytest.mark.parametrize("space", ["sqeuclidean", "sqeuclidean_dist"])
def test_sqeuclidean_scores_are_squared_distances_lower_is_better(make_index, space):
    class Sq(BaseDoc):
        tens: NdArray[3] = Field(space=space)

    index = make_index(Sq)
    vectors = np.array([[0, 0, 0], [1, 0, 0], [0, 3, 0], [2, 2, 1]], dtype=np.float32)
    index.index([Sq(id=str(i), tens=v) for i, v in enumerate(vectors)])
    query = np.array([1, 1, 0], dtype=np.float32)
    docs, scores = index.find(query, search_field="tens", limit=4)
    want = ((vectors - query) ** 2).sum(axis=1)
    order = np.argsort(want, kind="stable")
    assert docs.id == [str(i) for i in order]
    assert np.allclose(scores, want[order], atol=1e-5)
    kept, kept_scores = index.find(query, search_field="tens", limit=4, score_threshold=2.0)
    assert (kept_scores <= 2.0).all() and len(kept) == int((want <= 2.0).sum())


def test_euclidean_dist_is_the_root_of_sqeuclidean(make_index):
    class Both(BaseDoc):
        a: NdArray[3] = Field(space="euclidean_dist")
        b: NdArray[3] = Field(space="sqeuclidean_dist")

    index = make_index(Both)
    vectors = np.random.default_rng(1).random((20, 3)).astype(np.float32)
    index.index([Both(id=str(i), a=v, b=v) for i, v in enumerate(vectors)])
    _, dist = index.find(vectors[0] + 0.5, search_field="a", limit=5)
    _, sq = index.find(vectors[0] + 0.5, search_field="b", limit=5)
    assert np.allclose(dist**2, sq, atol=1e-4)


def test_an_unknown_metric_names_the_valid_ones(make_index):
    class Bad(BaseDoc):
        tens: NdArray[3] = Field(space="manhattan")

    with pytest.raises(ValueError, match="sqeuclidean"):
        make_index(Bad)


# ---------------------------------------------------------------------- settings


def test_db_config_fields_are_accepted_as_keywords_and_as_a_dataclass(make_index, backend):
    index = make_index(Item, index_name="products")
    assert index.index_name == "products"
    assert index.db_config.index_name == "products"
    cls = InMemoryExactNNIndex if backend == "in_memory" else HnswDocumentIndex
    config = cls.DBConfig(index_name="other")
    index = make_index(Item, db_config=config)
    assert index.index_name == "other"
    with pytest.raises(TypeError, match="unknown setting"):
        make_index(Item, no_such_setting=1)


def test_hnsw_db_config_dataclass_sets_the_work_dir(tmp_path):
    config = HnswDocumentIndex.DBConfig(work_dir=str(tmp_path / "wd"))
    index = HnswDocumentIndex[Item](db_config=config)
    index.index(_items(3))
    index.close()
    again = HnswDocumentIndex[Item](work_dir=str(tmp_path / "wd"))
    assert again.num_docs() == 3
    assert again.index_name == str(tmp_path / "wd")  # DocArray's name of an HNSW index
    again.close()


def test_configure_with_keywords_keeps_other_settings_a_runtime_config_replaces_them(make_index):
    index = make_index(Item)
    index.configure(default_column_config={np.ndarray: {"space": "l2"}})
    index.configure(default_column_config={np.ndarray: {"ef": 99}})
    col = index._schema.columns["tensor"]
    assert col.space == "l2" and col.config["ef"] == 99
    assert index.runtime_config.default_column_config[np.ndarray] == {"space": "l2", "ef": 99}
    index.configure(type(index).RuntimeConfig())
    assert index._schema.columns["tensor"].space == "cosine"
    assert index.runtime_config == type(index).RuntimeConfig()


def test_configure_changes_the_scores(make_index):
    index = make_index(Item)
    index.index([Item(id="a", text="a", price=1, tensor=[3, 4, 0, 0])])
    index.configure(type(index).RuntimeConfig({np.ndarray: {"space": "l2"}}))
    _, scores = index.find(np.zeros(4), search_field="tensor")
    assert np.allclose(scores, [5.0])


def test_configure_refuses_unknown_settings_and_other_objects(make_index):
    index = make_index(Item)
    with pytest.raises(TypeError, match="unknown runtime setting"):
        index.configure(default_ef=10)
    with pytest.raises(TypeError, match="RuntimeConfig"):
        index.configure(42)


def test_a_subclass_extends_the_config_dataclasses():
    @dataclass
    class MyRuntime(InMemoryExactNNIndex.RuntimeConfig):
        default_ef: int = 50

    class MyIndex(InMemoryExactNNIndex):
        RuntimeConfig = MyRuntime

    index = MyIndex[Item]()
    index.configure(default_ef=10)
    assert index.runtime_config.default_ef == 10
    index.configure(MyRuntime(default_ef=3))
    assert index.runtime_config.default_ef == 3


# ---------------------------------------------------------------------- containment, counts


class Leaf(BaseDoc):
    tens: NdArray[2]


class Branch(BaseDoc):
    leaves: DocList[Leaf]


class Tree(BaseDoc):
    branches: DocList[Branch]


def test_subindex_contains_looks_at_every_level(make_index):
    index = make_index(Tree)
    leaf = Leaf(tens=[1, 0])
    branch = Branch(leaves=[leaf])
    tree = Tree(branches=[branch])
    assert index.subindex_contains(leaf) is False
    index.index(tree)
    assert index.subindex_contains(tree) is True
    assert index.subindex_contains(branch) is True
    assert index.subindex_contains(leaf) is True
    assert (leaf in index) is False  # ``in`` asks the root level only
    assert index.subindex_contains(Leaf(id="", tens=[0, 1])) is False
    with pytest.raises(TypeError, match="document"):
        index.subindex_contains("not a document")
    del index[tree.id]
    assert index.subindex_contains(leaf) is False


def test_contains_and_len_and_num_docs(make_index):
    index = make_index(Item)
    docs = _items(5)
    index.index(docs)
    assert len(index) == index.num_docs() == 5
    assert docs[0] in index and docs[0].id in index
    assert SameFields(id=docs[1].id, text="", price=0, tensor=np.ones(4)) in index
    assert Item(text="new", price=0, tensor=np.ones(4)) not in index


def test_documents_to_start_with_are_given_when_opening():
    index = InMemoryExactNNIndex[Item](_items(6))
    assert index.num_docs() == 6
    config = InMemoryExactNNIndex.DBConfig(index_name="n")
    index = InMemoryExactNNIndex[Item](config)  # docstack's positional db_config
    assert index.index_name == "n" and index.num_docs() == 0


def test_in_memory_persist_and_reopen_with_documents(tmp_path):
    path = str(tmp_path / "index.bin")
    index = InMemoryExactNNIndex[Item](_items(4))
    index.persist(path)
    reopened = InMemoryExactNNIndex[Item](_items(6)[4:], index_file_path=path)
    assert sorted(reopened.filter({}, limit=10).id) == [f"i{i}" for i in range(6)]


# ---------------------------------------------------------------------- query builder limits


@pytest.fixture
def loaded(make_index):
    index = make_index(Item)
    index.index(_items(10))
    return index


@pytest.mark.parametrize(("find_limit", "filter_limit", "expected"), [(10, 3, 3), (5, 8, 5)])
def test_a_filter_limit_before_a_search_limits_the_candidates(
    loaded, find_limit, filter_limit, expected
):
    q = (
        loaded.build_query()
        .filter(filter_query={"price": {"$lte": 5}}, limit=filter_limit)
        .find(query=np.ones(4), search_field="tensor", limit=find_limit)
        .build()
    )
    docs, scores = loaded.execute_query(q)
    assert len(docs) == len(scores) == expected
    # the candidates are the first documents matching the filter, in insertion order
    assert {d.price for d in docs} <= set(range(filter_limit))


def test_a_filter_limit_after_a_search_caps_the_results_but_hides_no_match(loaded):
    q = (
        loaded.build_query()
        .find(query=np.ones(4), search_field="tensor")
        .filter(filter_query={"price": {"$gt": 3}}, limit=5)
        .build()
    )
    docs, _ = loaded.execute_query(q)
    assert len(docs) == 5 and all(d.price > 3 for d in docs)
    full, _ = loaded.find(np.ones(4), search_field="tensor", limit=10)
    assert docs.id == [d.id for d in full if d.price > 3][:5]


def test_the_search_limit_and_build_limit_cap_one_search(loaded):
    q = loaded.build_query().find(np.ones(4), search_field="tensor", limit=4).build()
    assert len(loaded.execute_query(q).documents) == 4
    q = loaded.build_query().find(np.ones(4), search_field="tensor", limit=4).build(limit=2)
    assert len(loaded.execute_query(q).documents) == 2
    q = loaded.build_query().find(np.ones(4), search_field="tensor").build()
    assert len(loaded.execute_query(q).documents) == 10  # no limit anywhere: 10


def test_a_candidate_filter_without_a_search_keeps_the_first_matches(loaded):
    q = loaded.build_query().filter({"price": {"$gte": 2}}, limit=3).build()
    docs, scores = loaded.execute_query(q)
    assert docs.price == [2, 3, 4] and scores.tolist() == [1.0, 1.0, 1.0]
    q = loaded.build_query().filter({"price": {"$gt": 100}}, limit=3).find(np.ones(4)).build()
    assert len(loaded.execute_query(q).documents) == 0


def test_execute_query_takes_no_settings(loaded):
    q = loaded.build_query().find(np.ones(4), search_field="tensor").build()
    with pytest.raises(TypeError, match="no settings"):
        loaded.execute_query(q, limit=3)


# ---------------------------------------------------------------------- DocArray module paths


def test_docarray_module_paths():
    from docstack.index.abstract import BaseDocIndex, _raise_not_composable
    from docstack.index.backends.hnswlib import HnswDocumentIndex as ViaHnswlib
    from docstack.index.backends.in_memory import InMemoryExactNNIndex as ViaInMemory

    assert BaseDocIndex is DocumentIndex
    assert ViaHnswlib is HnswDocumentIndex and ViaInMemory is InMemoryExactNNIndex
    assert BaseDocIndex.DBConfig().index_name is None
    assert BaseDocIndex.RuntimeConfig().default_column_config == {}

    class Builder:
        find_batched = _raise_not_composable("find_batched")

    with pytest.raises(NotImplementedError, match=r"call index\.find_batched\(\) directly"):
        Builder().find_batched(np.ones(4))


def test_build_query_returns_the_index_classes_query_builder(backend, tmp_path):
    cls = InMemoryExactNNIndex if backend == "in_memory" else HnswDocumentIndex

    class MyBuilder(cls.QueryBuilder):
        pass

    class MyIndex(cls):
        QueryBuilder = MyBuilder

    kwargs = {} if backend == "in_memory" else {"work_dir": str(tmp_path / "mine")}
    index = MyIndex[Item](**kwargs)
    builder = index.build_query()
    assert isinstance(builder, MyBuilder)
    index.index(_items(3))
    result = index.execute_query(builder.find(np.ones(4), search_field="tensor").build())
    assert len(result.documents) == 3


def test_a_backend_written_the_docarray_way_gets_a_clear_error():
    class DocArrayStyle(DocumentIndex):
        def _index(self, column_to_data):  # DocArray's hook: docstack never calls it
            raise AssertionError("not reached")

        def num_docs(self):
            return 3

    index = DocArrayStyle[Item]()
    assert len(index) == 3  # len() asks num_docs()
    with pytest.raises(NotImplementedError, match=r"_b_upsert\(\).*_b_\* storage"):
        index.index(_items(1))


def test_an_index_without_a_document_class_is_a_type_and_value_error():
    with pytest.raises(TypeError, match=r"InMemoryExactNNIndex\[MyDoc\]"):
        InMemoryExactNNIndex()
    with pytest.raises(ValueError, match="document class"):
        InMemoryExactNNIndex()


def test_column_infos_describe_every_column_and_sub_index(make_index):
    index = make_index(Outer)
    infos = index._column_infos
    assert list(infos) == ["id", "d__id", "d__tens", "parts"]
    assert infos["d__tens"].db_type == "vector" and infos["d__tens"].n_dim == 4
    assert infos["parts"].db_type is None and infos["parts"].docarray_type is DocList[Inner]


# ---------------------------------------------------------------------- reopening (HNSW)


def test_reopening_a_work_dir_without_closing_works_as_in_docarray(tmp_path):
    work_dir = str(tmp_path / "wd")
    first = HnswDocumentIndex[Item](work_dir=work_dir)
    first.index(_items(5))
    restored = HnswDocumentIndex[Item](work_dir=work_dir)  # ``first`` is still referenced
    assert restored.num_docs() == 5
    restored.index(DocList[Item]([Item(id="new", text="n", price=0, tensor=np.ones(4))]))
    assert restored.num_docs() == 6
    with pytest.raises(DocstackError, match="replaced"):
        first.num_docs()
    restored.close()
