"""The machinery shared by every tensor type: shape parameters and pydantic integration."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from docstack.typing.tensor._convert import framework_of, to_numpy
from docstack.typing.tensor._shape import ShapeSpec, check_shape, parse_shape_spec

__all__ = ["AbstractTensor", "concrete_tensor_class", "tensor_json_schema"]

# (family, framework) -> module that defines the concrete class, and its name
_CONCRETE_LOCATIONS: dict[tuple[str, str], tuple[str, str]] = {}
for _family, _np, _torch, _jax, _tf in [
    ("tensor", "NdArray", "TorchTensor", "JaxArray", "TensorFlowTensor"),
    ("image", "ImageNdArray", "ImageTorchTensor", "ImageJaxArray", "ImageTensorFlowTensor"),
    ("audio", "AudioNdArray", "AudioTorchTensor", "AudioJaxArray", "AudioTensorFlowTensor"),
    ("video", "VideoNdArray", "VideoTorchTensor", "VideoJaxArray", "VideoTensorFlowTensor"),
    ("embedding", "NdArrayEmbedding", "TorchEmbedding", "JaxArrayEmbedding", "TensorFlowEmbedding"),
]:
    _CONCRETE_LOCATIONS[(_family, "numpy")] = ("docstack.typing.tensor.ndarray", _np)
    _CONCRETE_LOCATIONS[(_family, "torch")] = ("docstack.typing.tensor.torch_tensor", _torch)
    _CONCRETE_LOCATIONS[(_family, "jax")] = ("docstack.typing.tensor.jax_array", _jax)
    _CONCRETE_LOCATIONS[(_family, "tensorflow")] = (
        "docstack.typing.tensor.tensorflow_tensor",
        _tf,
    )


def concrete_tensor_class(family: str, framework: str) -> type[AbstractTensor]:
    """The concrete tensor class of a family (``'image'``, ...) in a framework (``'torch'``, ...).

    The families are ``'tensor'``, ``'image'``, ``'audio'``, ``'video'`` and ``'embedding'``;
    the frameworks ``'numpy'``, ``'torch'``, ``'jax'`` and ``'tensorflow'``. Importing the
    class imports the framework, so this raises :class:`~docstack.errors.MissingDependencyError`
    naming the extra to install when the framework is missing.

    Example
    -------
    >>> concrete_tensor_class("image", "numpy").__name__
    'ImageNdArray'
    """
    try:
        module_name, cls_name = _CONCRETE_LOCATIONS[(family, framework)]
    except KeyError:
        raise ValueError(
            f"no tensor type for family {family!r} in framework {framework!r}"
        ) from None
    return getattr(importlib.import_module(module_name), cls_name)


def tensor_json_schema(spec: ShapeSpec | None, framework: str) -> JsonSchemaValue:
    """JSON schema of a tensor: nested arrays of numbers, sized where the shape fixes a size.

    Example
    -------
    >>> tensor_json_schema((2,), "numpy")["maxItems"]
    2
    """
    meta = {
        "framework": framework,
        "shape": None if spec is None else ["..." if d is Ellipsis else d for d in spec],
    }
    if spec is None:
        return {"type": "array", "items": {}, "x-docstack-tensor": meta}
    schema: JsonSchemaValue = {"type": "number"}
    dims = list(spec)
    if Ellipsis in dims:
        # dimensions after '...' cannot be located from the outside: describe the head only
        dims = dims[: dims.index(Ellipsis)]
        schema = {}
        inner_is_any = True
    else:
        inner_is_any = False
    for dim in reversed(dims):
        level: JsonSchemaValue = {"type": "array", "items": schema}
        if isinstance(dim, int):
            level["minItems"] = dim
            level["maxItems"] = dim
        schema = level
    if inner_is_any and not dims:
        schema = {"type": "array", "items": {}}
    schema["x-docstack-tensor"] = meta
    return schema


def _serialize_json(value: Any) -> Any:
    return to_numpy(value).tolist()


def _snake_case(name: str) -> str:
    """``'AudioTorchTensor'`` -> ``'audio_torch_tensor'``; ``'NdArray'`` -> ``'ndarray'``."""
    words = re.findall(
        r"[A-Z][a-z0-9]*", name.replace("NdArray", "Ndarray").replace("TensorFlow", "Tensorflow")
    )
    return "_".join(w.lower() for w in words) or name.lower()


class AbstractTensorMeta(type):
    """Makes ``isinstance(x, AbstractTensor)`` true for a tensor of any framework.

    Fields of numpy type hold plain ``np.ndarray`` values and torch fields may hold plain
    ``torch.Tensor`` ones, so code that asks "is this a tensor?" with DocArray's
    ``AbstractTensor`` gets the answer it means. Every other tensor class answers
    ``isinstance`` as usual (``NdArray`` by dtype and shape, see ``ndarray.py``).
    """

    def __instancecheck__(cls, obj: Any) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        return cls is AbstractTensor and framework_of(obj) is not None


class AbstractTensor(metaclass=AbstractTensorMeta):
    """Base of every docstack tensor type.

    A tensor type can be parametrized with a shape: ``NdArray[128]``,
    ``TorchTensor['batch', 3, 224, 224]``, ``AnyTensor[..., 3]``. See
    :mod:`docstack.typing.tensor._shape` for the matching rule.

    Example
    -------
    >>> from docstack.typing import AbstractTensor, NdArray, TorchTensor
    >>> issubclass(NdArray, AbstractTensor) and issubclass(TorchTensor, AbstractTensor)
    True
    >>> import numpy as np
    >>> isinstance(np.zeros(3), AbstractTensor), isinstance([0.0], AbstractTensor)
    (True, False)
    >>> NdArray['n', 3].validate([[1, 2, 3]]).shape
    (1, 3)
    """

    __slots__ = ()

    __docstack_shape__: ClassVar[ShapeSpec | None] = None
    # the shape when it is all fixed ints (the common case, checked with one tuple compare)
    __docstack_fixed_shape__: ClassVar[tuple[int, ...] | None] = None
    __docstack_base__: ClassVar[type]
    _docstack_family: ClassVar[str] = "tensor"
    _docstack_framework: ClassVar[str] = "numpy"
    _docstack_param_cache: ClassVar[dict[tuple[type, ShapeSpec], type]] = {}

    #: the type's name in snake case ('audio_torch_tensor'), which DocArray code reads
    _proto_type_name: ClassVar[str] = "abstract_tensor"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__docstack_shape__" not in cls.__dict__:
            cls.__docstack_base__ = cls
            cls._proto_type_name = _snake_case(cls.__name__)

    @classmethod
    def from_ndarray(cls, value: Any) -> Any:
        """A numpy array (or any array-like) as this tensor type: :meth:`validate` under
        DocArray's name (``TorchTensor.from_ndarray(np.zeros(3))``)."""
        return cls.validate(value)

    @classmethod
    def _docarray_from_native(cls, value: Any) -> Any:
        """DocArray's name for :meth:`validate` of a framework's own tensor."""
        return cls.validate(value)

    def _docarray_to_ndarray(self) -> Any:
        """This tensor as a numpy array (DocArray's name for ``to_numpy``)."""
        return to_numpy(self)

    def __class_getitem__(cls, item: Any) -> type:
        if cls.__docstack_shape__ is not None:
            raise TypeError(f"{cls.__name__} already has a shape; cannot parametrize it again")
        spec = parse_shape_spec(item)
        if cls._docstack_family == "embedding" and (len(spec) != 1 or spec[0] is Ellipsis):
            from docstack.errors import ShapeError

            raise ShapeError(
                f"an embedding is one vector: {cls.__name__} takes one dimension "
                f"({cls.__name__}[128]), got {item!r}; use the tensor type for other shapes"
            )
        key = (cls, spec)
        cached = AbstractTensor._docstack_param_cache.get(key)
        if cached is not None:
            return cached
        shown = ", ".join("..." if d is Ellipsis else repr(d) for d in spec)
        sub = type(cls)(
            f"{cls.__name__}[{shown}]",
            (cls,),
            {
                "__docstack_shape__": spec,
                "__docstack_fixed_shape__": (spec if all(type(d) is int for d in spec) else None),
                "__module__": cls.__module__,
                "__slots__": (),
            },
        )
        sub.__docstack_base__ = cls
        AbstractTensor._docstack_param_cache[key] = sub
        return sub

    # -- validation -------------------------------------------------------------------------

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        """Convert ``value`` to an instance of this class, without checking the shape."""
        raise NotImplementedError  # every concrete tensor class overrides this

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        """Convert and shape-check a value; raises ``ValueError`` with the reason."""
        out = cls._docstack_convert(value)
        fixed = cls.__docstack_fixed_shape__
        if fixed is not None:
            if out.shape == fixed:
                return out
            raise ValueError(f"{cls.__name__}: {check_shape(tuple(out.shape), fixed)}")
        spec = cls.__docstack_shape__
        if spec is not None:
            reason = check_shape(tuple(out.shape), spec)
            if reason is not None:
                raise ValueError(f"{cls.__name__}: {reason}")
        return out

    @classmethod
    def validate(cls, value: Any) -> Any:
        """Validate ``value`` as this type, as a field of this type would.

        Parameters
        ----------
        value:
            An array, tensor of any framework, or nested list of numbers.

        Returns
        -------
        The value as an instance of this tensor type.

        Example
        -------
        >>> from docstack.typing import NdArray
        >>> NdArray[3].validate([1, 2, 3]).shape
        (3,)
        """
        return cls._docstack_validate(value)

    # -- pydantic ---------------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._docstack_field_validator(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_json, when_used="json-unless-none"
            ),
        )

    @classmethod
    def _docstack_field_validator(cls) -> Callable[[Any], Any]:
        """The function a pydantic field of this type validates with: ``_docstack_validate``
        unless a class has a cheaper one for its common case."""
        return cls._docstack_validate

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return tensor_json_schema(cls.__docstack_shape__, cls._docstack_framework)

    # -- helpers shared by all frameworks ---------------------------------------------------

    def unwrap(self) -> Any:
        """The tensor as a plain framework object (``np.ndarray``, ``torch.Tensor``, ...).

        Example
        -------
        >>> from docstack.typing import ImageNdArray
        >>> type(ImageNdArray.validate([[0, 1], [2, 3]]).unwrap()).__name__
        'ndarray'
        """
        raise NotImplementedError  # every concrete tensor class overrides this


def rebuild_tensor(base: type, spec: ShapeSpec | None, data: Any) -> Any:
    """Pickle support: rebuild a (possibly parametrized) tensor type around plain data.

    Example
    -------
    >>> from docstack.typing import NdArray
    >>> rebuild_tensor(NdArray, (2,), [1, 2]).tolist()
    [1, 2]
    """
    cls = base if spec is None else base[spec]
    return cls._docstack_convert(data)
