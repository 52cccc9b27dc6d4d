"""The backends every conformance test runs against, with the same data and expectations.

``hnsw`` keeps small data in the growing segment (searched exactly); ``hnsw_graph`` merges
every write into the HNSW graph and sends filtered searches through it, so both paths of the
embedded index answer the same tests. A new backend joins by adding a factory here.
"""

from __future__ import annotations

import itertools
import warnings

import pytest

from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex

warnings.filterwarnings("ignore", message=".*extra keyword arguments on `Field`.*")

BACKENDS = ["in_memory", "hnsw", "hnsw_graph"]
# hnsw_graph reads results from SQLite (no row cache), hnsw from the row cache: both paths
# answer every test


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_index(backend, tmp_path):
    counter = itertools.count()

    def make(doc_type, **kwargs):
        if backend == "in_memory":
            return InMemoryExactNNIndex[doc_type](**kwargs)
        work_dir = str(tmp_path / f"index{next(counter)}")
        if backend == "hnsw":
            return HnswDocumentIndex[doc_type](work_dir=work_dir, **kwargs)
        return HnswDocumentIndex[doc_type](
            work_dir=work_dir,
            merge_threshold=1,
            exact_search_threshold=0,
            row_cache_bytes=0,
            **kwargs,
        )

    return make
