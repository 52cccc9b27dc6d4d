"""Where ``DocList.push``/``pull`` put documents: folders, S3 buckets and any fsspec URL.

``DocList[MyDoc].push('file:///data/books')``, ``push('s3://bucket/books')`` or
``push('memory://books')`` write the documents in docstack's streamed binary format;
``pull`` and ``pull_stream`` read them back. The stores are also usable on their own, with
DocArray's names: :class:`FileDocStore`, :class:`S3DocStore` (``list``, ``delete``,
``push``, ``pull``, ``push_stream``, ``pull_stream``), and :class:`FsspecDocStore` for the
other protocols. URLs other than ``file://`` need the ``store`` extra
(``pip install 'docstack[store]'``).

Example
-------
>>> import tempfile
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> folder = tempfile.mkdtemp()
>>> _ = DocList[TextDoc]([TextDoc(text='a')]).push(f'file://{folder}/one')
>>> FileDocStore.list(folder)
['one']
"""

from docstack.store.abstract_doc_store import AbstractDocStore
from docstack.store.exceptions import (
    ConcurrentPushException,
    DocListNotFoundError,
    UnsupportedProtocolError,
)
from docstack.store.file import FileDocStore
from docstack.store.fsspec_store import FsspecDocStore
from docstack.store.s3 import S3DocStore

__all__ = [
    "AbstractDocStore",
    "ConcurrentPushException",
    "DocListNotFoundError",
    "FileDocStore",
    "FsspecDocStore",
    "S3DocStore",
    "UnsupportedProtocolError",
]
