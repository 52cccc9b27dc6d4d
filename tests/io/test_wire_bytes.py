"""``to_bytes``/``from_bytes`` across protocols and compressions, base64, and pickle safety."""

from __future__ import annotations

import pickle
from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList, DocVec
from docstack.errors import DeserializationError, DocTypeError, UnsafeProtocolError
from docstack.io import COMPRESSIONS, PROTOCOLS
from docstack.typing import NdArray


class Item(BaseDoc):
    text: str
    vec: NdArray[3]
    note: Optional[str] = None


class Unrelated(BaseDoc):
    x: int = 0


# pickle needs classes it can import by name
Item.__module__ = __name__
Unrelated.__module__ = __name__


def items(n: int = 4) -> DocList[Item]:
    return DocList[Item](
        [
            Item(text=f"t{i}", vec=np.full(3, i, np.float32), note=None if i % 2 else "n")
            for i in range(n)
        ]
    )


def same(a, b) -> bool:
    return len(a) == len(b) and all(x == y and x.id == y.id for x, y in zip(a, b))


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("compress", [None, *COMPRESSIONS])
def test_every_protocol_and_compression_round_trips_a_doc_list(protocol, compress):
    docs = items()
    data = docs.to_bytes(protocol=protocol, compress=compress)
    back = DocList[Item].from_bytes(data, protocol=protocol, compress=compress)
    assert type(back) is DocList[Item] and same(docs, back)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_round_trips_a_doc_vec(protocol):
    dv = items().to_doc_vec()
    back = DocVec[Item].from_bytes(dv.to_bytes(protocol=protocol), protocol=protocol)
    assert type(back) is DocVec[Item]
    assert same(dv.to_doc_list(), back.to_doc_list())


@pytest.mark.parametrize("protocol", ["docstack", "protobuf", "pickle"])
@pytest.mark.parametrize("compress", [None, "gzip", "zstd"])
def test_a_document_round_trips(protocol, compress):
    doc = items()[0]
    back = Item.from_bytes(doc.to_bytes(protocol=protocol, compress=compress), protocol, compress)
    assert back == doc and back.id == doc.id


def test_array_protocols_are_refused_for_one_document():
    with pytest.raises(ValueError, match="unknown protocol 'pickle-array'"):
        items()[0].to_bytes(protocol="pickle-array")


def test_unknown_protocol_and_compression_are_value_errors_listing_the_choices():
    with pytest.raises(ValueError, match="'docstack', 'protobuf'"):
        items().to_bytes(protocol="msgpack")
    with pytest.raises(ValueError, match="'lz4', 'zstd'"):
        items().to_bytes(compress="rar")


def test_docstack_payloads_record_their_compression():
    docs = items()
    data = docs.to_bytes(compress="bz2")
    assert same(docs, DocList[Item].from_bytes(data))  # found in the payload
    with pytest.raises(DeserializationError, match="written with bz2, not gzip"):
        DocList[Item].from_bytes(data, compress="gzip")
    with pytest.raises(DeserializationError, match="written with no compression, not lz4"):
        DocList[Item].from_bytes(items().to_bytes(), compress="lz4")


@pytest.mark.parametrize("protocol", ["protobuf-array", "pickle-array", "protobuf", "pickle"])
def test_a_wrong_compression_is_named(protocol):
    data = items().to_bytes(protocol=protocol, compress="lz4")
    with pytest.raises(DeserializationError, match="not gzip-compressed.*look lz4"):
        DocList[Item].from_bytes(data, protocol=protocol, compress="gzip")


def test_a_payload_of_another_protocol_is_named():
    data = items().to_bytes(protocol="protobuf-array", compress="zstd")
    with pytest.raises(DeserializationError, match="look zstd-compressed"):
        DocList[Item].from_bytes(data)
    with pytest.raises(DeserializationError, match="no DSTK mark"):
        DocList[Item].from_bytes(items().to_bytes(protocol="protobuf-array"))
    with pytest.raises(DeserializationError, match="empty"):
        DocList[Item].from_bytes(b"")


