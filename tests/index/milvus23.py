"""The full Milvus 2.3.5 server (PyPI ``milvus``, ``default_server``) for the tests, in its own
virtual environment, since it needs ``pymilvus<2.4``.

Set it up once (``make test`` does; the tests skip with this reason where it is missing)::

    python3 -m venv tmp/venv-milvus23
    tmp/venv-milvus23/bin/pip install "milvus==2.3.5" "pymilvus<2.4" "setuptools<81" "marshmallow<4"

The server runs as a subprocess of that environment's Python on a free port, with its data
under a temporary directory, and stops at the end of the session. docstack's own pymilvus
client talks to it over gRPC.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "tmp" / "venv-milvus23"
SETUP = (
    f'python3 -m venv {VENV} && {VENV}/bin/pip install "milvus==2.3.5" "pymilvus<2.4" '
    '"setuptools<81" "marshmallow<4"'
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def milvus23_uri() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a Milvus 2.3.5 server started for this session."""
    exe = VENV / "bin" / "milvus-server"
    if not exe.exists():
        pytest.skip(f"the Milvus 2.3.5 server is not installed; set it up with: {SETUP}")
    data = Path(tempfile.mkdtemp(prefix="docstack-milvus23-"))
    port = _free_port()
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen(
        [str(exe), "--data", str(data / "db"), "--proxy-port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server runs as a child of milvus-server: stop both
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus-server exited with {proc.returncode}: see {log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Milvus 2.3.5 did not start within 90 s") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)
