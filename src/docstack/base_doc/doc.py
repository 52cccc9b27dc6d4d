"""``BaseDoc``: the pydantic model every docstack document derives from."""

from __future__ import annotations

from collections import deque
from itertools import repeat
from typing import Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, Field

from docstack._internal.dicts import dict_maker
from docstack._internal.equality import values_equal
from docstack._internal.fields import doc_fields, unwrap_optional
from docstack._internal.gc_pause import paused_gc
from docstack.base_doc._io_methods import DocIOMixin
from docstack.base_doc._paths_mixin import AccessPathsMixin
from docstack.errors import DocTypeError
from docstack.typing.id import ID, new_id

__all__ = ["BaseDoc", "BaseDocWithoutId", "construct_doc", "construct_docs"]


def _allows_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    if annotation is object:
        return True
    _, optional = unwrap_optional(annotation)
    return optional


def _take_encoders(cls: type) -> bool:
    """Prepare the fields declared ``Field(embed_from=..., encoder=...)``.

    Such a vector is computed by the index, so a document may leave it out: a required one
    gets the default ``None``. The encoder object moves to ``__docstack_encoders__`` and the
    field's JSON schema keeps its name, so the schema stays JSON (OpenAPI pages, FastAPI).
    """
    encoders: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        encoders.update(getattr(base, "__docstack_encoders__", None) or {})
    changed = False
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or ("embed_from" not in extra and "encoder" not in extra):
            continue
        encoder = extra.get("encoder")
        if encoder is not None and not isinstance(encoder, str):
            encoders[name] = encoder
            info.json_schema_extra = {
                **extra,
                "encoder": str(getattr(encoder, "name", "") or type(encoder).__name__),
            }
        if "embed_from" in extra and info.is_required():
            info.default = None
            changed = True
    type.__setattr__(cls, "__docstack_encoders__", encoders)
    return changed


class BaseDocWithoutId(DocIOMixin, AccessPathsMixin, BaseModel):
    """A document without an ``id`` field: :class:`BaseDoc` minus the id.

    Useful for documents that are only ever nested in others, or for payloads that must not
    carry an id.
    """

    model_config = ConfigDict(
        validate_assignment=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        ser_json_bytes="base64",
        val_json_bytes="base64",
        ser_json_inf_nan="constants",
    )

    __docstack_document__: ClassVar[bool] = True

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """A field declared ``x: T = None`` accepts ``None``, as its default promises.

        pydantic does not validate defaults, so ``bytes: ImageBytes = None`` would hold
        ``None`` yet reject it on assignment or when loading JSON it wrote itself; docstack
        widens such annotations to ``Optional[T]``.
        """
        super().__pydantic_init_subclass__(**kwargs)
        widened = _take_encoders(cls)
        for info in cls.model_fields.values():
            if info.default is None and not _allows_none(info.annotation):
                info.annotation = Optional[info.annotation]  # type: ignore[assignment]
                widened = True
        if widened:
            # a forward reference may not resolve yet: pydantic then rebuilds on first use
            cls.model_rebuild(force=True, raise_errors=False)

    # -- identity -----------------------------------------------------------------------------

    def is_view(self) -> bool:
        """Whether this document is a view into a :class:`~docstack.DocVec` column store.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> BaseDoc().is_view()
        False
        """
        return False

    def __eq__(self, other: object) -> bool:
        """Equal when of the same type with equal fields; tensors compare by value, ids are
        ignored. Extra fields (of ``AnyDoc``) count: both must have the same, equal ones."""
        if not isinstance(other, BaseDocWithoutId):
            return NotImplemented
        if _doc_type(self) is not _doc_type(other):
            return False
        for name in type(self).model_fields:
            if name == "id":
                continue
            if not values_equal(getattr(self, name), getattr(other, name)):
                return False
        extra, other_extra = self.__pydantic_extra__, other.__pydantic_extra__
        if extra or other_extra:
            return values_equal(extra or {}, other_extra or {})
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    # -- display --------------------------------------------------------------------------

    def summary(self) -> None:
        """Print the document as a tree: each field with its type and value.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> TextDoc(text='hello').summary()  # doctest: +SKIP
        """
        from docstack.base_doc._summary import print_doc

        print_doc(self)

    @classmethod
    def schema_summary(cls) -> None:
        """Print the schema of this document class as a tree of fields and types."""
        from docstack.base_doc._summary import print_schema

        print_schema(cls)

    # -- mutation -------------------------------------------------------------------------

    def update(self, other: BaseDocWithoutId) -> None:
        """Merge ``other`` into this document, in place.

        For each field of ``other`` whose value is not ``None`` (the id excepted):

        * nested documents are updated recursively;
        * lists (and ``DocList`` fields) are extended with ``other``'s items; in a list of
          documents, an item whose id is already there updates that document instead;
        * sets are unioned, dicts are updated;
        * any other value (strings, numbers, tensors) replaces this document's value.

        Parameters
        ----------
        other:
            A document of the same type.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> class Page(BaseDoc):
        ...     title: str | None = None
        ...     tags: list[str] = []
        >>> a, b = Page(title='a', tags=['x']), Page(tags=['y'])
        >>> a.update(b)
        >>> a.title, a.tags
        ('a', ['x', 'y'])
        """
        if _doc_type(other) is not _doc_type(self):
            raise DocTypeError(
                f"update() needs a {_doc_type(self).__name__}, got {type(other).__name__}"
            )
        for name in type(self).model_fields:
            if name == "id":
                continue
            new = getattr(other, name)
            if new is None:
                continue
            old = getattr(self, name)
            if old is None:
                setattr(self, name, new)
            elif isinstance(old, BaseDocWithoutId) and isinstance(new, BaseDocWithoutId):
                old.update(new)
            elif isinstance(old, list) and _is_list_like(new):
                _merge_items(old, new)
            elif _is_list_like(old) and _is_list_like(new):
                # a DocVec (the DocList field of a view) cannot grow: assign the union
                setattr(self, name, [*old, *new])
            elif isinstance(old, set) and isinstance(new, set):
                old.update(new)
            elif isinstance(old, dict) and isinstance(new, dict):
                old.update(new)
            else:
                setattr(self, name, new)

    # -- internals ------------------------------------------------------------------------

    @classmethod
    def _docstack_fields(cls) -> dict[str, Any]:
        """The classified fields of this class (tensor, doc, doclist or other)."""
        return doc_fields(_doc_type_of_class(cls))


