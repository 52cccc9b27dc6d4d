"""Reading field values along ``a__b`` paths over whole document arrays."""

from __future__ import annotations

from typing import Any

from docstack._internal.fields import doc_fields

__all__ = ["schema_paths", "column_values"]


def schema_paths(doc_type: type, prefix: str = "", _depth: int = 0) -> set[str]:
    """Every field path of a document class, nested ones joined with ``__``."""
    out: set[str] = set()
    if _depth > 16:  # recursive schemas: stop somewhere sensible
        return out
    for name, kind in doc_fields(doc_type).items():
        path = f"{prefix}{name}"
        out.add(path)
        if kind.kind in ("doc", "doclist") and kind.doc_cls is not None:
            out |= schema_paths(kind.doc_cls, f"{path}__", _depth + 1)
    return out


def _is_doc_array(value: Any) -> bool:
    return getattr(type(value), "__docstack_doc_array__", False)


def column_values(docs: Any, path: tuple[str, ...]) -> Any:
    """The values at ``path`` for every document of ``docs``, one entry per document.

    On a ``DocVec`` whole columns are read (a stacked tensor stays one array); on a
    ``DocList`` the values are gathered per document. A path through a ``DocList`` field gives
    a list of values per document; a ``None`` on the way gives ``None``.
    """
    from docstack.array.doc_vec import DocVec

    if isinstance(docs, DocVec):
        kinds = doc_fields(docs.doc_type)
        head = path[0]
        if head not in kinds:
            raise KeyError(head)
        kind = kinds[head]
        if len(path) == 1:
            return docs.get_column(head)
        if kind.kind == "doc":
            nested = docs.get_column(head)
            if isinstance(nested, DocVec):
                return column_values(nested, path[1:])
    return [_walk(doc, path) for doc in docs]


def _walk(value: Any, path: tuple[str, ...]) -> Any:
    for i, part in enumerate(path):
        if value is None:
            return None
        if _is_doc_array(value):
            rest = path[i:]
            out: list[Any] = []
            for item in value:
                got = _walk(item, rest)
                if isinstance(got, list):
                    out.extend(got)
                else:
                    out.append(got)
            return out
        value = getattr(value, part, None)
    return value
