"""DocArray's module path for the TensorFlow audio tensor type; it lives in ``docstack.typing.tensor.tensorflow_tensor``."""

from docstack.typing.tensor.tensorflow_tensor import AudioTensorFlowTensor

__all__ = ["AudioTensorFlowTensor"]
