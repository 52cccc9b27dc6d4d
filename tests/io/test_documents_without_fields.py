"""Documents of a class without fields: every format keeps how many there are.

A ``BaseDocWithoutId`` subclass may declare no fields (a marker type, or a base class).
Writers that assemble rows column by column have no column to count such documents by;
these tests hold each format to keeping their number, or, for CSV, which cannot, to a
clear error.
"""

import pytest

from docstack import BaseDocWithoutId, DocList, DocVec
from docstack.errors import SerializationError


class Empty(BaseDocWithoutId):
    pass


@pytest.fixture(params=["DocList", "DocVec"])
def docs(request):
    items = DocList[Empty]([Empty() for _ in range(3)])
    return items if request.param == "DocList" else DocVec[Empty](items)


def test_json_keeps_the_documents(docs) -> None:
    text = docs.to_json()
    assert text == "[{},{},{}]"
    assert len(type(docs).from_json(text)) == 3


@pytest.mark.parametrize("protocol", ["docstack", "protobuf", "protobuf-array", "pickle-array"])
def test_bytes_keep_the_documents(docs, protocol: str) -> None:
    data = docs.to_bytes(protocol=protocol)
    assert len(type(docs).from_bytes(data, protocol=protocol)) == 3
    assert len(type(docs).from_base64(docs.to_base64())) == 3


def test_arrow_and_parquet_keep_the_documents(docs, tmp_path) -> None:
    table = docs.to_arrow()
    assert table.num_rows == 3 and table.num_columns == 0
    assert len(type(docs).from_arrow(table)) == 3
    # Parquet writes a table of no columns as one of no rows: the metadata keeps the count
    path = tmp_path / "empty.parquet"
    docs.to_parquet(path)
    assert len(type(docs).from_parquet(path)) == 3


def test_dataframe_and_list_keep_the_documents(docs) -> None:
    assert len(type(docs).from_dataframe(docs.to_dataframe())) == 3
    assert len(DocList[Empty].from_list(docs.to_list())) == 3


def test_csv_refuses_them_with_a_clear_error(docs, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    with pytest.raises(SerializationError, match="3 documents of Empty, which has no fields"):
        docs.to_csv(path)
    assert not path.exists() or path.read_text() == ""
    DocList[Empty]([]).to_csv(path)  # no documents: nothing to lose
    assert len(DocList[Empty].from_csv(path)) == 0


def test_doc_vec_to_doc_list_keeps_the_documents() -> None:
    dv = DocVec[Empty]([Empty() for _ in range(3)])
    assert len(dv.to_doc_list()) == 3 and len(list(dv)) == 3
