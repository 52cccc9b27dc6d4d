"""``docstack index``: read files into documents and upsert them, incrementally."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from docstack.cli._encoders import CliError
from docstack.cli._files import (
    FoundFile,
    content_digest,
    file_id,
    find_files,
    read_file,
    thumbnail,
)
from docstack.cli._settings import (
    SETTINGS_FILE,
    IndexSettings,
    Manifest,
    OpenIndex,
    connection_from_args,
    open_folder,
)

__all__ = ["run_index"]

BATCH = 64  # files per index() call (one transaction each)


def note(message: str) -> None:
    """One line for the user on stderr."""
    print(f"docstack: {message}", file=sys.stderr)


def _new_settings(args: Any, folder: Path) -> tuple[IndexSettings, Any, Any]:
    from docstack.cli._encoders import load_encoder, load_image_encoder, resolve_spec

    spec = resolve_spec(args.encoder or "local")
    encoder = load_encoder(spec)
    image = load_image_encoder(args.image_encoder) if args.image_encoder else None
    settings = IndexSettings(
        encoder=spec,
        encoder_name=str(encoder.name),
        encoder_dim=int(encoder.dim),
        image_encoder=str(Path(args.image_encoder).resolve()) if image is not None else None,
        image_encoder_name=str(image.name) if image is not None else None,
        image_encoder_dim=int(image.dim) if image is not None else None,
        backend=args.backend or "hnsw",
        connection=connection_from_args(args, folder),
        chunk_size=args.chunk_size or 1000,
        chunk_overlap=100 if args.chunk_overlap is None else args.chunk_overlap,
    )
    if settings.chunk_overlap >= settings.chunk_size:
        raise CliError("--chunk-overlap must be smaller than --chunk-size")
    return settings, encoder, image


def _check_same(args: Any, settings: IndexSettings, folder: Path) -> None:
    """Options given again for an existing index must agree with what it recorded."""
    from docstack.cli._encoders import resolve_spec

    where = f"the index in {folder} was built with"
    if args.encoder and resolve_spec(args.encoder) != settings.encoder:
        raise CliError(
            f"{where} --encoder {settings.encoder}, not {args.encoder}: vectors of two models "
            "are not comparable; use another --into folder for another encoder"
        )
    if args.image_encoder and str(Path(args.image_encoder).resolve()) != (
        settings.image_encoder or ""
    ):
        raise CliError(f"{where} --image-encoder {settings.image_encoder or '(none)'}")
    if args.backend and args.backend != settings.backend:
        raise CliError(f"{where} --backend {settings.backend}")
    for option in ("chunk_size", "chunk_overlap"):
        given = getattr(args, option)
        if given is not None and given != getattr(settings, option):
            raise CliError(f"{where} --{option.replace('_', '-')} {getattr(settings, option)}")


def _open(args: Any) -> tuple[OpenIndex, bool]:
    folder = Path(args.into).expanduser()
    if (folder / SETTINGS_FILE).is_file():
        settings = IndexSettings.read(folder)
        _check_same(args, settings, folder)
        return open_folder(folder, settings), False
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--into {str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    settings, encoder, image = _new_settings(args, folder)
    opened = open_folder(folder, settings, lambda: encoder, lambda: image)
    settings.write(folder)
    return opened, True


class _Plan:
    """What to do with the files found: index them, or only refresh their mtime."""

    def __init__(self, found: Sequence[FoundFile], manifest: Manifest, force: bool) -> None:
        self.todo: list[tuple[FoundFile, str, bool]] = []  # (file, sha256, is new)
        self.touched: list[tuple[FoundFile, str]] = []
        self.unchanged = 0
        for f in found:
            entry = manifest.files.get(file_id(f.path))
            if entry and not force and (entry["size"], entry["mtime_ns"]) == (f.size, f.mtime_ns):
                self.unchanged += 1
                continue
            digest = content_digest(f)
            if entry and not force and entry["sha256"] == digest and entry["size"] == f.size:
                self.touched.append((f, digest))
            else:
                self.todo.append((f, digest, entry is None))


def _chunk_fields(fields: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "name", "suffix", "kind", "size", "mtime")
    return {k: fields[k] for k in keys}


def _moments(opened: OpenIndex, fields: dict[str, Any]) -> list[Any]:
    from docstack.video import segment_video

    image = opened.image_encoder
    moments = segment_video(
        fields["path"], video_id=fields["id"], keyframe_size=224 if image else 64
    )
    keyframes = [m.keyframe for m in moments]
    vectors = None
    if image is not None and keyframes:
        vectors = image.encode([k for k in keyframes], modality="image")
    shared = _chunk_fields(fields)
    out = []
    for i, m in enumerate(moments):
        extra = {"embedding": vectors[i]} if vectors is not None else {}
        out.append(
            opened.schema.moment(
                id=m.id,
                parent_doc_id=fields["id"],
                start=m.start,
                end=m.end,
                keyframe_time=m.keyframe_time,
                keyframe=None if m.keyframe is None else thumbnail(m.keyframe),
                **shared,
                **extra,
            )
        )
    return out


class _Builder:
    """Builds the documents of a batch of files: chunks, moments, image vectors."""

    def __init__(self, opened: OpenIndex) -> None:
        from docstack.chunking import RecursiveChunker

        s = opened.settings
        self.opened = opened
        self.chunker = RecursiveChunker(s.chunk_size, s.chunk_overlap)
        self.failed: list[str] = []
        self.images = 0
        self.has_pdf = importlib.util.find_spec("pypdf") is not None

    def build(self, batch: Sequence[tuple[FoundFile, str, bool]]) -> list[Any]:
        read: list[tuple[dict[str, Any], Any]] = []
        for found, digest, _ in batch:
            try:
                read.append(read_file(found, digest))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                self.failed.append(found.path)
                note(f"skipped {found.path}: {exc}")
        texts = [f.get("text") or "" for f, _ in read]
        splits = self.chunker.split_batch(texts)
        image_at = [i for i, (_, px) in enumerate(read) if px is not None]
        self.images += len(image_at)
        vectors: dict[int, Any] = {}
        image = self.opened.image_encoder
        if image is not None and image_at:
            encoded = image.encode([read[i][1] for i in image_at], modality="image")
            vectors = dict(zip(image_at, encoded))
        docs = []
        schema = self.opened.schema
        for i, ((fields, _), pieces) in enumerate(zip(read, splits)):
            shared = _chunk_fields(fields)
            chunks = [
                schema.chunk(
                    id=f"{fields['id']}:{j}",
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    chunk_position=j,
                    parent_doc_id=fields["id"],
                    **shared,
                )
                for j, c in enumerate(pieces)
            ]
            if not chunks:  # no text: the file is found by its name
                chunks = [
                    schema.chunk(
                        id=f"{fields['id']}:0",
                        text=fields["title"],
                        parent_doc_id=fields["id"],
                        **shared,
                    )
                ]
            moments = []
            if fields["kind"] == "video":
                try:
                    moments = _moments(self.opened, fields)
                except Exception as exc:  # noqa: BLE001
                    note(f"{fields['path']}: indexed without moments: {exc}")
            if i in vectors:
                fields["image_embedding"] = vectors[i]
            docs.append(schema.file(**fields, chunks=chunks, moments=moments))
        return docs


def run_index(args: Any) -> int:
    """Run ``docstack index`` (see ``docstack index --help``); answers the exit status."""
    import time

    opened, created = _open(args)
    index = opened.index
    folder = opened.folder
    manifest = Manifest(folder)
    if not manifest.files and index.num_docs():
        raise CliError(
            f"{folder} holds {index.num_docs()} documents but no {manifest.path.name}; "
            "re-index into a new folder"
        )
    found, unknown = find_files(args.sources, skip=[str(folder)])
    if unknown:
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(unknown.items()))
        note(f"left out {sum(unknown.values())} files of kinds docstack does not read: {kinds}")
    if any(f.kind == "pdf" for f in found) and importlib.util.find_spec("pypdf") is None:
        pdfs = sum(f.kind == "pdf" for f in found)
        note(f"left out {pdfs} PDF files: pip install pypdf to index PDFs")
        found = [f for f in found if f.kind != "pdf"]
    plan = _Plan(found, manifest, args.force)
    started = time.perf_counter()
    builder = _Builder(opened)
    chunks = 0
    with _progress(args.quiet) as advance:
        advance(None, len(plan.todo))
        for start in range(0, len(plan.todo), BATCH):
            batch = plan.todo[start : start + BATCH]
            docs = builder.build(batch)
            if docs:
                index.index(docs)
            done = {d.id for d in docs}
            for found_file, digest, _ in batch:
                fid = file_id(found_file.path)
                if fid in done:
                    manifest.files[fid] = _entry(found_file, digest)
            chunks += sum(len(d.chunks) for d in docs)
            manifest.save()
            advance(len(batch), None)
    for found_file, digest in plan.touched:
        fid = file_id(found_file.path)
        index.update(fid, mtime=found_file.mtime_ns / 1e9)
        manifest.files[fid] = _entry(found_file, digest)
    removed = _sync(index, manifest, args.sync)
    manifest.save()
    if opened.settings.backend == "hnsw":
        # a first text search makes the FTS5 tables of the files' and the chunks' text now,
        # while the folder is open for writing: read-only commands (search, serve) find them
        for searched in (index, index.subindices["chunks"]):
            if searched.num_docs():
                searched.text_search("docstack", search_field="text", limit=1)
    if builder.images and opened.image_encoder is None:
        note("images indexed without embeddings: no image model configured (--image-encoder)")
    new = sum(is_new for f, _, is_new in plan.todo if file_id(f.path) in manifest.files)
    indexed = len(plan.todo) - len(builder.failed)
    print(
        f"indexed {indexed} files ({new} new, {indexed - new} changed, {chunks} chunks), "
        f"{plan.unchanged + len(plan.touched)} unchanged, {removed} removed, in "
        f"{time.perf_counter() - started:.1f} s; {index.num_docs()} files in {folder}"
    )
    if builder.failed:
        note(f"{len(builder.failed)} files could not be read (see above)")
        return 1
    return 0


def _entry(found: FoundFile, digest: str) -> dict[str, Any]:
    return {
        "path": found.path,
        "kind": found.kind,
        "size": found.size,
        "mtime_ns": found.mtime_ns,
        "sha256": digest,
    }


def _sync(index: Any, manifest: Manifest, sync: bool) -> int:
    gone = [fid for fid, e in manifest.files.items() if not os.path.exists(e["path"])]
    if not gone:
        return 0
    if not sync:
        note(f"{len(gone)} indexed files are gone; run with --sync to remove their documents")
        return 0
    index.delete(ids=gone)
    for fid in gone:
        del manifest.files[fid]
    return len(gone)


class _progress:
    """A rich progress bar on stderr (none when quiet or not on a terminal); ``advance(n,
    total)`` moves it by ``n`` files or sets its total."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Optional[Any] = None
        if quiet or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("Indexing files", total=None)

    def __enter__(self) -> Any:
        if self.bar is not None:
            self.bar.start()

        def advance(n: Optional[int], total: Optional[int]) -> None:
            if self.bar is None:
                return
            if total is not None:
                self.bar.update(self.task, total=total)
            if n:
                self.bar.advance(self.task, n)

        return advance

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()
