"""docstack's protobuf messages at DocArray's path (they live in :mod:`docstack.io.proto`).

The message layout is docstack's own (``docstack/io/proto/docstack.proto``); ``NodeProto``
is DocArray's name for the message of one value, here ``ValueProto``. The messages are
imported on first use and need the ``protobuf`` extra.

Example
-------
>>> from docstack.proto import DocProto
>>> DocProto(doc_type='TextDoc').doc_type
'TextDoc'
"""

from typing import Any

from docstack.io import proto as _proto

__all__ = [*_proto.__all__, "NodeProto"]


def __getattr__(name: str) -> Any:
    if name == "NodeProto":
        return _proto.ValueProto
    if name in _proto.__all__:
        return getattr(_proto, name)
    raise AttributeError(f"module 'docstack.proto' has no attribute {name!r}")
