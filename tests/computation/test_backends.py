"""The computational backends (docstack.computation), run alike over numpy, torch, jax and
TensorFlow: each case builds its inputs from numpy and reads the results back as numpy."""

from __future__ import annotations

import importlib
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

from docstack.computation import AbstractComputationalBackend
from docstack.computation.abstract_numpy_based_backend import _DIRECT_LIMIT
from docstack.errors import MissingDependencyError


@dataclass
class Framework:
    name: str
    backend: Any
    make: Callable[[np.ndarray], Any]  # numpy -> the backend's input type

    def back(self, value: Any) -> np.ndarray:
        return np.asarray(self.backend.to_numpy(value))


def _numpy() -> Framework:
    from docstack.computation.numpy_backend import NumpyCompBackend

    return Framework("numpy", NumpyCompBackend, np.asarray)


def _torch() -> Framework:
    torch = pytest.importorskip("torch")
    from docstack.computation.torch_backend import TorchCompBackend

    return Framework("torch", TorchCompBackend, lambda a: torch.from_numpy(np.array(a)))


def _jax() -> Framework:
    jnp = pytest.importorskip("jax.numpy")
    from docstack.computation.jax_backend import JaxCompBackend
    from docstack.typing import JaxArray

    return Framework("jax", JaxCompBackend, lambda a: JaxArray(jnp.asarray(a)))


def _tensorflow() -> Framework:
    tf = pytest.importorskip("tensorflow")
    from docstack.computation.tensorflow_backend import TensorFlowCompBackend
    from docstack.typing import TensorFlowTensor

    return Framework(
        "tensorflow", TensorFlowCompBackend, lambda a: TensorFlowTensor(tf.constant(a))
    )


FRAMEWORKS = {"numpy": _numpy, "torch": _torch, "jax": _jax, "tensorflow": _tensorflow}


@pytest.fixture(params=list(FRAMEWORKS))
def fw(request) -> Framework:
    return FRAMEWORKS[request.param]()


