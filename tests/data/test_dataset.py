"""MultiModalDataset: preprocessing, parametrization, collation into DocVec, pickling."""

from __future__ import annotations

import pickle
from typing import Optional

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, Dataset  # noqa: E402

from docstack import BaseDoc, DocList, DocVec  # noqa: E402
from docstack.data import MultiModalDataset, PreprocessingError  # noqa: E402
from docstack.data.torch_dataset import MultiModalDataset as FromModule  # noqa: E402
from docstack.documents import ImageDoc, TextDoc  # noqa: E402
from docstack.errors import DocTypeError  # noqa: E402
from docstack.typing import NdArray, TorchTensor  # noqa: E402


class Pair(BaseDoc):
    text: TextDoc
    image: ImageDoc
    label: int = 0


class Student(BaseDoc):
    name: str
    thesis: Optional[Pair] = None


def shout(text: str) -> str:  # module level: picklable for DataLoader workers
    return text.upper() + "!"


def embed_by_length(doc: TextDoc) -> None:
    doc.embedding = torch.full((3,), float(len(doc.text)))


def random_image(image: ImageDoc) -> None:
    image.tensor = torch.rand(3, 8, 8)


@pytest.fixture
def pairs() -> DocList[Pair]:
    return DocList[Pair](
        Pair(text=TextDoc(text=f"caption {i}"), image=ImageDoc(url=f"img{i}.png"), label=i)
        for i in range(10)
    )


# ---- the dataset ---------------------------------------------------------------------------


def test_is_a_torch_dataset_with_the_docs_length(pairs):
    ds = MultiModalDataset[Pair](pairs)
    assert isinstance(ds, Dataset)
    assert len(ds) == 10
    assert ds[3].label == 3
    assert MultiModalDataset is FromModule


def test_items_are_copies_and_the_docs_stay_untouched(pairs):
    ds = MultiModalDataset[Pair](pairs, {"text": embed_by_length, "text.text": shout})
    item = ds[0]
    assert item.text.text == "CAPTION 0!"
    assert item.text.embedding is not None
    assert pairs[0].text.text == "caption 0"
    assert pairs[0].text.embedding is None
    assert item is not pairs[0] and item.text is not pairs[0].text


def test_return_value_replaces_the_field_and_none_keeps_in_place_changes(pairs):
    ds = MultiModalDataset[Pair](pairs, {"image": random_image, "label": lambda n: n * 10})
    item = ds[2]
    assert item.label == 20
    assert tuple(item.image.tensor.shape) == (3, 8, 8)  # changed in place, returned None
    assert item.image.url == "img2.png"


def test_steps_run_in_the_mapping_order(pairs):
    # embedding length counts the text as it is when the embedding step runs
    before = MultiModalDataset[Pair](pairs, {"text": embed_by_length, "text.text": shout})
    after = MultiModalDataset[Pair](pairs, {"text.text": shout, "text": embed_by_length})
    assert before[1].text.embedding[0].item() == len("caption 1")
    assert after[1].text.embedding[0].item() == len("CAPTION 1!")


def test_nested_keys_with_dots_or_double_underscores_and_the_root(pairs):
    seen = []
    ds = MultiModalDataset[Pair](
        pairs, {"text__text": shout, "": lambda doc: seen.append(doc.text.text)}
    )
    assert ds[4].text.text == "CAPTION 4!"
    assert seen == ["CAPTION 4!"]


def test_root_function_may_return_a_new_document(pairs):
    ds = MultiModalDataset[Pair](pairs, {"": lambda doc: doc.model_copy(update={"label": -1})})
    assert ds[5].label == -1


def test_preprocessing_is_optional_and_visible(pairs):
    assert MultiModalDataset[Pair](pairs).preprocessing == {}
    ds = MultiModalDataset[Pair](pairs, {"label": abs})
    assert list(ds.preprocessing) == ["label"]
    assert "label" in repr(ds) and "10 docs" in repr(ds)


# ---- errors --------------------------------------------------------------------------------


def test_unknown_field_is_named(pairs):
    with pytest.raises(PreprocessingError, match=r"'captions'.*Pair has no field 'captions'"):
        MultiModalDataset[Pair](pairs, {"captions": shout})
    with pytest.raises(PreprocessingError, match=r"TextDoc has no field 'body'"):
        MultiModalDataset[Pair](pairs, {"text.body": shout})


def test_a_key_cannot_reach_into_a_non_document_field(pairs):
    with pytest.raises(PreprocessingError, match="'label' of Pair is not a nested document"):
        MultiModalDataset[Pair](pairs, {"label.value": shout})


def test_bad_keys_are_value_errors_and_bad_functions_type_errors(pairs):
    with pytest.raises(ValueError, match="empty field name"):
        MultiModalDataset[Pair](pairs, {"text.": shout})
    with pytest.raises(TypeError, match=r"preprocessing\['text'\] must be callable"):
        MultiModalDataset[Pair](pairs, {"text": "upper"})
    with pytest.raises(TypeError, match="field names"):
        MultiModalDataset[Pair](pairs, {1: shout})


def test_unparametrized_dataset_checks_keys_against_a_typed_doclist(pairs):
    with pytest.raises(PreprocessingError, match="no field 'nope'"):
        MultiModalDataset(pairs, {"nope": shout})


def test_untyped_docs_fail_when_used_and_name_the_key():
    ds = MultiModalDataset([TextDoc(text="a")], {"title": shout})
    with pytest.raises(PreprocessingError, match="'title'"):
        ds[0]


