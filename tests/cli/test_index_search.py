"""``docstack index`` and ``docstack search`` in process, with the hashed-words encoder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import run, write_mp4, write_ply, write_png, write_wav

ENC = "hashing:128"


def _search(capsys, index, query, *extra):
    code, out, err = run(capsys, "search", query, "--index", str(index), "--json", *extra)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_index_then_search_finds_the_file_by_its_words(capsys, corpus, tmp_path):
    index = tmp_path / "idx"
    code, out, err = run(capsys, "index", str(corpus), "--into", str(index), "--encoder", ENC)
    assert code == 0, err
    assert "indexed 3 files (3 new, 0 changed, 3 chunks)" in out
    # indexing made the chunks' FTS5 table: read-only searches find it ready
    import sqlite3

    with sqlite3.connect(index / "docstack.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"docs__fts__text", "docs__chunks__fts__text"} <= tables
    for mode in ("vector", "text", "hybrid"):
        hits = _search(capsys, index, "blue sea horizon", "--mode", mode)
        assert Path(hits[0]["path"]).name == "sea.txt", mode
        assert hits[0]["rank"] == 1 and hits[0]["higher_is_better"] is True
        assert hits[0]["score_kind"] == {"vector": "cosine", "text": "bm25", "hybrid": "rrf"}[mode]
        assert "blue sea" in hits[0]["snippet"]
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True)
    # a file appears once however many of its chunks match
    assert len({h["path"] for h in hits}) == len(hits)
    assert len(_search(capsys, index, "sea", "--limit", "1")) == 1


def test_table_output_shows_rank_score_direction_path_and_snippet(
    capsys, corpus, tmp_path, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "300")
    (corpus / "markup.txt").write_text("a [bold]rocket[/bold] in square brackets")
    index = tmp_path / "idx"
    run(capsys, "index", str(corpus), "--into", str(index), "--encoder", ENC)
    code, out, _ = run(capsys, "search", "rocket orbit", "--index", str(index), "--mode", "text")
    assert code == 0
    assert "higher is better" in out and "bm25" in out
    assert "rockets.rst" in out and "rocket engine" in out
    assert "a [bold]rocket[/bold] in square brackets" in out  # texts are not rich markup


def test_long_texts_are_chunked_and_hits_grouped_by_file(capsys, tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    paragraphs = [f"Paragraph {i} talks about topic{i} and nothing else." for i in range(40)]
    (root / "long.txt").write_text("\n\n".join(paragraphs))
    (root / "short.txt").write_text("topic3 appears here once.")
    index = tmp_path / "idx"
    code, out, _ = run(
        capsys, "index", str(root), "--into", str(index), "--encoder", ENC, "--chunk-size", "200"
    )
    assert code == 0
    chunks = int(out.split("changed, ")[1].split(" chunks")[0])
    assert chunks > 5  # the long file became several chunks
    hits = _search(capsys, index, "topic7", "--mode", "text")
    assert Path(hits[0]["path"]).name == "long.txt"
    assert "topic7" in hits[0]["snippet"]
    text = (root / "long.txt").read_text()
    chunk = hits[0]["chunk"]
    assert "topic7" in text[chunk["start"] : chunk["end"]]
    hits = _search(capsys, index, "Paragraph talks topic3", "--mode", "text", "--limit", "5")
    assert sorted(Path(h["path"]).name for h in hits) == ["long.txt", "short.txt"]


def test_reindexing_skips_unchanged_replaces_changed_and_sync_removes(capsys, corpus, tmp_path):
    index = tmp_path / "idx"
    args = ("index", str(corpus), "--into", str(index))
    assert run(capsys, *args, "--encoder", ENC)[0] == 0
    code, out, _ = run(capsys, *args)  # the encoder is recorded: no need to repeat it
    assert code == 0 and "indexed 0 files" in out and "3 unchanged" in out

    sea = corpus / "sea.txt"
    sea.write_text("A green valley full of wild horses.\n")
    code, out, _ = run(capsys, *args)
    assert "indexed 1 files (0 new, 1 changed" in out and "2 unchanged" in out
    assert Path(_search(capsys, index, "wild horses valley")[0]["path"]).name == "sea.txt"
    assert not any("blue sea" in h["snippet"] for h in _search(capsys, index, "blue sea"))

    # a new mtime with the same content is not read again
    os.utime(sea, ns=(1, 1))
    code, out, _ = run(capsys, *args)
    assert "indexed 0 files" in out and "3 unchanged" in out

    (corpus / "fruit.md").unlink()
    code, out, err = run(capsys, *args)
    assert "0 removed" in out and "1 indexed files are gone" in err
    assert any(Path(h["path"]).name == "fruit.md" for h in _search(capsys, index, "apples"))
    code, out, _ = run(capsys, *args, "--sync")
    assert code == 0 and "1 removed" in out and "2 files in" in out
    hits = _search(capsys, index, "apples pears orchard")
    assert all(Path(h["path"]).name != "fruit.md" for h in hits)
    code, out, _ = run(capsys, "info", str(index), "--json")
    info = json.loads(out)
    assert info["files"] == 2 and info["chunks"] == 2 and info["kinds"] == {"text": 2}


def test_every_kind_of_file_becomes_a_document(capsys, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    write_png(root / "sunset_beach.png", (40, 30))
    write_wav(root / "beep.wav", seconds=0.5)
    write_mp4(root / "clip.mp4")
    write_ply(root / "box.ply")
    (root / "readme.md").write_text("# Media\n\nA few files.")
    (root / "data.bin").write_bytes(b"\x00\x01")
    index = tmp_path / "idx"
    code, out, err = run(capsys, "index", str(root), "--into", str(index), "--encoder", ENC)
    assert code == 0, err
    assert "indexed 5 files" in out
    assert "images indexed without embeddings: no image model configured" in err
    assert ".bin (1)" in err

    from docstack.cli._settings import IndexSettings, open_folder

    opened = open_folder(index, IndexSettings.read(index), read_only=True)
    docs = {d.name: d for d in opened.index.filter({}, limit=10)}
    png = docs["sunset_beach.png"]
    assert (png.kind, png.width, png.height) == ("image", 40, 30)
    assert png.thumbnail.shape == (30, 40, 3) and png.text is None
    wav = docs["beep.wav"]
    assert (wav.kind, wav.sample_rate, wav.channels) == ("audio", 8000, 1)
    assert abs(wav.duration - 0.5) < 1e-6
    mp4 = docs["clip.mp4"]
    assert mp4.kind == "video" and abs(mp4.duration - 2.0) < 0.2
    assert [(round(m.start, 1), round(m.end, 1)) for m in mp4.moments] == [(0, 1), (1, 2)]
    assert mp4.moments[0].keyframe.shape[2] == 3
    ply = docs["box.ply"]
    assert (ply.kind, ply.vertices, ply.faces) == ("mesh", 8, 12)
    assert docs["readme.md"].title == "Media"
    # files without text are found by their name
    hits = _search(capsys, index, "sunset beach", "--mode", "text")
    assert Path(hits[0]["path"]).name == "sunset_beach.png" and hits[0]["kind"] == "image"
    hits = _search(capsys, index, "beach", "--filter", '{"kind": "text"}')
    assert all(h["kind"] == "text" for h in hits)
    hits = _search(capsys, index, "box", "--filter", '{"suffix": {"$in": [".ply", ".wav"]}}')
    assert {Path(h["path"]).suffix for h in hits} <= {".ply", ".wav"}
    assert Path(hits[0]["path"]).name == "box.ply"


def test_globs_and_single_files_are_sources(capsys, corpus, tmp_path):
    index = tmp_path / "idx"
    code, out, _ = run(
        capsys,
        "index",
        str(corpus / "*.md"),
        str(corpus / "notes" / "rockets.rst"),
        "--into",
        str(index),
        "--encoder",
        ENC,
    )
    assert code == 0 and "indexed 2 files" in out
    names = {Path(h["path"]).name for h in _search(capsys, index, "apples rocket sea")}
    assert names == {"fruit.md", "rockets.rst"}


@pytest.mark.parametrize("backend", ["qdrant", "milvus"])
def test_other_backends_are_recorded_and_reopened(capsys, corpus, tmp_path, backend):
    pytest.importorskip({"qdrant": "qdrant_client", "milvus": "milvus_lite"}[backend])
    index = tmp_path / "idx"
    argv = ("index", str(corpus), "--into", str(index))
    code, out, err = run(capsys, *argv, "--encoder", ENC, "--backend", backend)
    assert code == 0, err
    info = json.loads(run(capsys, "info", str(index), "--json")[1])
    assert info["backend"] == backend and info["files"] == 3
    assert all(Path(v).is_absolute() for v in info["connection"].values())
    assert Path(_search(capsys, index, "blue sea")[0]["path"]).name == "sea.txt"
    (corpus / "sea.txt").unlink()
    code, out, _ = run(capsys, *argv, "--sync")  # the backend is recorded, not repeated
    assert code == 0 and "1 removed" in out and "2 files in" in out
    assert all(Path(h["path"]).name != "sea.txt" for h in _search(capsys, index, "blue sea"))


def test_an_unreadable_file_is_skipped_with_a_note_and_status_1(capsys, corpus, tmp_path):
    (corpus / "broken.png").write_bytes(b"not a png at all")
    index = tmp_path / "idx"
    argv = ("index", str(corpus), "--into", str(index), "--encoder", ENC)
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert "skipped" in err and "broken.png" in err and "1 files could not be read" in err
    assert "indexed 3 files" in out and "3 files in" in out
    # it is tried again next time (it never entered the index), the rest is unchanged
    code, out, err = run(capsys, *argv)
    assert code == 1 and "3 unchanged" in out
    (corpus / "broken.png").unlink()
    code, out, _ = run(capsys, *argv, "--force")
    assert code == 0 and "indexed 3 files (0 new, 3 changed" in out


def test_a_same_named_txt_file_is_the_caption_of_a_media_file(capsys, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    write_png(root / "harbour.png")
    (root / "harbour.txt").write_text("Fishing boats moored in a quiet harbour at dawn.")
    (root / "alone.txt").write_text("A text file with no image beside it.")
    index = tmp_path / "idx"
    args = ("index", str(root), "--into", str(index), "--encoder", ENC)
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "indexed 2 files" in out  # the caption is not a document of its own
    hit = _search(capsys, index, "fishing boats harbour", "--mode", "text")[0]
    assert Path(hit["path"]).name == "harbour.png" and "Fishing boats" in hit["snippet"]
    # editing the caption indexes the image again, with the new text
    (root / "harbour.txt").write_text("A red lighthouse on a rocky cape.")
    os.utime(root / "harbour.txt", ns=(10**18, 10**18))
    code, out, _ = run(capsys, *args)
    assert "indexed 1 files (0 new, 1 changed" in out
    hit = _search(capsys, index, "lighthouse cape", "--mode", "text")[0]
    assert Path(hit["path"]).name == "harbour.png"
