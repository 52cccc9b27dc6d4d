"""Tests of tensor shape specifications (docstack.typing.tensor._shape) and of how every tensor
type applies them."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from docstack import BaseDoc
from docstack.typing import AnyTensor, JaxArray, NdArray, TorchTensor
from docstack.typing.tensor._shape import check_shape, format_spec, parse_shape_spec

# --------------------------------------------------------------------------------------------
# a tiny reference matcher, written independently of the implementation
# --------------------------------------------------------------------------------------------


def reference_match(shape: tuple, spec: tuple) -> bool:
    """Whether ``shape`` matches ``spec``, by brute force.

    ``...`` is tried as every possible run of dimensions (0 up to all of them); each
    expansion is then a plain spec of ints and names that must line up one to one, with all
    occurrences of a name equal.
    """
    if Ellipsis in spec:
        cut = spec.index(Ellipsis)
        candidates = [spec[:cut] + ("*",) * k + spec[cut + 1 :] for k in range(len(shape) + 1)]
    else:
        candidates = [spec]
    for cand in candidates:
        if len(cand) != len(shape):
            continue
        sizes: dict[str, set] = {}
        ok = True
        for want, got in zip(cand, shape):
            if want == "*":
                continue
            if isinstance(want, str):
                sizes.setdefault(want, set()).add(got)
            elif want != got:
                ok = False
        if ok and all(len(s) == 1 for s in sizes.values()):
            return True
    return False


def test_reference_matcher_itself():
    # the reference must be right before it can judge anything
    assert reference_match((2, 3), (2, 3))
    assert not reference_match((2, 3), (3, 2))
    assert reference_match((4, 4), ("x", "x"))
    assert not reference_match((4, 5), ("x", "x"))
    assert reference_match((), (...,))
    assert reference_match((1, 2, 3), (..., 3))
    assert not reference_match((1, 2, 3), (..., 2))
    assert reference_match((5, 1, 2, 5), ("a", ..., "a"))
    assert not reference_match((5,), ("a", ..., "a"))


# --------------------------------------------------------------------------------------------
# check_shape: examples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "spec"),
    [
        ((128,), (128,)),
        ((3, 224, 224), (3, 224, 224)),
        ((8, 3, 5, 5), ("batch", 3, "x", "x")),
        ((1, 3, 1, 1), ("batch", 3, "x", "x")),
        ((), ()),
        ((), (...,)),
        ((7, 2, 9), (...,)),
        ((2, 3), (..., 3)),
        ((3,), (..., 3)),
        ((3, 9, 9), (3, ...)),
        ((2, 7, 7, 4), (2, ..., 4)),
        ((2, 4), (2, ..., 4)),
        ((6, 1, 6), ("n", ..., "n")),
        ((0, 3), ("n", 3)),
        ((5, 6), ("rows", "cols")),
    ],
)
def test_check_shape_accepts(shape, spec):
    assert check_shape(shape, spec) is None


@pytest.mark.parametrize(
    ("shape", "spec"),
    [
        ((2, 64), (128,)),
        ((128, 1), (128,)),
        ((127,), (128,)),
        ((224, 224, 3), (3, 224, 224)),
        ((8, 3, 5, 6), ("batch", 3, "x", "x")),
        ((8, 4, 5, 5), ("batch", 3, "x", "x")),
        ((3,), ()),
        ((), (3,)),
        ((2, 4), (..., 3)),
        ((), (..., 3)),
        ((4,), (2, ..., 4)),
        ((6, 1, 7), ("n", ..., "n")),
        ((6,), ("n", ..., "n")),
        ((3, 3), ("n",)),
    ],
)
def test_check_shape_rejects_with_reason(shape, spec):
    reason = check_shape(shape, spec)
    assert isinstance(reason, str)
    # the reason names what was expected and what came
    assert str(tuple(shape)) in reason
    assert format_spec(spec) in reason


def test_check_shape_reason_names_the_disagreeing_dimension():
    reason = check_shape((2, 3, 4, 5), ("batch", 3, "x", "x"))
    assert "'x'" in reason
    assert "4" in reason and "5" in reason


def test_format_spec():
    assert format_spec((128,)) == "(128,)"
    assert format_spec(("batch", 3, ...)) == "('batch', 3, ...)"


# --------------------------------------------------------------------------------------------
# parse_shape_spec and parametrization
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (128, (128,)),
        ((3, 224, 224), (3, 224, 224)),
        (("batch", 3, "x", "x"), ("batch", 3, "x", "x")),
        (..., (...,)),
        ((..., 3), (..., 3)),
        (0, (0,)),
    ],
)
def test_parse_shape_spec(item, expected):
    assert parse_shape_spec(item) == expected


@pytest.mark.parametrize(
    "item",
    [-1, 1.5, True, None, "", (..., ...), (3, ..., "a", ...), (3, [4]), (np.float64(2.0),)],
)
def test_parse_shape_spec_rejects(item):
    with pytest.raises(TypeError):
        parse_shape_spec(item)


@pytest.mark.parametrize("tensor_cls", [NdArray, TorchTensor, JaxArray, AnyTensor])
def test_invalid_spec_is_a_type_error_at_class_creation(tensor_cls):
    with pytest.raises(TypeError):
        tensor_cls[-3]
    with pytest.raises(TypeError):
        tensor_cls[..., ...]


@pytest.mark.parametrize("tensor_cls", [NdArray, TorchTensor, JaxArray, AnyTensor])
def test_parametrized_types_are_cached_and_named(tensor_cls):
    a = tensor_cls[3, "x"]
    assert a is tensor_cls[3, "x"]
    assert a is not tensor_cls[3, "y"]
    assert a.__name__ == f"{tensor_cls.__name__}[3, 'x']"
    assert tensor_cls[...].__name__ == f"{tensor_cls.__name__}[...]"
    assert issubclass(a, tensor_cls)


@pytest.mark.parametrize("tensor_cls", [NdArray, TorchTensor, JaxArray])
def test_cannot_parametrize_twice(tensor_cls):
    with pytest.raises(TypeError, match="already"):
        tensor_cls[3][3]


# --------------------------------------------------------------------------------------------
# property test: check_shape agrees with the reference
# --------------------------------------------------------------------------------------------

_NAMES = ("a", "b", "c")
_dim_spec = st.one_of(st.integers(0, 4), st.sampled_from(_NAMES))


@st.composite
def spec_and_shape(draw):
    """A spec (maybe with one '...') and a shape that often, but not always, matches it."""
    dims = draw(st.lists(_dim_spec, max_size=4))
    if draw(st.booleans()):
        dims.insert(draw(st.integers(0, len(dims))), Ellipsis)
    spec = tuple(dims)
    # build a matching shape, then maybe perturb it
    names = {n: draw(st.integers(0, 4)) for n in _NAMES}
    shape: list[int] = []
    for d in spec:
        if d is Ellipsis:
            shape.extend(draw(st.lists(st.integers(0, 4), max_size=3)))
        elif isinstance(d, str):
            shape.append(names[d])
        else:
            shape.append(d)
    mode = draw(st.sampled_from(["keep", "change", "drop", "add", "random"]))
    if mode == "change" and shape:
        i = draw(st.integers(0, len(shape) - 1))
        shape[i] = draw(st.integers(0, 4))
    elif mode == "drop" and shape:
        shape.pop(draw(st.integers(0, len(shape) - 1)))
    elif mode == "add":
        shape.insert(draw(st.integers(0, len(shape))), draw(st.integers(0, 4)))
    elif mode == "random":
        shape = draw(st.lists(st.integers(0, 4), max_size=6))
    return spec, tuple(shape)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_and_shape())
def test_check_shape_agrees_with_reference(case):
    spec, shape = case
    expected = reference_match(shape, spec)
    reason = check_shape(shape, spec)
    assert (reason is None) == expected, (spec, shape, reason)
    if reason is not None:
        assert str(shape) in reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_and_shape())
def test_tensor_types_validate_like_the_reference(case):
    spec, shape = case
    expected = reference_match(shape, spec)
    array = np.zeros(shape, dtype=np.float32)
    for tensor_cls in (NdArray, TorchTensor, JaxArray):
        typed = tensor_cls[spec]
        if expected:
            out = typed.validate(array)
            assert tuple(out.shape) == shape  # never reshaped
            assert isinstance(out, tensor_cls)
        else:
            with pytest.raises(ValueError):
                typed.validate(array)


# --------------------------------------------------------------------------------------------
# every framework applies the shape the same way, inside documents
# --------------------------------------------------------------------------------------------


def _make(framework: str, shape: tuple):
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    if framework == "torch":
        return torch.from_numpy(data)
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(data)
    if framework == "list":
        return data.tolist()
    return data


_SPECS_AND_SHAPES = [
    ((128,), (128,), True),
    ((128,), (2, 64), False),
    ((3, 4, 4), (3, 4, 4), True),
    ((3, 4, 4), (4, 4, 3), False),
    (("batch", 3, "x", "x"), (2, 3, 5, 5), True),
    (("batch", 3, "x", "x"), (2, 3, 5, 4), False),
    ((..., 3), (2, 2, 3), True),
    ((..., 3), (2, 3, 2), False),
    ((...,), (1, 2, 3), True),
]


@pytest.mark.parametrize("tensor_cls", [NdArray, TorchTensor, JaxArray, AnyTensor])
@pytest.mark.parametrize("framework", ["numpy", "torch", "jax", "list"])
@pytest.mark.parametrize(("spec", "shape", "ok"), _SPECS_AND_SHAPES)
def test_shape_in_a_document_field(tensor_cls, framework, spec, shape, ok):
    class Doc(BaseDoc):
        tensor: tensor_cls[spec]  # type: ignore[valid-type]

    value = _make(framework, shape)
    if ok:
        doc = Doc(tensor=value)
        assert tuple(doc.tensor.shape) == shape
    else:
        with pytest.raises(ValidationError) as info:
            Doc(tensor=value)
        err = info.value.errors()[0]
        assert err["loc"] == ("tensor",)
        assert str(shape) in str(info.value)


def test_no_silent_reshape_of_same_size():
    # (2, 64) and (128,) hold the same number of values: still rejected
    for tensor_cls in (NdArray, TorchTensor, JaxArray):
        with pytest.raises(ValueError, match=r"\(2, 64\)"):
            tensor_cls[128].validate(np.zeros((2, 64)))
        with pytest.raises(ValueError):
            tensor_cls[2, 64].validate(np.zeros(128))


def test_named_dims_are_per_tensor_not_per_document():
    # the same name in two fields does not tie them together
    class Doc(BaseDoc):
        a: NdArray["n"]  # noqa: F821
        b: NdArray["n"]  # noqa: F821

    doc = Doc(a=np.zeros(2), b=np.zeros(5))
    assert doc.a.shape == (2,) and doc.b.shape == (5,)


def test_all_square_shapes():
    square = NdArray["x", "x"]
    for n, m in itertools.product(range(4), repeat=2):
        if n == m:
            assert square.validate(np.zeros((n, m))).shape == (n, m)
        else:
            with pytest.raises(ValueError):
                square.validate(np.zeros((n, m)))
