"""Tests of ``NdArray``: conversion, validation errors, JSON, JSON schema, pickling."""

import copy
import json
import pickle
from typing import Optional

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from docstack import BaseDoc
from docstack.typing import NdArray


class VecDoc(BaseDoc):
    vec: NdArray[4]


class AnyShapeDoc(BaseDoc):
    arr: NdArray


class OptDoc(BaseDoc):
    vec: Optional[NdArray[3]] = None


# --------------------------------------------------------------------------------------------
# accepted inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        [1.0, 2.0, 3.0, 4.0],
        (1, 2, 3, 4),
        np.array([1, 2, 3, 4]),
        np.array([1, 2, 3, 4], dtype=np.float32),
        torch.tensor([1.0, 2.0, 3.0, 4.0]),
        jnp.array([1.0, 2.0, 3.0, 4.0]),
    ],
    ids=["list", "tuple", "np-int", "np-f32", "torch", "jax"],
)
def test_accepts_arrays_lists_tuples_and_other_frameworks(value):
    doc = VecDoc(vec=value)
    assert isinstance(doc.vec, np.ndarray)
    assert isinstance(doc.vec, NdArray)
    assert isinstance(doc.vec, NdArray[4])
    assert doc.vec.shape == (4,)
    assert doc.vec.tolist() == [1, 2, 3, 4]


def test_numpy_input_is_not_copied():
    data = np.zeros(4)
    doc = VecDoc(vec=data)
    doc.vec[1] = 7
    assert data[1] == 7
    assert np.shares_memory(doc.vec, data)


def test_dtypes_are_kept():
    assert VecDoc(vec=np.zeros(4, dtype=np.float32)).vec.dtype == np.float32
    assert VecDoc(vec=np.zeros(4, dtype=np.uint8)).vec.dtype == np.uint8
    assert VecDoc(vec=[1, 2, 3, 4]).vec.dtype.kind == "i"
    assert VecDoc(vec=[True, False, True, False]).vec.dtype == np.bool_
    assert VecDoc(vec=torch.zeros(4, dtype=torch.float64)).vec.dtype == np.float64


def test_torch_dtypes_numpy_lacks_are_converted():
    doc = VecDoc(vec=torch.ones(4, dtype=torch.bfloat16))
    assert doc.vec.dtype == np.float32
    assert doc.vec.tolist() == [1, 1, 1, 1]


def test_torch_tensor_that_requires_grad():
    t = torch.ones(4, requires_grad=True)
    doc = VecDoc(vec=t * 2)
    assert doc.vec.tolist() == [2, 2, 2, 2]


def test_non_contiguous_and_read_only_arrays():
    base = np.arange(16.0).reshape(4, 4)
    column = base[:, 1]
    assert VecDoc(vec=column).vec.tolist() == [1, 5, 9, 13]
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    assert VecDoc(vec=frozen).vec.tolist() == [0, 1, 2, 3]


def test_value_is_a_full_numpy_array():
    doc = VecDoc(vec=[1, 2, 3, 4])
    assert float(np.mean(doc.vec)) == 2.5
    assert (doc.vec * 2).tolist() == [2, 4, 6, 8]
    assert np.asarray(doc.vec).tolist() == [1, 2, 3, 4]
    assert np.concatenate([doc.vec, doc.vec]).shape == (8,)


def test_isinstance_checks_dtype_and_shape():
    assert isinstance(np.zeros(4), NdArray[4])
    assert not isinstance(np.zeros(5), NdArray[4])
    assert isinstance(np.zeros((3, 3)), NdArray["x", "x"])  # noqa: F821
    assert not isinstance(np.zeros((3, 2)), NdArray["x", "x"])  # noqa: F821
    assert not isinstance(np.array(["a"]), NdArray)
    assert not isinstance([1, 2, 3, 4], NdArray)


def test_validate_classmethod():
    out = NdArray[2, 2].validate([[1, 2], [3, 4]])
    assert isinstance(out, NdArray[2, 2])
    assert isinstance(out, np.ndarray)
    assert out.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="expected shape"):
        NdArray[2, 2].validate([1, 2, 3, 4])


def test_unparametrized_accepts_any_shape():
    for shape in [(0,), (3,), (2, 3), (1, 2, 3, 4)]:
        assert AnyShapeDoc(arr=np.zeros(shape)).arr.shape == shape


