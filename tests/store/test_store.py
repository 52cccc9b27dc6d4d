"""DocList push/pull and the stores behind them: file://, memory:// and s3:// (a real
S3-compatible server: moto's, started on 127.0.0.1 for the session)."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.documents import TextDoc
from docstack.errors import (
    DeserializationError,
    DocstackError,
    DocTypeError,
    MissingDependencyError,
    SchemaMismatchError,
)
from docstack.store import (
    AbstractDocStore,
    ConcurrentPushException,
    DocListNotFoundError,
    FileDocStore,
    FsspecDocStore,
    S3DocStore,
    UnsupportedProtocolError,
    _payload,
)
from docstack.typing import NdArray


class Shelf(BaseDoc):
    title: str
    pages: int = 0
    embedding: NdArray[8]


class Other(BaseDoc):
    isbn: str


def make_texts(n: int, prefix: str = "text") -> DocList[TextDoc]:
    return DocList[TextDoc](TextDoc(text=f"{prefix} {i}") for i in range(n))


def make_shelves(n: int) -> DocList[Shelf]:
    rng = np.random.default_rng(0)
    return DocList[Shelf](
        Shelf(title=f"book {i}", pages=i, embedding=rng.random(8, dtype=np.float32))
        for i in range(n)
    )


def same_docs(a, b) -> bool:
    a, b = list(a), list(b)
    return len(a) == len(b) and all(x.id == y.id and x.text == y.text for x, y in zip(a, b))


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOCSTACK_CACHE", str(cache))
    return cache


# -- the S3 server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_bucket():
    """A bucket on moto's S3 server, started on a free port of 127.0.0.1; s3fs talks to it
    over HTTP through fsspec's configuration."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    import boto3
    import fsspec

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    bucket = f"docstack-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        try:
            yield bucket
        finally:
            server.stop()


@pytest.fixture(params=["file", "memory", "s3"])
def base_url(request, tmp_path):
    """A namespace URL of each kind of store, empty at the start of the test."""
    if request.param == "file":
        return f"file://{tmp_path}/shelf"
    if request.param == "memory":
        pytest.importorskip("fsspec")
        return f"memory://docstack-tests/{uuid.uuid4().hex}"
    bucket = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/{uuid.uuid4().hex}"


def store_and_namespace(base_url: str):
    protocol, namespace = DocList.resolve_url(base_url)
    return DocList.get_pushpull_backend(protocol), namespace


def leftover_temporaries(base_url: str) -> list[str]:
    """Temporary objects or files a push left beside its target."""
    protocol, namespace = DocList.resolve_url(base_url)
    if protocol == "file":
        folder = Path(namespace)
        return (
            [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] if folder.exists() else []
        )
    import fsspec

    fs, path = fsspec.core.url_to_fs(base_url)
    fs.invalidate_cache()
    try:
        return [e for e in fs.ls(path, detail=False) if e.endswith(".tmp")]
    except FileNotFoundError:
        return []


# -- round trips on every store -------------------------------------------------------------


def test_push_then_pull_gives_the_same_documents(base_url):
    docs = make_texts(300)
    info = docs.push(f"{base_url}/meow")
    assert info["num_docs"] == 300 and info["size"] > 0
    assert info["url"].endswith("meow.docs")
    pulled = DocList[TextDoc].pull(f"{base_url}/meow")
    assert type(pulled) is DocList[TextDoc]
    assert same_docs(docs, pulled)


def test_tensors_and_numbers_survive_over_several_blocks(base_url, monkeypatch):
    monkeypatch.setattr(_payload, "FIRST_BLOCK", 7)
    monkeypatch.setattr(_payload, "MAX_BLOCK", 40)
    docs = make_shelves(150)
    docs.push(f"{base_url}/shelves")
    pulled = DocList[Shelf].pull(f"{base_url}/shelves", local_cache=False)
    assert [d.pages for d in pulled] == list(range(150))
    np.testing.assert_array_equal(
        np.stack([d.embedding for d in pulled]), np.stack([d.embedding for d in docs])
    )
    assert pulled[3].embedding.dtype == np.float32


def test_push_replaces_what_was_there(base_url):
    make_texts(5, "old").push(f"{base_url}/meow")
    make_texts(3, "new").push(f"{base_url}/meow")
    assert DocList[TextDoc].pull(f"{base_url}/meow").text == ["new 0", "new 1", "new 2"]


def test_an_empty_doclist_round_trips(base_url):
    info = DocList[TextDoc]().push(f"{base_url}/empty")
    assert info["num_docs"] == 0
    assert len(DocList[TextDoc].pull(f"{base_url}/empty")) == 0


