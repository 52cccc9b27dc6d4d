"""Fetch the bytes behind a URL: local paths, ``file://``, ``http(s)://`` and ``data:`` URLs.

Every failure is reported as :class:`~docstack.errors.LoadError` with a message that names the
URL and the cause, so callers never have to know which transport was used.

Limits
------
``DEFAULT_TIMEOUT`` (seconds) and ``DEFAULT_MAX_BYTES`` apply unless a call passes its own
values. The environment variables ``DOCSTACK_URL_TIMEOUT`` and ``DOCSTACK_URL_MAX_BYTES``, when
set, replace the defaults; they are read at call time, so they can be changed while a program
runs.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import socket
import urllib.parse
from typing import BinaryIO

from docstack.errors import LoadError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "fetch_bytes",
    "is_remote",
    "url_extension",
]

DEFAULT_TIMEOUT: float = 10.0
"""Seconds a network operation (connect, each read) may take before the fetch fails."""

DEFAULT_MAX_BYTES: int = 512 * 1024 * 1024
"""Largest body, in bytes, that :func:`fetch_bytes` accepts (512 MiB)."""

TIMEOUT_ENV = "DOCSTACK_URL_TIMEOUT"
MAX_BYTES_ENV = "DOCSTACK_URL_MAX_BYTES"

_REMOTE_SCHEMES = frozenset({"http", "https"})
_CHUNK_SIZE = 64 * 1024
_USER_AGENT = "docstack"


def _resolve_timeout(timeout: float | None) -> float:
    if timeout is None:
        raw = os.environ.get(TIMEOUT_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_TIMEOUT
        try:
            timeout = float(raw)
        except ValueError:
            raise ValueError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _resolve_max_bytes(max_bytes: int | None) -> int:
    if max_bytes is None:
        raw = os.environ.get(MAX_BYTES_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_MAX_BYTES
        try:
            max_bytes = int(raw)
        except ValueError:
            raise ValueError(f"{MAX_BYTES_ENV}={raw!r} is not a whole number of bytes") from None
    if max_bytes < 0:
        raise ValueError(f"max_bytes must not be negative, got {max_bytes!r}")
    return int(max_bytes)


def _scheme(url: str) -> str:
    """The lower-cased scheme of ``url``, or ``''`` for a plain path.

    A one-letter scheme is a Windows drive letter (``C:\\images\\a.png``), i.e. a path.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return "" if len(scheme) == 1 else scheme


def _too_large(url: str, max_bytes: int, detail: str = "") -> LoadError:
    extra = f" ({detail})" if detail else ""
    return LoadError(
        f"cannot load {url!r}: too large, more than the cap of {max_bytes} bytes{extra}"
    )


