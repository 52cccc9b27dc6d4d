"""The names of the binary protocols and how a file suffix maps to them.

``'json'`` writes each document as its JSON text in a length-prefixed record, and
``'json-array'`` the whole array as the JSON text ``to_json()`` gives, as DocArray's
protocols of the same names do.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "PROTOCOLS",
    "DEFAULT_PROTOCOL",
    "check_protocol",
    "ARRAY_PROTOCOLS",
    "DOC_PROTOCOLS",
    "WHOLE_ARRAY_PROTOCOLS",
]

#: every protocol ``to_bytes``/``from_bytes`` accept
PROTOCOLS: tuple[str, ...] = (
    "docstack",
    "protobuf",
    "protobuf-array",
    "pickle",
    "pickle-array",
    "json",
    "json-array",
)
#: the default: docstack's own binary format
DEFAULT_PROTOCOL = "docstack"
#: the protocols of a whole array (a document alone takes 'docstack', 'protobuf', 'pickle')
ARRAY_PROTOCOLS = PROTOCOLS
DOC_PROTOCOLS: tuple[str, ...] = ("docstack", "protobuf", "pickle", "json")
#: the protocols that write a whole array as one payload (not block by block or per document)
WHOLE_ARRAY_PROTOCOLS: tuple[str, ...] = ("protobuf-array", "pickle-array", "json-array")


def check_protocol(protocol: Optional[str], allowed: tuple[str, ...] = PROTOCOLS) -> str:
    """The protocol name to use, or a ``ValueError`` that lists the allowed ones.

    Example
    -------
    >>> check_protocol(None)
    'docstack'
    >>> check_protocol('protobuf-array')
    'protobuf-array'
    """
    if protocol is None:
        return DEFAULT_PROTOCOL
    if protocol not in allowed:
        raise ValueError(
            f"unknown protocol {protocol!r}; use one of {', '.join(map(repr, allowed))}"
        )
    return protocol
