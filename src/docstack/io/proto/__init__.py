"""docstack's protobuf schema: ``docstack.proto`` and the module generated from it.

The message classes are those of the generated ``docstack_pb2`` module; they are imported
on first use, which needs the ``protobuf`` extra (``pip install 'docstack[protobuf]'``).

* ``DocProto``: one document, its fields by name (each a ``ValueProto``);
* ``DocListProto``: documents one after the other;
* ``DocVecProto``: documents column by column (a tensor field is one stacked
  ``TensorProto``);
* ``ArrayProto``: a ``DocListProto`` or a ``DocVecProto``, what the ``'protobuf-array'``
  protocol writes;
* ``TensorProto``, ``ValueProto``, ``ListProto``, ``DictProto`` and the column messages.

Example
-------
>>> from docstack.io.proto import DocProto
>>> DocProto(doc_type='TextDoc').doc_type
'TextDoc'
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = [
    "ArrayProto",
    "BytesColumnProto",
    "DictProto",
    "DocListProto",
    "DocProto",
    "DocVecListColumnProto",
    "DocVecProto",
    "FloatColumnProto",
    "IntColumnProto",
    "ListProto",
    "NullValue",
    "StringColumnProto",
    "TensorColumnProto",
    "TensorProto",
    "ValueColumnProto",
    "ValueProto",
    "load_messages",
]

_MODULE: ModuleType | None = None


def load_messages() -> ModuleType:
    """The generated ``docstack_pb2`` module, imported on first call.

    Returns
    -------
    The module holding the message classes.

    Raises
    ------
    MissingDependencyError
        protobuf is not installed, or too old for the generated code.

    Example
    -------
    >>> load_messages().DocVecProto.__name__
    'DocVecProto'
    """
    global _MODULE
    if _MODULE is None:
        from docstack._internal.optional import import_optional
        from docstack.errors import MissingDependencyError

        protobuf = import_optional("google.protobuf")
        try:
            from docstack.io.proto import docstack_pb2
        except Exception as exc:  # noqa: BLE001 - the runtime's version check raises its own class
            raise MissingDependencyError(
                f"docstack's protobuf messages need a newer protobuf than the installed "
                f"{getattr(protobuf, '__version__', '?')}: pip install 'docstack[protobuf]' "
                f"({exc})"
            ) from exc
        _MODULE = docstack_pb2
    return _MODULE


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(load_messages(), name)
    raise AttributeError(f"module 'docstack.io.proto' has no attribute {name!r}")
