"""Document views: documents whose fields live in the columns of a ``DocVec``.

A view is an instance of a subclass of the document class (so ``isinstance`` holds and it
prints under the same name) whose fields are properties that read from, and write to, the
column store. Assigning a field validates it like an assignment on a normal document, then
writes it into the column; changing a tensor in place changes the column, since the view's
tensor is a view of the stacked column.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Protocol

from pydantic import ConfigDict, create_model

from docstack.errors import DocTypeError

__all__ = ["ColumnStore", "view_class", "make_view"]


class ColumnStore(Protocol):
    """What a view needs from the storage behind it."""

    def get_value(self, name: str, index: int) -> Any:
        """The value of field ``name`` of document ``index``."""
        ...

    def set_value(self, name: str, index: int, value: Any) -> None:
        """Store an already validated ``value`` as field ``name`` of document ``index``."""
        ...


@cache
def _field_model(doc_cls: type, name: str) -> type:
    """A one-field model that validates values of field ``name`` exactly as ``doc_cls`` does.

    Its errors carry the field name in their location, like any pydantic model's.
    """
    info = doc_cls.model_fields[name]
    return create_model(  # type: ignore[call-overload,no-any-return]
        doc_cls.__name__,
        __config__=ConfigDict(arbitrary_types_allowed=True, protected_namespaces=()),
        **{name: (info.annotation, info)},
    )


def validate_field(doc_cls: type, name: str, value: Any) -> Any:
    """Validate ``value`` for field ``name`` of ``doc_cls``; errors name the field."""
    return _field_model(doc_cls, name).model_validate({name: value}).__dict__[name]


def validate_field_values(doc_cls: type, name: str, values: list[Any]) -> list[Any]:
    """Validate one value per document for field ``name``; all or nothing."""
    return [validate_field(doc_cls, name, v) for v in values]


def _make_property(name: str) -> property:
    def getter(self: Any) -> Any:
        return self._docstack_store.get_value(name, self._docstack_index)

    return property(getter, doc=f"Field {name!r}, read from the column store.")


def in_field(
    error: DocTypeError, name: str, doc_cls: type, position: int | None = None
) -> DocTypeError:
    """``error``, raised for the value of field ``name`` of a ``doc_cls`` document (at
    ``position`` in its array), as a DocTypeError whose message starts with that field."""
    where = "" if position is None else f", in the document at position {position}"
    return DocTypeError(f"field {name!r} of {doc_cls.__name__}{where}: {error}")


def _setattr(self: Any, name: str, value: Any) -> None:
    doc_cls = type(self).__docstack_view_of__
    if name in doc_cls.model_fields:
        validated = validate_field(doc_cls, name, value)
        try:
            self._docstack_store.set_value(name, self._docstack_index, validated)
        except DocTypeError as e:  # a nested DocVec refused the value: name the field
            raise in_field(e, name, doc_cls) from None
        return
    if name in ("_docstack_store", "_docstack_index"):
        object.__setattr__(self, name, value)
        return
    super(type(self), self).__setattr__(name, value)


def _dict(self: Any) -> dict[str, Any]:
    """The fields as a fresh dict read from the columns.

    pydantic's serializers and ``repr`` read ``__dict__``; a view has no values of its own,
    so this property builds one. Nested document arrays become ``DocList``s so that they
    serialize like the field's declared type.
    """
    store, index = self._docstack_store, self._docstack_index
    out = {}
    for name in type(self).__docstack_view_of__.model_fields:
        value = store.get_value(name, index)
        if hasattr(value, "to_doc_list"):
            value = value.to_doc_list()
        out[name] = value
    return out


def _is_view(self: Any) -> bool:
    return True


def _to_doc(self: Any) -> Any:
    """A standalone copy of this view as a normal document."""
    base = type(self).__docstack_view_of__
    values = {}
    for name, value in self.__dict__.items():
        values[name] = _detach(value)
    return base.model_construct(_fields_set=set(values), **values)


def _detach(value: Any) -> Any:
    if getattr(value, "is_view", None) is not None and value.is_view():
        return value._to_doc()
    return value


def _copy(self: Any, *args: Any, **kwargs: Any) -> Any:
    return self._to_doc()


def _deepcopy(self: Any, memo: dict | None = None) -> Any:
    return copy.deepcopy(self._to_doc(), memo)


def _model_copy(self: Any, *, update: dict | None = None, deep: bool = False) -> Any:
    doc = self._to_doc()
    return doc.model_copy(update=update, deep=deep)


def _reduce_ex(self: Any, protocol: Any) -> Any:
    # a pickled view comes back as a standalone document
    return (_identity, (self._to_doc(),))


def _identity(value: Any) -> Any:
    return value


@cache
def view_class(doc_cls: type) -> type:
    """The view class of a document class (created once, then cached)."""
    namespace = {
        "__slots__": ("_docstack_store", "_docstack_index"),
        "__module__": doc_cls.__module__,
        "__qualname__": doc_cls.__qualname__,
        "__docstack_view_of__": doc_cls,
        "__setattr__": _setattr,
        "__dict__": property(_dict),
        "is_view": _is_view,
        "_to_doc": _to_doc,
        "__copy__": _copy,
        "__deepcopy__": _deepcopy,
        "model_copy": _model_copy,
        "__reduce_ex__": _reduce_ex,
    }
    view = type(doc_cls)(doc_cls.__name__, (doc_cls,), namespace)
    for name in doc_cls.model_fields:
        type.__setattr__(view, name, _make_property(name))
    return view


_set = object.__setattr__


def make_view(doc_cls: type, store: ColumnStore, index: int) -> Any:
    """A view of document ``index`` of ``store``, typed as ``doc_cls``."""
    cls = view_class(doc_cls)
    view = cls.__new__(cls)
    _set(view, "__pydantic_fields_set__", set(cls.model_fields))
    _set(view, "__pydantic_extra__", None)
    _set(view, "__pydantic_private__", None)
    _set(view, "_docstack_store", store)
    _set(view, "_docstack_index", index)
    return view
