"""Tests of ``to_csv``/``from_csv``: the header and cell formats, round trips of ``DocList``
and ``DocVec`` (dtypes, ``None`` against the empty string, nested documents, ``DocList``
fields), CSV files written by hand, and bad input."""

import csv
import io
import json
import math
from typing import Any, Literal, Optional

import numpy as np
import pytest
import torch

from docstack import BaseDoc, DocList, DocVec
from docstack.base_doc import AnyDoc
from docstack.documents import TextDoc
from docstack.errors import DeserializationError, DocTypeError, SchemaMismatchError
from docstack.typing import AnyTensor, ImageBytes, ImageUrl, NdArray, TorchTensor


class Leaf(BaseDoc):
    x: NdArray[2]
    label: str = ""


class Mid(BaseDoc):
    leaf: Optional[Leaf] = None
    name: Optional[str] = None


class Doc(BaseDoc):
    title: str
    note: Optional[str] = None
    kind: Literal["a", "b"] = "a"
    count: int = 0
    maybe: Optional[int] = None
    score: float = 0.0
    flag: bool = False
    emb: NdArray[3]
    torch_t: Optional[TorchTensor] = None
    any_t: Optional[AnyTensor] = None
    mid: Optional[Mid] = None
    chunks: DocList[Leaf] = DocList[Leaf]()
    tags: list[str] = []
    meta: dict[str, Any] = {}
    big: int = 0
    url: Optional[ImageUrl] = None
    blob: Optional[bytes] = None
    image_bytes: Optional[ImageBytes] = None


def make_docs() -> DocList[Doc]:
    return DocList[Doc](
        [
            Doc(
                title='ünïcode, "quoted"\nnew line ✓',
                note="",
                kind="b",
                count=-5,
                maybe=7,
                score=0.1,
                flag=True,
                emb=np.array([1.5, np.inf, -np.inf], dtype=np.float32),
                torch_t=torch.arange(4, dtype=torch.int16).reshape(2, 2),
                any_t=torch.ones(2, dtype=torch.float16),
                mid=Mid(leaf=Leaf(x=[1, 2], label="deep"), name='"q"'),
                chunks=[Leaf(x=np.array([3, 4], np.uint8)), Leaf(x=[5.5, 6.5], label=",")],
                tags=["a", "b"],
                meta={"k": [1, None], "s": "x"},
                big=2**90,
                url="https://example.com/a.png",
                blob=b"\x00\xff\x10",
                image_bytes=b"\x89PNG",
            ),
            Doc(title="", emb=np.zeros(3, np.float32), note=None, mid=Mid(), score=-0.0),
            Doc(title="third", emb=np.ones(3, np.float32), any_t=np.arange(3), mid=None),
        ]
    )


def same_docs(got, want):
    assert len(got) == len(want)
    assert list(got) == list(want)
    assert [d.id for d in got] == [d.id for d in want]


def test_header_and_cells(tmp_path):
    path = tmp_path / "docs.csv"
    docs = make_docs()
    docs.to_csv(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:9] == [
        "id",
        "title",
        "note",
        "kind",
        "count",
        "maybe",
        "score",
        "flag",
        "emb",
    ]
    assert "mid__leaf__x" in header and "mid__name" in header and "chunks" in header
    first = dict(zip(header, rows[1]))
    second = dict(zip(header, rows[2]))
    assert first["id"] == docs[0].id
    assert first["emb"] == '{"dtype":"float32","shape":[3],"data":[1.5, Infinity, -Infinity]}'
    assert json.loads(first["torch_t"]) == {"dtype": "int16", "shape": [2, 2], "data": [0, 1, 2, 3]}
    assert json.loads(first["any_t"])["framework"] == "torch"
    assert first["count"] == "-5" and first["score"] == "0.1" and first["flag"] == "True"
    assert first["big"] == str(2**90)
    assert first["note"] == '""'  # the empty string of an Optional str field
    assert second["note"] == ""  # None
    assert second["title"] == ""  # the empty string of a str field that is not Optional
    assert first["mid__name"] == '"\\"q\\""'
    assert first["blob"] == "AP8Q"
    assert json.loads(first["tags"]) == ["a", "b"]
    assert json.loads(first["chunks"])[0]["x"] == {"dtype": "uint8", "shape": [2], "data": [3, 4]}
    assert rows[3][header.index("mid__id")] == ""  # a None nested document: empty cells


