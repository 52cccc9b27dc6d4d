"""DocArray's exception names, at DocArray's path (see :mod:`docstack.errors`)."""

from docstack.errors import UnusableObjectError

__all__ = ["UnusableObjectError"]