# --------------------------------------------------------------------------------------------
# rejected inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ["a", "b", "c", "d"],
        np.array(["1", "2", "3", "4"]),
        np.array([1, "a", 2, 3], dtype=object),
        [[1, 2], [3]],
        "abcd",
        b"abcd",
        {"a": 1},
        None,
        np.array(["2020-01-01"] * 4, dtype="datetime64[D]"),
    ],
    ids=["str-list", "np-str", "np-object", "ragged", "str", "bytes", "dict", "None", "datetime"],
)
def test_rejects_non_numeric_values_with_field_name(value):
    with pytest.raises(ValidationError) as info:
        VecDoc(vec=value)
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("vec",)
    assert "vec" in str(info.value)


class _Sub(np.ndarray):
    pass


class SquareDoc(BaseDoc):
    sq: NdArray[2, 2]


@pytest.mark.parametrize(
    "doc_cls, field, shape",
    [(VecDoc, "vec", (4,)), (SquareDoc, "sq", (2, 2)), (AnyShapeDoc, "arr", (4,))],
)
def test_fields_agree_with_validate_on_every_kind_of_array(doc_cls, field, shape):
    # a field validates its common case on a shortcut; it must give what validate() gives
    cls = doc_cls.model_fields[field].annotation
    for value in (
        np.arange(4, dtype=np.float32),
        np.arange(4, dtype=np.uint8),
        np.array([True, False, True, False]),
        np.arange(4).view(_Sub),
        np.arange(8)[::2],
    ):
        value = value.reshape(shape)
        got = getattr(doc_cls(**{field: value}), field)
        assert type(got) is np.ndarray and np.shares_memory(got, value)
        assert got.dtype == value.dtype and np.array_equal(got, cls.validate(value))
    if doc_cls is not AnyShapeDoc:
        for bad in (
            np.arange(5.0),
            np.arange(4.0).reshape(1, 4),
            np.arange(4.0).reshape(4, 1),
            np.array(4.0),  # 0-d
            np.array(list("abcd")).reshape(shape),
        ):
            with pytest.raises(ValidationError):
                doc_cls(**{field: bad})
            with pytest.raises(ValueError):
                cls.validate(bad)


def test_shape_error_names_field_and_shapes():
    class Doc(BaseDoc):
        embedding: NdArray[128]

    with pytest.raises(ValidationError) as info:
        Doc(embedding=np.zeros((2, 64)))
    text = str(info.value)
    assert info.value.errors()[0]["loc"] == ("embedding",)
    assert "(128,)" in text and "(2, 64)" in text


def test_missing_field():
    with pytest.raises(ValidationError) as info:
        VecDoc()
    assert info.value.errors()[0]["loc"] == ("vec",)
    assert info.value.errors()[0]["type"] == "missing"


def test_assignment_is_validated_and_keeps_the_old_value():
    doc = VecDoc(vec=[1, 2, 3, 4])
    with pytest.raises(ValidationError) as info:
        doc.vec = np.zeros(5)
    assert info.value.errors()[0]["loc"] == ("vec",)
    with pytest.raises(ValidationError):
        doc.vec = ["a", "b", "c", "d"]
    with pytest.raises(ValidationError):
        doc.vec = None
    assert doc.vec.tolist() == [1, 2, 3, 4]
    doc.vec = (5, 6, 7, 8)
    assert isinstance(doc.vec, NdArray) and doc.vec.tolist() == [5, 6, 7, 8]


def test_optional_tensor():
    assert OptDoc().vec is None
    assert OptDoc(vec=None).vec is None
    assert OptDoc(vec=[1, 2, 3]).vec.tolist() == [1, 2, 3]
    with pytest.raises(ValidationError):
        OptDoc(vec=[1, 2])
    doc = OptDoc(vec=[1, 2, 3])
    doc.vec = None
    assert doc.vec is None


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def test_json_round_trip():
    doc = VecDoc(vec=np.array([0.5, -1.0, 2.0, 1e-3]))
    data = json.loads(doc.model_dump_json())
    assert data["vec"] == [0.5, -1.0, 2.0, 1e-3]
    assert data["id"] == doc.id
    back = VecDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.vec, NdArray)
    assert back == doc
    assert back.id == doc.id


def test_json_round_trip_of_multi_dim_and_ints():
    doc = AnyShapeDoc(arr=np.arange(6).reshape(2, 3))
    back = AnyShapeDoc.model_validate_json(doc.model_dump_json())
    assert back.arr.shape == (2, 3)
    assert back.arr.dtype.kind == "i"
    assert back == doc


def test_json_keeps_nan_and_inf():
    doc = AnyShapeDoc(arr=[np.nan, np.inf, -np.inf, 1.0])
    back = AnyShapeDoc.model_validate_json(doc.model_dump_json())
    assert np.isnan(back.arr[0])
    assert back.arr[1:].tolist() == [np.inf, -np.inf, 1.0]