@pytest.mark.parametrize("columnar", [False, True])
def test_round_trip(tmp_path, columnar):
    docs = make_docs()
    data = DocVec[Doc](docs) if columnar else docs
    path = tmp_path / "docs.csv"
    data.to_csv(path)
    back = type(data).from_csv(path)
    assert type(back) is type(data)
    same_docs(back, docs)
    first = back[0]
    assert first.emb.dtype == np.float32 and np.isinf(first.emb[1])
    assert first.note == "" and back[1].note is None and back[1].title == ""
    assert first.mid.name == '"q"' and back[1].mid.leaf is None and back[2].mid is None
    assert first.mid.leaf.id == docs[0].mid.leaf.id
    # a DocVec stacks the chunks' tensors, so uint8 and float64 rows share float64
    assert first.chunks[0].x.dtype == (np.float64 if columnar else np.uint8)
    assert first.big == 2**90 and first.blob == b"\x00\xff\x10"
    assert math.copysign(1.0, back[1].score) == -1.0
    if not columnar:
        assert isinstance(first.torch_t, torch.Tensor) and first.torch_t.dtype == torch.int16
        assert isinstance(first.any_t, torch.Tensor) and first.any_t.dtype == torch.float16
        assert type(back[2].any_t) is np.ndarray


def test_doc_vec_tensor_type_comes_back(tmp_path):
    class V(BaseDoc):
        a: AnyTensor[2]

    vec = DocVec[V]([V(a=[1, 2]), V(a=[3, 4])], tensor_type=TorchTensor)
    path = tmp_path / "v.csv"
    vec.to_csv(path)
    back = DocVec[V].from_csv(path)
    assert back.tensor_type is TorchTensor and back == vec
    assert DocVec[V].from_csv(path, tensor_type=None).tensor_type is TorchTensor
    numpy_vec = DocVec[V]([V(a=[1, 2])])
    numpy_vec.to_csv(path)
    assert DocVec[V].from_csv(path).tensor_type.__name__ == "NdArray"


def test_nan_in_tensors_and_floats(tmp_path):
    class F(BaseDoc):
        v: NdArray[2]
        f: float
        g: Optional[float] = None

    docs = DocList[F]([F(v=[np.nan, 1.0], f=float("nan"), g=float("nan")), F(v=[0, 0], f=1e-300)])
    path = tmp_path / "f.csv"
    docs.to_csv(path)
    back = DocList[F].from_csv(path)
    assert np.isnan(back[0].v[0]) and back[0].v[1] == 1.0
    assert math.isnan(back[0].f) and math.isnan(back[0].g)
    assert back[1].f == 1e-300 and back[1].g is None


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.uint64, np.bool_]
)
def test_tensor_dtypes_and_shapes(tmp_path, dtype):
    class T(BaseDoc):
        t: Optional[NdArray] = None

    values = [
        (np.arange(6) % 2).astype(dtype).reshape(2, 3),
        np.array(1, dtype=dtype),
        np.zeros((0, 2), dtype=dtype),
    ]
    if dtype == np.uint64:
        values.append(np.array([2**64 - 1], dtype=np.uint64))
    docs = DocList[T]([T(t=v) for v in values] + [T()])
    path = tmp_path / "t.csv"
    docs.to_csv(path)
    for cls in (DocList[T], DocVec[T]):
        back = cls.from_csv(path)
        for got, want in zip(back, values):
            assert got.t.dtype == want.dtype and got.t.shape == want.shape
            np.testing.assert_array_equal(got.t, want)
        assert back[len(values)].t is None


def test_empty_arrays(tmp_path):
    path = tmp_path / "empty.csv"
    DocList[Doc]().to_csv(path)
    assert open(path).read().startswith("id,title,note")
    assert len(DocList[Doc].from_csv(path)) == 0
    assert len(DocVec[Doc].from_csv(path)) == 0


def test_file_objects_and_dialects():
    docs = make_docs()
    buffer = io.StringIO()
    docs.to_csv(buffer, dialect="excel-tab")
    assert "\t" in buffer.getvalue().splitlines()[0]
    buffer.seek(0)
    same_docs(DocList[Doc].from_csv(buffer, dialect="excel-tab"), docs)


def test_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes('title,emb\ncafé,"[1,2,3]"\n'.encode("latin-1"))
    assert DocList[Doc].from_csv(path, encoding="latin-1").title == ["café"]


