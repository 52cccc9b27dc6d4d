"""The backends every conformance test runs against, with the same data and expectations.

``hnsw`` keeps small data in the growing segment (searched exactly); ``hnsw_graph`` merges
every write into the HNSW graph and sends filtered searches through it, so both paths of the
embedded index answer the same tests.

A backend joins by a module ``backend_<name>.py`` beside this file that defines
``FACTORIES``: a dict of backend name -> ``factory(doc_type, work_dir, **kwargs)`` returning
a new, empty index (a fresh collection each call). Servers a factory needs are started by its
module on first use and stopped when the test session ends.
"""

from __future__ import annotations

import importlib
import itertools
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex

warnings.filterwarnings("ignore", message=".*extra keyword arguments on `Field`.*")


def _in_memory(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    return InMemoryExactNNIndex[doc_type](**kwargs)


def _hnsw(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    return HnswDocumentIndex[doc_type](work_dir=work_dir, **kwargs)


def _hnsw_graph(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    # reads results from SQLite (no row cache), where hnsw reads the row cache: both paths
    # answer every test
    return HnswDocumentIndex[doc_type](
        work_dir=work_dir,
        merge_threshold=1,
        exact_search_threshold=0,
        row_cache_bytes=0,
        **kwargs,
    )


FACTORIES: dict[str, Callable[..., Any]] = {
    "in_memory": _in_memory,
    "hnsw": _hnsw,
    "hnsw_graph": _hnsw_graph,
}
for _module in ("backend_milvus", "backend_qdrant"):
    try:
        FACTORIES.update(importlib.import_module(_module).FACTORIES)
    except ModuleNotFoundError as exc:  # that backend's module is not written (yet)
        if exc.name != _module:
            raise

BACKENDS = list(FACTORIES)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_index(backend, tmp_path):
    counter = itertools.count()
    factory = FACTORIES[backend]

    def make(doc_type, **kwargs):
        return factory(doc_type, str(tmp_path / f"index{next(counter)}"), **kwargs)

    return make