@pytest.mark.parametrize("protocol", ["pickle", "pickle-array"])
@pytest.mark.parametrize("compress", [None, "gzip"])
@pytest.mark.parametrize("asked", [None, "docstack", "protobuf", "protobuf-array"])
def test_pickles_load_only_when_named(protocol, compress, asked):
    data = items().to_bytes(protocol=protocol, compress=compress)
    with pytest.raises(UnsafeProtocolError, match="pass protocol='pickle'"):
        DocList[Item].from_bytes(data, protocol=asked, compress=compress)


def test_a_document_pickle_loads_only_when_named():
    data = items()[0].to_bytes(protocol="pickle")
    with pytest.raises(UnsafeProtocolError):
        Item.from_bytes(data)
    with pytest.raises(UnsafeProtocolError):
        Item.from_bytes(data, protocol="protobuf")


class _Boom:
    def __reduce__(self):
        return (pytest.fail, ("the pickle ran",))


def test_a_malicious_pickle_never_runs_unless_named():
    data = pickle.dumps(_Boom())
    for protocol in (None, "docstack", "protobuf", "protobuf-array"):
        with pytest.raises(DeserializationError):
            DocList[Item].from_bytes(data, protocol=protocol)


def test_a_pickle_of_other_documents_is_a_doc_type_error():
    data = DocList[Unrelated]([Unrelated()]).to_bytes(protocol="pickle-array")
    with pytest.raises(DocTypeError, match="Unrelated at position 0, not a Item"):
        DocList[Item].from_bytes(data, protocol="pickle-array")
    data = Unrelated().to_bytes(protocol="pickle")
    with pytest.raises(DocTypeError, match="Unrelated"):
        Item.from_bytes(data, protocol="pickle")


def test_a_corrupt_pickle_is_a_deserialization_error():
    data = items().to_bytes(protocol="pickle-array")
    with pytest.raises(DeserializationError, match="cannot unpickle"):
        DocList[Item].from_bytes(data[: len(data) // 2], protocol="pickle-array")


@pytest.mark.parametrize("protocol", ["protobuf", "pickle"])
def test_truncated_record_streams_are_refused(protocol):
    data = items().to_bytes(protocol=protocol)
    with pytest.raises(DeserializationError, match="truncated"):
        DocList[Item].from_bytes(data[:-3], protocol=protocol)


def test_base64_defaults_round_trip():
    docs = items()
    assert same(docs, DocList[Item].from_base64(docs.to_base64()))
    dv = docs.to_doc_vec()
    assert same(docs, DocVec[Item].from_base64(dv.to_base64()).to_doc_list())
    assert Item.from_base64(docs[1].to_base64()) == docs[1]
    text = docs.to_base64(protocol="protobuf-array", compress="lzma")
    assert same(docs, DocList[Item].from_base64(text, protocol="protobuf-array", compress="lzma"))


def test_invalid_base64_is_a_deserialization_error():
    with pytest.raises(DeserializationError, match="base64"):
        DocList[Item].from_base64("not base64!!")


def test_from_bytes_refuses_non_bytes():
    with pytest.raises(TypeError, match="expected bytes, got str"):
        DocList[Item].from_bytes("DSTK")


def test_tensor_type_is_refused_by_doc_list():
    from docstack.typing import TorchTensor

    with pytest.raises(TypeError, match="applies to a DocVec"):
        DocList[Item].from_bytes(items().to_bytes(), tensor_type=TorchTensor)


def test_progress_bar_shows_and_result_is_the_same(capsys):
    docs = items(50)
    data = docs.to_bytes(show_progress=True)
    back = DocList[Item].from_bytes(data, show_progress=True)
    assert same(docs, back)
    assert "serializing" in capsys.readouterr().out
