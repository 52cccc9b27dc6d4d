"""DocArray's module path for the embedded HNSW index; it lives in ``docstack.index.backends.hnsw``."""

from docstack.index.backends.hnsw import HnswDocumentIndex

__all__ = ["HnswDocumentIndex"]
