"""DocArray's module path for the base class of the media bytes types; it lives in ``docstack.typing.bytes._base``."""

from docstack.typing.bytes._base import MediaBytes as BaseBytes

__all__ = ["BaseBytes"]