def test_a_none_nested_document_is_reported():
    docs = DocList[Student]([Student(name="ada")])
    ds = MultiModalDataset[Student](docs, {"thesis.text.text": shout})
    with pytest.raises(PreprocessingError, match="'thesis' is None"):
        ds[0]


def test_docs_of_another_type_are_refused(pairs):
    with pytest.raises(DocTypeError, match="DocList of Pair, not TextDoc"):
        MultiModalDataset[TextDoc](pairs)
    with pytest.raises(DocTypeError, match="document 1 is a ImageDoc"):
        MultiModalDataset[TextDoc]([TextDoc(text="a"), ImageDoc()])


# ---- parametrization -----------------------------------------------------------------------


def test_parametrized_classes_are_cached_and_named():
    typed = MultiModalDataset[TextDoc]
    assert typed is MultiModalDataset[TextDoc]
    assert typed.doc_type is TextDoc
    assert typed.__name__ == "MultiModalDataset[TextDoc]"
    assert issubclass(typed, MultiModalDataset)
    assert MultiModalDataset.doc_type is None
    assert typed[TextDoc] is typed


def test_parametrizing_with_a_non_document_fails():
    with pytest.raises(DocTypeError, match="document class"):
        MultiModalDataset[int]
    with pytest.raises(ValueError):  # DocArray raised ValueError: still caught
        MultiModalDataset["TextDoc"]
    with pytest.raises(DocTypeError, match="already typed"):
        MultiModalDataset[TextDoc][ImageDoc]


def test_subclasses_can_be_parametrized():
    class Mine(MultiModalDataset):
        pass

    typed = Mine[TextDoc]
    assert issubclass(typed, Mine) and typed.doc_type is TextDoc
    assert typed is not MultiModalDataset[TextDoc]


# ---- collation -----------------------------------------------------------------------------


def test_dataloader_batches_into_docvec(pairs):
    ds = MultiModalDataset[Pair](pairs, {"image": random_image, "text": embed_by_length})
    loader = DataLoader(ds, batch_size=4, collate_fn=MultiModalDataset[Pair].collate_fn)
    batches = list(loader)
    assert [len(b) for b in batches] == [4, 4, 2]
    first = batches[0]
    assert isinstance(first, DocVec) and first.doc_type is Pair
    assert isinstance(first.image.tensor, torch.Tensor)
    assert tuple(first.image.tensor.shape) == (4, 3, 8, 8)
    assert tuple(first.text.embedding.shape) == (4, 3)
    assert first.label == [0, 1, 2, 3]
    assert all(isinstance(doc, Pair) for doc in first)


def test_collate_keeps_declared_numpy_fields_numpy():
    class Vec(BaseDoc):
        values: NdArray[2]

    batch = MultiModalDataset[Vec].collate_fn([Vec(values=np.ones(2)), Vec(values=np.zeros(2))])
    assert batch.tensor_type is TorchTensor  # used for AnyTensor fields only
    assert isinstance(batch.values, np.ndarray)
    np.testing.assert_array_equal(batch.values, [[1, 1], [0, 0]])


def test_collate_of_any_tensor_fields_gives_torch():
    batch = MultiModalDataset[TextDoc].collate_fn(
        [TextDoc(text="a", embedding=np.ones(2)), TextDoc(text="b", embedding=np.zeros(2))]
    )
    assert isinstance(batch.embedding, torch.Tensor)
    assert batch.embedding.tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_unparametrized_collate_takes_the_first_documents_type():
    batch = MultiModalDataset.collate_fn([TextDoc(text="a"), TextDoc(text="b")])
    assert batch.doc_type is TextDoc and batch.text == ["a", "b"]
    with pytest.raises(ValueError, match="empty batch"):
        MultiModalDataset.collate_fn([])


def test_collate_refuses_documents_of_another_type():
    with pytest.raises(DocTypeError):
        MultiModalDataset[TextDoc].collate_fn([TextDoc(text="a"), ImageDoc()])


# ---- pickling (DataLoader workers) ---------------------------------------------------------


def test_parametrized_class_and_dataset_pickle(pairs):
    typed = MultiModalDataset[Pair]
    assert pickle.loads(pickle.dumps(typed)) is typed
    assert pickle.loads(pickle.dumps(MultiModalDataset)) is MultiModalDataset
    ds = typed(pairs, {"text.text": shout})
    restored = pickle.loads(pickle.dumps(ds))
    assert type(restored) is typed
    assert restored[7].text.text == "CAPTION 7!"
    collate = pickle.loads(pickle.dumps(typed.collate_fn))
    assert collate([restored[0]]).doc_type is Pair


def test_dataloader_with_worker_processes(pairs):
    ds = MultiModalDataset[Pair](pairs, {"text.text": shout, "image": random_image})
    # spawn (not fork: other tests may have started JAX's threads in this process) sends
    # the dataset and collate_fn to the worker by pickle
    loader = DataLoader(
        ds,
        batch_size=5,
        collate_fn=ds.collate_fn,
        num_workers=1,
        multiprocessing_context="spawn",
    )
    batches = list(loader)
    assert [len(b) for b in batches] == [5, 5]
    assert batches[1].text.text[0] == "CAPTION 5!"
    assert tuple(batches[0].image.tensor.shape) == (5, 3, 8, 8)
