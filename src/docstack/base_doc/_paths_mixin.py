"""Access paths of a document class, and shallow copies of documents.

An *access path* names a field, nested fields joined with ``__``: ``'image__url'`` is the
``url`` of the ``image`` field. DocArray code reads the paths of a schema with the class
method ``_get_access_paths()`` (CSV and data frame columns are named by them) and copies
documents with ``_shallow_copy``; :class:`AccessPathsMixin` gives both to
:class:`~docstack.BaseDoc`.
"""

import copy
from typing import TypeVar

from docstack._internal.fields import doc_fields

__all__ = ["AccessPathsMixin", "leaf_access_paths"]

T = TypeVar("T")


def leaf_access_paths(doc_cls: type, _open: tuple[type, ...] = ()) -> list[str]:
    """The access paths of the leaf fields of ``doc_cls``, in field order.

    A nested document field (``Optional`` or not) is replaced by the paths of its own
    fields, prefixed with its name; every other field, a ``DocList`` field included, is a
    leaf. A field whose document class is already being expanded (a class that nests
    itself, directly or through others) is a leaf too, so recursive schemas end.

    Parameters
    ----------
    doc_cls:
        A document class.

    Returns
    -------
    list of str
        One ``__``-joined path per leaf field.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class Author(BaseDoc):
    ...     name: str = ''
    >>> class Book(BaseDoc):
    ...     title: str = ''
    ...     author: Author | None = None
    >>> leaf_access_paths(Book)
    ['id', 'title', 'author__id', 'author__name']
    """
    doc_cls = getattr(doc_cls, "__docstack_view_of__", None) or doc_cls
    paths: list[str] = []
    open_ = (*_open, doc_cls)
    for name, kind in doc_fields(doc_cls).items():
        nested = kind.doc_cls
        if kind.kind == "doc" and nested is not None and nested not in open_:
            paths.extend(f"{name}__{sub}" for sub in leaf_access_paths(nested, open_))
        else:
            paths.append(name)
    return paths


class AccessPathsMixin:
    """``_get_access_paths()`` and ``_shallow_copy()`` for document classes."""

    __slots__ = ()

    @classmethod
    def _get_access_paths(cls) -> list[str]:
        """The ``__``-joined access paths of all leaf fields, nested documents expanded.

        ``DocList`` fields are leaves, as in DocArray.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.documents import ImageDoc
        >>> class Painting(BaseDoc):
        ...     title: str
        ...     img: ImageDoc
        >>> Painting._get_access_paths()
        ['id', 'title', 'img__id', 'img__url', 'img__tensor', 'img__embedding', 'img__bytes_']
        """
        return leaf_access_paths(cls)

    @classmethod
    def _shallow_copy(cls, doc_to_copy: T) -> T:
        """A new document that holds the very same field values as ``doc_to_copy``.

        Assigning a field of the copy leaves the original alone; changing a value in place
        (appending to a shared list) shows in both.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> class Doc(BaseDoc):
        ...     tags: list[str] = []
        >>> doc = Doc(tags=['a'])
        >>> twin = Doc._shallow_copy(doc)
        >>> twin.tags is doc.tags, twin == doc, twin is doc
        (True, True, False)
        """
        return copy.copy(doc_to_copy)
