"""The Document Index base class: one API, every backend.

A backend implements a handful of storage and search primitives (the ``_b_*`` methods); the
base class does everything else the same way for all of them: schema, validation, upserts with
sub-indexes, the portable filter language, result assembly, scores, hybrid queries and fusion.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from docstack._internal.metrics import higher_is_better
from docstack._internal.query import FilterNode
from docstack.array.doc_list import DocList
from docstack.base_doc.doc import BaseDoc
from docstack.errors import DocTypeError
from docstack.index._backend import BackendPrimitives
from docstack.index._compat import (
    BaseRuntimeConfig,
    ColumnInfo,
    column_infos,
    updated_runtime_config,
)
from docstack.index._embed import check_records as check_encoder_records
from docstack.index._inputs import QueryInputs
from docstack.index._query import Query, QueryBuilder, _count, execute_query
from docstack.index._results import FindResult, FindResultBatched
from docstack.index._schema import Column, IndexSchema
from docstack.index._subindexes import SubindexSearch
from docstack.index._writes import IndexWrites

__all__ = ["DocumentIndex"]

TSchema = TypeVar("TSchema", bound=BaseDoc)


@dataclass
class BaseDBConfig:
    """Settings every backend has.

    ``index_name`` names the index (a label: where the data lives is the backend's own
    setting, such as ``work_dir``). ``default_column_config`` maps a column type
    (``np.ndarray`` for every tensor, ``str``, ``int``, ``float``, ``bool``, ``None`` for all)
    to settings for such columns; a field's own ``Field(...)`` keywords override them.
    """

    index_name: str | None = None
    default_column_config: dict[Any, dict[str, Any]] = field(default_factory=dict)


class DocumentIndex(BackendPrimitives, QueryInputs, IndexWrites, SubindexSearch, Generic[TSchema]):
    """A store of documents of one schema, searchable by vector, text and filter.

    Use a backend: ``HnswDocumentIndex[MyDoc](work_dir=...)`` (embedded, persistent) or
    ``InMemoryExactNNIndex[MyDoc]()``. The schema comes from the document class: one column
    per field (nested fields flattened with ``'__'``), vector dimensions from the type
    (``NdArray[128]``) or ``Field(dim=...)``, the metric from ``Field(space=...)``
    (``'cosine'`` by default). ``DocList`` fields become linked sub-indexes.

    Scores have one meaning per metric on every backend: ``'cosine'`` is the cosine
    similarity (higher is better), ``'l2'`` the euclidean distance (lower is better),
    ``'sqeuclidean'`` its square (lower is better), ``'ip'`` the inner product (higher is
    better); text search returns BM25 scores (higher is better).

    Settings: ``HnswDocumentIndex[MyDoc](work_dir=...)`` or
    ``HnswDocumentIndex[MyDoc](db_config=HnswDocumentIndex.DBConfig(work_dir=...))`` when
    opening, ``configure(...)`` (a ``RuntimeConfig``) afterwards.
    """

    DBConfig: ClassVar[type] = BaseDBConfig
    RuntimeConfig: ClassVar[type] = BaseRuntimeConfig
    QueryBuilder: ClassVar[type] = QueryBuilder
    _doc_type: ClassVar[type | None] = None
    _subclasses: ClassVar[dict[tuple[type, type], type]] = {}

    # ------------------------------------------------------------------ construction

    def __class_getitem__(cls, item: Any) -> Any:
        if isinstance(item, TypeVar):
            return cls
        if not (isinstance(item, type) and issubclass(item, BaseDoc)):
            raise TypeError(f"{cls.__name__}[...] takes a document class, got {item!r}")
        key = (cls, item)
        sub = DocumentIndex._subclasses.get(key)
        if sub is None:
            sub = type(f"{cls.__name__}[{item.__name__}]", (cls,), {"_doc_type": item})
            sub.__module__ = cls.__module__
            DocumentIndex._subclasses[key] = sub
        return sub

    def __init__(self, db_config: Any = None, **kwargs: Any) -> None:
        if self._doc_type is None:
            raise DocTypeError(
                f"give the document class: {type(self).__name__}[MyDoc](...), not "
                f"{type(self).__name__}(...)"
            )
        config_cls = self.DBConfig
        if db_config is None:
            db_config = config_cls()
        elif not isinstance(db_config, config_cls):
            raise TypeError(f"db_config must be a {config_cls.__name__}, got {db_config!r}")
        names = {f.name for f in fields(config_cls)}
        unknown = set(kwargs) - names
        if unknown:
            raise TypeError(
                f"unknown setting(s) {sorted(unknown)} for {type(self).__name__}; "
                f"valid: {sorted(names)}"
            )
        self._db_config = replace(db_config, **kwargs)
        self._runtime_config = self.RuntimeConfig()
        self._column_defaults = self._compose_column_defaults()
        self._schema = IndexSchema.from_doc_type(self._doc_type, self._column_defaults)
        self._lock = threading.RLock()
        self._parent: DocumentIndex | None = None
        self._subindices: dict[str, DocumentIndex] = {}
        self._dims: dict[str, int] = {
            n: c.dim for n, c in self._schema.vector_columns.items() if c.dim is not None
        }
        try:
            self._b_open()
            check_encoder_records(self)
            self._open_subindexes()
        except BaseException:
            self._b_abort_open()
            raise

    def _open_subindexes(self) -> None:
        for name, sub in self._schema.subindexes.items():
            child = self._b_subindex(name, sub.doc_type)
            child._parent = self
            self._subindices[name] = child

    @classmethod
    def _default_column_config(cls) -> dict[Any, dict[str, Any]]:
        """The backend's default settings per column type."""
        return {}

    def _compose_column_defaults(self) -> dict[Any, dict[str, Any]]:
        """Settings per column type: the backend's, then the DBConfig's, then configure()'s."""
        out: dict[Any, dict[str, Any]] = dict(self._default_column_config())
        layers = [self._db_config.default_column_config]
        layers.append(getattr(self._runtime_config, "default_column_config", None) or {})
        for layer in layers:
            for key, value in layer.items():
                out[key] = {**out.get(key, {}), **value}
        return out

    @property
    def db_config(self) -> Any:
        """The backend settings this index was opened with."""
        return self._db_config

    @property
    def schema(self) -> type:
        """The document class this index stores."""
        return self._doc_type  # type: ignore[return-value]

    @property
    def subindices(self) -> Mapping[str, DocumentIndex]:
        """The sub-index of each ``DocList`` field, by field name."""
        return dict(self._subindices)

    @property
    def runtime_config(self) -> Any:
        """The settings last given to :meth:`configure` (a ``RuntimeConfig``)."""
        return self._runtime_config

    @property
    def index_name(self) -> str | None:
        """The name given as ``index_name`` when opening (``None`` when none was)."""
        return self._db_config.index_name

    @property
    def _column_infos(self) -> dict[str, ColumnInfo]:
        """DocArray's table of columns, read-only (see :func:`column_infos`)."""
        return column_infos(self)

    def configure(self, runtime_config: Any = None, **kwargs: Any) -> None:
        """Change settings of the open index.

        ``configure(default_column_config={np.ndarray: {'ef': 128}})`` changes the given
        settings and keeps the others; ``configure(Index.RuntimeConfig(...))`` replaces them
        all. Backends apply what they can to stored data (HNSW search settings at once, graph
        settings by rebuilding the derived graph); sub-indexes get the same settings.

        Example
        -------
        >>> import numpy as np
        >>> from docstack import BaseDoc
        >>> from docstack.typing import NdArray
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     emb: NdArray[2]
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.configure(default_column_config={np.ndarray: {'space': 'ip'}})
        >>> index._schema.columns['emb'].space
        'ip'
        """
        with self._lock:
            self._runtime_config = updated_runtime_config(
                self._runtime_config, runtime_config, kwargs, self.RuntimeConfig
            )
            self._column_defaults = self._compose_column_defaults()
            old = self._schema
            self._schema = IndexSchema.from_doc_type(self._doc_type, self._column_defaults)
            for name, col in self._schema.vector_columns.items():
                if col.dim is not None:
                    self._dims.setdefault(name, col.dim)
            self._b_reconfigured(old)
        for child in self._subindices.values():
            if isinstance(self._runtime_config, child.RuntimeConfig):
                child.configure(self._runtime_config)
            else:
                dcc = getattr(self._runtime_config, "default_column_config", {})
                child.configure(default_column_config=dcc)

    # ------------------------------------------------------------------ reads

    def __getitem__(self, key: str | Sequence[str]) -> Any:
        """A document by id, or a ``DocList`` of several; missing ids raise ``KeyError``."""
        single = isinstance(key, str)
        ids = [key] if single else [str(k) for k in key]
        with self._lock:
            found, values = self._b_get(ids)
            if len(found) != len(ids):
                missing = [i for i in dict.fromkeys(ids) if i not in set(found)]
                if missing:
                    raise KeyError(f"no documents with ids {missing}")
            docs = self._build(found, values)
        return docs[0] if single else docs

    def __contains__(self, item: Any) -> bool:
        doc_id = item.id if isinstance(item, BaseDoc) else item
        if not isinstance(doc_id, str):
            return False
        with self._lock:
            return self._b_contains(doc_id)

    def num_docs(self) -> int:
        """How many (root) documents the index holds."""
        with self._lock:
            return self._b_count()

    def __len__(self) -> int:
        return self.num_docs()

    def _build(self, ids: list[str], values: dict[str, list[Any]]) -> DocList:
        docs = self._schema.to_docs(ids, values)
        for name, child in self._subindices.items():
            if not docs:
                break
            c_ids, c_parents, c_values = child._b_children(ids)
            subs = child._build(c_ids, c_values)
            by_parent: dict[str, list[Any]] = {}
            for parent, sub in zip(c_parents, subs):
                by_parent.setdefault(parent, []).append(sub)
            sub_type = child._doc_type
            for doc in docs:
                found = by_parent.get(doc.id)
                if found:
                    doc.__dict__[name] = DocList[sub_type](found)
        return DocList[self._doc_type](docs, validate_input_docs=False)

    def _docs_for_keys(self, keys: np.ndarray) -> DocList:
        ids, values = self._b_rows(keys)
        return self._build(ids, values)

    # ------------------------------------------------------------------ search

    def find(
        self,
        query: Any,
        search_field: str = "",
        limit: int = 10,
        score_threshold: float | None = None,
        offset: int = 0,
    ) -> FindResult:
        """The documents nearest to a query document or raw vector, best first.

        Parameters
        ----------
        query:
            A document (its ``search_field`` value is the query) or a vector.
        search_field:
            The vector field, nested ones as ``'thumbnail__tensor'``; may be omitted when
            the schema has one vector field.
        limit, offset:
            How many results, after skipping ``offset`` of them.
        score_threshold:
            Keep only results at least this good (``>=`` for similarities, ``<=`` for
            distances).

        Returns
        -------
        FindResult
            ``(documents, scores)``.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.typing import NdArray
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     emb: NdArray[2]
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(id='x', emb=[1, 0]), Doc(id='y', emb=[0, 1])])
        >>> docs, scores = index.find([1.0, 0.2], search_field='emb', limit=1)
        >>> docs.id, scores.round(3).tolist()
        (['x'], [0.981])
        """
        column = self._schema.vector_column(search_field)
        vectors = self._query_vectors(query, column, single=True)
        return self._find(column, vectors, limit, score_threshold, offset, None)[0]

    def find_batched(
        self,
        queries: Any,
        search_field: str = "",
        limit: int = 10,
        score_threshold: float | None = None,
        offset: int = 0,
    ) -> FindResultBatched:
        """:meth:`find` for several queries (a DocList or a 2-D array) at once."""
        column = self._schema.vector_column(search_field)
        vectors = self._query_vectors(queries, column, single=False)
        results = self._find(column, vectors, limit, score_threshold, offset, None)
        return FindResultBatched([r.documents for r in results], [r.scores for r in results])

    def _find(
        self,
        column: Column,
        vectors: np.ndarray,
        limit: int,
        score_threshold: float | None,
        offset: int,
        node: FilterNode | None,
    ) -> list[FindResult]:
        limit = _count(limit, "limit")
        offset = _count(offset, "offset")
        with self._lock:
            if column.name not in self._dims or not len(vectors) or limit == 0:
                return [self._empty_result() for _ in range(len(vectors))]
            hits = self._b_vector_search(column, vectors, limit + offset, node)
            higher = higher_is_better(column.space)
            out = []
            all_keys = [self._trim(k, s, offset, score_threshold, higher) for k, s in hits]
            flat = np.concatenate([k for k, _ in all_keys]) if all_keys else np.zeros(0, np.int64)
            docs = list(self._docs_for_keys(flat)) if len(flat) else []
            make = DocList[self._doc_type]
            start = 0
            for keys, scores in all_keys:
                end = start + len(keys)
                out.append(FindResult(make(docs[start:end], validate_input_docs=False), scores))
                start = end
            return out

    @staticmethod
    def _trim(
        keys: np.ndarray,
        scores: np.ndarray,
        offset: int,
        threshold: float | None,
        higher: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        if offset:
            keys, scores = keys[offset:], scores[offset:]
        if threshold is not None:
            keep = scores >= threshold if higher else scores <= threshold
            keys, scores = keys[keep], scores[keep]
        return np.asarray(keys, dtype=np.int64), np.asarray(scores, dtype=np.float64)

    def _empty_result(self) -> FindResult:
        return FindResult(DocList[self._doc_type](), np.zeros(0, dtype=np.float64))

    def filter(self, filter_query: Any, limit: int = 10, offset: int = 0) -> DocList:
        """The documents matching a filter of the portable query language, in insertion order.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     n: int
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(n=i) for i in range(5)])
        >>> index.filter({'n': {'$in': [1, 3, 7]}}).n
        [1, 3]
        """
        node = self._parse_filter(filter_query)
        limit = _count(limit, "limit")
        offset = _count(offset, "offset")
        with self._lock:
            keys = self._b_filter(node, limit + offset)[offset:]
            return self._docs_for_keys(keys) if len(keys) else DocList[self._doc_type]()

    def filter_batched(self, filter_queries: Sequence[Any], limit: int = 10) -> list[DocList]:
        """:meth:`filter` for several filters."""
        return [self.filter(q, limit=limit) for q in filter_queries]

    def text_search(
        self,
        query: str,
        search_field: str = "",
        limit: int = 10,
        score_threshold: float | None = None,
        offset: int = 0,
    ) -> FindResult:
        """BM25 text search of a ``str`` field; scores are BM25 (higher is better).

        Terms are matched case-insensitively, any of them (an OR query); a document scores by
        how often and how rarely its terms occur (the BM25 of SQLite FTS5, k1=1.2, b=0.75).

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     text: str
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(text='the red fox'), Doc(text='a blue whale'),
        ...              Doc(text='red red wine')])
        >>> index.text_search('red', search_field='text').documents.text
        ['red red wine', 'the red fox']
        """
        column = self._schema.text_column(search_field)
        text = self._query_text(query)
        return self._text(column, text, limit, score_threshold, offset, None)

    def text_search_batched(
        self,
        queries: Sequence[str],
        search_field: str = "",
        limit: int = 10,
        score_threshold: float | None = None,
        offset: int = 0,
    ) -> FindResultBatched:
        """:meth:`text_search` for several queries."""
        if isinstance(queries, str):
            raise TypeError("text_search_batched() takes a list of queries; use text_search()")
        results = [
            self.text_search(q, search_field, limit, score_threshold, offset) for q in queries
        ]
        return FindResultBatched([r.documents for r in results], [r.scores for r in results])

    def _text(
        self,
        column: Column,
        text: str,
        limit: int,
        score_threshold: float | None,
        offset: int,
        node: FilterNode | None,
    ) -> FindResult:
        limit = _count(limit, "limit")
        offset = _count(offset, "offset")
        with self._lock:
            if limit == 0:
                return self._empty_result()
            keys, scores = self._b_text_search(column, text, limit + offset, node)
            keys, scores = self._trim(keys, scores, offset, score_threshold, True)
            docs = self._docs_for_keys(keys) if len(keys) else DocList[self._doc_type]()
            return FindResult(docs, scores)

    # ------------------------------------------------------------------ hybrid

    def build_query(self) -> Any:
        """Start a hybrid query: ``.find(...)``, ``.text_search(...)``, ``.filter(...)``,
        then ``.build(...)`` and :meth:`execute_query` (an instance of ``self.QueryBuilder``;
        see :class:`~docstack.index.QueryBuilder` for how limits combine)."""
        return self.QueryBuilder(self)

    def execute_query(self, query: Query, **kwargs: Any) -> FindResult:
        """Run a query from :meth:`build_query`.

        With one vector or text search, its own scores come back; with several, they are
        fused (reciprocal rank fusion by default). A filter applies before every limit.
        Only a filter: the matching documents in insertion order, with scores of 1.
        """
        if kwargs:
            raise TypeError(f"execute_query() takes no settings; got {sorted(kwargs)}")
        return execute_query(self, query)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
