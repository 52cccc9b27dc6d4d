"""The FastAPI application of ``docstack serve``: a JSON API over one or more Document
Indexes and the web page that browses and searches them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from docstack.errors import DocstackError, MissingDependencyError
from docstack.index._base import DocumentIndex
from docstack.server._describe import as_index_map
from docstack.server._guards import BodyLimit, error_status, validation_text

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"


def _fastapi() -> Any:
    try:
        import fastapi
    except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
        raise MissingDependencyError(
            "docstack's HTTP service needs FastAPI: pip install 'docstack[server]'"
        ) from exc
    return fastapi


def _check_settings(writable: bool, api_key: Optional[str], limits: Mapping[str, int]) -> None:
    if api_key is not None and (not isinstance(api_key, str) or len(api_key.strip()) < 8):
        raise ValueError("api_key must be a string of at least 8 characters")
    if writable and api_key is None:
        raise ValueError(
            "writable=True needs an api_key: writes are only accepted from clients that "
            "send it (Authorization: Bearer <key> or X-API-Key: <key>)"
        )
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def create_app(
    indexes: DocumentIndex | Mapping[str, DocumentIndex],
    *,
    writable: bool = False,
    api_key: Optional[str] = None,
    max_body_bytes: int = 16 * 2**20,
    max_limit: int = 100,
    max_page_size: int = 100,
    max_offset: int = 100_000,
    media_roots: Sequence[str | Path] = (),
    title: str = "docstack",
) -> Any:
    """A FastAPI application serving ``indexes`` over HTTP, with a web page at ``/``.

    The API lives under ``/api`` (OpenAPI docs at ``/docs``): the indexes and their schema,
    pages of documents, documents by id, searches (text, vector, hybrid, more like this,
    by uploaded image, with portable filters), thumbnails and media of documents' fields.
    Mount it in an application of your own with ``parent.mount('/search', app)``.

    Parameters
    ----------
    indexes:
        One index (served as its ``index_name``, or ``'default'``) or a mapping of names to
        indexes.
    writable:
        Whether to add the write endpoints (index documents, delete by id); they need
        ``api_key``, and every write request must send it as ``Authorization: Bearer <key>``
        or ``X-API-Key: <key>``. Read-only by default.
    api_key:
        The key write requests must carry (at least 8 characters).
    max_body_bytes:
        Larger request bodies are answered 413.
    max_limit, max_page_size, max_offset:
        The largest search ``limit``, page of documents and ``offset`` accepted (more is a
        422 naming the parameter).
    media_roots:
        Folders whose files the media endpoints may serve (documents' local paths and
        ``file://`` URLs); any other local file is refused. None by default.
    title:
        The title of the OpenAPI docs and the page.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    ValueError
        ``writable=True`` without an ``api_key``, or a limit that is not a positive int.

    Example
    -------
    >>> from fastapi.testclient import TestClient
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> index = InMemoryExactNNIndex[TextDoc]()
    >>> index.index([TextDoc(id='1', text='hello world'), TextDoc(id='2', text='bye')])
    >>> client = TestClient(create_app({'notes': index}))
    >>> hits = client.post('/api/indexes/notes/search', json={'text': 'hello'}).json()
    >>> [d['id'] for d in hits['documents']], hits['score_label']
    (['1'], 'higher is better')
    """
    fastapi = _fastapi()
    limits = {
        "max_body_bytes": max_body_bytes,
        "max_limit": max_limit,
        "max_page_size": max_page_size,
        "max_offset": max_offset,
    }
    _check_settings(writable, api_key, limits)
    served = as_index_map(indexes)
    roots = [str(Path(r).resolve()) for r in media_roots]
    app = fastapi.FastAPI(
        title=title,
        description="Browse and search docstack Document Indexes.",
        version="1",
    )
    app.state.indexes = served
    app.state.writable = writable
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    _add_error_handlers(app)
    from docstack.server._routes import add_read_routes, add_write_routes

    add_read_routes(app, served, limits, roots)
    if writable:
        add_write_routes(app, served, str(api_key), limits)
    _add_page(app, title)
    return app


def _add_error_handlers(app: Any) -> None:
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError

    def client_error(request: Any, exc: Exception) -> Any:
        status = error_status(exc)
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        if isinstance(exc, ValidationError):
            message = validation_text(exc)
        if status >= 500 and status != 501:
            raise exc
        return JSONResponse({"detail": str(message), "error": type(exc).__name__}, status)

    for cls in (DocstackError, ValueError, KeyError, ValidationError):
        app.add_exception_handler(cls, client_error)


def _add_page(app: Any, title: str) -> None:
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> Any:
        return FileResponse(STATIC / "index.html", media_type="text/html")


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
