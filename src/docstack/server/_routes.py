"""The endpoints of the service, added to an application by :func:`create_app`."""

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Optional

from fastapi import Path

from docstack.index._base import DocumentIndex
from docstack.server._describe import describe_index
from docstack.server._guards import check_key, validation_text
from docstack.server._media import field_media, thumbnail_png
from docstack.server._render import docs_payload
from docstack.server._search import SearchError, SearchRequest, run_search, search_model

__all__ = ["add_read_routes", "add_write_routes", "UnknownIndexError"]

JSON = "application/json"
IndexName = Annotated[str, Path(description="the name of an index")]
DocId = Annotated[str, Path(description="a document id")]
FieldName = Annotated[str, Path(description="a field, nested ones as a__b")]
Tensors = Literal["full", "summary"]


class UnknownIndexError(KeyError):
    """An index name the service does not serve (a 404).

    Example
    -------
    >>> UnknownIndexError("unknown index 'x'").args[0]
    "unknown index 'x'"
    """


def _lookup(served: Mapping[str, DocumentIndex], name: str) -> DocumentIndex:
    index = served.get(name)
    if index is None:
        raise UnknownIndexError(f"unknown index {name!r}; indexes: {sorted(served)}")
    return index


def _search_response(name: str, index: DocumentIndex, req: SearchRequest, image: Any = None) -> Any:
    from fastapi import Response

    outcome = run_search(index, req, image)
    extra = {
        "index": name,
        "mode": outcome.mode,
        "score": outcome.score,
        "higher_is_better": outcome.higher_is_better,
        "score_label": outcome.score_label,
        "limit": req.limit,
        "offset": req.offset,
    }
    scores = outcome.scores if outcome.higher_is_better is not None else None
    body = docs_payload(index, outcome.documents, extra, scores, req.tensors)
    return Response(body, media_type=JSON)


def add_read_routes(
    app: Any, served: Mapping[str, DocumentIndex], limits: Mapping[str, int], roots: Sequence[str]
) -> None:
    """Add the read-only endpoints: indexes, documents, searches, thumbnails and media.

    Example
    -------
    >>> from fastapi import FastAPI
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> app = FastAPI()
    >>> add_read_routes(app, {'a': InMemoryExactNNIndex[TextDoc]()},
    ...                 {'max_limit': 10, 'max_page_size': 10, 'max_offset': 100}, [])
    >>> '/api/indexes/{name}/search' in {r.path for r in app.routes}
    True
    """
    from fastapi import File, Form, Query, Response, UploadFile
    from fastapi.responses import FileResponse, RedirectResponse

    max_limit, max_page, max_offset = (
        limits["max_limit"],
        limits["max_page_size"],
        limits["max_offset"],
    )
    request_model = search_model(max_limit, max_offset)

    @app.get("/api/indexes", tags=["indexes"])
    def list_indexes() -> dict[str, Any]:
        """The served indexes: their document counts and schemas."""
        return {"indexes": [describe_index(n, i) for n, i in served.items()]}

    @app.get("/api/indexes/{name}", tags=["indexes"])
    def get_index(name: IndexName) -> dict[str, Any]:
        """One index: its document count, fields, vector fields (dimension, metric,
        encoder), text fields, media fields and filterable fields."""
        return describe_index(name, _lookup(served, name))

    @app.get("/api/indexes/{name}/docs", tags=["documents"])
    def list_docs(
        name: IndexName,
        offset: Annotated[int, Query(ge=0, le=max_offset, description=f"at most {max_offset}")] = 0,
        limit: Annotated[int, Query(ge=0, le=max_page, description=f"at most {max_page}")] = 20,
        tensors: Annotated[Tensors, Query()] = "full",
    ) -> Response:
        """A page of documents in insertion order, with the total count."""
        index = _lookup(served, name)
        docs = index.filter({}, limit=limit, offset=offset)
        extra = {"index": name, "offset": offset, "limit": limit, "total": index.num_docs()}
        return Response(docs_payload(index, docs, extra, None, tensors), media_type=JSON)

    @app.post("/api/indexes/{name}/search", tags=["search"])
    def search(req: request_model, name: IndexName) -> Response:  # type: ignore[valid-type]
        """Search by text (BM25), by vector, by text embedded by a vector field's encoder,
        hybrid (both, fused), more like a stored document (``like_id``), or only filter.
        Scores come with ``higher_is_better``; tensors are left out unless the request
        asks for ``tensors='full'``."""
        return _search_response(name, _lookup(served, name), req)

    @app.post("/api/indexes/{name}/search/image", tags=["search"])
    def search_image(
        name: IndexName,
        file: Annotated[UploadFile, File(description="an image file (PNG, JPEG, ...)")],
        vector_field: Annotated[Optional[str], Form()] = None,
        filter: Annotated[Optional[str], Form(description="a portable filter, as JSON")] = None,
        limit: Annotated[int, Form(ge=0, le=max_limit)] = 10,
        tensors: Annotated[Tensors, Form()] = "summary",
    ) -> Response:
        """Search by an uploaded image, embedded by the vector field's image encoder."""
        from docstack._internal.media import decode_image

        index = _lookup(served, name)
        try:
            parsed = json.loads(filter) if filter else None
        except json.JSONDecodeError as exc:
            raise SearchError(f"filter is not JSON: {exc}") from exc
        if parsed is not None and not isinstance(parsed, dict):
            raise SearchError("filter must be a JSON object")
        req = request_model(vector_field=vector_field, filter=parsed, limit=limit, tensors=tensors)
        pixels = decode_image(file.file.read())
        return _search_response(name, index, req, image=pixels)

    @app.get("/api/indexes/{name}/docs/{doc_id:path}/thumbnail/{field}", tags=["media"])
    def thumbnail(
        name: IndexName,
        doc_id: DocId,
        field: FieldName,
        size: Annotated[int, Query(ge=8, le=1024)] = 160,
    ) -> Response:
        """A PNG thumbnail of an image field of a document."""
        index = _lookup(served, name)
        png = thumbnail_png(index, doc_id, field, size, roots)
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

    @app.get("/api/indexes/{name}/docs/{doc_id:path}/media/{field}", tags=["media"])
    def media(name: IndexName, doc_id: DocId, field: FieldName) -> Any:
        """The image, sound or video of a field, for a player (local files only from the
        service's media roots; remote URLs are a redirect)."""
        index = _lookup(served, name)
        found = field_media(index, doc_id, field, roots)
        if found.redirect is not None:
            return RedirectResponse(found.redirect, status_code=307)
        if found.path is not None:
            return FileResponse(found.path, media_type=found.media_type)
        return Response(found.data, media_type=found.media_type)

    @app.get("/api/indexes/{name}/docs/{doc_id:path}", tags=["documents"])
    def get_doc(name: IndexName, doc_id: DocId) -> Response:
        """One document by id (docstack's JSON of it); an unknown id is a 404. An id may hold
        ``/`` (sent as ``%2F`` or as is); this route comes after the media routes, so an id
        ending in ``/thumbnail/<field>`` or ``/media/<field>`` is reached by those."""
        from docstack.io._json import doc_json_bytes

        index = _lookup(served, name)
        return Response(doc_json_bytes(index[doc_id]), media_type=JSON)


