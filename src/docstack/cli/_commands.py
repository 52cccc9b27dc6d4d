"""``docstack info``, ``eval``, ``export`` and ``serve``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from docstack.cli._encoders import CliError
from docstack.cli._settings import IndexSettings, Manifest, OpenIndex, open_folder

__all__ = ["describe", "run_eval", "run_export", "run_info", "run_serve"]


def _open(folder_text: str) -> OpenIndex:
    folder = Path(folder_text).expanduser()
    return open_folder(folder, IndexSettings.read(folder), read_only=True)


def _disk_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass  # a file removed while counting
    return total


def _type_name(annotation: Any) -> str:
    """A type as a short name: modules left out.

    >>> from typing import Optional
    >>> _type_name(Optional[int]), _type_name(str)
    ('Optional[int]', 'str')
    """
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", str(annotation))


def describe(opened: OpenIndex) -> dict[str, Any]:
    """What ``docstack info`` shows, as a dict.

    Example
    -------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> s = IndexSettings(encoder='hashing:8', encoder_name='hashing:8', encoder_dim=8)
    >>> info = describe(open_folder(folder, s))
    >>> info['files'], info['vector_fields']
    (0, [{'field': 'chunks.embedding', 'dim': 8, 'metric': 'cosine'}])
    """
    index, s = opened.index, opened.settings
    vectors = []
    levels = [("", index), *((f"{n}.", sub) for n, sub in index.subindices.items())]
    for prefix, idx in levels:
        for name, col in idx._schema.vector_columns.items():
            vectors.append({"field": prefix + name, "dim": col.dim, "metric": col.space})
    fields = {n: _type_name(f.annotation) for n, f in opened.schema.file.model_fields.items()}
    on_disk = s.backend == "hnsw" or "path" in s.connection or ".db" in str(s.connection)
    return {
        "folder": str(opened.folder.resolve()),
        "backend": s.backend,
        "connection": s.connection,
        "files": index.num_docs(),
        "kinds": Manifest(opened.folder).kinds(),
        "chunks": index.subindices["chunks"].num_docs(),
        "moments": index.subindices["moments"].num_docs(),
        "encoders": {
            "text": {"spec": s.encoder, "name": s.encoder_name, "dim": s.encoder_dim},
            "image": (
                {"spec": s.image_encoder, "name": s.image_encoder_name, "dim": s.image_encoder_dim}
                if s.image_encoder
                else None
            ),
        },
        "chunking": {"size": s.chunk_size, "overlap": s.chunk_overlap},
        "vector_fields": vectors,
        "schema": fields,
        "disk_bytes": _disk_size(opened.folder) if on_disk else None,
    }


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def run_info(args: Any) -> int:
    """Run ``docstack info``; answers the exit status."""
    info = describe(_open(args.dir))
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    text = info["encoders"]["text"]
    image = info["encoders"]["image"]
    kinds = ", ".join(f"{k} {n}" for k, n in info["kinds"].items()) or "none"
    console.print(f"[bold]{info['folder']}[/bold] ({info['backend']})")
    console.print(
        f"files: {info['files']} ({kinds}); chunks: {info['chunks']}; "
        f"video moments: {info['moments']}"
    )
    console.print(f"text encoder: {text['name']} ({text['dim']}-d, {text['spec']})")
    console.print("image encoder: " + (f"{image['name']} ({image['dim']}-d)" if image else "none"))
    disk = info["disk_bytes"]
    console.print("disk: " + (_bytes(disk) if disk is not None else "on the server"))
    vectors = Table(title="vector fields", title_justify="left")
    for column in ("field", "dim", "metric"):
        vectors.add_column(column)
    for v in info["vector_fields"]:
        vectors.add_row(v["field"], str(v["dim"]), v["metric"])
    console.print(vectors)
    schema = Table(title="schema (FileDoc)", title_justify="left")
    schema.add_column("field")
    schema.add_column("type", overflow="fold")
    for name, kind in info["schema"].items():
        schema.add_row(name, escape(kind))
    console.print(schema)
    return 0


def _read_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise CliError(f"--queries {str(path)!r}: {exc.strerror or exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qid = next(str(row[k]) for k in ("id", "qid", "_id", "query_id") if k in row)
            text = next(str(row[k]) for k in ("text", "query") if k in row)
        except (ValueError, TypeError, StopIteration):
            raise CliError(
                f"{path}:{n}: each line must be a JSON object with an id and a text"
            ) from None
        queries[qid] = text
    if not queries:
        raise CliError(f"--queries {str(path)!r} holds no queries")
    return queries


def _read_qrels(path: Path) -> dict[str, dict[str, float]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise CliError(f"--qrels {str(path)!r}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
            return {str(q): {str(d): float(g) for d, g in docs.items()} for q, docs in data.items()}
        except (ValueError, AttributeError) as exc:
            raise CliError(f"{path}: expected {{qid: {{docid: grade}}}} JSON ({exc})") from None
    qrels: dict[str, dict[str, float]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (3, 4):
            raise CliError(f"{path}:{n}: expected 'qid 0 docid grade' (TREC qrels)")
        qid, doc, grade = parts[0], parts[-2], parts[-1]
        try:
            qrels.setdefault(qid, {})[doc] = float(grade)
        except ValueError:
            raise CliError(f"{path}:{n}: the grade {grade!r} is not a number") from None
    return qrels


def _doc_ids(qrels: dict, manifest: Manifest, base: Path) -> dict[str, dict[str, float]]:
    """Qrels' document names (paths, unique file names or ids) as the index's file ids."""
    lookup: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for fid, entry in manifest.files.items():
        lookup[fid] = fid
        lookup[entry["path"]] = fid
        names.setdefault(os.path.basename(entry["path"]), []).append(fid)
    lookup.update({name: ids[0] for name, ids in names.items() if len(ids) == 1})
    out: dict[str, dict[str, float]] = {}
    for qid, docs in qrels.items():
        mapped = out.setdefault(qid, {})
        for doc, grade in docs.items():
            fid = lookup.get(doc)
            for root in (base, Path.cwd()):
                if fid is None:
                    fid = lookup.get(str((root / doc).resolve()))
            mapped[fid or doc] = grade
    return out


def run_eval(args: Any) -> int:
    """Run ``docstack eval``; answers the exit status."""
    from docstack.cli._search import search_files
    from docstack.retrieval import DEFAULT_METRICS, evaluate

    opened = _open(args.index)
    queries = _read_queries(Path(args.queries))
    qrels_path = Path(args.qrels)
    qrels = _doc_ids(_read_qrels(qrels_path), Manifest(opened.folder), qrels_path.parent)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None

    def runner(mode: str) -> Any:
        def run(query: str) -> list[str]:
            return [h.file_id for h in search_files(opened, query, mode, None, args.limit)[0]]

        run.__name__ = mode
        return run

    metrics = metrics or DEFAULT_METRICS
    if len(args.mode) == 1:
        result = evaluate(opened.index, queries, qrels, mode=runner(args.mode[0]), metrics=metrics)
    else:
        setups = {mode: runner(mode) for mode in args.mode}
        compare = "ndcg@10" if "ndcg@10" in metrics else metrics[0]
        result = evaluate(
            opened.index, queries, qrels, setups=setups, metrics=metrics, compare_metric=compare
        )
    print(result.summary())
    return 0


def _pages(index: Any, size: int = 256) -> Any:
    offset = 0
    while True:
        page = index.filter({}, limit=size, offset=offset)
        if not len(page):
            return
        yield page
        offset += len(page)


def run_export(args: Any) -> int:
    """Run ``docstack export``; answers the exit status."""
    opened = _open(args.dir)
    out = Path(args.out).expanduser()
    if not out.parent.is_dir():
        raise CliError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    count = 0
    try:
        if args.to == "jsonl":
            with open(tmp, "w", encoding="utf-8") as f:
                for page in _pages(opened.index):
                    for doc in page:
                        f.write(doc.to_json() + "\n")
                    count += len(page)
        else:
            from docstack.array import DocList

            docs = [d for page in _pages(opened.index) for d in page]
            count = len(docs)
            DocList[opened.schema.file](docs).to_parquet(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    print(f"exported {count} files to {out}")
    return 0


def _served_app(folder: Path, writable: bool, api_key: Any) -> tuple[Any, OpenIndex]:
    """The service's application over the index of ``folder`` (opened read-only unless
    ``writable``: searches from the command line and other workers can share the folder)."""
    from docstack.server import create_app

    opened = open_folder(folder, IndexSettings.read(folder), serving=True, read_only=not writable)
    roots = sorted({os.path.dirname(e["path"]) for e in Manifest(opened.folder).files.values()})
    name = opened.folder.resolve().name or "default"
    app = create_app(
        {name: opened.index},
        writable=writable,
        api_key=api_key,
        media_roots=roots,
        title=f"docstack: {name}",
    )
    return app, opened


_WORKER_DIR = "DOCSTACK_SERVE_DIR"


def worker_app() -> Any:
    """The application of one worker process of ``docstack serve --workers N`` (uvicorn
    calls it in each worker; the folder comes in the environment). A worker that cannot
    open the index exits with uvicorn's start-up failure status, which stops them all
    rather than restarting it."""
    import sys

    from docstack.errors import DocstackError

    try:
        return _served_app(Path(os.environ[_WORKER_DIR]), False, None)[0]
    except (DocstackError, CliError, KeyError) as exc:
        print(f"docstack: error: {exc}", file=sys.stderr, flush=True)
        sys.exit(3)  # uvicorn.config.STARTUP_FAILURE


def run_serve(args: Any) -> int:
    """Run ``docstack serve`` until interrupted; answers the exit status."""
    from docstack._internal.optional import import_optional
    from docstack.cli._parser import UsageError

    if args.writable and not args.api_key:
        raise UsageError("--writable needs --api-key KEY")
    if args.writable and args.workers > 1:
        raise UsageError("--writable serves from one process: leave --workers at 1")
    uvicorn = import_optional("uvicorn", "server")
    folder = Path(args.dir).expanduser()
    if args.workers > 1:
        _check_workers(IndexSettings.read(folder))  # before opening anything
    app, opened = _served_app(folder, args.writable, args.api_key)  # errors show here, once
    where = f"http://{args.host}:{args.port}"
    if args.workers == 1:
        print(f"serving {opened.folder} on {where}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    hold = None
    if opened.settings.backend == "hnsw":
        from docstack.index.backends._hnsw_store import lock_work_dir

        # a share of the folder's lock, held while the workers open it read-only for
        # themselves: no writer takes the folder in between (the index itself is let go)
        hold = lock_work_dir(opened.folder, shared=True)
    opened.close()
    before = os.environ.get(_WORKER_DIR)
    os.environ[_WORKER_DIR] = str(opened.folder.resolve())
    print(f"serving {opened.folder} on {where} from {args.workers} processes", flush=True)
    try:
        uvicorn.run(
            "docstack.cli._commands:worker_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="warning",
        )
    finally:
        if hold is not None:
            hold.close()
        if before is None:
            os.environ.pop(_WORKER_DIR, None)
        else:
            os.environ[_WORKER_DIR] = before
    return 0


def _check_workers(settings: IndexSettings) -> None:
    """Several workers need an index that several processes can open: the embedded one
    (read-only) or a database server, not Milvus Lite or Qdrant's local mode."""
    from docstack.cli._parser import UsageError

    conn = settings.connection
    remote = "url" in conn or "://" in str(conn.get("uri", ""))
    if settings.backend != "hnsw" and not remote:
        raise UsageError(
            f"--workers needs the embedded index or a database server: this index uses "
            f"{settings.backend} in one process ({conn}); leave --workers at 1"
        )
