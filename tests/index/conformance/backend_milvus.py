"""Milvus backends of the conformance suite: Milvus Lite in process, and as a gRPC server.

``milvus_lite`` opens one Milvus Lite file per test session (a fresh collection per index);
``milvus_server`` starts ``milvus-lite server`` on a free local port on first use and stops
it when the session ends. Both are skipped where pymilvus/milvus-lite are not installed.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_COUNTER = itertools.count()
_STATE: dict[str, Any] = {}


def _available() -> bool:
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError:
        return False
    return True


def _session_dir() -> Path:
    path = _STATE.get("dir")
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="docstack-milvus-"))
        _STATE["dir"] = path
        atexit.register(shutil.rmtree, path, True)
    return path


def _name() -> str:
    return f"conf_{os.getpid()}_{next(_COUNTER)}"


def _milvus_lite(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    if not _available():
        pytest.skip("pymilvus and milvus-lite are not installed (pip install 'docstack[milvus]')")
    from docstack.index import MilvusDocumentIndex

    uri = str(_session_dir() / "lite.db")
    return MilvusDocumentIndex[doc_type](uri=uri, index_name=_name(), **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def milvus_server_uri() -> str:
    """The URI of a ``milvus-lite server`` started for this test session."""
    uri = _STATE.get("server")
    if uri is not None:
        return uri
    port = _free_port()
    data = _session_dir() / "server"
    exe = Path(sys.executable).with_name("milvus-lite")
    cmd = [str(exe) if exe.exists() else "milvus-lite"]
    cmd += ["server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()

    atexit.register(stop)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"milvus-lite server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        stop()
        raise RuntimeError("milvus-lite server did not start within 30 s")
    uri = f"http://127.0.0.1:{port}"
    _STATE["server"] = uri
    return uri


def _milvus_server(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    if not _available():
        pytest.skip("pymilvus and milvus-lite are not installed (pip install 'docstack[milvus]')")
    from docstack.index import MilvusDocumentIndex

    return MilvusDocumentIndex[doc_type](uri=milvus_server_uri(), index_name=_name(), **kwargs)


FACTORIES: dict[str, Callable[..., Any]] = {
    "milvus_lite": _milvus_lite,
    "milvus_server": _milvus_server,
}
