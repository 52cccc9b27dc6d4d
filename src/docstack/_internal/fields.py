"""Classify the fields of a document class: tensors, nested docs, doc lists and the rest."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union

from docstack.typing.tensor._base import AbstractTensor

__all__ = [
    "FieldKind",
    "classify_annotation",
    "doc_fields",
    "is_docstack_str",
    "unwrap_optional",
    "type_name",
]

_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)


@dataclass(frozen=True)
class FieldKind:
    """What a field holds, as far as columnar storage and display care."""

    name: str
    annotation: Any
    kind: Literal["tensor", "doc", "doclist", "other"]
    optional: bool
    tensor_cls: type | None = None
    doc_cls: type | None = None


def is_docstack_str(annotation: Any) -> bool:
    """Whether ``annotation`` is one of docstack's own ``str`` types (``ID``, the URLs):
    plain ``str`` values in JSON and in validated documents."""
    return (
        isinstance(annotation, type)
        and issubclass(annotation, str)
        and annotation.__module__.startswith("docstack.")
    )


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> ``(X, True)``; ``X`` -> ``(X, False)``; ``Annotated`` is peeled."""
    ann = annotation
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    if typing.get_origin(ann) in _UNION_TYPES:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) != len(typing.get_args(ann))
        if len(args) == 1:
            inner, _ = unwrap_optional(args[0])
            return inner, optional
        return ann, optional
    return ann, False


def _is_doc_class(tp: Any) -> bool:
    return isinstance(tp, type) and getattr(tp, "__docstack_document__", False)


def classify_annotation(name: str, annotation: Any, default_optional: bool = False) -> FieldKind:
    """Classify one field annotation."""
    inner, optional = unwrap_optional(annotation)
    optional = optional or default_optional
    if isinstance(inner, type) and issubclass(inner, AbstractTensor):
        return FieldKind(name, annotation, "tensor", optional, tensor_cls=inner)
    if _is_doc_class(inner):
        return FieldKind(name, annotation, "doc", optional, doc_cls=inner)
    if isinstance(inner, type) and getattr(inner, "__docstack_doc_array__", False):
        return FieldKind(name, annotation, "doclist", optional, doc_cls=inner.doc_type)
    return FieldKind(name, annotation, "other", optional)


@cache
def doc_fields(doc_cls: type) -> dict[str, FieldKind]:
    """The classified fields of a document class, in declaration order."""
    out = {}
    for name, info in doc_cls.model_fields.items():
        out[name] = classify_annotation(name, info.annotation, default_optional=False)
    return out


def type_name(annotation: Any) -> str:
    """A short readable name of an annotation: ``NdArray[128]``, ``Optional[str]``."""
    inner, optional = unwrap_optional(annotation)
    if isinstance(inner, type):
        base = inner.__name__
    else:
        base = str(inner).replace("typing.", "")
        for mod in ("docstack.typing.tensor.ndarray.", "docstack.typing."):
            base = base.replace(mod, "")
    return f"Optional[{base}]" if optional else base
