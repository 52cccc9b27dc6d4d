"""The base of the bytes types: validation from bytes-likes and base64, JSON as base64."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["MediaBytes"]

_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def _serialize_json(value: bytes) -> str:
    # the URL-safe alphabet, as pydantic writes ``bytes`` fields with ser_json_bytes='base64'
    return base64.urlsafe_b64encode(value).decode("ascii")


def decode_base64(text: str) -> bytes:
    """Decode standard or URL-safe base64, with or without padding; ``ValueError`` if invalid.

    Example
    -------
    >>> decode_base64('aGVs bG8')
    b'hello'
    """
    compact = "".join(text.split()).translate(_URLSAFE_TO_STANDARD)
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"a str must hold base64 data, and this one does not ({exc})") from None


class MediaBytes(bytes):
    """Base of ``ImageBytes``, ``AudioBytes`` and ``VideoBytes``.

    A field of such a type accepts ``bytes``, ``bytearray``, ``memoryview`` and a base64
    ``str`` (what JSON holds), and is written to JSON as (URL-safe) base64.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AudioBytes
    >>> class Clip(BaseDoc):
    ...     data: AudioBytes
    >>> Clip(data='AAEC').data
    b'\\x00\\x01\\x02'
    """

    __slots__ = ()

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls(value)
        if isinstance(value, str):
            try:
                return cls(decode_base64(value))
            except ValueError as exc:
                raise ValueError(f"{cls.__name__}: {exc}") from None
        raise ValueError(
            f"{cls.__name__} needs bytes, bytearray, memoryview or a base64 str, "
            f"got {type(value).__name__}"
        )

    @classmethod
    def validate(cls, value: Any) -> Any:
        """Validate ``value`` as this bytes type, as a field of this type would.

        Parameters
        ----------
        value:
            ``bytes``, ``bytearray``, ``memoryview`` or a base64 ``str``.

        Returns
        -------
        The value as an instance of this class.

        Raises
        ------
        ValueError
            Any other type, or a ``str`` that is not base64.

        Example
        -------
        >>> from docstack.typing import ImageBytes
        >>> ImageBytes.validate(bytearray(b'abc'))
        b'abc'
        """
        return cls._docstack_validate(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._docstack_validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_json, when_used="json-unless-none"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "base64url"}