def test_hand_written_csv():
    text = (
        "title,emb,count,flag,score,maybe,mid__name,mid__leaf__x,tags,url\n"
        'a,"[1, 2, 3]",5,true,1.5,,m,"[1,2]","[""x""]",https://example.com/a.png\n'
        'b,"[[4, 5, 6]]",,False,nan,2,,,[],\n'
    )
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 1"):
        DocList[Doc].from_csv(io.StringIO(text))
    text = text.replace("[[4, 5, 6]]", "[4, 5, 6]")
    docs = DocList[Doc].from_csv(io.StringIO(text))
    assert docs.title == ["a", "b"]
    assert docs[0].emb.tolist() == [1, 2, 3] and docs[0].flag is True
    assert docs.get_column("count") == [5, 0]  # an empty cell takes the default
    assert docs.maybe == [None, 2]
    assert math.isnan(docs[1].score)
    assert docs[0].mid.name == "m" and docs[0].mid.leaf.x.tolist() == [1, 2]
    assert docs[1].mid is None
    assert docs.tags == [["x"], []]
    assert docs.url == ["https://example.com/a.png", None]
    assert len({d.id for d in docs}) == 2


def test_ready_documents(tmp_path):
    docs = DocList[TextDoc]([TextDoc(text="hello", embedding=np.ones(2)), TextDoc(text=None)])
    path = tmp_path / "text.csv"
    docs.to_csv(path)
    same_docs(DocList[TextDoc].from_csv(path), docs)


# -- bad input ------------------------------------------------------------------------------


def read(text, cls=DocList[Doc]):
    return cls.from_csv(io.StringIO(text))


def test_unknown_column_names_it():
    with pytest.raises(SchemaMismatchError, match="'colour'"):
        read('title,emb,colour\na,"[1,2,3]",red\n')
    with pytest.raises(SchemaMismatchError, match="'mid__nmae'"):
        read('title,emb,mid__nmae\na,"[1,2,3]",x\n')


def test_missing_required_column_names_it():
    with pytest.raises(SchemaMismatchError, match="'emb'"):
        read("title\na\n")


def test_bad_cells_name_row_and_column():
    with pytest.raises(DeserializationError, match=r"column 'emb', row 1"):
        read('title,emb\na,"[1,2,3]"\nb,"{oops"\n')
    with pytest.raises(SchemaMismatchError, match=r"column 'count', row 0"):
        read('title,emb,count\na,"[1,2,3]",many\n')
    with pytest.raises(SchemaMismatchError, match=r"column 'blob', row 0"):
        read('title,emb,blob\na,"[1,2,3]",###\n')
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 0"):
        read("title,emb\na,\n")
    with pytest.raises(SchemaMismatchError, match=r"column 'kind', row 0"):
        read('title,emb,kind\na,"[1,2,3]",c\n')
    with pytest.raises(SchemaMismatchError, match=r"column 'meta', row 0"):
        read('title,emb,meta\na,"[1,2,3]","[1]"\n')
    with pytest.raises(SchemaMismatchError, match=r"column 'chunks', row 0"):
        read('title,emb,chunks\na,"[1,2,3]","[{""x"": [1]}]"\n')
    with pytest.raises(DeserializationError, match=r"column 'emb', row 0"):
        read('title,emb\na,"[[1, 2], [3]]"\n')


def test_nested_cell_errors_name_the_original_row():
    text = 'title,emb,mid__name,mid__leaf__x\na,"[1,2,3]",,\nb,"[1,2,3]",m,"[1,2,3]"\n'
    with pytest.raises(SchemaMismatchError, match=r"column 'mid__leaf__x', row 1"):
        read(text)
    with pytest.raises(SchemaMismatchError, match=r"column 'mid__leaf__x', row 1"):
        read(text, DocVec[Doc])


def test_rows_of_the_wrong_width_and_empty_files():
    with pytest.raises(DeserializationError, match=r"row 1 \(line 3\) has 3 cells"):
        read('title,emb\na,"[1,2,3]"\nb,"[1,2,3]",extra\n')
    with pytest.raises(DeserializationError, match="empty"):
        read("")


def test_untyped_doc_list_cannot_read_csv_but_can_write_it(tmp_path):
    docs = DocList([AnyDoc(a=1, name="x", v=np.ones(2))])
    path = tmp_path / "any.csv"
    docs.to_csv(path)
    header, row = list(csv.reader(open(path, newline="")))
    assert header == ["id", "a", "name", "v"] and row[1:3] == ["1", "x"]
    with pytest.raises(DocTypeError, match="document type"):
        DocList.from_csv(path)
