"""The ``ID`` type of document ids."""

from __future__ import annotations

import functools
import itertools
import operator
import os
import uuid
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["ID", "new_id"]


class _IDMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, str)


class ID(str, metaclass=_IDMeta):
    """A document id: a string. ``int`` and ``uuid.UUID`` values are accepted and converted
    (a UUID to its canonical dashed form, ``str(uuid)``).

    Ids are stored as plain ``str`` (cheaper to create, and a document whose fields are all
    plain values is cheaper for the garbage collector); ``isinstance(doc.id, ID)`` holds for
    any string.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class MyDoc(BaseDoc):
    ...     pass
    >>> MyDoc(id=42).id
    '42'
    >>> import uuid
    >>> MyDoc(id=uuid.UUID('cf57432e-809e-4353-adbd-9d5c0d733868')).id
    'cf57432e-809e-4353-adbd-9d5c0d733868'
    """

    __slots__ = ()

    @classmethod
    def _docstack_validate(cls, value: Any) -> str:
        if type(value) is str:
            return value
        if isinstance(value, str):
            return str(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, uuid.UUID):
            return str(value)  # the canonical 8-4-4-4-12 form, as DocArray gives
        raise ValueError(f"an id must be a str, int or UUID, got {type(value).__name__}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._docstack_validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, when_used="json-unless-none", return_schema=core_schema.str_schema()
            ),
        )


_POOL_IDS = 1024
_current_batch: list[str] = []


# cuts the hex text of a batch into its ids in one C loop (twice as fast as a comprehension)
_cut_ids = operator.itemgetter(*(slice(i, i + 32) for i in range(0, 32 * _POOL_IDS, 32)))


def _id_batch(_: object) -> list[str]:
    """1024 fresh ids from one ``os.urandom`` call."""
    global _current_batch
    _current_batch = list(_cut_ids(os.urandom(16 * _POOL_IDS).hex()))
    return _current_batch


def _forget_batch_in_child() -> None:
    # a forked child must not hand out the ids its parent still holds: emptying the list
    # ends the batch iterator, and the next id comes from a fresh batch
    _current_batch.clear()


os.register_at_fork(after_in_child=_forget_batch_in_child)

# next(...) on a chain of batches runs in C for all but one id in 1024
_ids = itertools.chain.from_iterable(map(_id_batch, itertools.repeat(None)))
new_id = functools.partial(next, _ids)
new_id.__doc__ = """A fresh random id: 32 hex characters (128 random bits from ``os.urandom``).

Example
-------
>>> from docstack.typing.id import new_id
>>> len(new_id())
32
"""
