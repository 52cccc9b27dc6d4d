"""The shorthands of the ready documents: ``ImageDoc('a.png')``, a str as a field value."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.typing.tensor._convert import framework_of

__all__ = ["UNSET", "MediaDoc", "media_fields", "positional_to_fields"]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()
"""The default of the positional argument: nothing was passed."""


def media_fields(
    value: Any,
    *,
    str_field: str,
    tensor_field: str | None = None,
    bytes_field: str | None = None,
    doc_field: str | None = None,
    doc_type: type | None = None,
) -> dict[str, Any] | None:
    """The fields a shorthand value stands for, or ``None`` when it is no shorthand.

    A ``str`` goes to ``str_field``, a tensor of any framework to ``tensor_field`` (a
    nested path ``outer__inner`` fills the nested document's field), bytes (``bytes``,
    ``bytearray``, ``memoryview``) to ``bytes_field`` and an instance of ``doc_type`` to
    ``doc_field``.
    """
    if isinstance(value, str):
        return {str_field: value}
    if bytes_field is not None and isinstance(value, (bytes, bytearray, memoryview)):
        return {bytes_field: value}
    if tensor_field is not None and framework_of(value) is not None:
        outer, _, inner = tensor_field.partition("__")
        return {outer: {inner: value}} if inner else {outer: value}
    if doc_type is not None and isinstance(value, doc_type):
        return {doc_field: value}
    return None


def positional_to_fields(
    cls: type, value: Any, data: dict[str, Any], fields: dict[str, Any] | None, accepts: str
) -> dict[str, Any]:
    """Merge the fields a positional argument stands for into the keyword arguments.

    Parameters
    ----------
    cls:
        The document class (for error messages).
    value:
        The positional argument, or :data:`UNSET`.
    data:
        The keyword arguments.
    fields:
        What :func:`media_fields` made of ``value``.
    accepts:
        What the positional argument may be, for the error message.

    Raises
    ------
    TypeError
        ``value`` is no shorthand, or a field is given both ways.
    """
    if value is UNSET or value is None:
        return data
    if fields is None:
        raise TypeError(
            f"{cls.__name__}() takes {accepts} as its positional argument, "
            f"got {type(value).__name__}; pass other values by keyword"
        )
    both = sorted(fields.keys() & data.keys())
    if both:
        raise TypeError(
            f"{cls.__name__}() got {both[0]!r} both as the positional argument and as a keyword"
        )
    return {**fields, **data}


class MediaDoc(BaseDoc):
    """Base of the ready media documents: the positional shorthand and a bare field value.

    ``Doc(value)`` and a bare ``value`` given to a field of type ``Doc`` both become the
    fields that :func:`media_fields` makes of ``value`` with the class's
    ``_docstack_shorthand_fields``; ``_docstack_accepts`` says what may be passed, for errors.
    """

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {"str_field": "url"}
    _docstack_accepts: ClassVar[str] = "a URL (str)"

    def __init__(self, value: Any = UNSET, /, **data: Any) -> None:
        cls = type(self)
        fields = media_fields(value, **cls._docstack_shorthand_fields)
        super().__init__(**positional_to_fields(cls, value, data, fields, cls._docstack_accepts))

    # pydantic validates dicts without calling this __init__, as for the base one
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _docstack_shorthand(cls, data: Any) -> Any:
        fields = media_fields(data, **cls._docstack_shorthand_fields)
        return data if fields is None else fields
