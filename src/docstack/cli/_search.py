"""``docstack search``: find the files whose chunks (or video moments) best match a query."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple, Optional

from docstack.cli._encoders import CliError
from docstack.cli._parser import UsageError
from docstack.cli._settings import IndexSettings, OpenIndex, open_folder

__all__ = ["Hit", "parse_filter", "run_search", "search_files"]

SCORE_KINDS = {"vector": "cosine", "text": "bm25", "hybrid": "rrf"}


class Hit(NamedTuple):
    """One file found: its rank, score, the file's fields and its best chunk or moment."""

    rank: int
    score: float
    file_id: str
    path: str
    kind: str
    snippet: str
    chunk: Optional[dict[str, int]] = None
    moment: Optional[dict[str, float]] = None

    def to_dict(self, score_kind: str) -> dict[str, Any]:
        """The hit as a JSON-ready dict (what ``--json`` prints, one per line)."""
        out = self._asdict()
        out.update(score_kind=score_kind, higher_is_better=True)
        return {k: v for k, v in out.items() if v is not None}


def _fields_of(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith("$"):
                out.add(str(key))
            _fields_of(value, out)
    elif isinstance(node, list):
        for value in node:
            _fields_of(value, out)
    return out


def parse_filter(text: Optional[str]) -> Optional[dict[str, Any]]:
    """The ``--filter`` JSON as a portable filter, checked to name only fields that every
    level of the index holds.

    >>> parse_filter('{"kind": "text", "size": {"$gt": 10}}')
    {'kind': 'text', 'size': {'$gt': 10}}
    >>> parse_filter('{"width": 3}')
    Traceback (most recent call last):
    ...
    docstack.cli._parser.UsageError: --filter names 'width'; filters may name path, name, suffix, kind, size, mtime
    """
    from docstack.cli._schema import FILTER_FIELDS

    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--filter is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--filter must be a JSON object, got {type(value).__name__}")
    unknown = sorted(_fields_of(value, set()) - set(FILTER_FIELDS))
    if unknown:
        raise UsageError(
            f"--filter names {', '.join(map(repr, unknown))}; filters may name "
            + ", ".join(FILTER_FIELDS)
        )
    return value or None


def _query(index: Any, query: str, mode: str, vector_field: str, flt: Any, limit: int) -> Any:
    builder = index.build_query()
    if mode in ("vector", "hybrid"):
        builder = builder.find(query, search_field=vector_field)
    if mode in ("text", "hybrid"):
        builder = builder.text_search(query, search_field="text")
    if flt:
        builder = builder.filter(flt)
    return index.execute_query(builder.build(limit=limit))


def _chunk_hits(opened: OpenIndex, query: str, mode: str, flt: Any, limit: int) -> list:
    from docstack.chunking import group_by_parent

    chunks = opened.index.subindices["chunks"]
    total = chunks.num_docs()
    fetch = max(limit * 4, 40)
    while True:
        found = _query(chunks, query, mode, "embedding", flt, fetch)
        groups = group_by_parent(found, limit=limit, higher_is_better=True)
        if len(groups) >= limit or len(found.documents) < fetch or fetch >= total:
            return groups
        fetch *= 4


def _snippet(text: str, query: str = "", width: int = 160) -> str:
    """``text`` on one line, cut to ``width`` characters around the first query word in it.

    >>> _snippet('a ' * 100 + 'needle here', 'needle', width=20)
    '… a a a needle here'
    """
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    found = [lower.find(w) for w in re.findall(r"\w{2,}", query.lower())]
    first = min((i for i in found if i >= 0), default=0)
    start = max(0, min(first - width // 4, len(flat) - width + 1))
    if start:  # begin at a word
        space = flat.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    piece = flat[start : start + width - 1].strip()
    return ("… " if start else "") + piece + ("…" if start + width - 1 < len(flat) else "")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def search_files(
    opened: OpenIndex, query: str, mode: str = "hybrid", flt: Any = None, limit: int = 10
) -> tuple[list[Hit], str]:
    """The best ``limit`` files for ``query``, and the kind of their scores.

    Chunk hits are grouped to their files (each ranked by its best chunk). With an image
    encoder, vector and hybrid searches also search images and video moments, and the
    lists are fused by reciprocal rank (the scores are then RRF scores).
    """
    groups = _chunk_hits(opened, query, mode, flt, limit)
    hits: dict[str, Hit] = {}
    for g in groups:
        best = g.chunks[0]
        chunk = {"start": best.start, "end": best.end, "position": best.chunk_position}
        snippet = _snippet(best.text, query)
        hits[g.parent_id] = Hit(0, g.score, g.parent_id, best.path, best.kind, snippet, chunk)
    score_kind = SCORE_KINDS[mode]
    if opened.image_encoder is None or mode == "text":
        ranked = list(hits.values())
    else:
        ranked = _with_images(opened, query, flt, limit, hits)
        score_kind = "rrf"
    return [h._replace(rank=i + 1) for i, h in enumerate(ranked[:limit])], score_kind


def _with_images(opened: OpenIndex, query: str, flt: Any, limit: int, hits: dict) -> list:
    from docstack.retrieval import reciprocal_rank_fusion

    index = opened.index
    images = _query(index, query, "vector", "image_embedding", flt, limit)
    image_hits = {d.id: Hit(0, 0.0, d.id, d.path, d.kind, d.title) for d in images.documents}
    moments = _query(index.subindices["moments"], query, "vector", "embedding", flt, limit * 4)
    moment_hits: dict[str, Hit] = {}
    for m in moments.documents:
        if m.parent_doc_id not in moment_hits:
            span = {"start": m.start, "end": m.end}
            text = f"moment {_clock(m.start)}–{_clock(m.end)}"
            moment_hits[m.parent_doc_id] = Hit(
                0, 0.0, m.parent_doc_id, m.path, m.kind, text, moment=span
            )
    lists = [list(hits), list(image_hits), list(moment_hits)]
    ids, scores = reciprocal_rank_fusion([x for x in lists if x])
    by_id = {**hits, **image_hits, **moment_hits}  # a moment or image says more than a name
    return [by_id[i]._replace(score=float(s)) for i, s in zip(ids, scores)]


def _shown_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def print_table(hits: list[Hit], score_kind: str, query: str) -> None:
    """The hits as a rich table on stdout."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=escape(f"{len(hits)} files for {query!r}"),
        title_justify="left",
        caption=f"scores: {score_kind}, higher is better",
        caption_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("kind")
    table.add_column("path", overflow="fold")
    table.add_column("best match", overflow="fold")
    for h in hits:
        cells = (str(h.rank), f"{h.score:.4f}", h.kind, _shown_path(h.path), h.snippet)
        table.add_row(*map(escape, cells))
    Console(soft_wrap=False).print(table)


def run_search(args: Any) -> int:
    """Run ``docstack search``; answers the exit status."""
    flt = parse_filter(args.filter)
    if not args.query.strip():
        raise UsageError("the query is empty")
    folder = Path(args.index).expanduser()
    opened = open_folder(folder, IndexSettings.read(folder), few_queries=True, read_only=True)
    if opened.index.num_docs() == 0:
        raise CliError(f"the index in {folder} is empty")
    hits, score_kind = search_files(opened, args.query, args.mode, flt, args.limit)
    if args.json:
        out = sys.stdout
        for h in hits:
            out.write(json.dumps(h.to_dict(score_kind), ensure_ascii=False) + "\n")
    else:
        print_table(hits, score_kind, args.query)
    return 0
