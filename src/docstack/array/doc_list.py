"""``DocList``: a Python list of documents of one type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, ClassVar, SupportsIndex, overload

import numpy as np
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from docstack.array._pushpull import PushPullMixin
from docstack.array.any_array import AnyDocArray, T_doc, describe_doc
from docstack.base_doc import AnyDoc, BaseDocWithoutId
from docstack.errors import DocTypeError
from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["DocList"]


def _index_array(key: Any, length: int) -> np.ndarray | None:
    """Integer positions for a list of ints, an int array or a boolean mask; else ``None``."""
    if isinstance(key, (slice, str, bytes)) or np.isscalar(key):
        return None
    if framework_of(key) is not None:
        arr = to_numpy(key)
    elif isinstance(key, Sequence):
        arr = np.asarray(key)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
    else:
        return None
    if arr.dtype == bool:
        if arr.shape != (length,):
            raise IndexError(
                f"a boolean mask must have one entry per document ({length}), got shape {arr.shape}"
            )
        return np.flatnonzero(arr)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise IndexError(f"documents are indexed by ints, slices or masks, got {key!r}")
    out = arr.astype(np.int64)
    out[out < 0] += length
    bad = (out < 0) | (out >= length)
    if bad.any():
        raise IndexError(f"index {int(arr[np.argmax(bad)])} is out of range for {length} documents")
    return out


class DocList(AnyDocArray[T_doc], PushPullMixin, list):
    """A Python list of documents; ``DocList[MyDoc]`` accepts only ``MyDoc`` documents.

    It is a real ``list`` (append, extend, insert, pop, slicing, sorting all work) that also:

    * rejects a document of another type with an error naming it (dicts are validated into
      the document type);
    * indexes with lists of ints, int arrays and boolean masks;
    * reads and writes a field of every document at once: ``docs.title``,
      ``docs.banner.image`` (nested documents), ``docs.title = [...]``;
    * works as a field type of a document and in FastAPI request and response models.

    An untyped ``DocList`` holds documents of any types.

    Field names that are also list methods (``index``, ``count``, ``sort``, ...) are reached
    with ``docs.get_column('index')``.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> class BannerDoc(BaseDoc):
    ...     title: str
    >>> docs = DocList[BannerDoc]([BannerDoc(title='a'), BannerDoc(title='b')])
    >>> docs.title
    ['a', 'b']
    >>> docs[[1, 0]].title
    ['b', 'a']
    """

    __docstack_array_base__: ClassVar[type]

    def __init__(self, docs: Iterable[Any] = (), validate_input_docs: bool = True) -> None:
        if validate_input_docs:
            docs = self._validate_docs(docs)
        list.__init__(self, docs)

    @classmethod
    def construct(cls, docs: Iterable[Any]) -> DocList[Any]:
        """A ``DocList`` of ``docs`` as they are, without checking their type (DocArray's
        name; the same as ``DocList[T](docs, validate_input_docs=False)``). Use it only for
        documents known to be of the right type: nothing is checked.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> len(DocList[TextDoc].construct([TextDoc(text='a'), TextDoc(text='b')]))
        2
        """
        return cls(docs, validate_input_docs=False)

    # -- list API with type checks ------------------------------------------------------------

    def append(self, doc: Any) -> None:
        """Append a document (checked against the document type)."""
        list.append(self, self._check_doc(doc, len(self)))

    def extend(self, docs: Iterable[Any]) -> None:
        """Append every document of ``docs`` (all checked first: nothing is added on error)."""
        list.extend(self, self._validate_docs(docs))

    def insert(self, index: SupportsIndex, doc: Any) -> None:
        """Insert a document before ``index``."""
        list.insert(self, index, self._check_doc(doc))

    def __iadd__(self, docs: Iterable[Any]) -> DocList:  # type: ignore[override,misc]
        self.extend(docs)
        return self

    def __add__(self, docs: Iterable[Any]) -> DocList:  # type: ignore[override]
        out = type(self)(self, validate_input_docs=False)
        out.extend(docs)
        return out

    def copy(self) -> DocList:  # type: ignore[override]
        """A shallow copy: a new ``DocList`` of the same documents."""
        return type(self)(self, validate_input_docs=False)

    @overload
    def __getitem__(self, key: SupportsIndex) -> T_doc: ...

    @overload
    def __getitem__(self, key: Any) -> DocList[T_doc]: ...

    def __getitem__(self, key: Any) -> Any:
        if key is None:  # DocArray's "everything": the array itself
            return self
        if isinstance(key, slice):
            return type(self)(list.__getitem__(self, key), validate_input_docs=False)
        positions = _index_array(key, len(self))
        if positions is None:
            return list.__getitem__(self, key)
        get = list.__getitem__
        return type(self)([get(self, int(i)) for i in positions], validate_input_docs=False)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            list.__setitem__(self, key, self._validate_docs(value))
            return
        positions = _index_array(key, len(self))
        if positions is None:
            list.__setitem__(self, key, self._check_doc(value, key))
            return
        values = self._validate_docs(value)
        if len(values) != len(positions):
            raise ValueError(f"cannot assign {len(values)} documents to {len(positions)} positions")
        for i, doc in zip(positions, values):
            list.__setitem__(self, int(i), doc)

    def __delitem__(self, key: Any) -> None:
        positions = None if isinstance(key, slice) else _index_array(key, len(self))
        if positions is None:
            list.__delitem__(self, key)
            return
        for i in sorted(set(positions.tolist()), reverse=True):
            list.__delitem__(self, i)

    # -- columns ------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.get_column(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and self._is_field(name):
            self.set_column(name, value)
        else:
            object.__setattr__(self, name, value)

    def _is_field(self, name: str) -> bool:
        if self.doc_type is AnyDoc:
            return len(self) > 0 and all(hasattr(d, name) for d in self)
        return name in self.doc_type.model_fields

    def get_column(self, name: str) -> Any:
        """The values of field ``name`` of every document.

        Nested documents come back as a ``DocList`` of them (so ``docs.banner.title``
        works); other fields as a list.

        Parameters
        ----------
        name:
            A field of the document type.

        Returns
        -------
        A ``DocList`` for a nested document field, else a ``list``.

        Example
        -------
        >>> from docstack import BaseDoc, DocList
        >>> class D(BaseDoc):
        ...     n: int
        >>> DocList[D]([D(n=1), D(n=2)]).get_column('n')
        [1, 2]
        """
        t = self.doc_type
        if t is not AnyDoc and name not in t.model_fields:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}: {t.__name__} has no "
                f"field {name!r} (fields: {', '.join(t.model_fields)})"
            )
        try:
            values = list(map(attrgetter(name), self))
        except AttributeError:
            missing = next(d for d in self if not hasattr(d, name))
            raise AttributeError(
                f"document {describe_doc(missing)} has no field {name!r}"
            ) from None
        kind = self._field_kinds().get(name) if t is not AnyDoc else None
        if kind is not None and kind.kind == "doc" and all(v is not None for v in values):
            return DocList[kind.doc_cls](values, validate_input_docs=False)
        return values

    def set_column(self, name: str, values: Sequence[Any]) -> None:
        """Set field ``name`` of every document from a sequence of one value per document.

        Each value is validated as an assignment to that field; on a validation error no
        document has changed.
        """
        values = list(values) if not isinstance(values, list) else values
        if len(values) != len(self):
            raise ValueError(
                f"cannot set field {name!r} of {len(self)} documents from {len(values)} values"
            )
        t = self.doc_type
        from docstack.base_doc._view import validate_field, validate_field_values

        if t is not AnyDoc:
            values = validate_field_values(t, name, values)
        else:
            # untyped: validate against each document's own class first, then assign
            values = [
                validate_field(type(d), name, v) if name in type(d).model_fields else v
                for d, v in zip(self, values)
            ]
        for doc, value in zip(self, values):
            setattr(doc, name, value)

    # -- conversions --------------------------------------------------------------------------

    def to_doc_vec(self, tensor_type: type | None = None) -> Any:
        """Convert to a column-wise :class:`~docstack.DocVec` of the same documents.

        Parameters
        ----------
        tensor_type:
            The tensor class for ``AnyTensor`` fields (``NdArray`` by default,
            ``TorchTensor``, ``JaxArray``).

        Returns
        -------
        A ``DocVec[T]``.
        """
        from docstack.array.doc_vec import DocVec

        if self.doc_type is AnyDoc:
            raise DocTypeError("to_doc_vec() needs a typed DocList: DocList[MyDoc](...)")
        return DocVec[self.doc_type](self, tensor_type=tensor_type)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (length={len(self)})>"

    def __reduce__(self) -> Any:
        return (_rebuild_doc_list, (self.doc_type, list(self)))

    # -- pydantic -----------------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # pydantic may ask the origin (DocList) for the schema of DocList[D]: D is the source's
        target = source if isinstance(source, type) and issubclass(source, cls) else cls
        untyped = target.doc_type is AnyDoc
        if untyped:
            item_schema = core_schema.no_info_plain_validator_function(_any_doc)
        else:
            item_schema = handler.generate_schema(target.doc_type)

        def validate(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Any:
            if type(value) is target:
                return value
            if getattr(type(value), "__docstack_doc_array__", False) and not isinstance(
                value, list
            ):
                value = list(value)
            return target(inner(value), validate_input_docs=False)

        return core_schema.no_info_wrap_validator_function(
            validate,
            core_schema.list_schema(item_schema),
            metadata={"docstack_untyped_doc_list": untyped},
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # read from the schema, not from cls: pydantic may call this on the origin (DocList)
        if (schema.get("metadata") or {}).get("docstack_untyped_doc_list"):
            return {"type": "array", "items": {"type": "object"}}
        return handler(schema)


def _any_doc(value: Any) -> Any:
    if isinstance(value, BaseDocWithoutId):
        return value
    if isinstance(value, dict):
        return AnyDoc(**value)
    raise ValueError(f"expected a document or a dict, got {type(value).__name__}")


def _rebuild_doc_list(doc_type: type, docs: list) -> DocList:
    cls = DocList if doc_type is AnyDoc else DocList[doc_type]
    return cls(docs, validate_input_docs=False)


DocList.__docstack_array_base__ = DocList
