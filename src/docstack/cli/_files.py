"""Files to documents: finding the files of the sources given, telling their kind, and
reading each into a ``FileDoc`` (text, image, audio, video, mesh or PDF metadata)."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

from docstack.cli._encoders import CliError

__all__ = ["FoundFile", "content_digest", "file_id", "find_files", "kind_of", "read_file"]

KINDS: dict[str, frozenset[str]] = {
    "text": frozenset(
        ".txt .text .md .markdown .rst .org .adoc .tex .csv .tsv .json .yaml .yml .toml .ini "
        ".log .html .htm .xml .py .js .ts .c .h .cpp .java .go .rs .sh".split()
    ),
    "image": frozenset(".png .jpg .jpeg .gif .bmp .webp .tif .tiff".split()),
    "audio": frozenset(".wav .mp3 .ogg .oga .flac".split()),
    "video": frozenset(".mp4 .avi .mov .webm .mkv".split()),
    "mesh": frozenset(".ply .obj .stl .glb .gltf .off".split()),
    "pdf": frozenset({".pdf"}),
}
_BY_SUFFIX = {suffix: kind for kind, suffixes in KINDS.items() for suffix in suffixes}
THUMBNAIL = 64  # longest side of stored thumbnails and key frames, in pixels
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


class FoundFile(NamedTuple):
    """A file to index: its absolute path, kind, size and modification time.

    A media file may have a caption: a ``.txt`` file of the same name stem in the same folder
    (``cat.png`` and ``cat.txt``, the convention of image-caption datasets). Its text is the
    media document's ``text`` (chunked, embedded and searched), and ``size``/``mtime_ns``
    count both files, so editing the caption indexes the file again.
    """

    path: str
    kind: str
    size: int
    mtime_ns: int
    caption: Optional[str] = None


def kind_of(path: str) -> Optional[str]:
    """The kind of a file by its suffix, or ``None`` when docstack does not read it.

    >>> kind_of('notes/a.MD'), kind_of('x.flac'), kind_of('x.bin')
    ('text', 'audio', None)
    """
    return _BY_SUFFIX.get(os.path.splitext(path)[1].lower())


def file_id(path: str) -> str:
    """A document id for a file: a stable hash of its absolute path.

    >>> file_id('/data/a.txt') == file_id('/data/a.txt'), len(file_id('/data/a.txt'))
    (True, 24)
    """
    return hashlib.blake2b(os.path.abspath(path).encode(), digest_size=12).hexdigest()


def sha256_of(path: str) -> str:
    """The SHA-256 of a file's content, read in blocks.

    >>> import tempfile
    >>> p = tempfile.NamedTemporaryFile(delete=False); p.write(b'abc'); p.close()
    3
    >>> sha256_of(p.name)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_digest(found: FoundFile) -> str:
    """The SHA-256 of a found file's content, and of its caption's when it has one.

    >>> import tempfile
    >>> p = tempfile.NamedTemporaryFile(delete=False); p.write(b'abc'); p.close()
    3
    >>> content_digest(FoundFile(p.name, 'text', 3, 0)) == sha256_of(p.name)
    True
    """
    digest = sha256_of(found.path)
    if found.caption is None:
        return digest
    return hashlib.sha256(f"{digest}:{sha256_of(found.caption)}".encode()).hexdigest()


_MEDIA = frozenset({"image", "audio", "video", "mesh"})


def _pair_captions(seen: dict[str, FoundFile]) -> dict[str, FoundFile]:
    """Attach each ``.txt`` file named like a media file of its folder to that file."""
    media = {
        os.path.splitext(p)[0]: p
        for p, f in seen.items()
        if f.kind in _MEDIA and os.path.splitext(p)[1].lower() != ".txt"
    }
    out = dict(seen)
    for path, found in seen.items():
        stem, suffix = os.path.splitext(path)
        owner = media.get(stem) if suffix.lower() == ".txt" else None
        if owner is None:
            continue
        m = out[owner]
        out[owner] = m._replace(
            size=m.size + found.size, mtime_ns=max(m.mtime_ns, found.mtime_ns), caption=path
        )
        del out[path]
    return out


def _walk(folder: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def find_files(sources: Iterable[str], skip: Iterable[str] = ()) -> tuple[list[FoundFile], dict]:
    """The files of ``sources`` (files, folders searched recursively, glob patterns), and
    how many of each unknown suffix were left out.

    Hidden files and folders are left out of folder walks; ``skip`` are folders never read
    (the index folder itself).

    Example
    -------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> for n in ('a.txt', 'b.png', 'c.bin'): _ = open(os.path.join(d, n), 'w').write('x')
    >>> found, unknown = find_files([d])
    >>> [(os.path.basename(f.path), f.kind) for f in found], unknown
    ([('a.txt', 'text'), ('b.png', 'image')], {'.bin': 1})
    """
    skipped = [os.path.abspath(s) + os.sep for s in skip]
    seen: dict[str, FoundFile] = {}
    unknown: dict[str, int] = {}
    for source in sources:
        expanded = os.path.expanduser(source)
        if os.path.isdir(expanded):
            paths: Iterable[str] = _walk(expanded)
        elif os.path.isfile(expanded):
            paths = [expanded]
        elif glob.has_magic(expanded):
            matches = sorted(glob.glob(expanded, recursive=True))
            if not matches:
                raise CliError(f"no files match {source!r}")
            paths = [p for m in matches for p in (_walk(m) if os.path.isdir(m) else [m])]
        else:
            raise CliError(f"source {source!r} does not exist")
        for path in paths:
            absolute = os.path.abspath(path)
            if absolute in seen or any(absolute.startswith(s) for s in skipped):
                continue
            kind = kind_of(absolute)
            if kind is None:
                suffix = os.path.splitext(absolute)[1].lower() or "(none)"
                unknown[suffix] = unknown.get(suffix, 0) + 1
                continue
            stat = os.stat(absolute)
            seen[absolute] = FoundFile(absolute, kind, stat.st_size, stat.st_mtime_ns)
    return list(_pair_captions(seen).values()), unknown


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines()[:50]:
        heading = _HEADING.match(line)
        if heading:
            return heading.group(1)[:200]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:200] or fallback


