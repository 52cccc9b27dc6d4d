"""Preprocessing steps of a dataset: field paths checked against the document schema, then
applied to one document. No framework is needed here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Optional

from docstack._internal.fields import doc_fields
from docstack.errors import DocstackError

__all__ = ["PreprocessingError", "Step", "parse_steps", "apply_steps"]

# (the key as the user wrote it, its path of field names, the function)
Step = tuple[str, tuple[str, ...], Callable[[Any], Any]]


class PreprocessingError(DocstackError, ValueError):
    """A preprocessing key names no field of the documents, or cannot be applied to one.

    Example
    -------
    >>> from docstack.data import PreprocessingError
    >>> issubclass(PreprocessingError, ValueError)
    True
    """


def _split(key: str) -> tuple[str, ...]:
    """``'a.b'`` (DocArray's spelling) or ``'a__b'`` (docstack's) -> ``('a', 'b')``."""
    return tuple(key.replace("__", ".").split(".")) if key else ()


def _check_path(key: str, path: tuple[str, ...], doc_type: type) -> None:
    current = doc_type
    for depth, name in enumerate(path):
        fields = doc_fields(current)
        if name not in fields:
            raise PreprocessingError(
                f"preprocessing key {key!r}: {current.__name__} has no field {name!r} "
                f"(its fields: {', '.join(fields)})"
            )
        if depth == len(path) - 1:
            return
        kind = fields[name]
        if kind.kind != "doc" or kind.doc_cls is None:
            raise PreprocessingError(
                f"preprocessing key {key!r}: field {name!r} of {current.__name__} is not a "
                "nested document, so the key cannot reach a field inside it"
            )
        current = kind.doc_cls


def parse_steps(preprocessing: Optional[Mapping[str, Any]], doc_type: Optional[type]) -> list[Step]:
    """Check ``{field path: function}`` and turn it into steps, in the mapping's order.

    Parameters
    ----------
    preprocessing:
        Keys are field names, nested ones joined with ``.`` or ``__``; ``''`` is the document
        itself. Values are callables taking the field's value.
    doc_type:
        The document class the keys must fit, or ``None`` to check them only when applied.

    Returns
    -------
    list
        The steps for :func:`apply_steps`.

    Raises
    ------
    PreprocessingError
        A key names no field of ``doc_type``, or goes through a field that is not a nested
        document.
    TypeError
        A key is not a string or its value is not callable.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> [path for _, path, _ in parse_steps({'text': str.upper, '': print}, TextDoc)]
    [('text',), ()]
    """
    steps: list[Step] = []
    for key, function in (preprocessing or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"preprocessing keys must be field names (str), got {key!r}")
        if not callable(function):
            raise TypeError(
                f"preprocessing[{key!r}] must be callable, got {type(function).__name__}"
            )
        path = _split(key)
        if any(not name for name in path):
            raise PreprocessingError(f"preprocessing key {key!r} has an empty field name")
        if doc_type is not None and path:
            _check_path(key, path, doc_type)
        steps.append((key, path, function))
    return steps


def apply_steps(doc: Any, steps: list[Step]) -> Any:
    """Run the steps on ``doc`` (changed in place) and return the resulting document.

    A function's return value replaces the field, unless it is ``None``: functions that
    change a document or tensor in place need not return anything.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> apply_steps(TextDoc(text='hi'), parse_steps({'text': str.upper}, TextDoc)).text
    'HI'
    """
    for key, path, function in steps:
        if not path:
            result = function(doc)
            doc = doc if result is None else result
            continue
        owner = doc
        for name in path[:-1]:
            owner = _field(owner, name, key)
            if owner is None:
                raise PreprocessingError(
                    f"preprocessing key {key!r}: field {name!r} is None in this document"
                )
        value = _field(owner, path[-1], key)
        result = function(value)
        if result is not None:
            setattr(owner, path[-1], result)
    return doc


def _field(owner: Any, name: str, key: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise PreprocessingError(
            f"preprocessing key {key!r}: {type(owner).__name__} has no field {name!r}"
        ) from None
