"""Rich trees and tables that print documents, their schemas and arrays."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from docstack._internal.fields import doc_fields, type_name, unwrap_optional
from docstack.typing.tensor._convert import framework_of

__all__ = ["print_doc", "print_schema", "doc_tree", "schema_tree", "describe_value"]

_MAX_STR = 60


def describe_value(value: Any) -> str:
    """A one-line description of a field value: tensors by shape and dtype, long text cut."""
    fw = framework_of(value)
    if fw is not None:
        dtype = str(getattr(value, "dtype", "")).replace("torch.", "")
        return f"{type(value).__name__} of shape {tuple(value.shape)}, dtype {dtype}"
    if isinstance(value, (bytes, bytearray)):
        return f"{type(value).__name__} of {len(value)} bytes"
    text = repr(value)
    if len(text) > _MAX_STR:
        text = text[: _MAX_STR - 3] + "..."
    return text


def doc_tree(doc: Any, label: str | None = None) -> Tree:
    """A rich tree of a document's fields and values (nested documents as subtrees)."""
    # a view's class is a subclass of the document class, named after it
    doc_cls = getattr(type(doc), "__docstack_view_of__", None) or type(doc)
    title = label or f"[bold]{doc_cls.__name__}"
    tree = Tree(f"📄 {title}" + (" (view)" if doc.is_view() else ""))
    kinds = doc_fields(doc_cls)
    names = list(kinds) + [n for n in (doc.__pydantic_extra__ or {}) if n not in kinds]
    for name in names:
        value = getattr(doc, name)
        kind = kinds.get(name)
        if value is not None and kind is not None and kind.kind == "doc":
            tree.add(doc_tree(value, label=f"{name}: {type(value).__name__}"))
        elif value is not None and kind is not None and kind.kind == "doclist":
            sub = tree.add(f"{name}: {type(value).__name__} of {len(value)} documents")
            for i, item in enumerate(value):
                if i == 2:
                    sub.add(f"... {len(value) - 2} more")
                    break
                sub.add(doc_tree(item, label=f"[{i}] {type(item).__name__}"))
        else:
            tree.add(escape(f"{name}: {describe_value(value)}"))
    return tree


def schema_tree(cls: type, label: str | None = None, _seen: tuple = ()) -> Tree:
    """A rich tree of a document class's fields and their types."""
    tree = Tree(label or f"[bold]{cls.__name__}")
    for name, kind in doc_fields(cls).items():
        if kind.kind in ("doc", "doclist") and kind.doc_cls not in _seen:
            inner, _ = unwrap_optional(kind.annotation)
            shown = type_name(kind.annotation) if kind.kind == "doc" else inner.__name__
            tree.add(
                schema_tree(kind.doc_cls, label=escape(f"{name}: {shown}"), _seen=(*_seen, cls))
            )
        else:
            tree.add(escape(f"{name}: {type_name(kind.annotation)}"))
    return tree


def print_doc(doc: Any) -> None:
    """Print :func:`doc_tree` of ``doc``."""
    Console().print(doc_tree(doc))


def print_schema(cls: type) -> None:
    """Print :func:`schema_tree` of ``cls``."""
    Console().print(schema_tree(cls))
