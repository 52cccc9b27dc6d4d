"""``MultiModalDataset``: a PyTorch ``Dataset`` over documents, batched into ``DocVec``.

Importing this module imports torch; without it, the import raises
:class:`~docstack.errors.MissingDependencyError` naming the ``torch`` extra.
"""

from __future__ import annotations

import copyreg
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Optional, TypeVar

from docstack._internal.optional import import_optional
from docstack.array import DocList, DocVec
from docstack.base_doc import AnyDoc, BaseDocWithoutId
from docstack.data._preprocessing import apply_steps, parse_steps
from docstack.errors import DocTypeError

import_optional("torch")

from torch.utils.data import Dataset  # noqa: E402 - after the check that names the extra

__all__ = ["MultiModalDataset"]

T_doc = TypeVar("T_doc", bound=BaseDocWithoutId)


class _DatasetMeta(type):
    """Lets ``MultiModalDataset[T]`` (a class made on demand) be pickled, so that
    ``DataLoader`` workers started with ``spawn`` receive the dataset and its collate_fn."""


def _typed_dataset(base: type, doc_type: type) -> type:
    return base[doc_type]


def _reduce_dataset_class(cls: type) -> Any:
    base = cls.__dict__.get("_docstack_untyped")
    if base is None:
        return cls.__qualname__  # a class defined in a module: pickled by name
    return _typed_dataset, (base, cls.__dict__["doc_type"])


copyreg.pickle(_DatasetMeta, _reduce_dataset_class)