def test_model_dump_python_keeps_the_array():
    doc = VecDoc(vec=[1, 2, 3, 4])
    assert doc.model_dump()["vec"] is doc.vec
    assert doc.model_dump(mode="json")["vec"] == [1, 2, 3, 4]


def test_json_of_optional_none():
    assert json.loads(OptDoc().model_dump_json())["vec"] is None
    assert OptDoc.model_validate_json('{"vec": null}').vec is None


# --------------------------------------------------------------------------------------------
# JSON schema
# --------------------------------------------------------------------------------------------


def conforms(instance, schema) -> bool:
    """A tiny JSON-schema checker for what tensor schemas use."""
    if "anyOf" in schema:
        return any(conforms(instance, s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "number":
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)
    if kind == "null":
        return instance is None
    if kind == "array":
        if not isinstance(instance, list):
            return False
        if "minItems" in schema and len(instance) < schema["minItems"]:
            return False
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            return False
        return all(conforms(x, schema.get("items", {})) for x in instance)
    return True  # {} accepts anything


_SCHEMA_CASES = [
    ((128,), (128,), (127,)),
    ((3, 4, 5), (3, 4, 5), (3, 5, 4)),
    (("batch", 3, "x", "x"), (2, 3, 4, 4), (2, 4, 4, 4)),
    ((..., 3), (2, 5, 3), None),
    ((2, ...), (2, 7, 1), (3, 7, 1)),
    ((...,), (4, 1), None),
]


@pytest.mark.parametrize(("spec", "good", "bad"), _SCHEMA_CASES)
def test_json_schema_for_every_shape(spec, good, bad):
    class Doc(BaseDoc):
        tensor: NdArray[spec]  # type: ignore[valid-type]

    schema = Doc.model_json_schema()
    field = schema["properties"]["tensor"]
    assert field["type"] == "array"
    meta = field["x-docstack-tensor"]
    assert meta["framework"] == "numpy"
    assert meta["shape"] == ["..." if d is Ellipsis else d for d in spec]
    json.dumps(schema)  # serializable
    # a valid tensor's JSON conforms to the schema
    instance = json.loads(Doc(tensor=np.zeros(good)).model_dump_json())["tensor"]
    assert conforms(instance, field)
    if bad is not None:
        # sizes the schema can state (fixed dims before any '...') reject a wrong tensor
        assert not conforms(np.zeros(bad).tolist(), field)


def test_json_schema_fixed_sizes_are_nested():
    schema = TypeAdapter(NdArray[2, 3]).json_schema()
    assert schema["minItems"] == schema["maxItems"] == 2
    inner = schema["items"]
    assert inner["minItems"] == inner["maxItems"] == 3
    assert inner["items"] == {"type": "number"}


def test_json_schema_named_dims_have_no_size():
    schema = TypeAdapter(NdArray["n", 3]).json_schema()  # noqa: F821
    assert "minItems" not in schema and "maxItems" not in schema
    assert schema["items"]["minItems"] == 3


def test_json_schema_unparametrized_and_optional():
    assert TypeAdapter(NdArray).json_schema()["type"] == "array"
    schema = OptDoc.model_json_schema()["properties"]["vec"]
    kinds = [s.get("type") for s in schema["anyOf"]]
    assert "array" in kinds and "null" in kinds


def test_json_schema_in_serialization_mode():
    # FastAPI response models use the serialization-mode schema
    schema = VecDoc.model_json_schema(mode="serialization")
    assert schema["properties"]["vec"]["minItems"] == 4
    assert "id" in schema["properties"]


# --------------------------------------------------------------------------------------------
# pickle and copy
# --------------------------------------------------------------------------------------------


def test_pickle_keeps_type_dtype_and_values():
    value = NdArray[2, 2].validate(np.array([[1, 2], [3, 4]], dtype=np.int16))
    back = pickle.loads(pickle.dumps(value))
    assert isinstance(back, NdArray[2, 2])
    assert back.dtype == np.int16
    assert back.tolist() == [[1, 2], [3, 4]]


def test_pickle_of_a_document():
    doc = VecDoc(vec=[1.5, 2, 3, 4])
    back = pickle.loads(pickle.dumps(doc))
    assert back == doc and back.id == doc.id
    assert type(back.vec) is type(doc.vec)


def test_deepcopy_is_independent():
    doc = VecDoc(vec=[1, 2, 3, 4])
    other = copy.deepcopy(doc)
    other.vec[0] = 99
    assert doc.vec[0] == 1
    assert isinstance(other.vec, NdArray)