def test_push_stream_then_pull_stream(base_url):
    docs = make_texts(500)
    info = DocList[TextDoc].push_stream((d for d in docs), f"{base_url}/stream")
    assert info["num_docs"] == 500
    stream = DocList[TextDoc].pull_stream(f"{base_url}/stream")
    assert not isinstance(stream, (list, DocList))
    assert same_docs(docs, (next(stream) for _ in range(500)))
    with pytest.raises(StopIteration):
        next(stream)
    # chained: a pulled stream pushed on under another name
    DocList[TextDoc].push_stream(
        DocList[TextDoc].pull_stream(f"{base_url}/stream"), f"{base_url}/copy"
    )
    assert same_docs(docs, DocList[TextDoc].pull(f"{base_url}/copy"))


def test_list_and_delete(base_url):
    store, namespace = store_and_namespace(base_url)
    if store is FileDocStore:
        Path(namespace).mkdir(parents=True)
    assert store.list(namespace, show_table=False) == []
    DocList[TextDoc].push_stream(make_texts(3), f"{base_url}/meow")
    DocList[TextDoc].push_stream(make_texts(3), f"{base_url}/woof")
    assert store.list(namespace, show_table=False) == ["meow", "woof"]
    assert store.delete(f"{namespace}/meow", missing_ok=False) is True
    assert store.list(namespace) == ["woof"]
    with pytest.raises(DocListNotFoundError) as info:
        store.delete(f"{namespace}/meow", missing_ok=False)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    assert store.delete(f"{namespace}/meow", missing_ok=True) is False


def test_list_prints_a_table_when_asked(base_url, capsys):
    store, namespace = store_and_namespace(base_url)
    make_texts(2).push(f"{base_url}/meow")
    capsys.readouterr()
    assert store.list(namespace, show_table=True) == ["meow"]
    out = capsys.readouterr().out
    assert "meow" in out and "1 DocList in" in out


def test_progress_bars_print_only_when_asked(base_url, capsys):
    docs = make_texts(100)
    docs.push(f"{base_url}/meow", show_progress=True)
    DocList[TextDoc].pull(f"{base_url}/meow", show_progress=True)
    captured = capsys.readouterr()
    assert "pushing" in captured.out and "pulling" in captured.out
    assert captured.err == ""
    docs.push(f"{base_url}/meow")
    list(DocList[TextDoc].pull_stream(f"{base_url}/meow"))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# -- bad input: clear errors, nothing half-written -------------------------------------------


def test_pulling_a_missing_name_raises_at_the_call(base_url):
    with pytest.raises(DocListNotFoundError, match="nope"):
        DocList[TextDoc].pull_stream(f"{base_url}/nope")
    with pytest.raises(FileNotFoundError):
        DocList[TextDoc].pull(f"{base_url}/nope")


def test_pulling_another_schema_raises_at_the_call(base_url):
    make_texts(3).push(f"{base_url}/texts")
    with pytest.raises(SchemaMismatchError, match="isbn|text"):
        DocList[Other].pull_stream(f"{base_url}/texts")
    with pytest.raises(SchemaMismatchError):
        DocList[Shelf].pull(f"{base_url}/texts")


def test_pulling_into_an_untyped_doclist_is_refused(base_url):
    make_texts(2).push(f"{base_url}/texts")
    with pytest.raises(DocTypeError, match=r"DocList\[MyDoc\]"):
        DocList.pull(f"{base_url}/texts")


def _failing_stream(docs, fail_at: int):
    for i, doc in enumerate(docs):
        if i == fail_at:
            raise RuntimeError("the source broke")
        yield doc


def test_a_failed_push_stream_leaves_the_earlier_payload(base_url, monkeypatch):
    monkeypatch.setattr(_payload, "FIRST_BLOCK", 16)
    old = make_texts(4, "old")
    old.push(f"{base_url}/meow")
    with pytest.raises(RuntimeError, match="broke"):
        DocList[TextDoc].push_stream(_failing_stream(make_texts(100), 50), f"{base_url}/meow")
    assert same_docs(old, DocList[TextDoc].pull(f"{base_url}/meow", local_cache=False))
    assert leftover_temporaries(base_url) == []
    # a first push that fails leaves nothing at all
    with pytest.raises(RuntimeError):
        DocList[TextDoc].push_stream(_failing_stream(make_texts(10), 5), f"{base_url}/never")
    with pytest.raises(DocListNotFoundError):
        DocList[TextDoc].pull(f"{base_url}/never")