class BaseDoc(BaseDocWithoutId):
    """The base class of documents: a pydantic model with an ``id``.

    Subclass it and declare fields with type hints, including docstack's tensor, URL and
    bytes types and other documents (nesting to any depth). Assignments are validated.
    Two documents are equal when their fields are equal (tensors by value), whatever their
    ids.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import ImageUrl, NdArray
    >>> class BannerDoc(BaseDoc):
    ...     image_url: ImageUrl
    ...     title: str
    ...     embedding: NdArray[3] | None = None
    >>> doc = BannerDoc(image_url='https://example.com/a.png', title='Hello')
    >>> len(doc.id)
    32
    """

    id: Optional[ID] = Field(
        default_factory=new_id,
        description="The id of the document; a random 32-character hex string by default.",
        examples=["7f3b0e2c9a1d4b6e8f0a2c4e6b8d0f1a"],
    )


_set = object.__setattr__


def construct_doc(cls: type, values: dict[str, Any], fields_set: set[str]) -> Any:
    """Build a document from already validated values, without validation.

    Much faster than ``model_construct`` for bulk conversions (a ``DocVec`` back to
    documents); every field must be in ``values``.
    """
    if cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
        return cls.model_construct(_fields_set=fields_set, **values)
    doc = cls.__new__(cls)
    _set(doc, "__dict__", values)
    _set(doc, "__pydantic_fields_set__", fields_set)
    _set(doc, "__pydantic_extra__", None)
    _set(doc, "__pydantic_private__", None)
    return doc


def construct_docs(
    cls: type,
    names: list[str],
    columns: list[list[Any]],
    fields_set: set[str],
    n: Optional[int] = None,
) -> list[Any]:
    """Build one document per row of ``columns`` (one list per name), without validation.

    The bulk form of :func:`construct_doc`: the loop is inlined and the garbage collector is
    paused while the documents are made (they are all alive, so a collection in between
    only costs time). ``fields_set`` is copied for each document. ``n``, the number of
    documents, is needed only where there are no columns (a class without fields).
    """
    if n is None:
        n = len(columns[0]) if columns else 0
    if cls.__private_attributes__ or cls.model_config.get("extra") == "allow" or not names:
        return [
            construct_doc(cls, {k: c[i] for k, c in zip(names, columns)}, set(fields_set))
            for i in range(n)
        ]
    # every step is a map() over all documents, so the loops run in C; the slots are set
    # through their own descriptors (a fifth faster than object.__setattr__ by name)
    set_fields, set_extra, set_private = _SLOT_SETTERS
    run = deque(maxlen=0).extend  # consume an iterator, keeping nothing
    with paused_gc():
        out = list(map(cls.__new__, repeat(cls, n)))
        run(map(_set, out, repeat("__dict__"), map(dict_maker(tuple(names)), *columns)))
        run(map(set_fields, out, map(set.copy, repeat(fields_set, n))))
        run(map(set_extra, out, repeat(None)))
        run(map(set_private, out, repeat(None)))
    return out


_SLOT_SETTERS = tuple(
    BaseModel.__dict__[name].__set__
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


def _merge_items(old: list[Any], new: Any) -> None:
    """Extend ``old`` with ``new``'s items; a document whose id ``old`` already holds
    updates that document instead of being appended twice."""
    by_id = {getattr(d, "id", None): d for d in old if isinstance(d, BaseDocWithoutId)}
    by_id.pop(None, None)
    for item in new:
        same = by_id.get(getattr(item, "id", None)) if isinstance(item, BaseDocWithoutId) else None
        if same is not None and _doc_type(same) is _doc_type(item):
            same.update(item)
        else:
            old.append(item)


def _is_list_like(value: Any) -> bool:
    """A list, or an array of documents (``DocList`` or ``DocVec``)."""
    return isinstance(value, list) or getattr(type(value), "__docstack_doc_array__", False)


def _doc_type_of_class(cls: type) -> type:
    """The document class behind a view class (or the class itself)."""
    return getattr(cls, "__docstack_view_of__", None) or cls


def _doc_type(doc: Any) -> type:
    return _doc_type_of_class(type(doc))


# doctest compiles docstring examples with the __future__ flags it finds in the module
# namespace; without this, pydantic models defined in the examples could not resolve
# their string annotations
del annotations
