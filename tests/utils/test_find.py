"""Tests of ``docstack.utils.find`` and ``find_batched`` against a numpy brute force."""

from __future__ import annotations

import re
import warnings
from typing import Optional

import numpy as np
import pytest
import torch
from pydantic import Field

from docstack import BaseDoc, DocList, DocVec
from docstack.typing import AnyTensor, NdArray, TorchTensor
from docstack.utils import FindResult, find, find_batched

# find() currently warns on query documents; see test_query_document_emits_no_deprecation_warning
pytestmark = pytest.mark.filterwarnings(
    "ignore:Accessing the 'model_fields' attribute on the instance is deprecated"
)

DIM = 8
N = 40

# --------------------------------------------------------------------------------------------
# documents and data
# --------------------------------------------------------------------------------------------


class Image(BaseDoc):
    embedding: Optional[NdArray[DIM]] = None


class Item(BaseDoc):
    label: int
    embedding: NdArray[DIM]
    image: Image = Field(default_factory=Image)


class MaybeItem(BaseDoc):
    label: int
    embedding: Optional[NdArray[DIM]] = None


class TorchItem(BaseDoc):
    label: int
    embedding: TorchTensor[DIM]


class AnyItem(BaseDoc):
    label: int
    embedding: Optional[AnyTensor] = None


RNG = np.random.default_rng(2024)
VECTORS = RNG.standard_normal((N, DIM))
IMAGE_VECTORS = RNG.standard_normal((N, DIM))
QUERIES = RNG.standard_normal((3, DIM))
QUERY = QUERIES[0]

METRICS = ["cosine_sim", "euclidean_dist", "sqeuclidean_dist", "dot"]
HIGHER_IS_BETTER = {
    "cosine_sim": True,
    "euclidean_dist": False,
    "sqeuclidean_dist": False,
    "dot": True,
}


CANONICAL = {"l2": "euclidean_dist", "cosine": "cosine_sim", "ip": "dot"}


def reference(vectors, query, metric):
    """All scores of ``query`` against ``vectors`` and the rows best first, in float64."""
    metric = CANONICAL.get(metric, metric)
    vectors = np.asarray(vectors, dtype=np.float64)
    query = np.asarray(query, dtype=np.float64)
    if metric == "cosine_sim":
        s = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    elif metric == "euclidean_dist":
        s = np.sqrt(((vectors - query) ** 2).sum(axis=1))
    elif metric == "sqeuclidean_dist":
        s = ((vectors - query) ** 2).sum(axis=1)
    else:
        s = vectors @ query
    order = np.argsort(-s if HIGHER_IS_BETTER[metric] else s, kind="stable")
    return s, order


def expected(vectors, query, metric, limit, labels=None):
    metric = CANONICAL.get(metric, metric)
    s, order = reference(vectors, query, metric)
    top = order[:limit]
    labels = np.arange(len(vectors)) if labels is None else np.asarray(labels)
    return labels[top].tolist(), s[top]


def make_items() -> DocList[Item]:
    return DocList[Item](
        [
            Item(label=i, embedding=VECTORS[i], image=Image(embedding=IMAGE_VECTORS[i]))
            for i in range(N)
        ]
    )


def as_kind(docs, kind):
    return docs if kind == "list" else docs.to_doc_vec()


def labels_of(result) -> list[int]:
    return [int(d.label) for d in result.documents]


def as_numpy(scores):
    if isinstance(scores, torch.Tensor):
        return scores.detach().cpu().numpy()
    return np.asarray(scores)


@pytest.fixture(params=["list", "vec"])
def kind(request):
    return request.param


@pytest.fixture
def index(kind):
    return as_kind(make_items(), kind)


# --------------------------------------------------------------------------------------------
# metrics against the brute force
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("limit", [1, 5, N])
def test_metric_matches_brute_force(index, metric, limit):
    result = find(index, QUERY, search_field="embedding", metric=metric, limit=limit)
    assert isinstance(result, FindResult)
    assert type(result.documents) is type(index)
    want_labels, want_scores = expected(VECTORS, QUERY, metric, limit)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6, atol=1e-9)
    assert result.scores.shape == (limit,)


