"""Lists of scalars as Milvus ``ARRAY`` fields, so filters on them run in Milvus.

A column typed ``list[int]``, ``list[float]``, ``list[str]`` or ``list[bool]`` (``Optional`` or
not) is stored as an ``ARRAY`` of ``INT64``, ``DOUBLE``, ``VARCHAR`` or ``BOOL`` on a Milvus
that has arrays (2.3 and later, Milvus Lite); any other list, a dict or another value stays
``JSON``, and so does a list column of a collection written as ``JSON`` by an older docstack
(read on attach, see :meth:`ArrayColumns.keep_json`).

Limits come from the field's settings (``Field(json_schema_extra={'max_capacity': 100,
'max_length': 256})`` or ``configure(default_column_config=...)``): ``max_capacity``, the most
elements a list may hold (1 to 4096, Milvus' limit; default 4096), and ``max_length``, the most
UTF-8 bytes a string element may hold (1 to 65535; default 65535). A value beyond them, an
integer beyond int64, or a NaN/infinite float is a :class:`MilvusLimitError` naming the field
and the document, raised before anything is written (Milvus Lite does not check string
lengths itself).

Example
-------
>>> from docstack import BaseDoc
>>> from docstack.index._schema import IndexSchema
>>> class D(BaseDoc):
...     tags: list[str] = []
...     scores: list[float] | None = None
...     meta: dict = {}
>>> arrays = ArrayColumns(IndexSchema.from_doc_type(D, {}), enabled=True)
>>> sorted(arrays.elements.items())
[('scores', 'float'), ('tags', 'str')]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from docstack.errors import DocstackError
from docstack.index._schema import Column, IndexSchema

__all__ = ["ArrayColumns", "MilvusLimitError", "list_element"]

MAX_CAPACITY = 4096
MAX_LENGTH = 65535
_INT64 = (-(2**63), 2**63 - 1)


class MilvusLimitError(DocstackError, ValueError):
    """A value does not fit its Milvus field (a list longer than ``max_capacity``, a string
    element longer than ``max_length``, ...); the message names the field and the document."""


def list_element(col: Column) -> str | None:
    """The element kind (``'int'``, ``'float'``, ``'str'``, ``'bool'``) of a column typed as a
    list of that scalar, else ``None``.

    Example
    -------
    >>> from typing import List, Optional
    >>> from docstack.index._schema import Column
    >>> list_element(Column('t', ('t',), 'json', Optional[List[int]], True))
    'int'
    >>> list_element(Column('t', ('t',), 'json', list[list[int]], False)) is None
    True
    """
    return col.element  # the schema's list columns, filterable on every backend


def _limit(col: Column, key: str, default: int, top: int) -> int:
    value = col.config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise ValueError(
            f"field {col.name!r}: {key} must be an int from 1 to {top} (Milvus' limit), "
            f"got {value!r}"
        )
    return value


class ArrayColumns:
    """The list columns of a schema stored as Milvus arrays, their limits and values.

    ``enabled`` is whether the server has ``ARRAY`` fields (without them every list is JSON).
    """

    def __init__(self, schema: IndexSchema, enabled: bool) -> None:
        self.elements: dict[str, str] = {}
        self.capacity: dict[str, int] = {}
        self.max_length: dict[str, int] = {}
        if not enabled:
            return
        for name, col in schema.columns.items():
            element = list_element(col)
            if element is None:
                continue
            self.elements[name] = element
            self.capacity[name] = _limit(col, "max_capacity", MAX_CAPACITY, MAX_CAPACITY)
            if element == "str":
                self.max_length[name] = _limit(col, "max_length", MAX_LENGTH, MAX_LENGTH)

    def keep_json(self, name: str) -> None:
        """Read and write column ``name`` as JSON (how an existing collection stores it)."""
        self.elements.pop(name, None)

    def adopt(self, name: str, stored_capacity: Any) -> None:
        """Check writes against the ``max_capacity`` an existing collection declares."""
        if name in self.elements and stored_capacity:
            self.capacity[name] = min(self.capacity[name], int(stored_capacity))

    def add_fields(self, schema: Any, name: str, fname: str) -> None:
        """Add column ``name``'s ``ARRAY`` field to a pymilvus collection schema."""
        from pymilvus import DataType

        types = {
            "int": DataType.INT64,
            "float": DataType.DOUBLE,
            "str": DataType.VARCHAR,
            "bool": DataType.BOOL,
        }
        element = self.elements[name]
        extra = {"max_length": self.max_length[name]} if element == "str" else {}
        schema.add_field(
            fname,
            DataType.ARRAY,
            element_type=types[element],
            max_capacity=self.capacity[name],
            nullable=True,
            **extra,
        )

    def encode(self, name: str, values: Sequence[Any], ids: Sequence[str]) -> list[Any]:
        """The lists of column ``name`` (JSON bytes as the schema makes them) as Milvus takes
        them, every limit checked first."""
        out = [None if v is None else orjson.loads(v) for v in values]
        capacity = self.capacity[name]
        element = self.elements[name]
        for i, value in enumerate(out):
            if value is None:
                continue
            if len(value) > capacity:
                raise MilvusLimitError(
                    f"field {name!r} of document {ids[i]!r} holds {len(value)} elements, more "
                    f"than its Milvus max_capacity {capacity}: shorten the list, or raise "
                    f"Field(json_schema_extra={{'max_capacity': ...}}) (at most {MAX_CAPACITY}) "
                    "in a new index"
                )
            if None in value:
                raise MilvusLimitError(
                    f"field {name!r} of document {ids[i]!r} holds a NaN or infinite number, "
                    "which a Milvus array cannot store"
                )
        if element == "str":
            self._check_lengths(name, out, ids)
        elif element == "int":
            low, high = _INT64
            for i, value in enumerate(out):
                if value and not low <= min(value) <= max(value) <= high:
                    raise MilvusLimitError(
                        f"field {name!r} of document {ids[i]!r} holds an integer beyond int64, "
                        "which a Milvus INT64 array cannot store"
                    )
        return out

    def _check_lengths(self, name: str, lists: list[Any], ids: Sequence[str]) -> None:
        limit = self.max_length[name]
        quick = limit // 4  # a string of at most this many characters fits in any encoding
        for i, value in enumerate(lists):
            for text in value or ():
                if len(text) > quick and len(text.encode("utf-8")) > limit:
                    raise MilvusLimitError(
                        f"field {name!r} of document {ids[i]!r} holds a string of "
                        f"{len(text.encode('utf-8'))} UTF-8 bytes, more than its Milvus "
                        f"max_length {limit}: shorten it, or raise Field(json_schema_extra="
                        f"{{'max_length': ...}}) (at most {MAX_LENGTH}) in a new index"
                    )

    @staticmethod
    def decode(values: Sequence[Any]) -> list[bytes | None]:
        """Arrays read from Milvus as the JSON bytes the schema restores documents from."""
        return [None if v is None else orjson.dumps(list(v)) for v in values]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
