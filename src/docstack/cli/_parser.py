"""The ``docstack`` command line: its options and sub-commands (argparse, from the
standard library: nothing to import at start, so ``docstack search`` starts fast)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

__all__ = ["UsageError", "build_parser"]

MODES = ("vector", "text", "hybrid")


def _modes(value: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in value.split(",") if m.strip())
    bad = [m for m in modes if m not in MODES]
    if not modes or bad or len(set(modes)) != len(modes):
        raise argparse.ArgumentTypeError(
            f"{value!r}: give one or more of {', '.join(MODES)}, comma-separated, each once"
        )
    return modes


class UsageError(Exception):
    """A command line that does not parse (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised instead of printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _add_index(sub: Any) -> None:
    p = sub.add_parser(
        "index",
        help="index files, folders and globs into an index folder",
        description="Index files (text, Markdown, images, audio, video, 3D meshes, PDFs with "
        "pypdf) into DIR. Indexing again is incremental: unchanged files are skipped, changed "
        "ones replaced; --sync removes the documents of files that are gone.",
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files, folders or globs")
    p.add_argument("--into", required=True, metavar="DIR", help="the index folder")
    p.add_argument(
        "--encoder",
        metavar="NAME|PATH",
        help="text encoder: local (default: the best installed offline model), onnx, "
        "sentence-transformers, e5, hashing:DIM, or a model folder",
    )
    p.add_argument(
        "--image-encoder", metavar="PATH", help="a local CLIP-style model folder to embed images"
    )
    p.add_argument("--backend", choices=("hnsw", "milvus", "qdrant"), help="default: hnsw")
    p.add_argument("--uri", help="Milvus: http://host:port or a Milvus Lite file.db")
    p.add_argument("--url", help="Qdrant: a server URL")
    p.add_argument("--path", help="Qdrant: a local storage folder")
    p.add_argument("--collection", help="Milvus/Qdrant: the collection name")
    p.add_argument("--chunk-size", type=_positive, help="characters per chunk (default 1000)")
    p.add_argument("--chunk-overlap", type=_count, help="characters of overlap (default 100)")
    p.add_argument("--sync", action="store_true", help="remove documents of files that are gone")
    p.add_argument("--force", action="store_true", help="re-read every file, changed or not")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_search(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="search an index",
        description="Search an index folder: files ranked by their best chunk (or moment).",
    )
    p.add_argument("query", help="the text to search for")
    p.add_argument("--index", required=True, metavar="DIR", help="the index folder")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="default: hybrid")
    p.add_argument("--limit", type=_positive, default=10, help="how many files (default 10)")
    p.add_argument(
        "--filter",
        metavar="JSON",
        help='a portable filter on path, name, suffix, kind, size, mtime, e.g. \'{"kind": '
        '"text"}\' or \'{"size": {"$gt": 1000}}\'',
    )
    p.add_argument("--json", action="store_true", help="JSON lines, one per hit")


def _add_rest(sub: Any) -> None:
    p = sub.add_parser("info", help="describe an index", description="Describe an index.")
    p.add_argument("dir", metavar="DIR", help="the index folder")
    p.add_argument("--json", action="store_true", help="as one JSON object")

    p = sub.add_parser(
        "eval",
        help="evaluate searches against relevance judgments",
        description='Run every query of Q.jsonl ({"id": ..., "text": ...} per line) and '
        "score the ranked files against QRELS: a TREC qrels file (qid 0 docid grade) or JSON "
        "{qid: {docid: grade}}; a docid is a file's path (absolute, or relative to the "
        "qrels file or the current folder), its name when unique, or its document id.",
    )
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--queries", required=True, metavar="Q.jsonl")
    p.add_argument("--qrels", required=True, metavar="QRELS")
    p.add_argument(
        "--mode",
        type=_modes,
        default=("hybrid",),
        metavar="MODE[,MODE...]",
        help="vector, text or hybrid (default: hybrid); several, comma-separated, are "
        "compared side by side with paired significance tests against the first",
    )
    p.add_argument("--limit", type=_positive, default=100, help="files per query (default 100)")
    p.add_argument("--metrics", help="comma-separated, e.g. ndcg@10,mrr,recall@100")

    p = sub.add_parser(
        "export",
        help="export the documents of an index",
        description="Write every file document (with its chunks and moments) to a file.",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--to", required=True, choices=("parquet", "jsonl"))
    p.add_argument("--out", required=True, metavar="FILE")

    p = sub.add_parser(
        "serve",
        help="serve an index over HTTP (JSON API and a web page)",
        description="Serve the index with docstack.server on uvicorn; read-only unless "
        "--writable (which needs --api-key).",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_positive, default=8000)
    p.add_argument("--writable", action="store_true", help="accept writes (needs --api-key)")
    p.add_argument("--api-key", metavar="KEY", help="the key write requests must send")
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="serve from N processes, each with the index open read-only (one per core "
        "answers the most searches); not with --writable",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``docstack`` parser with its sub-commands.

    >>> build_parser().parse_args(['search', 'red', '--index', 'd']).mode
    'hybrid'
    """
    from docstack import __version__

    parser = _Parser(
        prog="docstack",
        description="Index folders of files (text, images, audio, video, 3D) and search them.",
    )
    parser.add_argument("--version", action="version", version=f"docstack {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_index(sub)
    _add_search(sub)
    _add_rest(sub)
    return parser