@pytest.mark.parametrize("metric", METRICS)
def test_scores_are_ordered_best_first(index, metric):
    scores = as_numpy(find(index, QUERY, search_field="embedding", metric=metric).scores)
    if HIGHER_IS_BETTER[metric]:
        assert np.all(np.diff(scores) <= 0)
    else:
        assert np.all(np.diff(scores) >= 0)


def test_default_metric_is_cosine(index):
    default = find(index, QUERY, search_field="embedding", limit=6)
    cosine = find(index, QUERY, search_field="embedding", metric="cosine_sim", limit=6)
    assert labels_of(default) == labels_of(cosine)
    np.testing.assert_array_equal(default.scores, cosine.scores)


def test_default_limit_is_ten(index):
    assert len(find(index, QUERY, search_field="embedding").documents) == 10


@pytest.mark.parametrize(
    ("alias", "metric"),
    [
        ("cosine", "cosine_sim"),
        ("COSINE", "cosine_sim"),
        ("l2", "euclidean_dist"),
        ("euclidean", "euclidean_dist"),
        ("sqeuclidean", "sqeuclidean_dist"),
        ("ip", "dot"),
        ("inner_product", "dot"),
    ],
)
def test_metric_aliases(alias, metric):
    index = make_items()
    a = find(index, QUERY, search_field="embedding", metric=alias, limit=7)
    b = find(index, QUERY, search_field="embedding", metric=metric, limit=7)
    assert labels_of(a) == labels_of(b) == expected(VECTORS, QUERY, metric, 7)[0]
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("metric", METRICS)
def test_doclist_and_docvec_agree(metric):
    docs = make_items()
    from_list = find(docs, QUERY, search_field="embedding", metric=metric, limit=12)
    from_vec = find(docs.to_doc_vec(), QUERY, search_field="embedding", metric=metric, limit=12)
    assert [d.id for d in from_list.documents] == [d.id for d in from_vec.documents]
    np.testing.assert_allclose(from_list.scores, from_vec.scores, rtol=1e-12)


def test_results_are_the_index_documents(index):
    result = find(index, QUERY, search_field="embedding", limit=3)
    by_label = {d.label: d for d in index}
    for doc in result.documents:
        assert doc.id == by_label[doc.label].id
        np.testing.assert_array_equal(np.asarray(doc.embedding), VECTORS[doc.label])


def test_zero_vector_has_cosine_zero():
    vectors = np.vstack([np.zeros(DIM), VECTORS[:3]])
    docs = DocList[MaybeItem]([MaybeItem(label=i, embedding=v) for i, v in enumerate(vectors)])
    result = find(docs, QUERY, search_field="embedding", limit=4)
    scores = dict(zip(labels_of(result), as_numpy(result.scores).tolist()))
    assert scores[0] == 0.0
    assert not np.isnan(as_numpy(result.scores)).any()