def add_write_routes(
    app: Any, served: Mapping[str, DocumentIndex], api_key: str, limits: Mapping[str, int]
) -> None:
    """Add the write endpoints (index documents, delete by id), each checking the API key.

    Example
    -------
    >>> from fastapi import FastAPI
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> app = FastAPI()
    >>> add_write_routes(app, {'a': InMemoryExactNNIndex[TextDoc]()}, 'k' * 8, {})
    >>> sorted(r.methods.pop() for r in app.routes if r.path.startswith('/api/indexes/{name}/docs'))
    ['DELETE', 'POST']
    """
    from fastapi import Body, Depends, Header, HTTPException

    def require_key(
        authorization: Annotated[Optional[str], Header()] = None,
        x_api_key: Annotated[Optional[str], Header()] = None,
    ) -> None:
        if not check_key(api_key, authorization, x_api_key):
            raise HTTPException(
                401,
                "this endpoint writes: send the API key as 'Authorization: Bearer <key>' or "
                "'X-API-Key: <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    guard = [Depends(require_key)]

    @app.post("/api/indexes/{name}/docs", tags=["write"], dependencies=guard)
    def index_docs(
        name: IndexName, docs: Annotated[list[dict[str, Any]], Body(max_length=100_000)]
    ) -> dict[str, Any]:
        """Index (upsert by id) documents given as docstack's JSON of the index's schema."""
        from pydantic import ValidationError

        index = _lookup(served, name)
        doc_type = index.schema
        parsed = []
        for i, raw in enumerate(docs):
            try:
                parsed.append(doc_type.model_validate(raw))
            except ValidationError as exc:
                raise HTTPException(422, f"document {i}: {validation_text(exc)}") from exc
        index.index(parsed)
        return {"indexed": len(parsed), "ids": [d.id for d in parsed], "total": index.num_docs()}

    @app.delete("/api/indexes/{name}/docs/{doc_id:path}", tags=["write"], dependencies=guard)
    def delete_doc(name: IndexName, doc_id: DocId) -> dict[str, Any]:
        """Delete a document (with its sub-documents) by id; an unknown id is a 404."""
        index = _lookup(served, name)
        del index[doc_id]
        return {"deleted": doc_id, "total": index.num_docs()}
