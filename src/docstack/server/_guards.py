"""What keeps the service safe: a cap on request bodies, the API key of write endpoints, and
the mapping of docstack's errors to 4xx answers that say what was wrong."""

from __future__ import annotations

import hmac
from typing import Any

from docstack.errors import DocstackError, MissingDependencyError

__all__ = ["BodyLimit", "check_key", "error_status", "validation_text"]


class BodyLimit:
    """ASGI middleware answering 413 to a request body larger than ``max_bytes`` (by its
    ``Content-Length`` or, without one, once that much has streamed in).

    Example
    -------
    >>> BodyLimit(app=None, max_bytes=10).max_bytes
    10
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._reply(send, 400, b'{"detail":"Content-Length is not a number"}')
                return
            if declared > self.max_bytes:
                await self._too_large(send)
                return
            await self.app(scope, receive, send)
            return
        # no declared length (a chunked body): read it up to the cap, then hand it on
        chunks = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Any) -> None:
        detail = f'{{"detail":"request body larger than max_body_bytes={self.max_bytes}"}}'
        await self._reply(send, 413, detail.encode())

    @staticmethod
    async def _reply(send: Any, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def check_key(expected: str, authorization: str | None, x_api_key: str | None) -> bool:
    """Whether a request carries the API key, as ``Authorization: Bearer <key>`` or
    ``X-API-Key: <key>`` (compared in constant time).

    Example
    -------
    >>> check_key('s3cret', 'Bearer s3cret', None), check_key('s3cret', None, 'nope')
    (True, False)
    """
    given = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            given = token.strip()
    if given is None and x_api_key:
        given = x_api_key.strip()
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def error_status(exc: BaseException) -> int:
    """The HTTP status for an error raised while answering a request.

    A missing optional dependency is 501; a ``KeyError`` (an unknown id) 404; pydantic's
    ``ValidationError`` and docstack's document type errors 422; other docstack errors and
    ``ValueError`` (a bad filter, an unknown field, a wrong dimension) 400.

    Example
    -------
    >>> error_status(KeyError('x')), error_status(ValueError('bad'))
    (404, 400)
    """
    from pydantic import ValidationError

    from docstack.errors import DocTypeError

    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status < 600:
        return status
    if isinstance(exc, MissingDependencyError):
        return 501
    if isinstance(exc, KeyError):
        return 404
    if isinstance(exc, (ValidationError, DocTypeError)):
        return 422
    if isinstance(exc, (DocstackError, ValueError)):
        return 400
    return 500


def validation_text(exc: Any) -> str:
    """A short text of a pydantic ``ValidationError``: each failing field and why.

    Example
    -------
    >>> from pydantic import BaseModel, ValidationError
    >>> class M(BaseModel):
    ...     n: int
    >>> try:
    ...     M(n='x')
    ... except ValidationError as e:
    ...     print(validation_text(e))
    field 'n': Input should be a valid integer, unable to parse string as an integer
    """
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"field {where!r}: {err.get('msg')}")
    return "; ".join(parts)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations
