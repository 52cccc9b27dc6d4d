"""How pydantic validates and writes a ``DocVec[T]`` field (or ``TypeAdapter(DocVec[T])``).

A ``DocVec[T]`` value passes as it is; a ``DocList``, a list of documents or of dicts, or
JSON (an array of objects) is validated as ``DocList[T]`` and stacked into a new
``DocVec[T]``. Written out (``model_dump``, ``model_dump_json``), it is the list of its
documents, which reads back into an equal ``DocVec``.
"""

from __future__ import annotations

from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["doc_vec_core_schema"]


def doc_vec_core_schema(target: type, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """The core schema of ``target`` (a parametrized ``DocVec``)."""
    from docstack.array.doc_list import DocList
    from docstack.base_doc import AnyDoc

    if target.doc_type is AnyDoc:
        return core_schema.is_instance_schema(target)
    list_schema = handler.generate_schema(DocList[target.doc_type])

    def validate(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Any:
        if type(value) is target:
            return value
        if getattr(type(value), "_docstack_columnar", False):
            value = value.to_doc_list()
        return target(inner(value))

    def write(value: Any) -> Any:
        return value.to_doc_list()

    return core_schema.no_info_wrap_validator_function(
        validate,
        list_schema,
        serialization=core_schema.plain_serializer_function_ser_schema(
            write, return_schema=list_schema
        ),
    )
