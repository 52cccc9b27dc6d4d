"""Tests of the column-wise JSON reader (``docstack.io._json_columns``).

``from_json`` of an array reads eligible payloads with simdjson, column by column, and the
rest with pydantic. These tests hold the two to the same result: for every payload the
reader takes, the documents equal, field by field and in type, dtype and shape, what
pydantic's reading gives; for every payload it must not take, it answers ``None`` and
``from_json`` gives pydantic's result or error.
"""

import json
from collections.abc import Callable
from typing import Optional

import numpy as np
import pytest
import torch
from pydantic import Field, field_validator

from docstack import BaseDoc, DocList, DocVec
from docstack.documents import TextDoc
from docstack.errors import DeserializationError, SchemaMismatchError
from docstack.io import _json, _json_columns
from docstack.typing import AnyTensor, ImageNdArray, NdArray, NdArrayEmbedding, TorchTensor


class Plain(BaseDoc):
    text: str
    embedding: NdArray[4]


class Wide(BaseDoc):
    title: str
    count: int
    score: float
    flag: bool
    note: Optional[str] = None
    maybe: Optional[NdArray] = None
    free: AnyTensor
    image: ImageNdArray
    emb: NdArrayEmbedding


class Torchy(BaseDoc):
    t: TorchTensor[3]


def pydantic_docs(cls: type, text: str) -> list:
    """What pydantic's reading gives (the path the column reader must agree with)."""
    return list(_json._list_adapter(cls).validate_json(text))


def base_class(cls: type) -> type:
    return getattr(cls, "__docstack_base__", cls)


def assert_same_docs(fast: list, slow: list) -> None:
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert type(a) is type(b)
        assert a.model_fields_set == b.model_fields_set
        for name in type(b).model_fields:
            x, y = getattr(a, name), getattr(b, name)
            # a shape-parametrized class (TorchTensor[3]) or its base, as from_bytes gives
            assert base_class(type(x)) is base_class(type(y)), name
            if isinstance(y, np.ndarray):
                assert x.dtype == y.dtype and x.shape == y.shape, name
                assert np.array_equal(x, y), name
            elif isinstance(y, torch.Tensor):
                assert x.dtype == y.dtype and torch.equal(x, y), name
            else:
                assert x == y, name


def read_fast(cls: type, text: str) -> list:
    block = _json_columns.read_block(cls, text)
    assert block is not None, "the column reader refused a payload it should take"
    out = _json_columns.build(DocList[cls], block, None)
    assert out is not None
    return list(out)


# -- payloads the column reader takes ------------------------------------------------------


def test_round_trip_of_float32_embeddings_is_exact_and_column_wise() -> None:
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((50, 4)).astype(np.float32)
    docs = DocList[Plain]([Plain(text=f"t{i}", embedding=v) for i, v in enumerate(vecs)])
    text = docs.to_json()
    assert _json_columns.read_block(Plain, text) is not None
    back = DocList[Plain].from_json(text)
    assert back == docs
    assert np.array_equal(np.stack(back.embedding).astype(np.float32), vecs)
    assert_same_docs(list(back), pydantic_docs(Plain, text))


WIDE_TEXT = """[
 {"id": "a", "title": "caf\\u00e9 \\"q\\"", "count": 3, "score": 1, "flag": true,
  "note": null, "maybe": [1.5, 2], "free": [1, 2, 3], "image": [0.5, 1.5],
  "emb": [2.0, 3.0]},
 {"id": "b", "title": "x", "count": -7, "score": 2.5e-3, "flag": false,
  "note": "n", "maybe": null, "free": [4, 5, 6], "image": [7.25, 1],
  "emb": [1e300, -0.0], "unknown": {"ignored": 1}}
]"""


def test_scalars_optional_and_integer_tensors_match_pydantic() -> None:
    fast = read_fast(Wide, WIDE_TEXT)
    assert_same_docs(fast, pydantic_docs(Wide, WIDE_TEXT))
    assert fast[0].score == 1.0 and type(fast[0].score) is float
    assert fast[0].free.dtype == np.int64  # every element an integer, as np.array gives
    assert fast[0].maybe.dtype == np.float64 and fast[1].maybe is None
    assert fast[0].title == 'café "q"'


