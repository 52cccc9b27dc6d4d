"""``AbstractDocStore``: what every place that ``DocList.push``/``pull`` reach implements.

A store is a class of classmethods (no instance, as in DocArray): the name it takes is the
part of the URL after ``protocol://``. Two methods do the work, :meth:`push_stream` and
:meth:`pull_stream`; :meth:`push` and :meth:`pull` are written on top of them.

Example
-------
>>> from docstack.store import FileDocStore
>>> issubclass(FileDocStore, AbstractDocStore)
True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, Optional

__all__ = ["AbstractDocStore"]


class AbstractDocStore(ABC):
    """The interface of a place ``DocList`` payloads are pushed to and pulled from.

    Every payload is docstack's streamed binary format (the one ``DocList.save_binary``
    writes), so a store only moves bytes: a push streams documents into a temporary object
    and makes it visible under its name only once it is complete.
    """

    @classmethod
    @abstractmethod
    def list(cls, namespace: str, show_table: bool = False) -> list[str]:
        """The names of the ``DocList`` payloads stored directly under ``namespace``.

        Parameters
        ----------
        namespace:
            A folder (``file``), ``bucket/prefix`` (``s3``) or path of the store.
        show_table:
            Also print a table of the names, sizes and modification times.

        Returns
        -------
        The names, each usable as ``namespace/name`` in a URL.
        """

    @classmethod
    @abstractmethod
    def delete(cls, name: str, missing_ok: bool = False) -> bool:
        """Delete the ``DocList`` stored under ``name``.

        Parameters
        ----------
        name:
            What follows ``protocol://`` in the URL it was pushed to.
        missing_ok:
            Return ``False`` when nothing is stored under ``name`` instead of raising
            :class:`~docstack.store.exceptions.DocListNotFoundError`.

        Returns
        -------
        ``True`` if a payload was deleted, ``False`` if there was none.
        """

    @classmethod
    @abstractmethod
    def push_stream(
        cls,
        docs: Iterable[Any],
        name: str,
        show_progress: bool = False,
        doc_type: Optional[type] = None,
    ) -> dict:
        """Write documents under ``name`` as they come, one block at a time.

        Parameters
        ----------
        docs:
            The documents, all of one document class (dicts are validated into it).
        name:
            What follows ``protocol://`` in the URL.
        show_progress:
            Show a progress bar of the documents written.
        doc_type:
            The document class of the payload (default: the class of the first document).

        Returns
        -------
        ``{'url': ..., 'num_docs': ..., 'size': ...}``: where the payload is, how many
        documents and how many bytes it holds.
        """

    @classmethod
    @abstractmethod
    def pull_stream(
        cls,
        docs_cls: type,
        name: str,
        show_progress: bool = False,
        local_cache: bool = False,
    ) -> Iterator[Any]:
        """The documents stored under ``name``, read one block at a time.

        Parameters
        ----------
        docs_cls:
            A parametrized ``DocList[MyDoc]``: the documents are read as ``MyDoc``.
        name:
            What follows ``protocol://`` in the URL.
        show_progress:
            Show a progress bar of the bytes read.
        local_cache:
            Keep a copy of the payload in the cache directory and read from that copy while
            it matches the stored one (stores of local files ignore it).

        Returns
        -------
        An iterator of documents. A missing name or a payload of another schema raises
        when this is called, before the first document is read.
        """

    @classmethod
    def push(cls, docs: Any, name: str, show_progress: bool = False) -> dict:
        """Write a whole ``DocList`` under ``name`` (see :meth:`push_stream`)."""
        doc_type = getattr(docs, "doc_type", None)
        return cls.push_stream(docs, name, show_progress=show_progress, doc_type=doc_type)

    @classmethod
    def pull(
        cls, docs_cls: type, name: str, show_progress: bool = False, local_cache: bool = False
    ) -> Any:
        """Read the ``DocList`` stored under ``name`` (see :meth:`pull_stream`).

        Returns
        -------
        A ``docs_cls`` holding every document.
        """
        docs = list(cls.pull_stream(docs_cls, name, show_progress, local_cache))
        return docs_cls(docs, validate_input_docs=False)
