"""What the connected Milvus can do, read from its version before docstack relies on it.

Milvus Lite (``milvus_lite-x.y.z``) has every feature docstack uses. A Milvus server
reports ``vX.Y.Z``: hybrid search and several vector fields per collection came with 2.4,
BM25 text search and nullable fields with 2.5, ``ARRAY`` fields with 2.3. A version that
cannot be read is taken as able to do everything (the engine's own error then says more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MilvusFeatures", "server_features"]

#: feature -> (the first Milvus server version with it, what docstack uses it for)
FEATURES: dict[str, tuple[tuple[int, int], str]] = {
    "array": ((2, 3), "ARRAY fields"),
    "hybrid_search": ((2, 4), "hybrid_search (fusion in the engine)"),
    "multi_vector": ((2, 4), "several vector fields in one collection"),
    "bm25": ((2, 5), "BM25 text search (a BM25 function on a str field)"),
    "nullable": ((2, 5), "nullable fields (None values)"),
}


@dataclass(frozen=True)
class MilvusFeatures:
    """The features of one Milvus, by the names of :data:`FEATURES`.

    Example
    -------
    >>> f = MilvusFeatures.from_version('v2.3.5-lite')
    >>> f.has('array'), f.has('bm25'), f.has('hybrid_search')
    (True, False, False)
    >>> MilvusFeatures.from_version('milvus_lite-3.2.2').has('bm25')
    True
    """

    version: str
    release: tuple[int, int] | None

    @classmethod
    def from_version(cls, version: str) -> MilvusFeatures:
        """The features of a Milvus that reports ``version``."""
        text = str(version)
        if text.startswith("milvus_lite"):
            return cls(text, None)
        match = re.match(r"v?(\d+)\.(\d+)", text.strip())
        return cls(text, (int(match[1]), int(match[2])) if match else None)

    def has(self, feature: str) -> bool:
        """Whether this Milvus has ``feature`` (a key of :data:`FEATURES`)."""
        first, _ = FEATURES[feature]
        return self.release is None or self.release >= first

    def missing(self, feature: str, uri: str, advice: str) -> str:
        """The message of a :class:`MilvusFeatureError` for a feature this Milvus lacks.

        Example
        -------
        >>> MilvusFeatures.from_version('v2.3.5').missing('bm25', 'http://h:1', 'Do X.')
        'the Milvus at http://h:1 (server v2.3.5) has no BM25 text search (a BM25 function on a str field), which came with Milvus 2.5. Do X.'
        """
        first, what = FEATURES[feature]
        return (
            f"the Milvus at {uri} (server {self.version}) has no {what}, which came with "
            f"Milvus {first[0]}.{first[1]}. {advice}"
        )


def server_features(client: Any) -> MilvusFeatures:
    """The features of the Milvus ``client`` is connected to (read once per call).

    Example
    -------
    >>> class Old:
    ...     def get_server_version(self):
    ...         return 'v2.3.5'
    >>> server_features(Old()).has('hybrid_search')
    False
    """
    try:
        version = client.get_server_version()
    except Exception:  # an engine that cannot say: assume it can, its errors say the rest
        version = "unknown"
    return MilvusFeatures.from_version(version)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
