"""Mutated payloads fed to every ``from_*``: only clean docstack errors come out.

No crash, no hang (each read runs under pytest's timeout), no exception of another kind,
and never a partial object: a read either raises or returns every document, each of the
class asked for.
"""

from __future__ import annotations

import io
from typing import Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from docstack import BaseDoc, DocList, DocVec
from docstack.errors import DocstackError
from docstack.typing import NdArray, TorchTensor


class Inner(BaseDoc):
    label: str = ""
    t: Optional[NdArray] = None


class Fuzzed(BaseDoc):
    text: str
    n: int = 0
    emb: NdArray[4]
    tt: Optional[TorchTensor] = None
    inner: Optional[Inner] = None
    items: DocList[Inner] = DocList[Inner]()
    raw: Optional[bytes] = None


N_DOCS = 3


def _docs() -> DocList[Fuzzed]:
    import torch

    return DocList[Fuzzed](
        [
            Fuzzed(
                text=f"doc {i}",
                n=i,
                emb=np.arange(4, dtype=np.float32) + i,
                tt=torch.ones(i + 1) if i else None,
                inner=Inner(label="in", t=np.zeros((2, 2))) if i % 2 else None,
                items=[Inner(label=str(j)) for j in range(i)],
                raw=b"\x00\xff" * i,
            )
            for i in range(N_DOCS)
        ]
    )


DOCS = _docs()

# (payload, reader) pairs: each reader is one public from_* call
READERS = {
    "docstack": (DOCS.to_bytes(), lambda cls, b: cls.from_bytes(b)),
    "docstack-lz4": (DOCS.to_bytes(compress="lz4"), lambda cls, b: cls.from_bytes(b)),
    "docstack-gzip": (DOCS.to_bytes(compress="gzip"), lambda cls, b: cls.from_bytes(b)),
    "protobuf": (
        DOCS.to_bytes(protocol="protobuf"),
        lambda cls, b: cls.from_bytes(b, protocol="protobuf"),
    ),
    "protobuf-array": (
        DOCS.to_bytes(protocol="protobuf-array"),
        lambda cls, b: cls.from_bytes(b, protocol="protobuf-array"),
    ),
    "protobuf-array-zlib": (
        DOCS.to_bytes(protocol="protobuf-array", compress="zlib"),
        lambda cls, b: cls.from_bytes(b, protocol="protobuf-array", compress="zlib"),
    ),
    "base64": (
        DOCS.to_base64().encode(),
        lambda cls, b: cls.from_base64(b.decode("latin-1")),
    ),
    "json": (DOCS.to_json().encode(), lambda cls, b: cls.from_json(b)),
    "file": (
        DOCS.to_bytes(compress="zstd"),
        lambda cls, b: cls.load_binary(io.BytesIO(b)),
    ),
    "file-streamed": (
        DOCS.to_bytes(),
        lambda cls, b: cls(list(cls.load_binary(io.BytesIO(b), streaming=True))),
    ),
}


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    DOCS.to_parquet(buf)
    return buf.getvalue()


def _csv_text(tmp_dir) -> bytes:
    path = tmp_dir / "docs.csv"
    DOCS.to_csv(path)
    return path.read_bytes()


def _mutate(data: st.DataObject, payload: bytes) -> bytes:
    out = bytearray(payload)
    action = data.draw(st.sampled_from(["flip", "truncate", "insert", "splice"]))
    if action == "truncate":
        return bytes(out[: data.draw(st.integers(0, max(0, len(out) - 1)))])
    if action == "insert":
        at = data.draw(st.integers(0, len(out)))
        return bytes(out[:at] + data.draw(st.binary(min_size=1, max_size=8)) + out[at:])
    if action == "splice":
        a = data.draw(st.integers(0, len(out)))
        b = data.draw(st.integers(a, len(out)))
        return bytes(out[:a] + out[b:])
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(out) - 1))
        out[i] = data.draw(st.integers(0, 255))
    return bytes(out)


def _check(result, cls, counted: bool = True) -> None:
    """A read that did not raise returned whole documents of the class asked for (all of
    them, for formats that record how many they hold)."""
    docs = result.to_doc_list() if isinstance(result, DocVec) else result
    assert type(result) is cls
    if counted:
        assert len(docs) == N_DOCS
    for d in docs:
        assert isinstance(d, Fuzzed)


def _read_cleanly(reader, cls, payload, counted: bool = True) -> None:
    try:
        result = reader(cls, payload)
    except (DocstackError, ValidationError):
        return
    _check(result, cls, counted)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("cls", [DocList[Fuzzed], DocVec[Fuzzed]], ids=["DocList", "DocVec"])
def test_mutated_payloads_give_clean_errors(name, cls):
    payload, reader = READERS[name]

    # JSON and CSV record no count: a splice can leave a shorter, valid payload
    counted = name != "json"

    @FUZZ
    @given(data=st.data())
    def run(data):
        _read_cleanly(reader, cls, _mutate(data, payload), counted)

    run()


@pytest.mark.parametrize("cls", [DocList[Fuzzed], DocVec[Fuzzed]], ids=["DocList", "DocVec"])
def test_mutated_parquet_gives_clean_errors(cls):
    payload = _parquet_bytes()

    @FUZZ
    @given(data=st.data())
    def run(data):
        _read_cleanly(lambda c, b: c.from_parquet(io.BytesIO(b)), cls, _mutate(data, payload))

    run()


def test_mutated_csv_gives_clean_errors(tmp_path):
    payload = _csv_text(tmp_path)
    path = tmp_path / "mutated.csv"

    @FUZZ
    @given(data=st.data())
    def run(data):
        path.write_bytes(_mutate(data, payload))
        _read_cleanly(lambda c, p: c.from_csv(p), DocList[Fuzzed], path, counted=False)

    run()


@pytest.mark.parametrize("protocol", [None, "protobuf"])
def test_mutated_single_documents_give_clean_errors(protocol):
    payload = DOCS[2].to_bytes(protocol=protocol)

    @FUZZ
    @given(data=st.data())
    def run(data):
        try:
            doc = Fuzzed.from_bytes(_mutate(data, payload), protocol=protocol)
        except (DocstackError, ValidationError):
            return
        assert isinstance(doc, Fuzzed)

    run()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=st.binary(max_size=200))
def test_random_bytes_give_clean_errors(payload):
    for protocol in ("docstack", "protobuf", "protobuf-array"):
        try:
            result = DocList[Fuzzed].from_bytes(payload, protocol=protocol)
        except (DocstackError, ValidationError):
            continue
        # a few random bytes can be a valid (empty) message: then it is a whole one
        assert all(isinstance(d, Fuzzed) for d in result)
