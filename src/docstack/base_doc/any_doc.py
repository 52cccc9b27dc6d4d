"""``AnyDoc``: a schemaless document that accepts any fields."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, SerializationInfo, SerializerFunctionWrapHandler, WrapSerializer

from docstack.base_doc.doc import BaseDoc
from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["AnyDoc"]


def _jsonable_tensors(value: Any) -> Any:
    """``value`` with every tensor in it (also inside lists, tuples and dicts) as a nested
    list of numbers, as a tensor field is written to JSON."""
    if framework_of(value) is not None:
        return to_numpy(value).tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable_tensors(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable_tensors(v) for k, v in value.items()}
    return value


def _serialize_extra(
    value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo
) -> Any:
    # an extra field has no declared type, so pydantic infers how to write its value; it
    # knows no tensors, so JSON gets them as lists first
    if info.mode_is_json():
        value = _jsonable_tensors(value)
    return handler(value)


_ExtraValue = Annotated[Any, WrapSerializer(_serialize_extra)]


class AnyDoc(BaseDoc):
    """A document with no fixed schema: every keyword becomes a field.

    ``DocList`` without a type parameter holds documents of any type, and ``AnyDoc`` is what
    untyped data (a dict, a JSON object) loads into. Fields holding tensors are written to
    JSON as nested lists, like tensor fields of typed documents.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.base_doc import AnyDoc
    >>> doc = AnyDoc(title='hello', score=3)
    >>> doc.title, doc.score
    ('hello', 3)
    >>> doc == AnyDoc(title='hello', score=4)
    False
    >>> AnyDoc(vec=np.array([1.0, 2.0])).model_dump_json(exclude={'id'})
    '{"vec":[1.0,2.0]}'
    """

    model_config = ConfigDict(extra="allow")

    __pydantic_extra__: dict[str, _ExtraValue]  # type: ignore[assignment]
