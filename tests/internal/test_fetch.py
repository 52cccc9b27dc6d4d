"""Tests of docstack._internal.fetch against real files and a real local HTTP server."""

from __future__ import annotations

import base64
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from docstack._internal.fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    fetch_bytes,
    is_remote,
    url_extension,
)
from docstack.errors import DocstackError, LoadError

BODY = b"hello from the test server"
BIG = 10_000
SLOW_SECONDS = 5.0


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event  # set on the server class by the fixture

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def _send(self, status, body, length=True, content_type="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path in ("/ok", "/image.png"):
                self._send(200, BODY)
            elif path == "/missing":
                self._send(404, b"nothing here")
            elif path == "/teapot":
                self._send(418, b"short and stout")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/slow":
                # wait longer than the client's timeout (or until the fixture tears down)
                self.server.release.wait(SLOW_SECONDS)
                self._send(200, BODY)
            elif path == "/big-with-length":
                self._send(200, b"x" * BIG)
            elif path == "/big-without-length":
                # HTTP/1.0 without Content-Length: the body ends when the connection closes
                self._send(200, b"x" * BIG, length=False)
            elif path == "/endless":
                # a body that never ends: the client must stop once over its cap
                self.send_response(200)
                self.end_headers()
                chunk = b"y" * 65536
                deadline = time.monotonic() + SLOW_SECONDS
                while time.monotonic() < deadline and not self.server.release.is_set():
                    self.wfile.write(chunk)
            else:
                self._send(500, b"unknown test route")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as some tests want


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Talk to 127.0.0.1 directly even when the environment configures a proxy."""
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("DOCSTACK_URL_TIMEOUT", raising=False)
    monkeypatch.delenv("DOCSTACK_URL_MAX_BYTES", raising=False)


# ------------------------------------------------------------------------------------------
# defaults
# ------------------------------------------------------------------------------------------


def test_defaults():
    assert DEFAULT_TIMEOUT == 10.0
    assert DEFAULT_MAX_BYTES == 512 * 1024 * 1024


def test_load_error_is_an_os_error_and_a_docstack_error(tmp_path):
    with pytest.raises(OSError):
        fetch_bytes(str(tmp_path / "nope"))
    with pytest.raises(DocstackError):
        fetch_bytes(str(tmp_path / "nope"))


# ------------------------------------------------------------------------------------------
# local files
# ------------------------------------------------------------------------------------------


def test_absolute_path(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"\x00\x01binary\xff")
    assert fetch_bytes(str(path)) == b"\x00\x01binary\xff"


def test_relative_path(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"relative")
    monkeypatch.chdir(tmp_path)
    assert fetch_bytes("sub/b.txt") == b"relative"
    assert fetch_bytes("./sub/b.txt") == b"relative"


def test_home_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "c.txt").write_bytes(b"home")
    assert fetch_bytes("~/c.txt") == b"home"


def test_file_url(tmp_path):
    path = tmp_path / "with space.txt"
    path.write_bytes(b"file url")
    uri = path.as_uri()
    assert "%20" in uri
    assert fetch_bytes(uri) == b"file url"
    assert fetch_bytes("file://localhost" + urllib.parse.quote(str(path))) == b"file url"


def test_file_url_with_remote_host_is_refused():
    with pytest.raises(LoadError, match="host"):
        fetch_bytes("file://otherhost/etc/hosts")


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert fetch_bytes(str(path)) == b""


def test_missing_file(tmp_path):
    missing = str(tmp_path / "missing.png")
    with pytest.raises(LoadError, match="not found") as info:
        fetch_bytes(missing)
    assert missing in str(info.value)
    with pytest.raises(LoadError, match="not found"):
        fetch_bytes((tmp_path / "missing.png").as_uri())


def test_directory_is_refused(tmp_path):
    with pytest.raises(LoadError, match="directory"):
        fetch_bytes(str(tmp_path))


def test_local_file_over_the_cap(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"z" * 2000)
    with pytest.raises(LoadError, match="too large.*1000") as info:
        fetch_bytes(str(path), max_bytes=1000)
    assert str(path) in str(info.value)
    assert fetch_bytes(str(path), max_bytes=2000) == b"z" * 2000


def test_max_bytes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    monkeypatch.setenv("DOCSTACK_URL_MAX_BYTES", "5")
    with pytest.raises(LoadError, match="5 bytes"):
        fetch_bytes(str(path))
    # an explicit argument wins over the environment
    assert fetch_bytes(str(path), max_bytes=10) == b"0123456789"


def test_invalid_limits():
    with pytest.raises(ValueError):
        fetch_bytes("data:,x", timeout=0)
    with pytest.raises(ValueError):
        fetch_bytes("data:,x", max_bytes=-1)


def test_invalid_environment_limits(monkeypatch):
    monkeypatch.setenv("DOCSTACK_URL_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="DOCSTACK_URL_TIMEOUT"):
        fetch_bytes("data:,x")
    monkeypatch.delenv("DOCSTACK_URL_TIMEOUT")
    monkeypatch.setenv("DOCSTACK_URL_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="DOCSTACK_URL_MAX_BYTES"):
        fetch_bytes("data:,x")


# ------------------------------------------------------------------------------------------
# data: URLs
# ------------------------------------------------------------------------------------------


def test_data_url_base64():
    payload = bytes(range(256))
    url = "data:application/octet-stream;base64," + base64.b64encode(payload).decode()
    assert fetch_bytes(url) == payload


def test_data_url_base64_with_parameters_and_percent_escapes():
    encoded = urllib.parse.quote(base64.b64encode(b"\xfb\xff padded").decode(), safe="")
    assert "%2B" in encoded or "%2F" in encoded or "%3D" in encoded
    url = "data:text/plain;charset=utf-8;base64," + encoded
    assert fetch_bytes(url) == b"\xfb\xff padded"


def test_data_url_percent_encoded():
    assert fetch_bytes("data:,Hello%2C%20World%21") == b"Hello, World!"
    assert fetch_bytes("data:text/plain,a%00b") == b"a\x00b"


def test_data_url_invalid_base64():
    with pytest.raises(LoadError, match="base64"):
        fetch_bytes("data:;base64,***not base64***")


def test_data_url_without_comma():
    with pytest.raises(LoadError, match="malformed"):
        fetch_bytes("data:text/plain;base64")


def test_data_url_over_the_cap():
    url = "data:;base64," + base64.b64encode(b"a" * 100).decode()
    with pytest.raises(LoadError, match="too large.*50"):
        fetch_bytes(url, max_bytes=50)
    with pytest.raises(LoadError, match="too large.*50"):
        fetch_bytes("data:," + "a" * 100, max_bytes=50)


# ------------------------------------------------------------------------------------------
# unsupported schemes
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/a.png", "s3://bucket/key.png", "gopher://x"])
def test_unsupported_scheme(url):
    with pytest.raises(LoadError, match="unsupported scheme") as info:
        fetch_bytes(url)
    assert url in str(info.value)


# ------------------------------------------------------------------------------------------
# HTTP against a local server
# ------------------------------------------------------------------------------------------


def test_http_200(server):
    assert fetch_bytes(f"{server}/ok") == BODY
    assert fetch_bytes(f"{server}/image.png?size=large#frag") == BODY


def test_http_redirect_is_followed(server):
    assert fetch_bytes(f"{server}/redirect") == BODY


def test_http_404(server):
    url = f"{server}/missing"
    with pytest.raises(LoadError, match="404") as info:
        fetch_bytes(url)
    assert url in str(info.value)
    assert "not found" in str(info.value).lower()


def test_http_other_status(server):
    with pytest.raises(LoadError, match="418"):
        fetch_bytes(f"{server}/teapot")


def test_http_timeout(server):
    url = f"{server}/slow"
    start = time.monotonic()
    with pytest.raises(LoadError, match="timed out") as info:
        fetch_bytes(url, timeout=0.5)
    assert time.monotonic() - start < 3.0
    assert "0.5" in str(info.value)
    assert url in str(info.value)


def test_http_timeout_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("DOCSTACK_URL_TIMEOUT", "0.3")
    start = time.monotonic()
    with pytest.raises(LoadError, match="timed out after 0.3"):
        fetch_bytes(f"{server}/slow")
    assert time.monotonic() - start < 3.0


def test_http_too_large_with_content_length(server):
    with pytest.raises(LoadError, match="too large.*1000") as info:
        fetch_bytes(f"{server}/big-with-length", max_bytes=1000)
    assert "Content-Length" in str(info.value)


def test_http_too_large_without_content_length(server):
    with pytest.raises(LoadError, match="too large.*1000"):
        fetch_bytes(f"{server}/big-without-length", max_bytes=1000)


def test_http_body_exactly_at_the_cap(server):
    assert fetch_bytes(f"{server}/big-with-length", max_bytes=BIG) == b"x" * BIG
    assert fetch_bytes(f"{server}/big-without-length", max_bytes=BIG) == b"x" * BIG


def test_http_endless_body_stops_at_the_cap(server):
    start = time.monotonic()
    with pytest.raises(LoadError, match="too large.*200000"):
        fetch_bytes(f"{server}/endless", max_bytes=200_000)
    assert time.monotonic() - start < 3.0


def test_http_connection_refused():
    # bind a port, then close it so nothing listens there
    probe = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = probe.server_address[1]
    probe.server_close()
    url = f"http://127.0.0.1:{port}/ok"
    with pytest.raises(LoadError) as info:
        fetch_bytes(url, timeout=2)
    assert url in str(info.value)


# ------------------------------------------------------------------------------------------
# url_extension / is_remote
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.ai/images/1024", None),
        ("https://x.org/a.PNG?x=1", "png"),
        ("https://x.org/a.jpeg#section", "jpeg"),
        ("https://x.org/dir.v2/file?name=b.png", None),
        ("https://x.org/archive.tar.gz", "gz"),
        ("https://x.org/", None),
        ("https://x.org", None),
        ("https://x.org/my%20clip.MP4", "mp4"),
        ("file:///tmp/mesh.obj", "obj"),
        ("/tmp/audio.Wav", "wav"),
        ("relative/dir/video.mkv", "mkv"),
        ("~/models/scene.glb", "glb"),
        ("/tmp/.hidden", None),
        ("/tmp/noext", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
    ],
)
def test_url_extension(url, expected):
    assert url_extension(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org/a.png", True),
        ("HTTPS://example.org/a.png", True),
        ("/tmp/a.png", False),
        ("a.png", False),
        ("file:///tmp/a.png", False),
        ("data:,abc", False),
        ("ftp://example.org/a.png", False),
    ],
)
def test_is_remote(url, expected):
    assert is_remote(url) is expected