def test_a_document_of_another_type_fails_the_push(base_url):
    mixed = [TextDoc(text="a"), Other(isbn="1")]
    with pytest.raises(DocTypeError, match="position 1"):
        DocList[TextDoc].push_stream(iter(mixed), f"{base_url}/mixed")
    with pytest.raises(DocTypeError):
        DocList.push_stream(iter(mixed), f"{base_url}/mixed")
    with pytest.raises(DocListNotFoundError):
        DocList[TextDoc].pull(f"{base_url}/mixed")
    assert leftover_temporaries(base_url) == []


def test_dicts_are_validated_into_the_document_type(base_url):
    DocList[TextDoc].push_stream(iter([{"text": "a"}, {"text": "b"}]), f"{base_url}/dicts")
    assert DocList[TextDoc].pull(f"{base_url}/dicts").text == ["a", "b"]


def test_an_untyped_doclist_pushes_its_documents_class(base_url):
    DocList(make_texts(3)).push(f"{base_url}/untyped")
    assert DocList[TextDoc].pull(f"{base_url}/untyped").text == ["text 0", "text 1", "text 2"]


def test_a_corrupt_payload_is_a_deserialization_error(tmp_path):
    (tmp_path / "junk.docs").write_bytes(b"not a payload at all")
    with pytest.raises(DeserializationError):
        DocList[TextDoc].pull_stream(f"file://{tmp_path}/junk")
    make_texts(50).push(f"file://{tmp_path}/cut")
    data = (tmp_path / "cut.docs").read_bytes()
    (tmp_path / "cut.docs").write_bytes(data[: len(data) - 20])
    with pytest.raises(DeserializationError, match="truncated|corrupt"):
        DocList[TextDoc].pull(f"file://{tmp_path}/cut")


@pytest.mark.parametrize(
    "url, match",
    [
        ("nope://shelf/meow", "unknown protocol 'nope'"),
        ("jac://meow", "shut down"),
        ("/just/a/path", "expected a URL"),
        ("file://", "needs a name"),
        ("memory://", "names no DocList"),
    ],
)
def test_urls_that_name_no_store(url, match):
    if url.startswith(("nope", "memory")):
        pytest.importorskip("fsspec")
    with pytest.raises(UnsupportedProtocolError, match=match) as info:
        make_texts(1).push(url)
    assert isinstance(info.value, DocstackError) and isinstance(info.value, ValueError)
    with pytest.raises(UnsupportedProtocolError, match=match):
        DocList[TextDoc].pull(url)


def test_a_protocol_whose_package_is_missing_names_it():
    pytest.importorskip("fsspec")
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed")
    with pytest.raises(MissingDependencyError, match="gcsfs"):
        make_texts(1).push("gcs://bucket/meow")


def test_without_fsspec_the_error_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(MissingDependencyError, match=r"docstack\[store\]"):
        make_texts(1).push("memory://shelf/meow")
    # file:// needs nothing beyond docstack's own dependencies
    make_texts(1).push(f"file://{tmp_path}/meow")


def test_one_name_written_two_ways_is_one_push(monkeypatch):
    pytest.importorskip("fsspec")
    name = uuid.uuid4().hex
    started, release = threading.Event(), threading.Event()
    worker = threading.Thread(
        target=DocList[TextDoc].push_stream,
        args=(_blocking_stream(make_texts(3), started, release), f"memory://{name}/meow"),
    )
    worker.start()
    try:
        assert started.wait(30)
        with pytest.raises(ConcurrentPushException):
            make_texts(1).push(f"memory:///{name}/meow")
    finally:
        release.set()
        worker.join(30)


def test_s3_urls_need_a_bucket_and_a_name(s3_bucket):
    with pytest.raises(UnsupportedProtocolError, match="bucket but no DocList"):
        make_texts(1).push(f"s3://{s3_bucket}")


def test_pushing_to_a_missing_bucket_fails_and_creates_none(s3_bucket):
    import fsspec

    bucket = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    with pytest.raises(FileNotFoundError):
        make_texts(3).push(f"s3://{bucket}/meow")
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    assert not fs.exists(bucket)


def test_other_fsspec_filesystems_get_their_folders_made(tmp_path):
    pytest.importorskip("fsspec")
    url = f"local://{tmp_path}/a/b/meow"
    make_texts(2).push(url)
    assert (tmp_path / "a" / "b" / "meow.docs").is_file()
    assert DocList[TextDoc].pull(url, local_cache=False).text == ["text 0", "text 1"]


