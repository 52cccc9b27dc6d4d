"""DocArray's module path for the Document Index base class (``docarray.index.abstract``).

``BaseDocIndex`` is :class:`docstack.index.DocumentIndex`; the helpers for query builder
methods live in :mod:`docstack.index._compat`. A docstack backend implements the ``_b_*``
primitives (:mod:`docstack.index._backend`), not DocArray's ``_index``/``_find``/... methods.

Example
-------
>>> from docstack.index.abstract import BaseDocIndex
>>> from docstack.index import DocumentIndex
>>> BaseDocIndex is DocumentIndex
True
"""

from docstack.index._base import DocumentIndex as BaseDocIndex
from docstack.index._compat import ColumnInfo as _ColumnInfo  # noqa: F401
from docstack.index._compat import raise_not_composable as _raise_not_composable  # noqa: F401
from docstack.index._compat import raise_not_supported as _raise_not_supported  # noqa: F401

# the underscored names are DocArray's private helpers, importable by name only
__all__ = ["BaseDocIndex"]
