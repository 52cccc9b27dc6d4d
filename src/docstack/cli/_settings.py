"""The settings an index folder records (``docstack.json``) and how to reopen the index.

``docstack index`` writes the encoders, the chunking and the backend's connection settings;
``search``, ``info``, ``eval``, ``export`` and ``serve`` read them back, so they reopen the index
the same way without repeating options. The files indexed (size, mtime, hash) are kept in
``docstack-files.json`` beside it, for incremental indexing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

from docstack.cli._encoders import CliError

__all__ = [
    "IndexSettings",
    "Manifest",
    "OpenIndex",
    "close_all",
    "open_folder",
    "open_index",
    "write_json",
]

SETTINGS_FILE = "docstack.json"
MANIFEST_FILE = "docstack-files.json"
FORMAT = 1
BACKENDS = ("hnsw", "milvus", "qdrant")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a temporary file renamed over it).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / 'x.json'
    >>> write_json(p, {'a': 1}); json.loads(p.read_text())
    {'a': 1}
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


@dataclass
class IndexSettings:
    """What an index folder records about how it was built.

    Example
    -------
    >>> s = IndexSettings(encoder='hashing:8', encoder_name='hashing:8', encoder_dim=8)
    >>> IndexSettings.from_dict(s.to_dict()) == s
    True
    """

    encoder: str
    encoder_name: str
    encoder_dim: int
    image_encoder: Optional[str] = None
    image_encoder_name: Optional[str] = None
    image_encoder_dim: Optional[int] = None
    backend: str = "hnsw"
    connection: dict[str, Any] = field(default_factory=dict)
    chunk_size: int = 1000
    chunk_overlap: int = 100
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSettings:
        """Settings read back from :meth:`to_dict`'s values."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @classmethod
    def read(cls, folder: Path) -> IndexSettings:
        """The settings of the index folder ``folder``; a clear error when it is not one."""
        path = folder / SETTINGS_FILE
        if not folder.is_dir():
            raise CliError(
                f"index folder {str(folder)!r} does not exist (build it with "
                f"'docstack index SOURCES --into {folder}')"
            )
        if not path.is_file():
            raise CliError(f"{str(folder)!r} is not a docstack index folder (no {SETTINGS_FILE})")
        try:
            data = json.loads(path.read_text())
            settings = cls.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise CliError(f"{path} is damaged: {exc}") from exc
        if settings.format > FORMAT:
            raise CliError(f"{path} was written by a newer docstack (format {settings.format})")
        return settings

    def write(self, folder: Path) -> None:
        """Record these settings in ``folder``."""
        write_json(folder / SETTINGS_FILE, self.to_dict())


