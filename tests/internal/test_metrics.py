"""Tests of the exact top-k kernels (docstack._internal.metrics)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from docstack._internal.metrics import (
    METRICS,
    canonical_metric,
    higher_is_better,
    scores,
    top_k,
)


def reference(index, queries, metric):
    """Direct per-pair numpy formulas, in float64."""
    index = np.asarray(index, dtype=np.float64)
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    diff = queries[:, None, :] - index[None, :, :]
    if metric == "cosine":
        qn = np.linalg.norm(queries, axis=1)[:, None]
        xn = np.linalg.norm(index, axis=1)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (queries @ index.T) / (qn * xn)
        return np.nan_to_num(out, nan=0.0)
    if metric == "l2":
        return np.sqrt((diff**2).sum(-1))
    if metric == "sqeuclidean":
        return (diff**2).sum(-1)
    return (queries[:, None, :] * index[None, :, :]).sum(-1)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    index = rng.standard_normal((57, 16)).astype(np.float32)
    queries = rng.standard_normal((5, 16)).astype(np.float32)
    return index, queries


# --------------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("cosine", "cosine"),
        ("cosine_sim", "cosine"),
        ("l2", "l2"),
        ("euclidean", "l2"),
        ("euclidean_dist", "l2"),
        ("sqeuclidean", "sqeuclidean"),
        ("sqeuclidean_dist", "sqeuclidean"),
        ("sq_euclidean", "sqeuclidean"),
        ("ip", "ip"),
        ("dot", "ip"),
        ("inner_product", "ip"),
        (" Cosine ", "cosine"),
    ],
)
def test_aliases(alias, canonical, data):
    assert canonical_metric(alias) == canonical
    index, queries = data
    np.testing.assert_array_equal(scores(index, queries, alias), scores(index, queries, canonical))


@pytest.mark.parametrize("bad", ["manhattan", "", None, 3])
def test_unknown_metric_lists_valid_names(bad):
    with pytest.raises(ValueError, match=r"unknown metric.*cosine, l2, sqeuclidean, ip.*dot"):
        canonical_metric(bad)
    with pytest.raises(ValueError, match="unknown metric"):
        top_k(np.ones((2, 2)), np.ones(2), bad, 1)


def test_higher_is_better():
    assert higher_is_better("cosine") and higher_is_better("dot") and higher_is_better("ip")
    assert not higher_is_better("l2") and not higher_is_better("sqeuclidean_dist")


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n_queries", [1, 5])
def test_scores_match_reference(metric, n_queries, data):
    index, queries = data
    queries = queries[:n_queries]
    got = scores(index, queries, metric)
    assert got.shape == (n_queries, len(index))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(index, queries, metric), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("metric", METRICS)
def test_scores_float64_and_int_inputs(metric, data):
    index, queries = data
    got = scores(index.astype(np.float64), queries.astype(np.float64), metric)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, reference(index, queries, metric), rtol=1e-9, atol=1e-9)
    ints = np.arange(12).reshape(4, 3)
    got = scores(ints, ints[:2], metric)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, reference(ints, ints[:2], metric), atol=1e-9)
    lists = scores(ints.tolist(), ints[0].tolist(), metric)
    np.testing.assert_allclose(lists, reference(ints, ints[:1], metric), atol=1e-9)


def test_query_dtype_follows_index(data):
    index, queries = data
    got = scores(index, queries.astype(np.float64), "cosine")
    assert got.dtype == np.float32


@pytest.mark.parametrize("metric", METRICS)
def test_precomputed_norms(metric, data):
    index, queries = data
    norms = np.linalg.norm(index, axis=1)
    np.testing.assert_allclose(
        scores(index, queries, metric, norms=norms),
        scores(index, queries, metric),
        rtol=1e-5,
        atol=1e-5,
    )
    got = top_k(index, queries, metric, 4, norms=norms)
    want = top_k(index, queries, metric, 4)
    np.testing.assert_array_equal(got[0], want[0])
    with pytest.raises(ValueError, match=r"norms must have shape \(57,\)"):
        scores(index, queries, "cosine", norms=norms[:3])


def test_zero_vectors_give_zero_cosine():
    index = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], dtype=np.float32)
    got = scores(index, np.array([[1.0, 1.0], [0.0, 0.0]], dtype=np.float32), "cosine")
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, [[0.0, np.sqrt(0.5), 0.0], [0.0, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(scores(index, np.zeros(2), "l2"), [[0.0, 1.0, 0.0]])


def test_distances_never_negative():
    rng = np.random.default_rng(1)
    index = (rng.standard_normal((20, 64)) * 1e3).astype(np.float32)
    got = scores(index, index, "sqeuclidean")
    assert (got >= 0).all()
    assert (scores(index, index, "l2") >= 0).all()


def test_one_d_query_is_one_query(data):
    index, queries = data
    for metric in METRICS:
        one = scores(index, queries[0], metric)
        assert one.shape == (1, len(index))
        np.testing.assert_allclose(one, scores(index, queries[:1], metric), rtol=1e-6)
        indices, values = top_k(index, queries[0], metric, 3)
        assert indices.shape == values.shape == (1, 3)


def test_dimension_mismatch_names_both_dims(data):
    index, _ = data
    with pytest.raises(ValueError, match="query dimension 15 does not match index dimension 16"):
        scores(index, np.ones(15, np.float32), "ip")
    with pytest.raises(ValueError, match="query dimension 3 does not match index dimension 16"):
        top_k(index, np.ones((2, 3), np.float32), "cosine", 1)
    with pytest.raises(ValueError, match="index must be 2-D"):
        top_k(np.ones(4), np.ones(4), "cosine", 1)
    with pytest.raises(ValueError, match="queries must be 1-D"):
        top_k(index, np.ones((1, 1, 16)), "cosine", 1)


# --------------------------------------------------------------------------------------------
# top_k
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("k", [1, 5, 57, 100])
def test_top_k_matches_full_sort(metric, k, data):
    index, queries = data
    indices, values = top_k(index, queries, metric, k)
    full = scores(index, queries, metric)
    key = -full if higher_is_better(metric) else full
    expected = np.argsort(key, axis=1, kind="stable")[:, : min(k, len(index))]
    assert indices.dtype == np.int64
    assert indices.shape == values.shape == (len(queries), min(k, len(index)))
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(full, expected, axis=1))
    step = np.diff(values, axis=1)
    assert (step <= 0).all() if higher_is_better(metric) else (step >= 0).all()


def test_top_k_zero_and_negative():
    index = np.eye(3)
    indices, values = top_k(index, np.ones(3), "ip", 0)
    assert indices.shape == values.shape == (1, 0) and indices.dtype == np.int64
    with pytest.raises(ValueError, match="k must be >= 0"):
        top_k(index, np.ones(3), "ip", -1)
    with pytest.raises(TypeError, match="k must be an int"):
        top_k(index, np.ones(3), "ip", 1.5)


def test_empty_index():
    indices, values = top_k(np.zeros((0, 3)), np.ones(3), "cosine", 5)
    assert indices.shape == (1, 0)


# integer-valued vectors: every score is exact, so ties are real ties
TIED_INDEX = np.array(
    [[1, 0], [2, 0], [1, 0], [0, 1], [2, 0], [1, 0], [0, 0], [2, 0]], dtype=np.float32
)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 6, 8, 20])
def test_ties_broken_by_lower_index(metric, k):
    query = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    indices, _ = top_k(TIED_INDEX, query, metric, k)
    full = scores(TIED_INDEX, query, metric)
    key = -full if higher_is_better(metric) else full
    expected = np.argsort(key, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(indices, expected)


def test_ties_explicit_order():
    indices, values = top_k(TIED_INDEX, np.array([2.0, 0.0]), "l2", 4)
    assert indices.tolist() == [[1, 4, 7, 0]]
    assert values.tolist() == [[0.0, 0.0, 0.0, 1.0]]
    indices, _ = top_k(TIED_INDEX, np.array([1.0, 0.0]), "ip", 2)
    assert indices.tolist() == [[1, 4]]
    indices, _ = top_k(np.ones((1000, 4)), np.ones(4), "cosine", 5)
    assert indices.tolist() == [[0, 1, 2, 3, 4]]


def test_nan_scores_rank_last():
    index = np.array([[1.0], [np.nan], [3.0], [2.0]])
    for k in (2, 4):
        indices, _ = top_k(index, np.array([1.0]), "ip", k)
        assert indices.tolist() == [[2, 3, 0, 1][:k]]
        indices, _ = top_k(index, np.array([1.0]), "l2", k)
        assert indices.tolist() == [[0, 3, 2, 1][:k]]


def test_numpy_callers_never_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from docstack._internal.metrics import top_k\n"
        "top_k(np.ones((5, 3)), np.ones(3), 'cosine', 2)\n"
        "assert 'torch' not in sys.modules and 'jax' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mixing_frameworks_raises(data):
    torch = pytest.importorskip("torch")
    index, queries = data
    with pytest.raises(TypeError, match="same framework"):
        top_k(torch.from_numpy(index), queries, "ip", 2)


# --------------------------------------------------------------------------------------------
# torch and jax
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n_queries", [1, 5])
def test_torch_matches_numpy(metric, n_queries, data):
    torch = pytest.importorskip("torch")
    index, queries = data
    queries = queries[:n_queries]
    ti, tq = torch.from_numpy(index), torch.from_numpy(queries)
    got = scores(ti, tq, metric)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), scores(index, queries, metric), rtol=1e-4, atol=1e-4)
    indices, values = top_k(ti, tq, metric, 6)
    assert isinstance(indices, torch.Tensor) and indices.dtype == torch.int64
    assert isinstance(values, torch.Tensor) and values.dtype == torch.float32
    want_indices, want_values = top_k(index, queries, metric, 6)
    np.testing.assert_array_equal(indices.numpy(), want_indices)
    np.testing.assert_allclose(values.numpy(), want_values, rtol=1e-4, atol=1e-4)
    one = top_k(ti, tq[0], metric, 100)
    assert one[0].shape == (1, len(index))
    norms = torch.linalg.vector_norm(ti, dim=1)
    np.testing.assert_array_equal(top_k(ti, tq, metric, 6, norms=norms)[0].numpy(), want_indices)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("k", [1, 3, 4, 8])
def test_torch_ties_and_zero_vectors(metric, k):
    torch = pytest.importorskip("torch")
    query = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    indices, _ = top_k(torch.from_numpy(TIED_INDEX), query, metric, k)
    expected, _ = top_k(TIED_INDEX, query.numpy(), metric, k)
    np.testing.assert_array_equal(indices.numpy(), expected)
    got = scores(torch.zeros(2, 2), query, "cosine")
    assert not torch.isnan(got).any() and (got == 0).all()


def test_torch_int_and_nan_and_k_zero():
    torch = pytest.importorskip("torch")
    ints = torch.arange(12).reshape(4, 3)
    got = scores(ints, ints[:2], "l2")
    assert got.dtype == torch.get_default_dtype()
    np.testing.assert_allclose(got.numpy(), reference(ints.numpy(), ints[:2].numpy(), "l2"))
    index = torch.tensor([[1.0], [float("nan")], [3.0], [2.0]])
    assert top_k(index, torch.tensor([1.0]), "ip", 2)[0].tolist() == [[2, 3]]
    assert top_k(index, torch.tensor([1.0]), "l2", 4)[0].tolist() == [[0, 3, 2, 1]]
    indices, values = top_k(index, torch.tensor([1.0]), "ip", 0)
    assert indices.shape == (1, 0) and indices.dtype == torch.int64
    with pytest.raises(ValueError, match="query dimension 2 does not match index dimension 1"):
        top_k(index, torch.ones(2), "ip", 1)


@pytest.mark.parametrize("metric", METRICS)
def test_jax_matches_numpy(metric, data):
    jnp = pytest.importorskip("jax.numpy")
    index, queries = data
    got = scores(jnp.asarray(index), jnp.asarray(queries), metric)
    assert got.dtype == jnp.float32 and not isinstance(got, np.ndarray)
    np.testing.assert_allclose(
        np.asarray(got), scores(index, queries, metric), rtol=1e-4, atol=1e-4
    )
    indices, _ = top_k(jnp.asarray(index), jnp.asarray(queries), metric, 6)
    np.testing.assert_array_equal(np.asarray(indices), top_k(index, queries, metric, 6)[0])
    tied, _ = top_k(jnp.asarray(TIED_INDEX), jnp.asarray([2.0, 0.0]), metric, 4)
    np.testing.assert_array_equal(
        np.asarray(tied), top_k(TIED_INDEX, np.array([2.0, 0.0]), metric, 4)[0]
    )


@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_many_ties_at_the_boundary(framework, metric):
    rng = np.random.default_rng(3)
    index = rng.integers(0, 4, size=(3000, 1)).astype(np.float32)
    queries = np.array([[1.0], [2.0]], dtype=np.float32)
    full = scores(index, queries, metric)
    key = -full if higher_is_better(metric) else full
    if framework == "torch":
        torch = pytest.importorskip("torch")
        index, queries = torch.from_numpy(index), torch.from_numpy(queries)
    for k in (1, 7, 500, 1999, 2999):
        indices, _ = top_k(index, queries, metric, k)
        expected = np.argsort(key, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(np.asarray(indices), expected)
