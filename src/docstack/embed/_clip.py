"""CLIP-style text and image encoders through transformers (extra ``clip``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from docstack._internal.optional import import_optional
from docstack.embed._base import IMAGE, TEXT, Encoder, EncoderError
from docstack.embed._device import resolve_device

__all__ = ["ClipEncoder", "as_rgb_array"]


def as_rgb_array(image: Any) -> np.ndarray:
    """An image as an ``(H, W, 3)`` uint8 array.

    Takes PIL images, ``(H, W)`` grey, ``(H, W, 3)`` RGB and ``(H, W, 4)`` RGBA arrays
    (docstack's ``ImageTensor``, what ``ImageUrl.load()`` answers), uint8 or float in
    ``[0, 1]``, and documents with an image ``tensor``.

    >>> import numpy as np
    >>> as_rgb_array(np.zeros((4, 5), dtype=np.uint8)).shape
    (4, 5, 3)
    >>> as_rgb_array(np.ones((2, 2, 3), dtype=np.float32))[0, 0].tolist()
    [255, 255, 255]
    """
    if getattr(image, "tensor", None) is not None:
        image = image.tensor
    if type(image).__module__.startswith("PIL"):
        image = image.convert("RGB")
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise EncoderError(
            f"an image must be (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}"
        )
    array = array[:, :, :3]
    if array.dtype != np.uint8:
        if array.dtype.kind == "f" and array.size and float(array.max()) <= 1.0:
            array = array * 255.0
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return array


def _load(model: Union[str, os.PathLike, Sequence[Any]]) -> tuple[Any, Any, Any]:
    """(model, tokenizer, image processor) from a name, a folder or the objects."""
    transformers = import_optional("transformers", "clip")
    if isinstance(model, (str, os.PathLike)):
        source = str(model)
        return (
            transformers.AutoModel.from_pretrained(source),
            transformers.AutoTokenizer.from_pretrained(source),
            transformers.AutoImageProcessor.from_pretrained(source),
        )
    parts = tuple(model)
    if len(parts) == 3:
        return parts  # type: ignore[return-value]
    if len(parts) == 2:
        clip_model, processor = parts
        tokenizer = getattr(processor, "tokenizer", None)
        images = getattr(processor, "image_processor", None)
        if tokenizer is not None and images is not None:
            return clip_model, tokenizer, images
    raise EncoderError(
        "model must be a name, a folder, (model, processor) with a tokenizer and an image "
        "processor, or (model, tokenizer, image_processor)"
    )


def _features(output: Any) -> Any:
    # transformers 5 answers an output object whose pooler_output is the projected embedding
    return output if hasattr(output, "dim") else output.pooler_output


class ClipEncoder(Encoder):
    """A CLIP-style model that puts texts and images in one vector space.

    Runs ``get_text_features`` / ``get_image_features`` of a transformers model (CLIP, and
    models with the same two methods) and answers unit-length vectors, so a text query
    finds images and the other way round. One call embeds one modality; images are PIL
    images, ``(H, W, 3)`` arrays or image documents (see :func:`as_rgb_array`).

    Parameters
    ----------
    model:
        A hub name (``'openai/clip-vit-base-patch32'``), a local folder saved with
        ``save_pretrained`` (model, tokenizer and image processor), ``(model, processor)``
        or ``(model, tokenizer, image_processor)``.
    device:
        Where the model runs; default ``'cuda'`` when torch sees a GPU, else ``'cpu'``.
    batch_size:
        Inputs per forward pass.
    name:
        The name recorded by an index; default the model's name or folder name.

    Example
    -------
    With real weights: ``ClipEncoder('openai/clip-vit-base-patch32')``. Here a tiny CLIP
    with random weights, its tokenizer and image processor given as objects (the vectors
    mean nothing; the plumbing is the same):

    >>> import numpy as np
    >>> from tokenizers import Tokenizer, models, pre_tokenizers, processors
    >>> from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel
    >>> from transformers import PreTrainedTokenizerFast
    >>> vocab = {'<pad>': 0, '</s>': 1, 'a': 2, 'photo': 3, 'of': 4, 'cat': 5}
    >>> words = Tokenizer(models.WordLevel(vocab, unk_token='<pad>'))
    >>> words.pre_tokenizer = pre_tokenizers.Whitespace()
    >>> words.post_processor = processors.TemplateProcessing(
    ...     single='$A </s>', special_tokens=[('</s>', 1)])
    >>> tokenizer = PreTrainedTokenizerFast(
    ...     tokenizer_object=words, pad_token='<pad>', eos_token='</s>')
    >>> tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
    ...              num_attention_heads=2)
    >>> text = dict(tower, vocab_size=6, max_position_embeddings=16, pad_token_id=0,
    ...             bos_token_id=1, eos_token_id=1)
    >>> config = CLIPConfig(text_config=text, vision_config=dict(tower, image_size=32,
    ...                     patch_size=8), projection_dim=16)
    >>> pixels = CLIPImageProcessor(size={'shortest_edge': 32},
    ...                             crop_size={'height': 32, 'width': 32})
    >>> enc = ClipEncoder((CLIPModel(config), tokenizer, pixels), device='cpu')
    >>> texts = enc.encode(['a photo of a cat'])
    >>> images = enc.encode([np.zeros((48, 64, 3), dtype=np.uint8)])
    >>> texts.shape, images.shape, enc.dim
    ((1, 16), (1, 16), 16)
    >>> bool(abs(float(texts[0] @ images[0])) <= 1.0)  # unit vectors of one space
    True
    """

    modalities = frozenset({TEXT, IMAGE})
    normalized = True

    def __init__(
        self,
        model: Union[str, os.PathLike, Sequence[Any]],
        device: Optional[str] = None,
        batch_size: int = 32,
        name: Optional[str] = None,
    ) -> None:
        self._torch = import_optional("torch", "clip")
        self.device = resolve_device(device, "clip")
        clip_model, self.tokenizer, self.image_processor = _load(model)
        self.model = clip_model.to(self.device).eval()
        config = self.model.config
        text_config = getattr(config, "text_config", config)
        self.max_length = int(getattr(text_config, "max_position_embeddings", 77))
        self.dim = int(getattr(config, "projection_dim", 0) or self._probe_dim())
        if isinstance(model, (str, os.PathLike)):
            default = Path(model).name if Path(model).exists() else str(model)
        else:
            default = getattr(config, "_name_or_path", "") or type(self.model).__name__
        self.name = name or default
        self.batch_size = int(batch_size)

    def _probe_dim(self) -> int:
        return int(self._encode_batch(["a"], TEXT).shape[1])

    def _encode_batch(self, items: Sequence[Any], modality: str) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            if modality == TEXT:
                if not all(isinstance(t, str) for t in items):
                    raise EncoderError(
                        "a text batch holds something that is not a str: embed texts and "
                        "images in separate calls"
                    )
                inputs = self.tokenizer(
                    list(items),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                inputs = {k: v.to(self.device) for k, v in inputs.items()}
                out = _features(self.model.get_text_features(**inputs))
            else:
                if any(isinstance(t, str) for t in items):
                    raise EncoderError(
                        "an image batch holds a str: embed texts and images in separate calls"
                    )
                arrays = [as_rgb_array(image) for image in items]
                pixels = self.image_processor(
                    images=arrays, return_tensors="pt", input_data_format="channels_last"
                )["pixel_values"].to(self.device)
                out = _features(self.model.get_image_features(pixel_values=pixels))
            out = torch.nn.functional.normalize(out.float(), dim=-1)
        return out.cpu().numpy()
