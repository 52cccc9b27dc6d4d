"""Every format round-trips generated schemas: nested documents, DocList fields, Optional
tensors, every tensor framework, and the scalar kinds (see ``io_strategies``).

Formats that cannot record something say so in their own docs; here each is held to what
it promises: the docstack format, protobuf and the tables give back equal documents with
their ids; JSON and CSV too (tensors by value).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from io_strategies import doc_arrays

from docstack import DocList, DocVec
from docstack.typing.tensor._convert import framework_of, to_numpy

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def assert_same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y, (x, y)
        assert x.id == y.id


def _has_empty_grid(value) -> bool:
    """Whether a value holds a tensor such as shape (0, 3): JSON writes it as ``[]``, which
    cannot say how many columns it had (the one shape JSON loses, documented)."""
    if framework_of(value) is not None:
        shape = to_numpy(value).shape
        return len(shape) > 1 and 0 in shape
    if hasattr(type(value), "model_fields"):
        return any(_has_empty_grid(getattr(value, k)) for k in type(value).model_fields)
    if isinstance(value, (list, tuple)) or hasattr(value, "doc_type"):
        return any(_has_empty_grid(v) for v in value)
    return False


FORMATS = {
    "docstack": (
        lambda docs: docs.to_bytes(),
        lambda cls, data: cls.from_bytes(data),
    ),
    "docstack-zstd": (
        lambda docs: docs.to_bytes(compress="zstd"),
        lambda cls, data: cls.from_bytes(data, compress="zstd"),
    ),
    "protobuf": (
        lambda docs: docs.to_bytes(protocol="protobuf", compress="lz4"),
        lambda cls, data: cls.from_bytes(data, protocol="protobuf", compress="lz4"),
    ),
    "protobuf-array": (
        lambda docs: docs.to_bytes(protocol="protobuf-array"),
        lambda cls, data: cls.from_bytes(data, protocol="protobuf-array"),
    ),
    "base64": (lambda docs: docs.to_base64(), lambda cls, data: cls.from_base64(data)),
    "json": (lambda docs: docs.to_json(), lambda cls, data: cls.from_json(data)),
    "arrow": (lambda docs: docs.to_arrow(), lambda cls, data: cls.from_arrow(data)),
    "list": (lambda docs: docs.to_list(), lambda cls, data: cls.from_list(data)),
    "dataframe": (lambda docs: docs.to_dataframe(), lambda cls, data: cls.from_dataframe(data)),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_generated_doc_lists_round_trip(fmt):
    write, read = FORMATS[fmt]

    @SETTINGS
    @given(case=doc_arrays())
    def check(case):
        cls, docs = case
        if fmt == "json":
            assume(not _has_empty_grid(docs))
        dl = DocList[cls](docs)
        assert_same(dl, read(DocList[cls], write(dl)))

    check()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_generated_doc_vecs_round_trip(fmt):
    write, read = FORMATS[fmt]

    @SETTINGS
    @given(case=doc_arrays())
    def check(case):
        cls, docs = case
        if fmt == "json":
            assume(not _has_empty_grid(docs))
        dv = DocVec[cls](docs)
        back = read(DocVec[cls], write(dv))
        assert type(back) is DocVec[cls]
        assert_same(DocList[cls](docs), back.to_doc_list())

    check()


@SETTINGS
@given(case=doc_arrays(), file_format=st.sampled_from(["parquet", "csv", "binary"]))
def test_generated_doc_lists_round_trip_through_files(tmp_path_factory, case, file_format):
    cls, docs = case
    dl = DocList[cls](docs)
    path = tmp_path_factory.mktemp("files") / f"docs.{file_format}"
    if file_format == "parquet":
        dl.to_parquet(path)
        back = DocList[cls].from_parquet(path)
    elif file_format == "csv":
        dl.to_csv(path)
        back = DocList[cls].from_csv(path)
    else:
        dl.save_binary(path, compress="gzip")
        back = DocList[cls].load_binary(path, compress="gzip")
    assert_same(dl, back)