@pytest.mark.parametrize(
    "rows",
    [
        "[[1.0, 2.0], [3.0]]",  # ragged
        "[[], [1.5]]",  # an empty row beside a float row
        "[[], []]",
        "[null, [1.0, 2.0, 3.0]]",
        "[null, null]",
        "[[1, 2], [3, 4]]",
    ],
)
def test_tensor_rows_of_every_layout_match_pydantic(rows: str) -> None:
    class Free(BaseDoc):
        v: Optional[NdArray] = None

    values = json.loads(rows)
    text = json.dumps([{"id": str(i), "v": v} for i, v in enumerate(values)])
    assert_same_docs(read_fast(Free, text), pydantic_docs(Free, text))


def test_missing_optional_field_in_every_document_takes_the_default() -> None:
    text = '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    fast = read_fast(Plain, text)
    slow = pydantic_docs(Plain, text)
    # ids are random defaults: equal in everything else
    assert fast[0].id and fast[0].id != slow[0].id
    assert fast[0].model_fields_set == slow[0].model_fields_set == {"text", "embedding"}
    assert fast[0].text == "a" and np.array_equal(fast[0].embedding, slow[0].embedding)


def test_empty_array() -> None:
    assert read_fast(Plain, "[]") == []
    assert len(DocVec[Plain].from_json("[]")) == 0


def test_torch_field_and_docvec_tensor_type_match_pydantic() -> None:
    text = '[{"id": "1", "t": [1.5, 2.0, 3.0]}, {"id": "2", "t": [0.0, 1.0, 2.0]}]'
    assert_same_docs(read_fast(Torchy, text), pydantic_docs(Torchy, text))
    dv = DocVec[Wide].from_json(WIDE_TEXT, tensor_type=TorchTensor)
    assert _json_columns.read_block(Wide, WIDE_TEXT) is not None
    slow = DocVec[Wide](DocList[Wide](pydantic_docs(Wide, WIDE_TEXT)), tensor_type=TorchTensor)
    assert isinstance(dv.free, torch.Tensor) and dv.free.dtype == slow.free.dtype
    assert dv.to_doc_list() == slow.to_doc_list()


def test_bytes_input_and_docvec_round_trip() -> None:
    docs = DocList[Plain]([Plain(text=str(i), embedding=np.full(4, i / 3)) for i in range(10)])
    data = docs.to_json().encode()
    dv = DocVec[Plain].from_json(bytearray(data))
    assert dv.to_doc_list() == docs
    assert np.array_equal(dv.embedding, np.stack(docs.embedding))


# -- payloads it must leave to pydantic ------------------------------------------------------

