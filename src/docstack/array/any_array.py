"""What ``DocList`` and ``DocVec`` share: the type parameter, summaries and traversal."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from docstack._internal.fields import FieldKind, doc_fields
from docstack.array._compat_methods import BatchingMixin
from docstack.array._io_methods import ArrayIOMixin
from docstack.base_doc import AnyDoc, BaseDocWithoutId
from docstack.errors import DocTypeError

__all__ = ["AnyDocArray", "describe_doc", "normalize_index"]

T_doc = TypeVar("T_doc", bound=BaseDocWithoutId)


def describe_doc(doc: Any, limit: int = 120) -> str:
    """A short repr of a document (or any value) for error messages."""
    text = repr(doc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_index(index: Any, length: int) -> int:
    """An ``int`` index in ``range(length)`` from a possibly negative int-like index."""
    i = int(index)
    if i < 0:
        i += length
    if not 0 <= i < length:
        raise IndexError(f"index {int(index)} is out of range for {length} documents")
    return i


_TYPED_ARRAY_METACLASSES: dict[type, type] = {}


def _alias_origin(cls: type) -> type:
    """The class ``DocList[Doc]`` was made from (``DocList``); subclasses have none."""
    origin = cls.__dict__.get("__docstack_origin__")
    if origin is None:
        raise AttributeError("__origin__")
    return origin


def _alias_args(cls: type) -> tuple[type]:
    _alias_origin(cls)
    return (cls.doc_type,)  # type: ignore[attr-defined]


def _alias_unpacked(cls: type) -> bool:
    _alias_origin(cls)
    return False


def _alias_class(cls: type) -> type:
    return types.GenericAlias if "__docstack_origin__" in cls.__dict__ else type(cls)


def _typed_array_metaclass(meta: type) -> type:
    """``meta`` extended so that annotation readers see the document type of ``DocList[Doc]``
    (and of ``DocVec[Doc]``).

    ``DocList[Doc]`` is a real class (``isinstance`` and ``type(docs) is DocList[Doc]`` hold),
    but ``typing.get_args`` reads ``__args__`` only from typing's aliases, and of a plain class
    it answers ``()``. FastAPI picks a parameter's kind from those arguments: a ``list``
    subclass with no arguments passes its "every argument is an ``UploadFile``" test (``all``
    of nothing is true), so a bare ``DocList[Doc]`` parameter was read as uploaded files and
    asked for ``python-multipart``.

    ``DocList[Doc]`` made with this metaclass answers Python-level ``isinstance`` checks as a
    ``types.GenericAlias`` (as ``list[Doc]`` would), with ``__origin__`` ``DocList`` and
    ``__args__`` ``(Doc,)``: ``get_args`` gives ``(Doc,)`` and FastAPI reads a JSON body (its
    "is a model" test finds ``__get_pydantic_core_schema__`` on the origin); ``typing``'s
    re-subscription ``DocList[(Doc,)]`` gives back the same class; pydantic, which may ask the
    origin for the schema, passes the class as ``source``. Checks that read the real type
    (``isinstance(cls, type)``, ``issubclass``, attribute lookup) are unchanged. Subclasses of
    ``DocList[Doc]`` are plain classes.
    """
    if getattr(meta, "__docstack_typed_array_meta__", False):
        return meta
    cached = _TYPED_ARRAY_METACLASSES.get(meta)
    if cached is None:

        class TypedArrayMeta(meta):  # type: ignore[misc,valid-type]
            __docstack_typed_array_meta__ = True
            __class__ = property(_alias_class)  # type: ignore[assignment]
            __origin__ = property(_alias_origin)
            __args__ = property(_alias_args)
            __unpacked__ = property(_alias_unpacked)  # typing reads it beside __origin__

            def __repr__(cls) -> str:
                # DocList[Doc]'s __qualname__ is 'DocList', as list[int]'s is 'list'
                own = "__docstack_origin__" in cls.__dict__
                return f"<class '{cls.__module__}.{cls.__name__ if own else cls.__qualname__}'>"

        _TYPED_ARRAY_METACLASSES[meta] = cached = TypedArrayMeta
    return cached


class AnyDocArray(ArrayIOMixin, BatchingMixin, Generic[T_doc]):
    """Base of :class:`DocList` and :class:`DocVec`: ``Array[MyDoc]`` sets ``doc_type``."""

    doc_type: ClassVar[type] = AnyDoc
    __docstack_doc_array__: ClassVar[bool] = True
    _docstack_param_cache: ClassVar[dict[tuple[type, type], type]] = {}

    def __class_getitem__(cls, item: Any) -> Any:
        if isinstance(item, TypeVar):
            return super().__class_getitem__(item)  # type: ignore[misc]
        if isinstance(item, tuple) and len(item) == 1:
            item = item[0]  # typing rebuilds an alias as origin[args]: DocList[D][(D,)]
        if not (isinstance(item, type) and issubclass(item, BaseDocWithoutId)):
            raise TypeError(
                f"{cls.__name__}[...] takes a document class (a BaseDoc subclass), got {item!r}"
            )
        if cls.doc_type is not AnyDoc and cls.doc_type is not item:
            raise TypeError(f"{cls.__name__} is already typed; cannot re-parametrize it")
        item = getattr(item, "__docstack_view_of__", None) or item
        if item is cls.doc_type and getattr(type(cls), "__docstack_typed_array_meta__", False):
            return cls  # already typed with this document type
        key = (cls, item)
        cached = AnyDocArray._docstack_param_cache.get(key)
        if cached is None:
            base = getattr(cls, "__docstack_array_base__", cls)
            # the metaclass shows typing.get_args() the document type, for FastAPI
            cached = _typed_array_metaclass(type(cls))(
                f"{base.__name__}[{item.__name__}]",
                (cls,),
                {
                    "doc_type": item,
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__docstack_array_base__": base,
                    "__docstack_origin__": cls,
                },
            )
            AnyDocArray._docstack_param_cache[key] = cached
        return cached

    # -- schema helpers -------------------------------------------------------------------

    @classmethod
    def _field_kinds(cls) -> dict[str, FieldKind]:
        return doc_fields(cls.doc_type)

    @classmethod
    def _type_label(cls) -> str:
        return cls.__name__

    def _check_doc(self, doc: Any, position: int | None = None) -> Any:
        """Return ``doc`` if it is a valid item (dicts are validated), else raise."""
        t = self.doc_type
        allowed = BaseDocWithoutId if t is AnyDoc else t
        if isinstance(doc, allowed):
            return doc
        if isinstance(doc, dict):
            return t(**doc) if t is AnyDoc else t.model_validate(doc)
        where = "" if position is None else f" (at position {position})"
        raise DocTypeError(
            f"{type(self)._type_label()} accepts only {t.__name__} documents; got "
            f"{type(doc).__name__}{where}: {describe_doc(doc)}"
        )

    def _validate_docs(self, docs: Iterable[Any]) -> list[Any]:
        """``docs`` as a list of valid items (dicts validated); raises naming this array type."""
        items = docs if isinstance(docs, list) else list(docs)
        t = self.doc_type
        if isinstance(docs, AnyDocArray) and items is docs and docs.doc_type is t:
            return items  # a DocList of this type checked its documents as they came in
        allowed = BaseDocWithoutId if t is AnyDoc else t
        # one check per distinct type, not per document
        if all(isinstance(tp, type) and issubclass(tp, allowed) for tp in set(map(type, items))):
            return items
        return [self._check_doc(d, i) for i, d in enumerate(items)]

    # -- traversal ------------------------------------------------------------------------

    def traverse_flat(self, access_path: str) -> Any:
        """The values at ``access_path`` (``'a__b'``) of every document, in one flat list.

        Document arrays met on the way (``DocList`` fields) are flattened, so
        ``docs.traverse_flat('chunks__text')`` lists the text of every chunk of every
        document.

        Example
        -------
        >>> from docstack import BaseDoc, DocList
        >>> class Chunk(BaseDoc):
        ...     text: str
        >>> class Page(BaseDoc):
        ...     chunks: DocList[Chunk]
        >>> pages = DocList[Page]([Page(chunks=[Chunk(text='a'), Chunk(text='b')])])
        >>> pages.traverse_flat('chunks__text')
        ['a', 'b']
        """
        nodes: list[Any] = list(self)
        for part in access_path.split("__"):
            nxt: list[Any] = []
            for node in nodes:
                value = getattr(node, part)
                if getattr(type(value), "__docstack_doc_array__", False):
                    nxt.extend(value)
                else:
                    nxt.append(value)
            nodes = nxt
        return nodes

    def summary(self) -> None:
        """Print the array's type, length and document schema.

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> DocList[TextDoc]([TextDoc('hi')]).summary()  # doctest: +SKIP
        """
        from docstack.array._summary import print_array_summary

        print_array_summary(self)
