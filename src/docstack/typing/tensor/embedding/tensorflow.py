"""DocArray's module path for the TensorFlow embedding type; it lives in ``docstack.typing.tensor.tensorflow_tensor``."""

from docstack.typing.tensor.tensorflow_tensor import TensorFlowEmbedding

__all__ = ["TensorFlowEmbedding"]
