"""docstack's errors under the names DocArray code catches.

The classes are those of :mod:`docstack.errors`; ``UnusableObjectError`` is DocArray's
name for using an array after it was converted into another one.
"""

from docstack.exceptions.exceptions import UnusableObjectError

__all__ = ["UnusableObjectError"]