class MultiModalDataset(Dataset, Generic[T_doc], metaclass=_DatasetMeta):
    """A PyTorch ``Dataset`` over a ``DocList[T]``, with per-field preprocessing.

    ``dataset[i]`` is a deep copy of document ``i`` after the preprocessing functions ran
    on it, so the documents given are never changed. ``preprocessing`` maps a field path to
    a function of that field's value, applied in the mapping's order: nested fields are
    joined with ``.`` (or ``__``), and ``''`` is the document itself. A function's return
    value replaces the field unless it is ``None`` (functions that change a document in
    place need not return anything). Keys are checked against the schema when the dataset
    is made: a key naming no field raises :class:`~docstack.data.PreprocessingError`.

    ``MultiModalDataset[T].collate_fn`` stacks a list of documents into a ``DocVec[T]``
    whose tensors are torch tensors; pass it as a ``DataLoader``'s ``collate_fn``.

    Parameters
    ----------
    docs:
        The documents: a ``DocList[T]``, or any sequence of ``T`` documents.
    preprocessing:
        ``{field path: function}``; optional.

    Example
    -------
    >>> import torch
    >>> from torch.utils.data import DataLoader
    >>> from docstack import DocList
    >>> from docstack.data import MultiModalDataset
    >>> from docstack.documents import TextDoc
    >>> def embed(doc: TextDoc) -> None:
    ...     doc.embedding = torch.full((4,), float(len(doc.text)))
    >>> docs = DocList[TextDoc](TextDoc(text='x' * i) for i in range(6))
    >>> ds = MultiModalDataset[TextDoc](docs, preprocessing={'text': str.upper, '': embed})
    >>> loader = DataLoader(ds, batch_size=4, collate_fn=MultiModalDataset[TextDoc].collate_fn)
    >>> batch = next(iter(loader))
    >>> type(batch).__name__, batch.text[:3], tuple(batch.embedding.shape)
    ('DocVec[TextDoc]', ['', 'X', 'XX'], (4, 4))
    """

    doc_type: Optional[type] = None
    _docstack_cache: dict[tuple[type, type], type] = {}

    def __init__(
        self,
        docs: Sequence[T_doc],
        preprocessing: Optional[Mapping[str, Callable[[Any], Any]]] = None,
    ) -> None:
        self.docs = docs
        schema = self.doc_type or _doc_type_of(docs)
        if self.doc_type is not None:
            _check_docs(docs, self.doc_type)
        self._steps = parse_steps(preprocessing, schema)
        self._preprocessing = dict(preprocessing or {})

    @property
    def preprocessing(self) -> dict[str, Callable[[Any], Any]]:
        """The ``{field path: function}`` mapping, in the order it is applied.

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.data import MultiModalDataset
        >>> from docstack.documents import TextDoc
        >>> ds = MultiModalDataset[TextDoc](DocList[TextDoc](), {'text': str.strip})
        >>> list(ds.preprocessing)
        ['text']
        """
        return dict(self._preprocessing)

    def __len__(self) -> int:
        return len(self.docs)

    def __getitem__(self, item: int) -> T_doc:
        doc = self.docs[item].model_copy(deep=True)
        return apply_steps(doc, self._steps)

    def __repr__(self) -> str:
        keys = ", ".join(repr(k) for k in self._preprocessing)
        return f"{type(self).__name__}({len(self)} docs, preprocessing=[{keys}])"

    @classmethod
    def collate_fn(cls, batch: Sequence[T_doc]) -> DocVec[T_doc]:
        """Stack a batch of documents into a ``DocVec`` with torch tensors.

        The ``DocVec`` is typed with the dataset's document class, or with the class of
        the first document when the dataset class is not parametrized.

        Example
        -------
        >>> from docstack.data import MultiModalDataset
        >>> from docstack.documents import TextDoc
        >>> batch = MultiModalDataset[TextDoc].collate_fn([TextDoc(text='a'), TextDoc(text='b')])
        >>> type(batch).__name__, batch.text
        ('DocVec[TextDoc]', ['a', 'b'])
        """
        from docstack.typing.tensor.torch_tensor import TorchTensor

        doc_type = cls.doc_type
        if doc_type is None:
            if len(batch) == 0:
                raise ValueError(
                    f"{cls.__name__}.collate_fn cannot tell the document type of an empty "
                    "batch; use MultiModalDataset[YourDoc].collate_fn"
                )
            doc_type = type(batch[0])
        return DocVec[doc_type](batch, tensor_type=TorchTensor)

    def __class_getitem__(cls, item: Any) -> Any:
        if isinstance(item, TypeVar):
            return cls
        if not (isinstance(item, type) and issubclass(item, BaseDocWithoutId)):
            raise DocTypeError(
                f"{cls.__name__}[...] takes a document class (a BaseDoc subclass), got {item!r}"
            )
        if cls.doc_type is not None:
            if cls.doc_type is item:
                return cls
            raise DocTypeError(f"{cls.__name__} is already typed; cannot re-parametrize it")
        key = (cls, item)
        typed = MultiModalDataset._docstack_cache.get(key)
        if typed is None:
            name = f"{cls.__name__}[{item.__name__}]"
            namespace = {
                "doc_type": item,
                "_docstack_untyped": cls,
                "__module__": cls.__module__,
                "__qualname__": name,
            }
            typed = type(cls)(name, (cls,), namespace)
            MultiModalDataset._docstack_cache[key] = typed
        return typed


def _doc_type_of(docs: Any) -> Optional[type]:
    """The document class of a typed array, else ``None`` (keys are checked when used)."""
    doc_type = getattr(docs, "doc_type", None)
    if isinstance(doc_type, type) and doc_type is not AnyDoc:
        return doc_type
    return None


def _check_docs(docs: Any, doc_type: type) -> None:
    """Refuse documents that are not ``doc_type`` (a typed array is checked by its type)."""
    array_type = _doc_type_of(docs)
    if array_type is not None:
        if not issubclass(array_type, doc_type):
            raise DocTypeError(
                f"MultiModalDataset[{doc_type.__name__}] got a DocList of "
                f"{array_type.__name__}, not {doc_type.__name__}"
            )
        return
    if isinstance(docs, DocList) or not isinstance(docs, Sequence):
        return
    for position, doc in enumerate(docs):
        if not isinstance(doc, doc_type):
            raise DocTypeError(
                f"MultiModalDataset[{doc_type.__name__}]: document {position} is a "
                f"{type(doc).__name__}, not a {doc_type.__name__}"
            )
