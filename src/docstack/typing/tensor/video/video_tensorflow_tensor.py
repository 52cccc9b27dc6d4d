"""DocArray's module path for the TensorFlow video tensor type; it lives in ``docstack.typing.tensor.tensorflow_tensor``."""

from docstack.typing.tensor.tensorflow_tensor import VideoTensorFlowTensor

__all__ = ["VideoTensorFlowTensor"]