def _read_text(path: str) -> str:
    data = Path(path).read_bytes()
    if b"\x00" in data[:8192]:
        raise CliError(f"{path}: looks binary, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def thumbnail(image: np.ndarray, size: int = THUMBNAIL) -> np.ndarray:
    """A small copy of an ``(H, W, C)`` image, its longest side at most ``size`` (every
    n-th pixel: cheap, and enough for a preview).

    >>> thumbnail(np.zeros((300, 150, 3), np.uint8)).shape
    (60, 30, 3)
    """
    step = max(1, int(np.ceil(max(image.shape[:2]) / size)))
    return np.ascontiguousarray(image[::step, ::step, :3])


def _image(path: str, meta: dict[str, Any]) -> np.ndarray:
    from docstack._internal.optional import import_optional

    pil = import_optional("PIL.Image")
    with pil.open(path) as img:
        meta["width"], meta["height"] = img.size
        rgb = np.asarray(img.convert("RGB"))
    meta["thumbnail"] = thumbnail(rgb)
    return rgb


def _audio(path: str, meta: dict[str, Any]) -> None:
    try:
        import soundfile

        info = soundfile.info(path)
        meta.update(duration=float(info.duration), sample_rate=int(info.samplerate))
        meta["channels"] = int(info.channels)
        return
    except ImportError:
        if path.lower().endswith(".wav"):
            import wave

            with wave.open(path) as w:
                meta.update(sample_rate=w.getframerate(), channels=w.getnchannels())
                meta["duration"] = w.getnframes() / float(w.getframerate())
            return
    except RuntimeError:
        pass  # a format libsndfile does not read: try PyAV
    _av_metadata(path, meta, "audio")


def _av_metadata(path: str, meta: dict[str, Any], kind: str) -> None:
    from docstack._internal.optional import import_optional

    av = import_optional("av")
    try:
        with av.open(path) as container:
            if container.duration is not None:
                meta["duration"] = container.duration / 1_000_000
            for stream in container.streams:
                if stream.type == "audio" and kind == "audio":
                    meta.update(sample_rate=stream.rate, channels=stream.channels)
                if stream.type == "video" and kind == "video":
                    meta.update(width=stream.width, height=stream.height)
                    if stream.average_rate:
                        meta["frame_rate"] = float(stream.average_rate)
    except av.error.FFmpegError as exc:
        raise CliError(f"{path}: not a readable {kind} file ({exc})") from exc


def _mesh(path: str, meta: dict[str, Any]) -> None:
    from docstack._internal.optional import import_optional

    trimesh = import_optional("trimesh")
    mesh = trimesh.load(path, force="mesh")
    meta["vertices"] = int(len(mesh.vertices))
    meta["faces"] = int(len(getattr(mesh, "faces", ())))


def _pdf(path: str, meta: dict[str, Any]) -> str:
    import pypdf

    reader = pypdf.PdfReader(path)
    meta["pages"] = len(reader.pages)
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _name_words(name: str) -> str:
    stem = os.path.splitext(name)[0]
    return " ".join(re.split(r"[\W_]+", stem)).strip() or stem


def read_file(found: FoundFile, sha256: str) -> tuple[dict[str, Any], Any]:
    """The fields of a file's document, and for images the full pixels (for an image
    encoder); the caller adds chunks and moments.

    Example
    -------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), 'note.md')
    >>> _ = open(p, 'w').write('# Groceries\\n\\nmilk, eggs')
    >>> fields, pixels = read_file(FoundFile(p, 'text', 22, 0), 'f')
    >>> fields['title'], fields['text'][-4:], pixels
    ('Groceries', 'eggs', None)
    """
    path = found.path
    name = os.path.basename(path)
    fields: dict[str, Any] = {
        "id": file_id(path),
        "path": path,
        "name": name,
        "suffix": os.path.splitext(name)[1].lower(),
        "kind": found.kind,
        "size": found.size,
        "mtime": found.mtime_ns / 1e9,
        "sha256": sha256,
        "title": _name_words(name),
    }
    pixels = None
    if found.kind == "text":
        text = _read_text(path)
        fields["text"] = text
        fields["title"] = _title(text, fields["title"])
    elif found.kind == "image":
        pixels = _image(path, fields)
    elif found.kind == "audio":
        _audio(path, fields)
    elif found.kind == "video":
        _av_metadata(path, fields, "video")
    elif found.kind == "mesh":
        _mesh(path, fields)
    elif found.kind == "pdf":
        fields["text"] = _pdf(path, fields)
    if found.caption is not None:
        fields["text"] = _read_text(found.caption)
    return fields, pixels
