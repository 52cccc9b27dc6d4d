"""``docstack info``, ``eval``, ``export``, ``serve``, errors and exit statuses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from docstack import __version__

from .conftest import run, write_png

ENC = "hashing:64"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def index(capsys, corpus, tmp_path) -> Path:
    folder = tmp_path / "idx"
    code, _, err = run(capsys, "index", str(corpus), "--into", str(folder), "--encoder", ENC)
    assert code == 0, err
    return folder


def test_info_shows_schema_counts_vectors_encoders_and_size(capsys, index, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "info", str(index), "--json")
    info = json.loads(out)
    assert code == 0
    assert info["files"] == 3 and info["kinds"] == {"text": 3} and info["chunks"] == 3
    assert info["encoders"]["text"] == {"spec": ENC, "name": ENC, "dim": 64}
    assert info["encoders"]["image"] is None
    assert {"field": "chunks.embedding", "dim": 64, "metric": "cosine"} in info["vector_fields"]
    assert info["backend"] == "hnsw" and info["disk_bytes"] > 0
    assert {"path", "kind", "sha256", "chunks", "moments"} <= set(info["schema"])
    code, out, _ = run(capsys, "info", str(index))
    assert code == 0
    assert "files: 3 (text 3)" in out and "chunks.embedding" in out and "hashing:64" in out


def test_export_jsonl_and_parquet_round_trip(capsys, index, tmp_path):
    out_file = tmp_path / "files.jsonl"
    code, out, _ = run(capsys, "export", str(index), "--to", "jsonl", "--out", str(out_file))
    assert code == 0 and "exported 3 files" in out
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert sorted(Path(r["path"]).name for r in rows) == ["fruit.md", "rockets.rst", "sea.txt"]
    assert all(len(r["chunks"]) == 1 and len(r["chunks"][0]["embedding"]) == 64 for r in rows)

    parquet = tmp_path / "files.parquet"
    code, out, _ = run(capsys, "export", str(index), "--to", "parquet", "--out", str(parquet))
    assert code == 0 and "exported 3 files" in out
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    assert table.num_rows == 3
    assert sorted(Path(p).name for p in table.column("path").to_pylist())[0] == "fruit.md"


def test_eval_scores_searches_against_trec_and_json_qrels(capsys, index, corpus, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"id": "q1", "text": "blue sea horizon"})
        + "\n"
        + json.dumps({"id": "q2", "text": "rocket orbit fuel"})
        + "\n"
    )
    trec = tmp_path / "qrels.tsv"
    trec.write_text(f"q1 0 {corpus / 'sea.txt'} 1\nq2 0 rockets.rst 1\n")
    code, out, err = run(
        capsys,
        "eval",
        "--index",
        str(index),
        "--queries",
        str(queries),
        "--qrels",
        str(trec),
        "--metrics",
        "mrr,hits@1",
        "--mode",
        "text",
    )
    assert code == 0, err
    assert "mrr" in out and "1.0000" in out  # both queries find their file first
    as_json = tmp_path / "qrels.json"
    as_json.write_text(json.dumps({"q1": {"fruit.md": 1}}))  # judged wrong on purpose
    code, out, _ = run(
        capsys, "eval", "--index", str(index), "--queries", str(queries), "--qrels",
        str(as_json), "--metrics", "hits@1", "--mode", "vector",
    )  # fmt: skip
    assert code == 0 and "hits@1" in out and "0.0000" in out
    # several modes: one table, with paired tests against the first
    code, out, err = run(
        capsys, "eval", "--index", str(index), "--queries", str(queries), "--qrels",
        str(trec), "--metrics", "mrr,ndcg@10", "--mode", "text,vector,hybrid",
    )  # fmt: skip
    assert code == 0, err
    assert all(m in out for m in ("text", "vector", "hybrid", "t-test p (ndcg@10)", "perm. p"))
    code, _, err = run(
        capsys, "eval", "--index", str(index), "--queries", str(queries), "--qrels",
        str(trec), "--mode", "text,fuzzy",
    )  # fmt: skip
    assert code == 2 and "fuzzy" in err


@pytest.mark.parametrize(
    "argv, status, words",
    [
        ([], 2, "usage"),
        (["search"], 2, "required"),
        (["search", "x", "--index", "IDX", "--mode", "fuzzy"], 2, "invalid choice"),
        (["search", "x", "--index", "IDX", "--limit", "0"], 2, ">= 1"),
        (["search", "x", "--index", "IDX", "--filter", "{kind: text}"], 2, "not valid JSON"),
        (["search", "x", "--index", "IDX", "--filter", "[1]"], 2, "JSON object"),
        (["search", "x", "--index", "IDX", "--filter", '{"width": 3}'], 2, "'width'"),
        (["search", "x", "--index", "MISSING"], 1, "does not exist"),
        (["info", "CORPUS"], 1, "not a docstack index folder"),
        (["index", "NOPE", "--into", "NEW"], 1, "does not exist"),
        (["index", "CORPUS", "--into", "IDX", "--encoder", "hashing:32"], 1, "hashing:64"),
        (["index", "CORPUS", "--into", "NEW", "--encoder", "nonsense"], 1, "not a known encoder"),
        (["index", "CORPUS", "--into", "NEW", "--backend", "qdrant", "--uri", "x"], 1, "--path"),
        (["serve", "IDX", "--writable"], 2, "--api-key"),
        (["serve", "IDX", "--writable", "--api-key", "k" * 16, "--workers", "2"], 2, "--workers"),
        (["serve", "IDX", "--workers", "0"], 2, ">= 1"),
        (["export", "IDX", "--to", "csv", "--out", "x"], 2, "invalid choice"),
        (["eval", "--index", "IDX", "--queries", "MISSING", "--qrels", "x"], 1, "--queries"),
    ],
)
def test_errors_are_one_line_with_a_status(capsys, index, corpus, tmp_path, argv, status, words):
    where = {
        "IDX": str(index),
        "MISSING": str(tmp_path / "missing"),
        "CORPUS": str(corpus),
        "NOPE": str(tmp_path / "nope"),
        "NEW": str(tmp_path / "new"),
    }
    code, out, err = run(capsys, *[where.get(a, a) for a in argv])
    assert code == status
    text = err if argv else out
    assert words in text
    if argv:
        assert err.startswith("docstack: error: ") and err.count("\n") == 1
        assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        run(capsys, "--debug", "search", "x", "--index", str(tmp_path / "missing"))


def test_help_everywhere_and_version(capsys):
    for argv in ([], ["index"], ["search"], ["info"], ["eval"], ["export"], ["serve"]):
        code, out, _ = run(capsys, *argv, "--help")
        assert code == 0 and "usage: docstack" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"docstack {__version__}"


def test_images_without_an_image_model_are_noted_not_embedded(capsys, tmp_path):
    root = tmp_path / "pics"
    root.mkdir()
    write_png(root / "cat.png")
    code, out, err = run(
        capsys, "index", str(root), "--into", str(tmp_path / "i"), "--encoder", ENC
    )
    assert code == 0
    assert err.strip().endswith("images indexed without embeddings: no image model configured "
                                "(--image-encoder)")  # fmt: skip
    info = json.loads(run(capsys, "info", str(tmp_path / "i"), "--json")[1])
    assert all(not v["field"].startswith("image") for v in info["vector_fields"])


def _subprocess(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "docstack", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kwargs,
    )


def test_python_m_docstack_runs_search_and_reports_errors(index):
    done = _subprocess("search", "apples pears", "--index", str(index), "--json")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout.splitlines()[0])
    assert Path(first["path"]).name == "fruit.md"
    done = _subprocess("search", "x", "--index", str(index), "--filter", "{")
    assert done.returncode == 2 and done.stderr.startswith("docstack: error: --filter")
    assert "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_answers_and_stops(index):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "docstack", "serve", str(index), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/indexes/{index.name}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert body["num_docs"] == 3
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/indexes/{index.name}/search",
            data=json.dumps({"text": "rocket orbit", "mode": "text", "limit": 2}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                found = json.loads(response.read())["documents"]
        except urllib.error.HTTPError as exc:
            raise AssertionError(exc.read().decode()) from None
        assert found and "rocket" in json.dumps(found).lower()
        # the service opened the folder read-only: commands that read share it
        done = _subprocess("search", "blue sea", "--index", str(index), "--json")
        assert done.returncode == 0, done.stderr
        assert Path(json.loads(done.stdout.splitlines()[0])["path"]).name == "sea.txt"
        done = _subprocess("info", str(index), "--json")
        assert done.returncode == 0 and json.loads(done.stdout)["files"] == 3, done.stderr
        # writing is refused while it serves, in one line that says why
        done = _subprocess("index", str(ROOT / "README.md"), "--into", str(index))
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert "read_only" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode is not None


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_serve_with_workers_answers_from_several_processes(index):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = ["serve", str(index), "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "docstack", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/indexes/{index.name}/search",
            data=json.dumps({"text": "blue sea", "mode": "text", "limit": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        found = None
        deadline = time.monotonic() + 90
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    found = json.loads(response.read())["documents"]
            except OSError:
                time.sleep(0.3)
        assert found is not None, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert "sea" in json.dumps(found)
        workers = [
            w
            for w in _children(proc.pid)
            if b"spawn_main" in Path(f"/proc/{w}/cmdline").read_bytes()
        ]
        assert len(workers) == 2, workers
        for _ in range(20):  # every worker answers (each holds the folder read-only)
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.loads(response.read())["documents"] == found
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode is not None


def test_workers_need_an_index_several_processes_can_open():
    from docstack.cli._commands import _check_workers
    from docstack.cli._parser import UsageError
    from docstack.cli._settings import IndexSettings

    def settings(backend, **conn):
        return IndexSettings(ENC, ENC, 64, backend=backend, connection=conn)

    _check_workers(settings("hnsw"))
    _check_workers(settings("qdrant", url="http://q:6333"))
    _check_workers(settings("milvus", uri="http://m:19530"))
    for refused in (settings("qdrant", path="/x/qdrant"), settings("milvus", uri="/x/m.db")):
        with pytest.raises(UsageError, match="--workers needs the embedded index"):
            _check_workers(refused)