def test_float32_vectors():
    vectors = VECTORS.astype(np.float32)
    docs = DocList[MaybeItem]([MaybeItem(label=i, embedding=v) for i, v in enumerate(vectors)])
    result = find(docs.to_doc_vec(), QUERY.astype(np.float32), search_field="embedding", limit=5)
    want_labels, want_scores = expected(vectors, QUERY.astype(np.float32), "cosine_sim", 5)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(result.scores, want_scores, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# query forms
# --------------------------------------------------------------------------------------------


def test_query_as_document_vector_or_list(index):
    want = expected(VECTORS, QUERY, "euclidean_dist", 5)[0]
    forms = [
        Item(label=-1, embedding=QUERY),
        QUERY,
        QUERY.tolist(),
        QUERY[None, :],
        torch.from_numpy(QUERY),
        tuple(QUERY.tolist()),
    ]
    for query in forms:
        result = find(index, query, search_field="embedding", metric="euclidean_dist", limit=5)
        assert labels_of(result) == want, type(query)


def test_query_document_emits_no_deprecation_warning():
    index = make_items()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        result = find(index, Item(label=-1, embedding=QUERY), search_field="embedding", limit=2)
    assert labels_of(result) == expected(VECTORS, QUERY, "cosine_sim", 2)[0]


def test_query_as_a_view_of_a_docvec():
    docs = make_items().to_doc_vec()
    result = find(docs, docs[7], search_field="embedding", metric="euclidean_dist", limit=1)
    assert labels_of(result) == [7]
    assert as_numpy(result.scores)[0] == pytest.approx(0.0, abs=1e-6)


def test_query_document_without_a_vector_raises():
    docs = DocList[MaybeItem]([MaybeItem(label=0, embedding=VECTORS[0])])
    with pytest.raises(ValueError, match="embedding"):
        find(docs, MaybeItem(label=1), search_field="embedding")


@pytest.mark.parametrize("metric", METRICS)
def test_batched_with_a_2d_array(index, metric):
    results = find_batched(
        index, QUERIES, search_field="embedding", metric=metric, limit=4
    ).per_query()
    assert isinstance(results, list)
    assert len(results) == len(QUERIES)
    for query, result in zip(QUERIES, results):
        assert isinstance(result, FindResult)
        assert type(result.documents) is type(index)
        want_labels, want_scores = expected(VECTORS, query, metric, 4)
        assert labels_of(result) == want_labels
        np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("query_kind", ["list", "vec", "python"])
def test_batched_query_forms(index, query_kind):
    query_docs = DocList[Item]([Item(label=-1, embedding=q) for q in QUERIES])
    if query_kind == "vec":
        queries = query_docs.to_doc_vec()
    elif query_kind == "python":
        queries = QUERIES.tolist()
    else:
        queries = query_docs
    results = find_batched(
        index, queries, search_field="embedding", metric="dot", limit=3
    ).per_query()
    assert len(results) == len(QUERIES)
    for query, result in zip(QUERIES, results):
        single = find(index, query, search_field="embedding", metric="dot", limit=3)
        assert labels_of(result) == labels_of(single) == expected(VECTORS, query, "dot", 3)[0]
        np.testing.assert_allclose(result.scores, single.scores, rtol=1e-12)


def test_batched_needs_several_queries(index):
    with pytest.raises(ValueError, match="find_batched"):
        find_batched(index, QUERY, search_field="embedding")


def test_find_accepts_a_single_row_matrix(index):
    want = expected(VECTORS, QUERY, "dot", 3)[0]
    for query in (QUERY[None, :], torch.from_numpy(QUERY[None, :]), [QUERY.tolist()]):
        result = find(index, query, search_field="embedding", metric="dot", limit=3)
        assert labels_of(result) == want
        assert np.asarray(as_numpy(result.scores)).shape == (3,)
    one_doc = DocList[Item]([Item(label=-1, embedding=QUERY)])
    for query in (one_doc, one_doc.to_doc_vec()):
        result = find(index, query, search_field="embedding", metric="dot", limit=3)
        assert labels_of(result) == want


@pytest.mark.parametrize("form", ["numpy", "torch", "python", "doclist", "docvec"])
def test_find_refuses_several_queries(index, form):
    docs = DocList[Item]([Item(label=-1, embedding=q) for q in QUERIES])
    query = {
        "numpy": QUERIES,
        "torch": torch.from_numpy(QUERIES),
        "python": QUERIES.tolist(),
        "doclist": docs,
        "docvec": docs.to_doc_vec(),
    }[form]
    with pytest.raises(ValueError, match="find_batched") as info:
        find(index, query, search_field="embedding")
    assert f"got {len(QUERIES)} query" in str(info.value)
    # the same queries are fine for find_batched
    assert len(find_batched(index, query, search_field="embedding").documents) == len(QUERIES)


def test_find_refuses_several_queries_on_an_empty_index(kind):
    empty = DocList[Item]() if kind == "list" else DocVec[Item]([])
    with pytest.raises(ValueError, match="find_batched"):
        find(empty, QUERIES, search_field="embedding")
    assert len(find(empty, QUERY[None, :], search_field="embedding").documents) == 0


@pytest.mark.parametrize("shape", [(), (1, 1, DIM), (2, 2, DIM)])
def test_query_arrays_of_other_ranks_are_refused(index, shape):
    query = np.ones(shape)
    for call in (find, find_batched):
        with pytest.raises(ValueError, match=re.escape(str(shape))):
            call(index, query, search_field="embedding")


def test_batched_with_no_queries(index):
    assert find_batched(index, np.zeros((0, DIM)), search_field="embedding") == ([], [])
    assert find_batched(index, DocList[Item](), search_field="embedding") == ([], [])
    assert find_batched(index, DocVec[Item]([]), search_field="embedding") == ([], [])


# --------------------------------------------------------------------------------------------
# nested and Optional search fields
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_nested_search_field(index, metric):
    result = find(index, QUERY, search_field="image__embedding", metric=metric, limit=6)
    want_labels, want_scores = expected(IMAGE_VECTORS, QUERY, metric, 6)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6, atol=1e-9)
    batched = find_batched(
        index, QUERIES, search_field="image__embedding", metric=metric, limit=6
    ).per_query()
    assert [labels_of(r) for r in batched] == [
        expected(IMAGE_VECTORS, q, metric, 6)[0] for q in QUERIES
    ]


