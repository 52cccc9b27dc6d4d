"""Document Index: store documents in a vector database and search them, with one API.

Backends: :class:`HnswDocumentIndex` (embedded and persistent: SQLite + hnswlib, the default)
and :class:`InMemoryExactNNIndex` (exact, in memory). Both take their schema from a document
class, and answer every call the same way.

Scores have one meaning per metric (:data:`INDEX_METRICS`): ``'cosine'`` is the cosine
similarity (higher is better), ``'l2'`` the euclidean distance (lower is better),
``'sqeuclidean'`` the squared euclidean distance (lower is better), ``'ip'`` the inner product
(higher is better). DocArray's names are accepted: ``'cosine_sim'``, ``'euclidean_dist'``,
``'sqeuclidean_dist'``, ``'dot'``. Text search scores are BM25 (higher is better).

Example
-------
>>> import numpy as np
>>> from docstack import BaseDoc, DocList
>>> from docstack.typing import NdArray
>>> from docstack.index import InMemoryExactNNIndex
>>> class MyDoc(BaseDoc):
...     text: str
...     embedding: NdArray[4]
>>> index = InMemoryExactNNIndex[MyDoc]()
>>> index.index(DocList[MyDoc]([MyDoc(text=f'text {i}', embedding=np.eye(4)[i])
...                             for i in range(4)]))
>>> matches, scores = index.find(np.eye(4)[2], search_field='embedding', limit=1)
>>> matches.text
['text 2']
"""

from typing import TYPE_CHECKING, Any

from docstack.index._base import DocumentIndex
from docstack.index._embed import EncoderMismatchError, find_by_modality
from docstack.index._query import Query, QueryBuilder
from docstack.index._results import FindResult, FindResultBatched, SubindexFindResult
from docstack.index._schema import INDEX_METRICS

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index.backends.hnsw import HnswDocumentIndex
    from docstack.index.backends.in_memory import InMemoryExactNNIndex
    from docstack.index.backends.milvus import MilvusDocumentIndex
    from docstack.index.backends.qdrant import QdrantDocumentIndex

#: DocArray's name for the base class.
BaseDocIndex = DocumentIndex

_LAZY = {
    "HnswDocumentIndex": "docstack.index.backends.hnsw",
    "InMemoryExactNNIndex": "docstack.index.backends.in_memory",
    "MilvusDocumentIndex": "docstack.index.backends.milvus",
    "QdrantDocumentIndex": "docstack.index.backends.qdrant",
}

__all__ = [
    "BaseDocIndex",
    "DocumentIndex",
    "EncoderMismatchError",
    "FindResult",
    "FindResultBatched",
    "HnswDocumentIndex",
    "INDEX_METRICS",
    "InMemoryExactNNIndex",
    "MilvusDocumentIndex",
    "QdrantDocumentIndex",
    "Query",
    "QueryBuilder",
    "SubindexFindResult",
    "find_by_modality",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'docstack.index' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