class Manifest:
    """The files an index holds: ``{doc id: {path, size, mtime_ns, sha256, kind}}``.

    Example
    -------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> m = Manifest(folder)
    >>> m.files['x'] = {'path': '/a.txt', 'size': 1, 'mtime_ns': 2, 'sha256': 'f', 'kind': 'text'}
    >>> m.save(); Manifest(folder).files['x']['path']
    '/a.txt'
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST_FILE
        self.files: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            import orjson

            try:
                self.files = orjson.loads(self.path.read_bytes())
            except ValueError as exc:
                raise CliError(f"{self.path} is damaged: {exc}; delete it to re-index") from exc

    def save(self) -> None:
        """Write the manifest (atomically; orjson, as it is rewritten after every batch)."""
        import orjson

        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(self.files))
        os.replace(tmp, self.path)

    def kinds(self) -> dict[str, int]:
        """How many files of each kind.

        >>> m = Manifest.__new__(Manifest); m.files = {'a': {'kind': 'text'}}
        >>> m.kinds()
        {'text': 1}
        """
        out: dict[str, int] = {}
        for entry in self.files.values():
            out[entry["kind"]] = out.get(entry["kind"], 0) + 1
        return dict(sorted(out.items()))


def connection_from_args(args: Any, folder: Path) -> dict[str, Any]:
    """The backend's connection settings from ``docstack index`` options.

    >>> from types import SimpleNamespace as NS
    >>> connection_from_args(NS(backend='qdrant', uri=None, url=None, path='/q', collection=None),
    ...                      Path('/tmp'))
    {'path': '/q'}
    """
    if args.backend == "hnsw":
        if args.uri or args.url or args.path:
            raise CliError("--uri, --url and --path are settings of --backend milvus or qdrant")
        return {}
    out: dict[str, Any] = {}
    if args.collection:
        out["index_name" if args.backend == "milvus" else "collection_name"] = args.collection
    if args.backend == "milvus":
        if args.url or args.path:
            raise CliError("--backend milvus takes --uri (http://host:port or a file.db)")
        uri = args.uri or str(folder / "milvus.db")
        out["uri"] = uri if "://" in uri else str(Path(uri).expanduser().resolve())
        return out
    if args.uri:
        raise CliError("--backend qdrant takes --path (local storage) or --url (a server)")
    if args.url and args.path:
        raise CliError("give --url or --path for --backend qdrant, not both")
    if args.url:
        out["url"] = args.url
    else:
        out["path"] = str(Path(args.path or folder / "qdrant").expanduser().resolve())
    return out


def open_index(
    folder: Path, settings: IndexSettings, doc_type: type, read_only: bool = False
) -> Any:
    """Open (or create) the index of ``folder`` with its recorded backend settings;
    ``read_only``: an embedded index is opened to read only, so that other read-only
    commands (a search beside ``docstack serve``) can open it at the same time."""
    if settings.backend == "hnsw":
        from docstack.index.backends.hnsw import HnswDocumentIndex

        return HnswDocumentIndex[doc_type](  # type: ignore[misc]
            work_dir=str(folder), read_only=read_only
        )
    if settings.backend == "milvus":
        from docstack.index import MilvusDocumentIndex

        return MilvusDocumentIndex[doc_type](**settings.connection)
    if settings.backend == "qdrant":
        from docstack.index import QdrantDocumentIndex

        return QdrantDocumentIndex[doc_type](**settings.connection)
    raise CliError(f"unknown backend {settings.backend!r} in {folder / SETTINGS_FILE}")


class OpenIndex(NamedTuple):
    """An opened index folder: its settings, document classes, encoders and the index."""

    folder: Path
    settings: IndexSettings
    schema: Any
    text_encoder: Any
    image_encoder: Any
    index: Any

    def close(self) -> None:
        """Close the index (an embedded index holds its folder until closed)."""
        close = getattr(self.index, "close", None)
        if close is not None:
            close()


def open_folder(
    folder: Path,
    settings: IndexSettings,
    text_loader: Optional[Callable[[], Any]] = None,
    image_loader: Optional[Callable[[], Any]] = None,
    few_queries: bool = False,
    serving: bool = False,
    read_only: bool = False,
) -> OpenIndex:
    """Open the index of ``folder`` with encoders loaded only when first used (for a quick
    start when ``few_queries``; for many concurrent queries when ``serving``); ``read_only``
    for commands that only read (see :func:`open_index`).

    Example
    -------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> s = IndexSettings(encoder='hashing:8', encoder_name='hashing:8', encoder_dim=8)
    >>> opened = open_folder(folder, s)
    >>> opened.index.num_docs(), opened.text_encoder.loaded
    (0, False)
    """
    from docstack.cli._encoders import lazy, load_encoder, load_image_encoder
    from docstack.cli._schema import file_schema

    text = lazy(
        settings.encoder_name,
        settings.encoder_dim,
        ["text"],
        text_loader or (lambda: load_encoder(settings.encoder, few_queries, serving)),
    )
    image = None
    if settings.image_encoder:
        path = settings.image_encoder
        image = lazy(
            str(settings.image_encoder_name),
            int(settings.image_encoder_dim or 0),
            ["text", "image"],
            image_loader or (lambda: load_image_encoder(path)),
        )
    schema = file_schema(text, image)
    index = open_index(folder, settings, schema.file, read_only)
    opened = OpenIndex(folder, settings, schema, text, image, index)
    _OPENED.append(opened)
    return opened


_OPENED: list[OpenIndex] = []


def close_all() -> None:
    """Close every index :func:`open_folder` opened (what ``main`` does when a command ends).

    >>> close_all()
    """
    while _OPENED:
        _OPENED.pop().close()