def test_nested_query_document():
    index = make_items()
    query = Item(label=-1, embedding=np.ones(DIM), image=Image(embedding=IMAGE_VECTORS[3]))
    result = find(index, query, search_field="image__embedding", metric="l2", limit=1)
    assert labels_of(result) == [3]


MISSING = {2, 5, 6, 11, 30}


def maybe_items() -> DocList[MaybeItem]:
    return DocList[MaybeItem](
        [MaybeItem(label=i, embedding=None if i in MISSING else VECTORS[i]) for i in range(N)]
    )


@pytest.mark.parametrize("metric", METRICS)
def test_optional_vectors_are_skipped(kind, metric):
    index = as_kind(maybe_items(), kind)
    present = [i for i in range(N) if i not in MISSING]
    result = find(index, QUERY, search_field="embedding", metric=metric, limit=N)
    assert len(result.documents) == len(present)
    assert not MISSING & set(labels_of(result))
    want_labels, want_scores = expected(VECTORS[present], QUERY, metric, N, labels=present)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6, atol=1e-9)


def test_optional_vectors_in_a_masked_docvec_column():
    index = maybe_items().to_doc_vec()
    data, mask = index.get_tensor_column("embedding")
    assert mask is not None and not mask.all()  # the column is stacked with a mask
    present = [i for i in range(N) if i not in MISSING]
    results = find_batched(
        index, QUERIES, search_field="embedding", metric="l2", limit=10
    ).per_query()
    for query, result in zip(QUERIES, results):
        assert labels_of(result) == expected(VECTORS[present], query, "l2", 10, present)[0]
    # the best match of a missing document's own vector is never that document
    result = find(index, VECTORS[2], search_field="embedding", metric="l2", limit=N)
    assert 2 not in labels_of(result)


def test_optional_nested_vectors_are_skipped(kind):
    docs = make_items()
    for i in MISSING:
        docs[i].image = Image()
    index = as_kind(docs, kind)
    present = [i for i in range(N) if i not in MISSING]
    result = find(index, QUERY, search_field="image__embedding", metric="dot", limit=N)
    assert labels_of(result) == expected(IMAGE_VECTORS[present], QUERY, "dot", N, present)[0]


def test_no_document_has_a_vector(kind):
    index = as_kind(DocList[MaybeItem]([MaybeItem(label=i) for i in range(3)]), kind)
    with pytest.raises(ValueError, match="embedding"):
        find(index, QUERY, search_field="embedding")


# --------------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------------


def torch_items() -> DocList[TorchItem]:
    return DocList[TorchItem](
        [TorchItem(label=i, embedding=torch.from_numpy(VECTORS[i])) for i in range(N)]
    )


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("query_kind", ["torch", "numpy"])
def test_torch_vectors(kind, metric, query_kind):
    index = as_kind(torch_items(), kind)
    query = torch.from_numpy(QUERY) if query_kind == "torch" else QUERY
    result = find(index, query, search_field="embedding", metric=metric, limit=5)
    assert isinstance(result.scores, torch.Tensor)
    numpy_result = find(make_items(), QUERY, search_field="embedding", metric=metric, limit=5)
    assert labels_of(result) == labels_of(numpy_result) == expected(VECTORS, QUERY, metric, 5)[0]
    np.testing.assert_allclose(as_numpy(result.scores), numpy_result.scores, rtol=1e-6, atol=1e-9)