def test_s3_delete_defaults_to_missing_ok(s3_bucket):
    assert S3DocStore.delete(f"{s3_bucket}/never-pushed") is False
    with pytest.raises(ValueError):
        S3DocStore.delete(f"{s3_bucket}/never-pushed", missing_ok=False)


# -- concurrent pushes ------------------------------------------------------------------------


def _blocking_stream(docs, started: threading.Event, release: threading.Event):
    for i, doc in enumerate(docs):
        if i == 1:
            started.set()
            assert release.wait(30)
        yield doc


def test_a_second_push_while_one_runs_is_refused(base_url):
    url = f"{base_url}/busy"
    make_texts(2, "first").push(url)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_push():
        try:
            DocList[TextDoc].push_stream(
                _blocking_stream(make_texts(5, "slow"), started, release), url
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=slow_push)
    worker.start()
    try:
        assert started.wait(30)
        with pytest.raises(ConcurrentPushException, match="in progress"):
            make_texts(3, "second").push(url)
        # the running push is untouched, and readers still see the earlier payload
        assert DocList[TextDoc].pull(url, local_cache=False).text == ["first 0", "first 1"]
    finally:
        release.set()
        worker.join(30)
    assert errors == []
    assert DocList[TextDoc].pull(url, local_cache=False).text[0] == "slow 0"
    # once it is done, pushing works again
    make_texts(1, "third").push(url)
    assert DocList[TextDoc].pull(url, local_cache=False).text == ["third 0"]


def test_an_interrupted_push_does_not_block_the_next(tmp_path):
    # what a push killed mid-way leaves behind: its temporary file, unlocked
    (tmp_path / ".meow.docs.tmp").write_bytes(b"half a payload")
    make_texts(2).push(f"file://{tmp_path}/meow")
    assert DocList[TextDoc].pull(f"file://{tmp_path}/meow").text == ["text 0", "text 1"]
    assert not (tmp_path / ".meow.docs.tmp").exists()


def test_concurrent_push_exception_has_docarrays_paths():
    from docstack.store import exceptions, file

    assert file.ConcurrentPushException is exceptions.ConcurrentPushException
    assert issubclass(ConcurrentPushException, DocstackError)


# -- streaming ------------------------------------------------------------------------------


def test_pull_stream_reads_as_it_goes(tmp_path, monkeypatch):
    monkeypatch.setattr(_payload, "FIRST_BLOCK", 16)
    monkeypatch.setattr(_payload, "MAX_BLOCK", 16)
    make_texts(2000).push(f"file://{tmp_path}/long")
    size = (tmp_path / "long.docs").stat().st_size
    opened = []
    real_open = open

    def spying_open(*args, **kwargs):
        f = real_open(*args, **kwargs)
        opened.append(f)
        return f

    monkeypatch.setattr("builtins.open", spying_open)
    stream = DocList[TextDoc].pull_stream(f"file://{tmp_path}/long")
    assert next(stream).text == "text 0"
    assert opened[-1].tell() < size / 10
    assert sum(1 for _ in stream) == 1999
    assert opened[-1].closed


def test_push_stream_consumes_the_source_as_it_goes(tmp_path, monkeypatch):
    from docstack.io import _binary

    monkeypatch.setattr(_payload, "FIRST_BLOCK", 16)
    monkeypatch.setattr(_payload, "MAX_BLOCK", 16)
    yielded = written = 0
    held = []
    encode_block = _binary.encode_block

    def spying_encode_block(doc_cls, docs, compression):
        nonlocal written
        held.append(yielded - written)  # documents taken from the source, not yet written
        written += len(docs)
        return encode_block(doc_cls, docs, compression)

    monkeypatch.setattr(_binary, "encode_block", spying_encode_block)

    def source():
        nonlocal yielded
        for i in range(200):
            yielded += 1
            yield TextDoc(text=f"text {i}")

    DocList[TextDoc].push_stream(source(), f"file://{tmp_path}/long")
    # one block at a time: never more than one block of documents held before it is written
    assert written == 200 and len(held) == 13 and max(held) <= 16


def test_block_sizes_adapt_to_the_documents():
    assert _payload._next_block_size(block_bytes=100, block_docs=100) == _payload.MAX_BLOCK
    big = _payload._next_block_size(block_bytes=64 << 20, block_docs=16)
    assert big == _payload.MIN_BLOCK


# -- the local cache --------------------------------------------------------------------------