def _read_capped(stream: BinaryIO, url: str, max_bytes: int) -> bytes:
    """Read ``stream`` in chunks, failing as soon as more than ``max_bytes`` arrived."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK_SIZE, max_bytes - total + 1))
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(url, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _fetch_local(path: str, url: str, max_bytes: int) -> bytes:
    try:
        if os.path.isdir(path):
            raise LoadError(f"cannot load {url!r}: {path!r} is a directory, not a file")
        size = os.path.getsize(path)
        if size > max_bytes:
            raise _too_large(url, max_bytes, f"the file has {size} bytes")
        with open(path, "rb") as f:
            return _read_capped(f, url, max_bytes)
    except FileNotFoundError:
        raise LoadError(f"cannot load {url!r}: not found (no file at {path!r})") from None
    except PermissionError as exc:
        raise LoadError(f"cannot load {url!r}: permission denied ({exc})") from exc
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot load {url!r}: {exc}") from exc


def _file_url_path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise LoadError(
            f"cannot load {url!r}: unsupported file URL host {parts.netloc!r} "
            "(only local files, file:///path or file://localhost/path)"
        )
    # imported on first use, like the rest of urllib.request: it pulls in http.client, ssl
    # and email
    from urllib.request import url2pathname

    return url2pathname(parts.path)


def _fetch_data_url(url: str, max_bytes: int) -> bytes:
    header, sep, payload = url[len("data:") :].partition(",")
    if not sep:
        raise LoadError(f"cannot load {url[:80]!r}: malformed data URL (no ',' before the data)")
    is_base64 = header.lower().split(";")[-1].strip() == "base64"
    raw = urllib.parse.unquote_to_bytes(payload)
    if is_base64:
        # base64 text is 4/3 of the decoded size: refuse obviously oversized payloads early
        if len(raw) * 3 // 4 > max_bytes + 3:
            raise _too_large(url[:80], max_bytes)
        try:
            data = base64.b64decode(b"".join(raw.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise LoadError(f"cannot load {url[:80]!r}: invalid base64 data ({exc})") from exc
    else:
        data = raw
    if len(data) > max_bytes:
        raise _too_large(url[:80], max_bytes)
    return data


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return True
    reason = getattr(exc, "reason", None)
    return isinstance(reason, (TimeoutError, socket.timeout))


def _fetch_http(url: str, timeout: float, max_bytes: int) -> bytes:
    from urllib.error import HTTPError  # imported on first use: see _file_url_path
    from urllib.request import Request, urlopen

    request = Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None:
                try:
                    declared = int(length)
                except ValueError:
                    declared = -1
                if declared > max_bytes:
                    raise _too_large(url, max_bytes, f"Content-Length is {declared}")
            return _read_capped(response, url, max_bytes)
    except HTTPError as exc:
        raise LoadError(
            f"cannot load {url!r}: HTTP status {exc.code} ({exc.reason})"
            + (" - not found" if exc.code == 404 else "")
        ) from None
    except LoadError:
        raise
    except Exception as exc:  # urllib raises URLError, OSError, http.client errors, ...
        if _is_timeout(exc):
            raise LoadError(f"cannot load {url!r}: timed out after {timeout:g} seconds") from exc
        reason = getattr(exc, "reason", exc)
        raise LoadError(f"cannot load {url!r}: {type(exc).__name__}: {reason}") from exc


def fetch_bytes(url: str, timeout: float | None = None, max_bytes: int | None = None) -> bytes:
    """Return the bytes a URL or path points to.

    Parameters
    ----------
    url:
        A local path (absolute, relative to the working directory or starting with ``~``), a
        ``file://`` URL, an ``http://`` / ``https://`` URL or a ``data:`` URL (base64 or
        percent-encoded).
    timeout:
        Seconds each network operation (connecting, each read) may take; ``None`` uses
        ``$DOCSTACK_URL_TIMEOUT`` or :data:`DEFAULT_TIMEOUT`. Ignored for local data.
    max_bytes:
        Largest accepted body; ``None`` uses ``$DOCSTACK_URL_MAX_BYTES`` or
        :data:`DEFAULT_MAX_BYTES`. A download stops as soon as more than this arrived.

    Returns
    -------
    bytes
        The content.

    Raises
    ------
    LoadError
        Not found, an HTTP error status, a timeout, a body over ``max_bytes``, a malformed data
        URL or an unsupported scheme; the message names the URL and the cause.
    ValueError
        ``timeout`` / ``max_bytes`` (or their environment variables) are invalid.

    Example
    -------
    >>> fetch_bytes("data:text/plain;base64,aGVsbG8=")
    b'hello'
    """
    if not isinstance(url, str):
        url = os.fspath(url)
    timeout = _resolve_timeout(timeout)
    max_bytes = _resolve_max_bytes(max_bytes)
    scheme = _scheme(url)
    if scheme == "":
        return _fetch_local(os.path.expanduser(url), url, max_bytes)
    if scheme == "file":
        return _fetch_local(_file_url_path(url), url, max_bytes)
    if scheme == "data":
        return _fetch_data_url(url, max_bytes)
    if scheme in _REMOTE_SCHEMES:
        return _fetch_http(url, timeout, max_bytes)
    raise LoadError(
        f"cannot load {url!r}: unsupported scheme {scheme!r} "
        "(supported: local paths, file://, http://, https://, data:)"
    )


def url_extension(url: str) -> str | None:
    """The lower-cased file extension of a URL's or path's last segment, without the dot.

    For URLs the query string and fragment are ignored; a plain path is taken as it is (a
    ``#`` or ``?`` there is part of the file name). ``data:`` URLs have no extension.

    Parameters
    ----------
    url:
        A URL or a local path.

    Returns
    -------
    str or None
        The extension, e.g. ``'png'``, or ``None`` when the last segment has none.

    Example
    -------
    >>> url_extension("https://x.org/a.PNG?x=1")
    'png'
    >>> url_extension("http://example.ai/images/1024") is None
    True
    """
    scheme = _scheme(url)
    if scheme == "data":
        return None
    if scheme:
        name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    else:
        name = os.path.basename(url)
    ext = os.path.splitext(name)[1]
    return ext[1:].lower() or None


def is_remote(url: str) -> bool:
    """Whether ``url`` is fetched over the network (``http://`` or ``https://``).

    Parameters
    ----------
    url:
        A URL or a local path.

    Returns
    -------
    bool
        ``True`` for http(s) URLs, ``False`` for local paths, ``file://`` and ``data:`` URLs.

    Example
    -------
    >>> is_remote("https://example.org/a.png"), is_remote("/tmp/a.png")
    (True, False)
    """
    return _scheme(url) in _REMOTE_SCHEMES