def test_torch_batched_and_device_argument():
    index = torch_items()
    results = find_batched(
        index,
        torch.from_numpy(QUERIES),
        search_field="embedding",
        metric="l2",
        limit=3,
        device="cpu",
    ).per_query()
    for query, result in zip(QUERIES, results):
        assert isinstance(result.scores, torch.Tensor)
        want_labels, want_scores = expected(VECTORS, query, "l2", 3)
        assert labels_of(result) == want_labels
        np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6)


def test_torch_query_document_against_numpy_index():
    query = TorchItem(label=-1, embedding=torch.from_numpy(QUERY))
    result = find(make_items(), query, search_field="embedding", metric="dot", limit=4)
    want_labels, want_scores = expected(VECTORS, QUERY, "dot", 4)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6)


@pytest.mark.parametrize("metric", METRICS)
def test_docvec_with_torch_tensor_type(metric):
    rows = [AnyItem(label=i, embedding=VECTORS[i]) for i in range(N)]
    index = DocVec[AnyItem](rows, tensor_type=TorchTensor)
    assert isinstance(index.embedding, torch.Tensor)
    result = find(index, QUERY, search_field="embedding", metric=metric, limit=6)
    assert isinstance(result.documents, DocVec)
    assert isinstance(result.scores, torch.Tensor)
    want_labels, want_scores = expected(VECTORS, QUERY, metric, 6)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6, atol=1e-9)


def test_masked_torch_docvec_column():
    rows = [AnyItem(label=i, embedding=None if i in MISSING else VECTORS[i]) for i in range(N)]
    index = DocVec[AnyItem](rows, tensor_type=TorchTensor)
    present = [i for i in range(N) if i not in MISSING]
    result = find(index, QUERY, search_field="embedding", metric="cosine_sim", limit=N)
    assert isinstance(result.scores, torch.Tensor)
    want_labels, want_scores = expected(VECTORS[present], QUERY, "cosine_sim", N, present)
    assert labels_of(result) == want_labels
    np.testing.assert_allclose(as_numpy(result.scores), want_scores, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# limits and empty indexes
# --------------------------------------------------------------------------------------------


def test_limit_larger_than_the_index(index):
    result = find(index, QUERY, search_field="embedding", metric="l2", limit=N + 100)
    assert len(result.documents) == N
    assert len(result.scores) == N
    assert labels_of(result) == expected(VECTORS, QUERY, "euclidean_dist", N)[0]
    assert sorted(labels_of(result)) == list(range(N))


def test_limit_zero(index):
    result = find(index, QUERY, search_field="embedding", limit=0)
    assert type(result.documents) is type(index)
    assert len(result.documents) == 0
    assert len(result.scores) == 0
    for r in find_batched(index, QUERIES, search_field="embedding", limit=0).per_query():
        assert len(r.documents) == 0 and len(r.scores) == 0


@pytest.mark.parametrize("metric", METRICS)
def test_empty_index(kind, metric):
    empty = DocList[Item]() if kind == "list" else DocVec[Item]([])
    result = find(empty, QUERY, search_field="embedding", metric=metric)
    assert type(result.documents) is type(empty)
    assert len(result.documents) == 0
    assert len(result.scores) == 0
    results = find_batched(empty, QUERIES, search_field="embedding", metric=metric).per_query()
    assert len(results) == len(QUERIES)
    for r in results:
        assert type(r.documents) is type(empty)
        assert len(r.documents) == 0 and len(r.scores) == 0


def test_empty_index_still_needs_a_search_field():
    with pytest.raises(ValueError, match="search_field"):
        find(DocList[Item](), QUERY)


def test_empty_index_batched_with_a_1d_query():
    with pytest.raises(ValueError, match="find_batched"):
        find_batched(DocList[Item](), QUERY, search_field="embedding")


# --------------------------------------------------------------------------------------------
# descending
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_descending_opposite_to_natural_reverses_the_order(kind, metric):
    index = as_kind(make_items(), kind)
    natural = HIGHER_IS_BETTER[metric]
    best_first = find(index, QUERY, search_field="embedding", metric=metric, limit=N)
    worst_first = find(
        index, QUERY, search_field="embedding", metric=metric, limit=N, descending=not natural
    )
    assert labels_of(worst_first) == labels_of(best_first)[::-1]
    np.testing.assert_allclose(worst_first.scores, as_numpy(best_first.scores)[::-1], rtol=1e-12)
    # with a limit: the worst ``limit`` documents, worst first
    top = find(
        index, QUERY, search_field="embedding", metric=metric, limit=4, descending=not natural
    )
    assert labels_of(top) == labels_of(best_first)[::-1][:4]
    scores = as_numpy(top.scores)
    assert np.all(np.diff(scores) >= 0) if natural else np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("metric", METRICS)
def test_descending_equal_to_natural_changes_nothing(index, metric):
    natural = HIGHER_IS_BETTER[metric]
    default = find(index, QUERY, search_field="embedding", metric=metric, limit=7)
    same = find(index, QUERY, search_field="embedding", metric=metric, limit=7, descending=natural)
    assert labels_of(default) == labels_of(same)
    np.testing.assert_array_equal(default.scores, same.scores)


def test_descending_false_for_cosine_in_torch_and_batched():
    index = torch_items()
    results = find_batched(
        index, QUERIES, search_field="embedding", metric="cosine_sim", limit=3, descending=False
    ).per_query()
    for query, result in zip(QUERIES, results):
        s, order = reference(VECTORS, query, "cosine_sim")
        assert labels_of(result) == order[::-1][:3].tolist()
        assert isinstance(result.scores, torch.Tensor)
        np.testing.assert_allclose(as_numpy(result.scores), s[order[::-1][:3]], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------------------------


def test_cache_is_filled_and_reused(index):
    cache: dict = {}
    first = find(index, QUERY, search_field="embedding", metric="l2", limit=5, cache=cache)
    assert len(cache) == 1
    second = find(index, QUERY, search_field="embedding", metric="l2", limit=5, cache=cache)
    assert len(cache) == 1
    assert labels_of(first) == labels_of(second) == expected(VECTORS, QUERY, "l2", 5)[0]
    np.testing.assert_array_equal(first.scores, second.scores)
    batched = find_batched(
        index, QUERIES, search_field="embedding", limit=5, cache=cache
    ).per_query()
    assert len(cache) == 1
    uncached = find_batched(index, QUERIES, search_field="embedding", limit=5).per_query()
    assert [labels_of(r) for r in batched] == [labels_of(r) for r in uncached]
    # another field gets its own entry
    find(index, QUERY, search_field="image__embedding", cache=cache)
    assert len(cache) == 2


def test_cache_with_optional_vectors(kind):
    index = as_kind(maybe_items(), kind)
    cache: dict = {}
    runs = [
        find(index, QUERY, search_field="embedding", metric="dot", limit=N, cache=cache)
        for _ in range(3)
    ]
    present = [i for i in range(N) if i not in MISSING]
    want = expected(VECTORS[present], QUERY, "dot", N, present)[0]
    for result in runs:
        assert labels_of(result) == want


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("search_field", [None, ""])
def test_missing_search_field(index, search_field):
    kwargs = {} if search_field is None else {"search_field": search_field}
    with pytest.raises(ValueError, match="search_field"):
        find(index, QUERY, **kwargs)
    with pytest.raises(ValueError, match="search_field"):
        find_batched(index, QUERIES, **kwargs)


@pytest.mark.parametrize("kind", ["list", "vec"])
@pytest.mark.parametrize("field", ["nope", "label", "image__nope"])
def test_unknown_search_field(kind, field):
    index = as_kind(make_items(), kind)
    with pytest.raises(ValueError, match=repr(field)):
        find(index, QUERY, search_field=field)
    with pytest.raises(ValueError, match=repr(field)):
        find_batched(index, QUERIES, search_field=field)


def test_unknown_metric(index):
    with pytest.raises(ValueError, match=r"unknown metric 'manhattan'.*cosine"):
        find(index, QUERY, search_field="embedding", metric="manhattan")
    with pytest.raises(ValueError, match="unknown metric"):
        find_batched(index, QUERIES, search_field="embedding", metric="hamming")


@pytest.mark.parametrize("bad_dim", [DIM - 3, DIM + 1])
def test_dimension_mismatch_names_both_dimensions(index, bad_dim):
    for call, query in ((find, np.ones(bad_dim)), (find_batched, np.ones((2, bad_dim)))):
        with pytest.raises(ValueError) as info:
            call(index, query, search_field="embedding")
        message = str(info.value)
        assert re.search(rf"\b{bad_dim}\b", message), message
        assert re.search(rf"\b{DIM}\b", message), message


def test_dimension_mismatch_with_torch():
    with pytest.raises(ValueError) as info:
        find(torch_items(), torch.ones(DIM + 2), search_field="embedding")
    assert str(DIM + 2) in str(info.value) and str(DIM) in str(info.value)


def test_negative_limit(index):
    with pytest.raises(ValueError, match="limit"):
        find(index, QUERY, search_field="embedding", limit=-1)
    with pytest.raises(ValueError, match="limit"):
        find_batched(index, QUERIES, search_field="embedding", limit=-3)
    with pytest.raises(ValueError, match="limit"):
        find(DocList[Item](), QUERY, search_field="embedding", limit=-1)


def test_search_field_through_a_doclist_field():
    class Chunk(BaseDoc):
        embedding: NdArray[DIM]

    class Page(BaseDoc):
        chunks: DocList[Chunk]

    pages = DocList[Page]([Page(chunks=DocList[Chunk]([Chunk(embedding=VECTORS[0])]))])
    for index in (pages, pages.to_doc_vec()):
        with pytest.raises(ValueError, match="chunks__embedding"):
            find(index, QUERY, search_field="chunks__embedding")


def test_search_field_must_hold_vectors():
    class Grid(BaseDoc):
        grid: NdArray

    docs = DocList[Grid]([Grid(grid=np.ones((2, DIM))) for _ in range(3)])
    with pytest.raises(ValueError, match="1-D"):
        find(docs, np.ones(DIM), search_field="grid")


def test_batched_result_unpacks_into_documents_and_scores(index):
    docs, scores = find_batched(index, QUERIES, search_field="embedding", metric="l2", limit=3)
    assert len(docs) == len(scores) == len(QUERIES)
    for query, matches, row in zip(QUERIES, docs, scores):
        want_labels, want_scores = expected(VECTORS, query, "l2", 3)
        assert list(matches.label) == want_labels
        np.testing.assert_allclose(as_numpy(row), want_scores, rtol=1e-6, atol=1e-9)


def test_search_field_may_be_a_union_of_tensor_types():
    from typing import Optional, Union  # noqa: F401 - read by pydantic from the annotations

    import torch

    from docstack.typing import TorchTensor  # noqa: F401 - read by pydantic

    class Either(BaseDoc):
        embedding: Union[NdArray[DIM], TorchTensor[DIM]]
        maybe: Optional[NdArray[DIM]] = None

    docs = DocList[Either]([Either(embedding=v, maybe=v) for v in VECTORS])
    docs[1].embedding = torch.from_numpy(VECTORS[1])
    for field in ("embedding", "maybe"):
        found, _ = find(docs, VECTORS[2], search_field=field, metric="l2", limit=1)
        assert found[0].id == docs[2].id


def test_limit_may_be_a_whole_float_but_no_other_number(index):
    docs, scores = find(index, QUERY, search_field="embedding", limit=3.0)
    assert len(docs) == len(scores) == 3
    for bad in (2.5, "3", True):
        with pytest.raises(TypeError, match="limit must be a whole number"):
            find(index, QUERY, search_field="embedding", limit=bad)