@pytest.fixture(params=["memory", "s3"])
def remote_url(request):
    """A namespace URL of each store that is not on this machine's disk (``local_cache``
    applies to them)."""
    if request.param == "memory":
        pytest.importorskip("fsspec")
        return f"memory://docstack-tests/{uuid.uuid4().hex}"
    return f"s3://{request.getfixturevalue('s3_bucket')}/{uuid.uuid4().hex}"


def _cached_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*.docs")) if cache.exists() else []


def test_pull_keeps_a_copy_and_reads_it_while_unchanged(remote_url, cache_in_tmp, monkeypatch):
    url = f"{remote_url}/cached"
    docs = make_texts(40)
    docs.push(url)
    assert same_docs(docs, DocList[TextDoc].pull(url))  # local_cache=True by default
    (copy,) = _cached_files(cache_in_tmp)
    assert copy.parent.is_relative_to(cache_in_tmp / "store")

    # while the stored object is unchanged, the copy is read, not the store
    import fsspec.spec

    def no_remote_reads(*args, **kwargs):
        raise AssertionError("read the store instead of the cached copy")

    with monkeypatch.context() as m:
        m.setattr(fsspec.spec.AbstractFileSystem, "open", no_remote_reads)
        assert same_docs(docs, DocList[TextDoc].pull(url))
        assert same_docs(docs, DocList[TextDoc].pull_stream(url, local_cache=True))

    # a new push is seen, and the copy of the old version goes
    newer = make_texts(40, "newer")
    newer.push(url)
    assert same_docs(newer, DocList[TextDoc].pull(url))
    (copy2,) = _cached_files(cache_in_tmp)
    assert copy2 != copy


def test_pull_stream_caches_only_when_asked_and_only_complete_reads(remote_url, cache_in_tmp):
    url = f"{remote_url}/partial"
    make_texts(300).push(url)
    list(DocList[TextDoc].pull_stream(url))  # local_cache=False by default
    assert _cached_files(cache_in_tmp) == []
    stream = DocList[TextDoc].pull_stream(url, local_cache=True)
    next(stream)
    stream.close()  # stopped early: no copy, and no temporary left behind
    assert _cached_files(cache_in_tmp) == []
    assert not any(p.name.endswith(".tmp") for p in cache_in_tmp.rglob("*"))
    assert sum(1 for _ in DocList[TextDoc].pull_stream(url, local_cache=True)) == 300
    assert len(_cached_files(cache_in_tmp)) == 1


def test_file_names_resolve_like_docarray(cache_in_tmp):
    assert FileDocStore._abs_filepath("meow") == cache_in_tmp / "meow"
    assert FileDocStore._abs_filepath("/meow") == Path("/meow")
    assert FileDocStore._abs_filepath("~/meow") == Path.home() / "meow"
    assert FileDocStore._abs_filepath("./meow") == Path.cwd() / "meow"
    assert FileDocStore._abs_filepath("../meow") == Path.cwd().parent / "meow"


def test_a_relative_file_name_is_in_the_cache_directory(cache_in_tmp):
    make_texts(2).push("file://shelf/meow")
    assert (cache_in_tmp / "shelf" / "meow.docs").is_file()
    assert FileDocStore.list("shelf") == ["meow"]
    assert DocList[TextDoc].pull("file://shelf/meow").text == ["text 0", "text 1"]


def test_a_name_with_a_dot_keeps_it(tmp_path):
    make_texts(1).push(f"file://{tmp_path}/books.v2")
    assert (tmp_path / "books.v2.docs").is_file()
    assert FileDocStore.list(str(tmp_path)) == ["books.v2"]


def test_listing_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        FileDocStore.list(str(tmp_path / "nowhere"), show_table=False)


def test_the_stores_share_one_interface():
    for store in (FileDocStore, FsspecDocStore, S3DocStore):
        assert issubclass(store, AbstractDocStore)
    assert S3DocStore.protocol == "s3"
    memory_store = FsspecDocStore.for_protocol("memory")
    assert memory_store is FsspecDocStore.for_protocol("memory")
    assert memory_store.__name__ == "FsspecDocStore[memory]"
    assert issubclass(DocList.get_pushpull_backend("s3a"), S3DocStore)


def test_cache_path_at_docarrays_path(cache_in_tmp, tmp_path, monkeypatch):
    from docstack.utils._internal.cache import _get_cache_path

    assert _get_cache_path() == cache_in_tmp
    assert cache_in_tmp.is_dir()
    monkeypatch.delenv("DOCSTACK_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _get_cache_path() == tmp_path / "home" / ".cache" / "docstack"
