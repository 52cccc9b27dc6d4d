"""DocArray's public module paths import from docstack and name docstack's own objects.

Code written for ``docarray`` runs after its imports are renamed; this module keeps every
path DocArray's documentation and examples use from breaking silently. Each entry names a
module and the names it must provide; where the DocArray path is a re-export, the test also
checks it is the very object docstack defines elsewhere (a re-export, not a copy).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

# module path -> names it must provide
PATHS: dict[str, list[str]] = {
    "docstack": ["BaseDoc", "DocList", "DocVec", "AnyDoc"],
    "docstack.base_doc": ["BaseDoc", "AnyDoc", "DocArrayResponse"],
    "docstack.base_doc.doc": ["BaseDoc", "BaseDocWithoutId"],
    "docstack.base_doc.io.json": ["orjson_dumps", "orjson_dumps_and_decode"],
    "docstack.base_doc.docarray_response": ["DocArrayResponse"],
    "docstack.array": ["DocList", "DocVec", "AnyDocArray"],
    "docstack.array.any_array": ["AnyDocArray"],
    "docstack.array.doc_vec.doc_vec": ["DocVec"],
    "docstack.array.doc_vec.column_storage": ["ColumnStorage"],
    "docstack.typing": ["NdArray", "AnyTensor", "ImageUrl", "ID", "AnyEmbedding"],
    "docstack.typing.tensor": ["NdArray", "AnyTensor", "NdArrayEmbedding"],
    "docstack.typing.tensor.abstract_tensor": ["AbstractTensor"],
    "docstack.typing.tensor.tensor": ["AnyTensor"],
    "docstack.typing.tensor.ndarray": ["NdArray"],
    "docstack.typing.tensor.torch_tensor": ["TorchTensor"],
    "docstack.typing.tensor.tensorflow_tensor": ["TensorFlowTensor"],
    "docstack.typing.tensor.jaxarray": ["JaxArray"],
    "docstack.typing.tensor.audio": [
        "AudioNdArray",
        "AudioTorchTensor",
        "AudioTensorFlowTensor",
        "AudioJaxArray",
        "AudioTensor",
    ],
    "docstack.typing.tensor.audio.audio_ndarray": ["AudioNdArray"],
    "docstack.typing.tensor.audio.audio_torch_tensor": ["AudioTorchTensor"],
    "docstack.typing.tensor.audio.audio_tensorflow_tensor": ["AudioTensorFlowTensor"],
    "docstack.typing.tensor.audio.audio_jax_array": ["AudioJaxArray"],
    "docstack.typing.tensor.image": [
        "ImageNdArray",
        "ImageTorchTensor",
        "ImageTensorFlowTensor",
        "ImageJaxArray",
        "ImageTensor",
    ],
    "docstack.typing.tensor.image.image_ndarray": ["ImageNdArray"],
    "docstack.typing.tensor.image.image_torch_tensor": ["ImageTorchTensor"],
    "docstack.typing.tensor.image.image_tensorflow_tensor": ["ImageTensorFlowTensor"],
    "docstack.typing.tensor.video": [
        "VideoNdArray",
        "VideoTorchTensor",
        "VideoTensorFlowTensor",
        "VideoJaxArray",
        "VideoTensor",
    ],
    "docstack.typing.tensor.video.video_ndarray": ["VideoNdArray"],
    "docstack.typing.tensor.video.video_torch_tensor": ["VideoTorchTensor"],
    "docstack.typing.tensor.video.video_tensorflow_tensor": ["VideoTensorFlowTensor"],
    "docstack.typing.tensor.embedding": [
        "AnyEmbedding",
        "NdArrayEmbedding",
        "TorchEmbedding",
        "TensorFlowEmbedding",
        "JaxArrayEmbedding",
    ],
    "docstack.typing.tensor.embedding.embedding": ["AnyEmbedding"],
    "docstack.typing.tensor.embedding.ndarray": ["NdArrayEmbedding"],
    "docstack.typing.tensor.embedding.torch": ["TorchEmbedding"],
    "docstack.typing.tensor.embedding.tensorflow": ["TensorFlowEmbedding"],
    "docstack.typing.url": ["AnyUrl", "ImageUrl", "AudioUrl", "VideoUrl", "TextUrl"],
    "docstack.typing.url.mimetypes": [
        "TEXT_MIMETYPE",
        "AUDIO_MIMETYPE",
        "IMAGE_MIMETYPE",
        "VIDEO_MIMETYPE",
        "OBJ_MIMETYPE",
    ],
    "docstack.typing.url.url_3d": ["Mesh3DUrl", "PointCloud3DUrl"],
    "docstack.typing.url.url_3d.mesh_url": ["Mesh3DUrl"],
    "docstack.typing.url.url_3d.point_cloud_url": ["PointCloud3DUrl"],
    "docstack.typing.bytes": ["ImageBytes", "AudioBytes", "VideoBytes"],
    "docstack.typing.bytes.base_bytes": ["BaseBytes"],
    "docstack.typing.bytes.image_bytes": ["ImageBytes"],
    "docstack.typing.bytes.audio_bytes": ["AudioBytes"],
    "docstack.typing.bytes.video_bytes": ["VideoBytes"],
    "docstack.documents": ["TextDoc", "ImageDoc", "AudioDoc", "VideoDoc"],
    "docstack.exceptions": ["UnusableObjectError"],
    "docstack.exceptions.exceptions": ["UnusableObjectError"],
    "docstack.proto": ["DocProto", "NodeProto", "DocListProto", "DocVecProto"],
    "docstack.utils": ["filter_docs", "find", "find_batched", "map_docs", "reduce"],
    "docstack.utils.find": ["find", "find_batched", "FindResult"],
    "docstack.utils.filter": ["filter_docs"],
    "docstack.utils.map": ["map_docs", "map_docs_batched"],
    "docstack.utils.reduce": ["reduce", "reduce_all"],
    "docstack.index": ["HnswDocumentIndex", "InMemoryExactNNIndex", "BaseDocIndex"],
    "docstack.index.backends.hnswlib": ["HnswDocumentIndex"],
    "docstack.index.backends.in_memory": ["InMemoryExactNNIndex"],
    "docstack.index.abstract": ["BaseDocIndex"],
    "docstack.helper": ["get_paths"],
    "docstack.documents.helper": [
        "create_doc",
        "create_doc_from_typeddict",
        "create_doc_from_dict",
    ],
    "docstack.documents.legacy": ["LegacyDocument"],
    "docstack.utils.create_dynamic_doc_class": [
        "create_base_doc_from_schema",
        "create_pure_python_type_model",
    ],
    "docstack.computation": ["AbstractComputationalBackend"],
    "docstack.computation.numpy_backend": ["NumpyCompBackend"],
    "docstack.computation.torch_backend": ["TorchCompBackend"],
    "docstack.computation.jax_backend": ["JaxCompBackend"],
    "docstack.computation.tensorflow_backend": ["TensorFlowCompBackend"],
    "docstack.data": ["MultiModalDataset"],
    "docstack.data.torch_dataset": ["MultiModalDataset"],
    "docstack.store": ["FileDocStore", "S3DocStore"],
    "docstack.store.file": ["FileDocStore", "ConcurrentPushException"],
    "docstack.store.s3": ["S3DocStore"],
}

# a DocArray path that re-exports an object docstack defines elsewhere -> that object's home
SAME_AS: dict[tuple[str, str], tuple[str, str]] = {
    ("docstack.typing.tensor.abstract_tensor", "AbstractTensor"): (
        "docstack.typing",
        "AbstractTensor",
    ),
    ("docstack.array.doc_vec.doc_vec", "DocVec"): ("docstack", "DocVec"),
    ("docstack.typing.tensor.audio", "AudioTorchTensor"): (
        "docstack.typing",
        "AudioTorchTensor",
    ),
    ("docstack.typing.tensor.embedding.torch", "TorchEmbedding"): (
        "docstack.typing",
        "TorchEmbedding",
    ),
    ("docstack.typing.url.url_3d", "Mesh3DUrl"): ("docstack.typing", "Mesh3DUrl"),
    ("docstack.base_doc.docarray_response", "DocArrayResponse"): (
        "docstack.io",
        "DocstackResponse",
    ),
    ("docstack.proto", "DocProto"): ("docstack.io.proto", "DocProto"),
    ("docstack.proto", "NodeProto"): ("docstack.io.proto", "ValueProto"),
    ("docstack.exceptions", "UnusableObjectError"): ("docstack.errors", "UnusableObjectError"),
    ("docstack.index.abstract", "BaseDocIndex"): ("docstack.index", "DocumentIndex"),
    ("docstack.data.torch_dataset", "MultiModalDataset"): ("docstack.data", "MultiModalDataset"),
    ("docstack.index.backends.hnswlib", "HnswDocumentIndex"): (
        "docstack.index",
        "HnswDocumentIndex",
    ),
}


@pytest.mark.parametrize(
    "module, name", [(m, n) for m, names in PATHS.items() for n in names], ids=lambda x: x
)
def test_docarray_path_imports(module, name):
    value = getattr(importlib.import_module(module), name)
    assert value is not None
    home = SAME_AS.get((module, name))
    if home is not None:
        assert value is getattr(importlib.import_module(home[0]), home[1])


def test_unknown_name_on_a_lazy_path_is_an_attribute_error():
    audio = importlib.import_module("docstack.typing.tensor.audio")
    with pytest.raises(AttributeError, match="AudioPandas"):
        audio.AudioPandas  # noqa: B018


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros(3).view(importlib.import_module("docstack.typing").NdArray),
        lambda: importlib.import_module("docstack.typing").TorchTensor(
            importlib.import_module("torch").zeros(3)
        ),
    ],
    ids=["numpy", "torch"],
)
def test_abstract_tensor_isinstance_covers_every_framework(make):
    from docstack import BaseDoc
    from docstack.typing import AnyTensor
    from docstack.typing.tensor.abstract_tensor import AbstractTensor

    class Doc(BaseDoc):
        tensor: AnyTensor

    assert isinstance(Doc(tensor=make()).tensor, AbstractTensor)


def test_mime_types_match_the_url_types():
    from docstack.typing import AnyUrl, AudioUrl, ImageUrl, Mesh3DUrl, TextUrl, VideoUrl
    from docstack.typing.url import mimetypes

    assert ImageUrl.mime_type() == mimetypes.IMAGE_MIMETYPE
    assert AudioUrl.mime_type() == mimetypes.AUDIO_MIMETYPE
    assert VideoUrl.mime_type() == mimetypes.VIDEO_MIMETYPE
    assert TextUrl.mime_type() == mimetypes.TEXT_MIMETYPE
    assert Mesh3DUrl.mime_type() == mimetypes.OBJ_MIMETYPE
    assert AnyUrl.mime_type() is None
    assert "obj" in mimetypes.MESH_EXTRA_EXTENSIONS
    assert "png" in ImageUrl.extra_extensions()


def test_orjson_dumps_writes_tensors_documents_and_refuses_the_unknown():
    import torch

    from docstack import BaseDoc, DocList
    from docstack.base_doc.io.json import orjson_dumps, orjson_dumps_and_decode

    class Doc(BaseDoc):
        text: str

    payload = {
        "t": torch.tensor([1.5, 2.0]),
        "n": np.int32(3),
        "docs": DocList[Doc]([Doc(text="a", id="1")]),
    }
    assert orjson_dumps(payload) == b'{"t":[1.5,2.0],"n":3,"docs":[{"id":"1","text":"a"}]}'
    assert orjson_dumps_and_decode(Doc(text="b", id="2")) == '{"id":"2","text":"b"}'
    with pytest.raises(TypeError, match="object"):
        orjson_dumps(object())
    assert orjson_dumps(object(), default=lambda o: "fallback") == b'"fallback"'


def test_compat_helpers_report_frameworks():
    from docstack.utils._internal.misc import is_jax_available, is_tf_available, torch_imported
    from docstack.utils._internal.pydantic import is_pydantic_v2

    assert torch_imported and is_tf_available() and is_jax_available() and is_pydantic_v2


def test_orjson_dumps_of_a_document_dict_reads_back_as_the_document():
    from docstack import BaseDoc
    from docstack.base_doc.io.json import orjson_dumps
    from docstack.typing import ImageBytes

    class Doc(BaseDoc):
        raw: bytes
        image: ImageBytes
        values: list[float]

    doc = Doc(raw=b"\x00\xffhello", image=b"png", values=[1.5])
    again = Doc.model_validate_json(orjson_dumps(doc.model_dump()))
    assert again == doc


def test_safe_issubclass_takes_typed_arrays_as_classes_and_aliases_as_not():
    from typing import Dict, List

    from docstack import DocList, DocVec
    from docstack.array import AnyDocArray
    from docstack.documents import TextDoc
    from docstack.utils._internal._typing import safe_issubclass

    assert safe_issubclass(DocList[TextDoc], AnyDocArray)
    assert safe_issubclass(DocVec[TextDoc], AnyDocArray)
    assert not safe_issubclass(List[int], object)
    assert not safe_issubclass(list[int], object)
    assert not safe_issubclass(Dict, object)
    assert not safe_issubclass(None, object)
