"""DocArray's module path for the TensorFlow image tensor type; it lives in ``docstack.typing.tensor.tensorflow_tensor``."""

from docstack.typing.tensor.tensorflow_tensor import ImageTensorFlowTensor

__all__ = ["ImageTensorFlowTensor"]