REFUSED = {
    "NaN constants": '[{"text": "a", "embedding": [NaN, 1.0, 2.0, 3.0]}]',
    "repeated key": '[{"text": "a", "text": "b", "embedding": [1.0, 2.0, 3.0, 4.0]}]',
    "repeated key, fewer fields": '[{"text": "a", "text": "b"}]',
    "integer then float": '[{"text": "a", "embedding": [1, 2.5, 3.0, 4.0]}]',
    "nested rows": '[{"text": "a", "embedding": [[1.0, 2.0], [3.0, 4.0]]}]',
    "element nested later": '[{"text": "a", "embedding": [1.0, [2.0], 3.0]}]',
    "boolean element": '[{"text": "a", "embedding": [true, 1.0, 2.0, 3.0]}]',
    "float then boolean": '[{"text": "a", "embedding": [1.0, true, 2.0, 3.0]}]',
    "int for str": '[{"text": 5, "embedding": [1.0, 2.0, 3.0, 4.0]}]',
    "null for str": '[{"text": null, "embedding": [1.0, 2.0, 3.0, 4.0]}]',
    "string tensor": '[{"text": "a", "embedding": "1,2,3,4"}]',
    "field in some documents only": (
        '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]},'
        ' {"id": "x", "text": "b", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    ),
    "required field missing": '[{"embedding": [1.0, 2.0, 3.0, 4.0]}]',
    "int rows and float rows": (
        '[{"text": "a", "embedding": [1, 2, 3, 4]}, {"text": "b", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    ),
    "not an array": '{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]}',
    "not objects": "[1, 2]",
    "not JSON": "[{",
    "lone surrogate": '[{"text": "\\ud800", "embedding": [1.0, 2.0, 3.0, 4.0]}]',
    "huge integer": '[{"text": "a", "embedding": [99999999999999999999, 2, 3, 4]}]',
    "byte order mark": '\ufeff[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]}]',
    # deeper than pydantic's parser goes (simdjson goes further)
    "deep object under an unknown key": (
        '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0], "x": '
        + '{"a": ' * 250
        + "1"
        + "}" * 250
        + "}]"
    ),
    "object past the depth this reader checks": (
        '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0], "x": '
        + '{"a": ' * 65
        + "1"
        + "}" * 65
        + "}]"
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_payloads_read_as_pydantic_reads_them(name: str) -> None:
    text = REFUSED[name]
    assert _json_columns.read_block(Plain, text) is None
    try:
        expected = pydantic_docs(Plain, text)
    except Exception:  # noqa: BLE001 - pydantic refuses it: from_json raises a docstack error
        with pytest.raises((DeserializationError, SchemaMismatchError)):
            DocList[Plain].from_json(text)
        return
    got = list(DocList[Plain].from_json(text))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.text == b.text and np.array_equal(a.embedding, b.embedding, equal_nan=True)
        assert a.embedding.dtype == b.embedding.dtype


def test_repeated_key_keeps_the_last_value_as_pydantic_does() -> None:
    got = DocList[Plain].from_json(REFUSED["repeated key"])
    assert got[0].text == "b"


def test_lone_surrogate_in_str_input() -> None:
    text = '[{"text": "\ud800", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    assert _json_columns.read_block(Plain, text) is None


def test_wrong_shape_is_named_by_the_pydantic_reading() -> None:
    text = (
        '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]},'
        ' {"text": "b", "embedding": [1.0, 2.0, 3.0, 4.0]},'
        ' {"text": "c", "embedding": [1.0, 2.0, 3.0]}]'
    )
    block = _json_columns.read_block(Plain, text)
    assert block is not None and _json_columns.build(DocList[Plain], block, None) is None
    with pytest.raises(SchemaMismatchError, match=r"document 2, field 'embedding'"):
        DocList[Plain].from_json(text)


class WithValidator(BaseDoc):
    text: str

    @field_validator("text")
    @classmethod
    def upper(cls, v: str) -> str:
        return v.upper()


class WithAlias(BaseDoc):
    text: str = Field(alias="body")


class Constrained(BaseDoc):
    text: str = Field(max_length=3)


@pytest.mark.parametrize("cls", [WithValidator, WithAlias, TextDoc])
def test_classes_the_reader_does_not_cover_still_read(cls: type) -> None:
    assert _json_columns.read_block(cls, "[]") is None


def test_validator_alias_and_constraint_apply() -> None:
    assert DocList[WithValidator].from_json('[{"text": "a"}]')[0].text == "A"
    assert DocList[WithAlias].from_json('[{"body": "a"}]')[0].text == "a"
    assert DocList[Constrained].from_json('[{"text": "abc"}]')[0].text == "abc"
    with pytest.raises(SchemaMismatchError, match="document 1, field 'text'"):
        DocList[Constrained].from_json('[{"text": "abc"}, {"text": "abcd"}]')


def test_brackets_in_strings_keep_the_column_reader() -> None:
    text = '[{"id": "1", "text": "see [1] and [2]", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    assert_same_docs(read_fast(Plain, text), pydantic_docs(Plain, text))


def test_an_escaped_bracket_cannot_hide_a_nested_row() -> None:
    # one nested [2.0] and one escaped bracket: the counts agree, the escape gives it away
    text = '[{"text": "\\u005b", "embedding": [1.0, [2.0], 3.0, 4.0]}]'
    assert _json_columns.read_block(Plain, text) is None
    with pytest.raises(SchemaMismatchError, match="embedding"):
        DocList[Plain].from_json(text)


def test_arrays_under_unknown_keys_leave_it_to_pydantic() -> None:
    text = '[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0], "extra": [1]}]'
    assert _json_columns.read_block(Plain, text) is None
    assert DocList[Plain].from_json(text)[0].text == "a"


# -- long text, read in pieces ----------------------------------------------------------------


def pieces_text(n: int, text_of: Callable[[int], str] = str) -> str:
    docs = DocList[Plain](
        [Plain(id=str(i), text=text_of(i), embedding=np.arange(4) + i / 7) for i in range(n)]
    )
    return docs.to_json()


def test_text_read_in_pieces_matches_pydantic() -> None:
    text = pieces_text(300, lambda i: f"doc [{i}]")
    cuts = _json_columns._cuts(text, 500)
    assert len(cuts) > 50  # the reading below goes through many pieces
    pieces = list(_json_columns._pieces(text, cuts))
    assert [d for p in pieces for d in json.loads(p)] == json.loads(text)
    block = _json_columns.read_block(Plain, text, piece_chars=500)
    assert block is not None
    fast = list(_json_columns.build(DocList[Plain], block, None))
    assert_same_docs(fast, pydantic_docs(Plain, text))
    # bytes input is cut the same way
    block = _json_columns.read_block(Plain, text.encode(), piece_chars=500)
    assert block is not None
    assert_same_docs(list(_json_columns.build(DocList[Plain], block, None)), fast)
    dv_block = _json_columns.read_block(Plain, text, piece_chars=500)
    dv = _json_columns.build(DocVec[Plain], dv_block, None)
    assert dv.to_doc_list() == DocList[Plain](fast)


def test_a_cut_inside_a_string_reads_the_whole_text_in_one_parse() -> None:
    # every text ends with '},{' so the separator '},{"' also closes each string value
    text = pieces_text(200, lambda i: f"x{i}}},{{")
    cuts = _json_columns._cuts(text, 300)
    pieces = list(_json_columns._pieces(text, cuts))
    with pytest.raises(json.JSONDecodeError):
        for piece in pieces:
            json.loads(piece)  # some cut fell inside a string value
    block = _json_columns.read_block(Plain, text, piece_chars=300)
    assert block is not None
    fast = list(_json_columns.build(DocList[Plain], block, None))
    assert_same_docs(fast, pydantic_docs(Plain, text))
    assert fast[5].text == "x5},{"


def test_a_cut_inside_a_nested_value_leaves_it_to_pydantic() -> None:
    docs = json.loads(pieces_text(100))
    for d in docs:
        d["extra"] = [{"a": 1}, {"b": 2}]  # objects in an array under an unknown key
    text = json.dumps(docs, separators=(",", ":"))
    assert _json_columns.read_block(Plain, text, piece_chars=200) is None
    got = DocList[Plain].from_json(text)
    assert_same_docs(list(got), pydantic_docs(Plain, text))


def test_pieces_that_disagree_leave_it_to_pydantic() -> None:
    # ids in the documents of the first piece only: each piece alone is consistent
    text = pieces_text(100)
    first_cut = _json_columns._cuts(text, 300)[0]
    k = len(json.loads(next(_json_columns._pieces(text, [first_cut]))))
    docs = json.loads(text)
    for d in docs[k:]:
        del d["id"]
    text = json.dumps(docs, separators=(",", ":"))
    assert _json_columns._cuts(text, 300)[0] == first_cut  # the same first piece
    assert _json_columns.read_block(Plain, text, piece_chars=300) is None
    got = DocList[Plain].from_json(text)
    assert got[0].id == "0" and got[99].id != "99"
    expected = pydantic_docs(Plain, text)
    assert [d.model_fields_set for d in got] == [d.model_fields_set for d in expected]
    # integer rows in the first half, float rows in the second
    docs = json.loads(pieces_text(100))
    for d in docs[:50]:
        d["embedding"] = [1, 2, 3, 4]
    text = json.dumps(docs, separators=(",", ":"))
    assert _json_columns.read_block(Plain, text, piece_chars=300) is None
    got = DocList[Plain].from_json(text)
    assert got[0].embedding.dtype == np.int64 and got[99].embedding.dtype == np.float64
    # a nested row far from the first piece
    docs = json.loads(pieces_text(100))
    docs[90]["embedding"] = [1.0, [2.0], 3.0, 4.0]
    text = json.dumps(docs, separators=(",", ":"))
    assert _json_columns.read_block(Plain, text, piece_chars=300) is None
    with pytest.raises(SchemaMismatchError, match="document 90, field 'embedding'"):
        DocList[Plain].from_json(text)


def test_text_that_is_not_json_is_refused_once_cut() -> None:
    text = pieces_text(100)[:-1]  # the closing bracket is gone
    assert _json_columns._cuts(text, 300)
    assert _json_columns.read_block(Plain, text, piece_chars=300) is None
    with pytest.raises(DeserializationError):
        DocList[Plain].from_json(text)


def test_bytes_with_a_byte_order_mark_leave_it_to_pydantic() -> None:
    text = b'\xef\xbb\xbf[{"text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]}]'
    assert _json_columns.read_block(Plain, text) is None
    with pytest.raises(DeserializationError):
        DocList[Plain].from_json(text)


def test_objects_under_unknown_keys_up_to_the_checked_depth_keep_the_column_reader() -> None:
    nested = '{"a": ' * 64 + "1" + "}" * 64
    text = (
        '[{"id": "1", "x": 5, "text": "a", "embedding": [1.0, 2.0, 3.0, 4.0]},'
        f' {{"id": "2", "text": "b", "embedding": [1.0, 2.0, 3.0, 4.0], "x": {nested}}}]'
    )
    assert_same_docs(read_fast(Plain, text), pydantic_docs(Plain, text))
