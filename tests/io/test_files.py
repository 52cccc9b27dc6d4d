"""``save_binary``/``load_binary``: suffixes, streaming one block at a time, safety."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest

from docstack import BaseDoc, DocList, DocVec
from docstack.errors import DeserializationError, UnsafeProtocolError
from docstack.io import COMPRESSIONS, _files
from docstack.io._files import protocol_and_compression_from_path
from docstack.typing import NdArray


class Row(BaseDoc):
    text: str
    vec: NdArray[8]


Row.__module__ = __name__  # pickle finds it by name


def rows(n: int) -> DocList[Row]:
    vecs = np.arange(n * 8, dtype=np.float32).reshape(n, 8)
    return DocList[Row]([Row(text=f"r{i}", vec=vecs[i]) for i in range(n)])


def same(a, b) -> bool:
    return len(a) == len(b) and all(x == y and x.id == y.id for x, y in zip(a, b))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("docs", ("docstack", None)),
        ("docs.bin", ("docstack", None)),
        ("docs.docstack", ("docstack", None)),
        ("docs.docstack.zst", ("docstack", "zstd")),
        ("docs.protobuf.gz", ("protobuf", "gzip")),
        ("docs.protobuf-array.xz", ("protobuf-array", "lzma")),
        ("docs.pickle.bz2", ("pickle", "bz2")),
        ("docs.lz4", ("docstack", "lz4")),
        ("docs.v2.PROTOBUF.ZLIB", ("protobuf", "zlib")),
    ],
)
def test_suffixes_name_protocol_and_compression(name, expected):
    assert protocol_and_compression_from_path(name, None, None) == expected


def test_arguments_win_over_suffixes():
    assert protocol_and_compression_from_path("a.protobuf.gz", "pickle", "lz4") == (
        "pickle",
        "lz4",
    )


@pytest.mark.parametrize(
    "protocol", ["docstack", "protobuf", "protobuf-array", "pickle", "pickle-array"]
)
@pytest.mark.parametrize("compress", [None, *COMPRESSIONS])
def test_save_and_load_every_protocol_and_compression(tmp_path, protocol, compress):
    docs = rows(30)
    suffix = (
        ""
        if compress is None
        else "." + {"zstd": "zst", "gzip": "gz", "lzma": "xz"}.get(compress, compress)
    )
    path = tmp_path / f"docs.{protocol}{suffix}"
    docs.save_binary(path)
    assert same(docs, DocList[Row].load_binary(path))
    streamed = DocList[Row].load_binary(path, streaming=True)
    assert not isinstance(streamed, list)
    assert same(docs, list(streamed))
    dv = DocVec[Row].load_binary(path)
    assert type(dv) is DocVec[Row] and same(docs, dv.to_doc_list())


def test_many_blocks_stream_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "BLOCK_SIZE", 7)
    docs = rows(50)
    path = tmp_path / "docs.docstack.lz4"
    docs.save_binary(path)
    assert same(docs, list(DocList[Row].load_binary(path, streaming=True)))
    assert same(docs, DocVec[Row].load_binary(path).to_doc_list())
    docs.to_doc_vec().save_binary(path)
    assert same(docs, DocList[Row].load_binary(path))


def test_streaming_holds_one_block_at_a_time(tmp_path, monkeypatch):
    """A streamed file is read block by block: memory stays near one block, not the file."""
    monkeypatch.setattr(_files, "BLOCK_SIZE", 500)
    n = 20_000  # 20k x 8 float32 = 640 kB of tensors, plus the documents
    path = tmp_path / "big.docstack"
    rows(n).save_binary(path)
    tracemalloc.start()
    try:
        count = 0
        for doc in DocList[Row].load_binary(path, streaming=True):
            count += 1
            assert doc.vec.shape == (8,)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    tracemalloc.start()
    try:
        whole = DocList[Row].load_binary(path)
        _, peak_whole = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(whole) == n
    assert peak < peak_whole / 5, (peak, peak_whole)


def test_file_objects_are_accepted_and_left_open():
    docs = rows(5)
    buf = io.BytesIO()
    docs.save_binary(buf, compress="gzip")
    assert not buf.closed
    buf.seek(0)
    assert same(docs, DocList[Row].load_binary(buf))
    buf.seek(0)
    assert same(docs, DocList[Row].load_binary(buf, compress="gzip"))


def test_a_failed_save_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "docs.docstack"
    rows(3).save_binary(path)
    before = path.read_bytes()

    class Bad(BaseDoc):
        thing: object

    bad = DocList[Bad]([Bad(thing=object())])
    with pytest.raises(Exception, match="thing"):
        bad.save_binary(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["docs.docstack"]


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        DocList[Row].load_binary(tmp_path / "nope.docstack")


def test_truncated_files_are_refused_even_when_streamed(tmp_path):
    path = tmp_path / "docs.docstack"
    rows(40).save_binary(path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 9, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(DeserializationError):
            DocList[Row].load_binary(path)
        with pytest.raises(DeserializationError):
            list(DocList[Row].load_binary(path, streaming=True))


@pytest.mark.parametrize("compress", ["gzip", "lz4", "zstd", "bz2", "lzma", "zlib"])
def test_corrupt_compressed_record_files_are_refused(tmp_path, compress):
    path = tmp_path / "docs.protobuf"
    rows(40).save_binary(path, compress=compress)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DeserializationError):
        DocList[Row].load_binary(path, compress=compress)


def test_a_pickle_file_loads_only_when_named(tmp_path):
    path = tmp_path / "docs.bin"
    rows(3).save_binary(path, protocol="pickle-array")
    with pytest.raises(UnsafeProtocolError):
        DocList[Row].load_binary(path)
    with pytest.raises(UnsafeProtocolError):
        DocList[Row].load_binary(path, protocol="protobuf")
    assert len(DocList[Row].load_binary(path, protocol="pickle-array")) == 3


def test_progress_is_shown_when_asked(tmp_path, capsys):
    path = tmp_path / "docs.docstack"
    rows(20).save_binary(path, show_progress=True)
    assert len(DocList[Row].load_binary(path, show_progress=True)) == 20
    out = capsys.readouterr().out
    assert "saving" in out and "loading" in out