def reference(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    """Per-pair float64 formulas, with DocArray's output shape (unit axes dropped)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    diff = x[:, None, :] - y[None, :, :]
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)[:, None] * np.linalg.norm(y, axis=1)[None, :]
        out = (x @ y.T) / norms
    elif metric == "euclidean":
        out = np.sqrt((diff**2).sum(-1))
    else:
        out = (diff**2).sum(-1)
    return np.atleast_1d(out.squeeze())


# ---- interface -----------------------------------------------------------------------------


def test_every_backend_implements_the_whole_interface(fw):
    backend = fw.backend
    assert issubclass(backend, AbstractComputationalBackend)
    assert not backend.__abstractmethods__
    assert issubclass(backend.Retrieval, AbstractComputationalBackend.Retrieval)
    assert issubclass(backend.Metrics, AbstractComputationalBackend.Metrics)
    assert not backend.Retrieval.__abstractmethods__
    assert not backend.Metrics.__abstractmethods__


def test_a_partial_backend_cannot_be_instantiated():
    class Partial(AbstractComputationalBackend):
        @classmethod
        def stack(cls, tensors, dim=0):
            return tensors

    with pytest.raises(TypeError, match="abstract"):
        Partial()


# ---- plumbing ------------------------------------------------------------------------------


@pytest.mark.parametrize("dim, shape", [(0, (2, 3, 4)), (1, (3, 2, 4)), (-1, (3, 4, 2))])
def test_stack_adds_an_axis_where_asked(fw, dim, shape):
    a, b = np.zeros((3, 4)), np.ones((3, 4))
    stacked = fw.backend.stack([fw.make(a), fw.make(b)], dim=dim)
    assert fw.backend.shape(stacked) == shape
    np.testing.assert_array_equal(fw.back(stacked), np.stack([a, b], axis=dim))


@pytest.mark.parametrize("shape", [(), (5,), (1, 5), (2, 1, 3)])
def test_shape_and_n_dim(fw, shape):
    value = fw.make(np.zeros(shape))
    assert fw.backend.shape(value) == shape
    assert type(fw.backend.shape(value)) is tuple
    assert all(type(d) is int for d in fw.backend.shape(value))
    assert fw.backend.n_dim(value) == len(shape)


def test_reshape_and_squeeze_keep_the_values(fw):
    data = np.arange(6.0).reshape(1, 6, 1)
    squeezed = fw.backend.squeeze(fw.make(data))
    assert fw.backend.shape(squeezed) == (6,)
    reshaped = fw.backend.reshape(squeezed, (3, 2))
    np.testing.assert_array_equal(fw.back(reshaped), [[0, 1], [2, 3], [4, 5]])


def test_copy_is_independent(fw):
    data = np.array([1.0, 2.0, 3.0])
    original = fw.make(data)
    copied = fw.backend.copy(original)
    np.testing.assert_array_equal(fw.back(copied), data)
    if fw.name in ("numpy", "torch"):  # mutable frameworks: writing one leaves the other
        original[0] = 99.0
        assert fw.back(copied)[0] == 1.0


def test_to_numpy_gives_a_numpy_array(fw):
    out = fw.backend.to_numpy(fw.make(np.array([[1, 2], [3, 4]], dtype=np.int32)))
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.int32
    assert out.tolist() == [[1, 2], [3, 4]]


def test_isnan_marks_nan_only(fw):
    out = fw.back(fw.backend.isnan(fw.make(np.array([0.0, np.nan, np.inf]))))
    assert out.tolist() == [False, True, False]


def test_none_value(fw):
    value = fw.backend.none_value()
    if fw.name == "numpy":
        assert value is None
    else:
        assert np.isnan(np.asarray(value)).all()


@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "uint8"])  # jax: no 64-bit
def test_dtype(fw, dtype):
    got = fw.backend.dtype(fw.make(np.zeros(2, dtype=dtype)))
    if fw.name == "torch":
        import torch

        assert got == getattr(torch, dtype)
    elif fw.name == "numpy":
        assert got == np.dtype(dtype)
    else:  # jax and TensorFlow report the dtype's name
        assert got == dtype


def test_empty_with_dtype(fw):
    if fw.name == "torch":
        import torch

        dtype, expected = torch.int32, "int32"
    elif fw.name == "tensorflow":
        import tensorflow as tf

        dtype, expected = tf.int32, "int32"
    else:
        dtype, expected = np.int32, "int32"
    out = fw.backend.empty((4, 2), dtype=dtype)
    assert fw.backend.shape(out) == (4, 2)
    assert fw.back(out).dtype == np.dtype(expected)


def test_empty_defaults_to_a_float(fw):
    assert fw.back(fw.backend.empty((2,))).dtype.kind == "f"


def test_detach(fw):
    data = np.array([1.0, 2.0])
    if fw.name == "torch":
        import torch

        t = torch.tensor(data, requires_grad=True)
        detached = fw.backend.detach(t * 2)
        assert not detached.requires_grad
        np.testing.assert_array_equal(fw.back(detached), [2.0, 4.0])
    else:
        np.testing.assert_array_equal(fw.back(fw.backend.detach(fw.make(data))), data)


def test_equal(fw):
    a = fw.make(np.array([1.0, 2.0]))
    assert fw.backend.equal(a, fw.make(np.array([1.0, 2.0])))
    assert not fw.backend.equal(a, fw.make(np.array([1.0, 3.0])))
    assert not fw.backend.equal(a, fw.make(np.array([[1.0, 2.0]])))
    assert not fw.backend.equal(a, [1.0, 2.0])
    assert not fw.backend.equal(a, None)


# ---- devices -------------------------------------------------------------------------------


def test_numpy_has_no_devices():
    from docstack.computation.numpy_backend import NumpyCompBackend

    assert NumpyCompBackend.device(np.zeros(2)) is None
    with pytest.raises(NotImplementedError):
        NumpyCompBackend.to_device(np.zeros(2), "cpu")
    with pytest.raises(NotImplementedError):
        NumpyCompBackend.empty((2,), device="cpu")
    with pytest.warns(UserWarning, match="device"):
        NumpyCompBackend.Metrics.cosine_sim(np.ones(2), np.ones(2), device="cuda")
    with pytest.warns(UserWarning, match="device"):
        NumpyCompBackend.Retrieval.top_k(np.ones(2), 1, device="cuda")


def test_torch_devices():
    torch = pytest.importorskip("torch")
    from docstack.computation.torch_backend import TorchCompBackend

    t = torch.zeros(3)
    assert TorchCompBackend.device(t) == "cpu"
    assert TorchCompBackend.to_device(t, "meta").device.type == "meta"
    assert TorchCompBackend.empty((2, 2), device="meta").device.type == "meta"
    dist = TorchCompBackend.Metrics.euclidean_dist(t, t, device="meta")
    assert dist.device.type == "meta"


def test_jax_devices():
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from docstack.computation.jax_backend import JaxCompBackend
    from docstack.typing import JaxArray

    a = JaxArray(jnp.zeros(3))
    assert JaxCompBackend.device(a) == "cpu"
    moved = JaxCompBackend.to_device(a, "cpu:0")
    assert isinstance(moved, JaxArray)
    assert {d.platform for d in moved.tensor.devices()} == {"cpu"}
    assert JaxCompBackend.device(JaxCompBackend.empty((2,), device="cpu")) == "cpu"
    with pytest.raises(ValueError, match="no jax device"):
        JaxCompBackend.to_device(a, "cpu:99")


def test_tensorflow_devices():
    tf = pytest.importorskip("tensorflow")
    from docstack.computation.tensorflow_backend import TensorFlowCompBackend
    from docstack.typing import TensorFlowTensor

    t = TensorFlowTensor(tf.zeros(3))
    assert TensorFlowCompBackend.device(t).endswith("CPU:0")
    assert TensorFlowCompBackend.to_device(t, "CPU:0").tensor.device.endswith("CPU:0")
    assert TensorFlowCompBackend.empty((2,), device="CPU:0").tensor.device.endswith("CPU:0")


# ---- minmax_normalize ----------------------------------------------------------------------


def test_minmax_normalize_each_row_on_its_own(fw):
    data = np.array([[0.0, 5.0, 10.0], [2.0, 3.0, 4.0]])
    out = fw.back(fw.backend.minmax_normalize(fw.make(data)))
    np.testing.assert_allclose(out, [[0, 0.5, 1], [0, 0.5, 1]], atol=1e-6)


def test_minmax_normalize_reversed_range_and_fixed_source(fw):
    data = np.array([0.0, 5.0, 10.0, 20.0])
    out = fw.back(fw.backend.minmax_normalize(fw.make(data), t_range=(1, 0), x_range=(0, 10)))
    # 20 is outside the source range: clipped to the target's end
    np.testing.assert_allclose(out, [1, 0.5, 0, 0], atol=1e-6)


def test_minmax_normalize_constant_row_is_finite(fw):
    out = fw.back(fw.backend.minmax_normalize(fw.make(np.full(4, 3.0))))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, 0.0)


def test_minmax_normalize_integers(fw):
    data = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)
    out = fw.back(fw.backend.minmax_normalize(fw.make(data), t_range=(0, 10)))
    np.testing.assert_allclose(out, [0, 2, 4, 6, 8, 10], atol=1e-5)
    if fw.name == "numpy":
        assert out.dtype.kind == "f"
    else:  # rounded back to the input's integer dtype, not truncated
        assert out.dtype.kind == "i"
        assert out.tolist() == [0, 2, 4, 6, 8, 10]


def test_minmax_normalize_keeps_float32(fw):
    out = fw.back(fw.backend.minmax_normalize(fw.make(np.array([1.0, 2.0], np.float32))))
    assert out.dtype == np.float32


# ---- metrics -------------------------------------------------------------------------------

METRIC_CASES = [
    ((7,), (7,), (1,)),
    ((7,), (4, 7), (4,)),
    ((3, 7), (7,), (3,)),
    ((3, 7), (4, 7), (3, 4)),
    ((1, 7), (4, 7), (4,)),
    ((1, 7), (1, 7), (1,)),
]


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("x_shape, y_shape, out_shape", METRIC_CASES)
def test_metrics_match_the_reference(fw, metric, x_shape, y_shape, out_shape):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=x_shape), rng.normal(size=y_shape)
    function = {
        "cosine": fw.backend.Metrics.cosine_sim,
        "euclidean": fw.backend.Metrics.euclidean_dist,
        "sqeuclidean": fw.backend.Metrics.sqeuclidean_dist,
    }[metric]
    out = fw.back(function(fw.make(x), fw.make(y)))
    assert out.shape == out_shape
    np.testing.assert_allclose(out, reference(x, y, metric), rtol=1e-5, atol=1e-6)


def test_metrics_keep_float32(fw):
    x = np.random.default_rng(1).random((3, 4), dtype=np.float32)
    for function in (
        fw.backend.Metrics.cosine_sim,
        fw.backend.Metrics.euclidean_dist,
        fw.backend.Metrics.sqeuclidean_dist,
    ):
        assert fw.back(function(fw.make(x), fw.make(x))).dtype == np.float32


def test_metrics_of_integers_are_floats(fw):
    x = np.array([[0, 3], [4, 0]], dtype=np.int32)
    out = fw.back(fw.backend.Metrics.euclidean_dist(fw.make(x), fw.make(x)))
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out, [[0, 5], [5, 0]], atol=1e-6)


def test_self_distance_is_zero_and_self_similarity_one(fw):
    x = np.random.default_rng(2).random((6, 128), dtype=np.float32) * 10
    dist = fw.back(fw.backend.Metrics.euclidean_dist(fw.make(x), fw.make(x)))
    np.testing.assert_allclose(np.diag(dist), 0.0, atol=1e-5)
    sim = fw.back(fw.backend.Metrics.cosine_sim(fw.make(x), fw.make(x)))
    np.testing.assert_allclose(np.diag(sim), 1.0, atol=1e-6)
    assert (sim <= 1.0).all() and (sim >= -1.0).all()


def test_cosine_of_a_zero_vector_is_zero(fw):
    out = fw.back(fw.backend.Metrics.cosine_sim(fw.make(np.zeros(3)), fw.make(np.eye(3))))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0])


def test_cosine_eps_bounds_the_norms(fw):
    # both norms are 1e-3; with eps=1 they count as 1, so the similarity is 1e-6, not 1
    x = np.array([1e-3, 0.0])
    out = fw.back(fw.backend.Metrics.cosine_sim(fw.make(x), fw.make(x), eps=1.0))
    np.testing.assert_allclose(out, [1e-6], rtol=1e-4)
    out = fw.back(fw.backend.Metrics.cosine_sim(fw.make(x), fw.make(x)))
    np.testing.assert_allclose(out, [1.0], rtol=1e-6)


def test_large_inputs_use_the_matrix_product_and_agree(fw):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 64)), rng.normal(size=(250, 64))
    assert x.shape[0] * y.shape[0] * x.shape[1] > _DIRECT_LIMIT
    out = fw.back(fw.backend.Metrics.sqeuclidean_dist(fw.make(x), fw.make(y)))
    np.testing.assert_allclose(out, reference(x, y, "sqeuclidean"), rtol=1e-6, atol=1e-8)
    same = fw.back(fw.backend.Metrics.sqeuclidean_dist(fw.make(x), fw.make(x)))
    assert (same >= 0).all()  # the cancellation error is clipped at 0


def test_metrics_refuse_mismatched_shapes(fw):
    with pytest.raises(ValueError, match="same vector dimension"):
        fw.backend.Metrics.cosine_sim(fw.make(np.ones((2, 3))), fw.make(np.ones((2, 4))))
    with pytest.raises(ValueError, match="x_mat must be"):
        fw.backend.Metrics.euclidean_dist(fw.make(np.ones((2, 2, 3))), fw.make(np.ones(3)))


def test_backends_agree_with_each_other():
    rng = np.random.default_rng(4)
    x, y = rng.random((5, 8), dtype=np.float32), rng.random((3, 8), dtype=np.float32)
    results = []
    for make in FRAMEWORKS.values():
        f = make()
        results.append(f.back(f.backend.Metrics.cosine_sim(f.make(x), f.make(y))))
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=1e-5)


# ---- top_k ---------------------------------------------------------------------------------


def test_top_k_smallest_first_with_ties_by_index(fw):
    data = np.array([[1, 4, 2, 7, 4, 9, 2], [11, 6, 2, 7, 3, 10, 4]])
    values, indices = fw.backend.Retrieval.top_k(fw.make(data), 3)
    assert fw.back(values).tolist() == [[1, 2, 2], [2, 3, 4]]
    assert fw.back(indices).tolist() == [[0, 2, 6], [2, 4, 6]]


def test_top_k_descending(fw):
    data = np.array([1, 4, 2, 7, 4, 9, 2])
    values, indices = fw.backend.Retrieval.top_k(fw.make(data), 4, descending=True)
    assert fw.back(values).tolist() == [[9, 7, 4, 4]]
    assert fw.back(indices).tolist() == [[5, 3, 1, 4]]


def test_top_k_ranks_nan_last(fw):
    data = np.array([[0.5, np.nan, 0.1, 0.9]])
    for descending, expected in ((False, [2, 0, 3, 1]), (True, [3, 0, 2, 1])):
        _, indices = fw.backend.Retrieval.top_k(fw.make(data), 4, descending=descending)
        assert fw.back(indices).tolist() == [expected]


def test_top_k_unsigned_values_do_not_wrap(fw):
    data = np.array([3, 0, 255, 1], dtype=np.uint8)
    values, _ = fw.backend.Retrieval.top_k(fw.make(data), 2, descending=True)
    assert fw.back(values).tolist() == [[255, 3]]
    values, _ = fw.backend.Retrieval.top_k(fw.make(data), 2)
    assert fw.back(values).tolist() == [[0, 1]]


def test_top_k_larger_than_the_row_returns_all(fw):
    values, indices = fw.backend.Retrieval.top_k(fw.make(np.array([3.0, 1.0])), 10)
    assert fw.back(values).tolist() == [[1.0, 3.0]]
    assert fw.back(indices).tolist() == [[1, 0]]


def test_top_k_zero_and_bad_k(fw):
    values, indices = fw.backend.Retrieval.top_k(fw.make(np.ones((2, 3))), 0)
    assert fw.back(values).shape == (2, 0)
    assert fw.back(indices).shape == (2, 0)
    with pytest.raises(ValueError, match="k must be >= 0"):
        fw.backend.Retrieval.top_k(fw.make(np.ones(3)), -1)
    with pytest.raises(TypeError, match="k must be an int"):
        fw.backend.Retrieval.top_k(fw.make(np.ones(3)), 1.5)
    with pytest.raises(ValueError, match="n_queries, n_values"):
        fw.backend.Retrieval.top_k(fw.make(np.ones((2, 2, 2))), 1)


def test_wrapped_frameworks_return_wrapped_values():
    pytest.importorskip("jax")
    pytest.importorskip("tensorflow")
    from docstack.typing import JaxArray, TensorFlowTensor

    for make, cls in ((_jax, JaxArray), (_tensorflow, TensorFlowTensor)):
        f = make()
        values, indices = f.backend.Retrieval.top_k(f.make(np.array([2.0, 1.0])), 1)
        assert isinstance(values, cls) and isinstance(indices, cls)
        assert isinstance(f.backend.Metrics.cosine_sim(f.make(np.ones(2)), f.make(np.ones(2))), cls)
        assert isinstance(f.backend.stack([f.make(np.ones(2))]), cls)
        # plain framework arrays and numpy arrays are accepted as inputs too
        assert isinstance(f.backend.squeeze(np.ones((1, 2))), cls)


# ---- imports -------------------------------------------------------------------------------


def test_importing_the_backends_imports_no_framework():
    code = (
        "import sys\n"
        "import docstack.computation.numpy_backend, docstack.computation.torch_backend\n"
        "import docstack.computation.jax_backend, docstack.computation.tensorflow_backend\n"
        "import docstack.data\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_framework_modules_are_reachable_as_in_docarray():
    pytest.importorskip("tensorflow")
    from docstack.computation import tensorflow_backend, torch_backend

    assert tensorflow_backend.tnp.__name__.endswith("experimental.numpy")
    assert torch_backend.torch.__name__ == "torch"
    with pytest.raises(AttributeError):
        torch_backend.not_a_name  # noqa: B018


@pytest.mark.parametrize(
    "module, backend_module, backend",
    [
        ("torch", "torch_backend", "TorchCompBackend"),
        ("jax", "jax_backend", "JaxCompBackend"),
        ("tensorflow", "tensorflow_backend", "TensorFlowCompBackend"),
    ],
)
def test_a_missing_framework_names_its_extra(monkeypatch, module, backend_module, backend):
    cls = getattr(importlib.import_module(f"docstack.computation.{backend_module}"), backend)
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` fail
    with pytest.raises(MissingDependencyError, match=rf"docstack\[{module}\]"):
        cls.empty((1,))
    with pytest.raises(ImportError):  # it is an ImportError too
        cls.Metrics.cosine_sim([1.0], [1.0])
