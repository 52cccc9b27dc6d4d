"""Hypothesis strategies for round-trip tests: generated document schemas and documents.

A schema draws fields from every kind docstack stores differently: scalars, Optional
scalars, bytes, dicts and lists, tensors of each framework (fixed and free shapes, several
dtypes, Optional ones that are None in some documents), nested documents (Optional ones
too) and ``DocList`` fields, to a depth of two.
"""

from __future__ import annotations

import itertools
from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st

from docstack import BaseDoc, DocList
from docstack.typing import AnyTensor, JaxArray, NdArray, TensorFlowTensor, TorchTensor

_names = itertools.count()

_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]
# frameworks that cannot hold some dtypes: keep to what each one stores
_FRAMEWORK_DTYPES = {
    "numpy": _DTYPES,
    "torch": [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_],
    "jax": [np.float32, np.int32, np.uint8, np.bool_],
    "tensorflow": [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_],
}
_TENSOR_TYPES = {
    "numpy": NdArray,
    "torch": TorchTensor,
    "jax": JaxArray,
    "tensorflow": TensorFlowTensor,
    "any": AnyTensor,
}

_text = st.text(max_size=12)
_scalars: dict[str, tuple[Any, st.SearchStrategy]] = {
    "str": (str, _text),
    "int": (int, st.integers(-(2**62), 2**62)),
    "float": (float, st.floats(allow_nan=False, allow_infinity=True, width=64)),
    "bool": (bool, st.booleans()),
    "opt_str": (Optional[str], st.none() | _text),
    "opt_int": (Optional[int], st.none() | st.integers(-1000, 1000)),
    "bytes": (Optional[bytes], st.none() | st.binary(max_size=16)),
    "dict": (dict[str, int], st.dictionaries(_text, st.integers(-5, 5), max_size=3)),
    "list": (list[str], st.lists(_text, max_size=3)),
}


def _array(dtype: Any, shape: tuple[int, ...]) -> st.SearchStrategy:
    dtype = np.dtype(dtype)

    def make(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if dtype.kind == "b":
            return rng.integers(0, 2, shape).astype(bool)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            return rng.integers(max(info.min, -100), min(info.max, 100), shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)

    return st.integers(0, 2**32 - 1).map(make)


def _to_framework(arr: np.ndarray, framework: str) -> Any:
    if framework == "torch":
        import torch

        return torch.from_numpy(arr.copy())
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(arr)
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.constant(arr)
    return arr


@st.composite
def tensor_field(draw: Any) -> tuple[Any, st.SearchStrategy]:
    """A tensor annotation and a strategy of its values."""
    framework = draw(st.sampled_from(sorted(_TENSOR_TYPES)))
    value_framework = draw(st.sampled_from(["numpy", "torch"])) if framework == "any" else framework
    dtype = draw(st.sampled_from(_FRAMEWORK_DTYPES[value_framework]))
    base = _TENSOR_TYPES[framework]
    fixed = draw(st.booleans())
    optional = draw(st.booleans())
    if fixed:
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
        annotation: Any = base[shape]
        shapes = st.just(shape)
    else:
        annotation = base
        shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
    values = shapes.flatmap(lambda s: _array(dtype, s)).map(
        lambda a: _to_framework(a, value_framework)
    )
    if optional:
        return Optional[annotation], st.none() | values
    return annotation, values


@st.composite
def doc_class(draw: Any, depth: int = 0) -> tuple[type, st.SearchStrategy]:
    """A generated ``BaseDoc`` subclass and a strategy of its documents."""
    n_fields = draw(st.integers(1, 5))
    annotations: dict[str, Any] = {}
    strategies: dict[str, st.SearchStrategy] = {}
    for i in range(n_fields):
        choices = ["scalar", "tensor"] + (["doc", "opt_doc", "doclist"] if depth < 2 else [])
        kind = draw(st.sampled_from(choices))
        name = f"f{i}_{kind}"
        if kind == "scalar":
            annotation, values = _scalars[draw(st.sampled_from(sorted(_scalars)))]
        elif kind == "tensor":
            annotation, values = draw(tensor_field())
        else:
            inner_cls, inner_docs = draw(doc_class(depth=depth + 1))
            if kind == "doc":
                annotation, values = inner_cls, inner_docs
            elif kind == "opt_doc":
                annotation, values = Optional[inner_cls], st.none() | inner_docs
            else:
                annotation = DocList[inner_cls]
                values = st.lists(inner_docs, max_size=3).map(
                    lambda docs, c=inner_cls: DocList[c](docs)
                )
        annotations[name] = annotation
        strategies[name] = values
    cls = type(f"Generated{next(_names)}", (BaseDoc,), {"__annotations__": annotations})
    return cls, st.fixed_dictionaries(strategies).map(lambda kw, c=cls: c(**kw))


@st.composite
def doc_arrays(draw: Any, max_docs: int = 4) -> tuple[type, list[Any]]:
    """A generated document class and a list of its documents."""
    cls, docs = draw(doc_class())
    return cls, draw(st.lists(docs, min_size=0, max_size=max_docs))
