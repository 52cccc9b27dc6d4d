"""docstack: typed multimodal documents you can represent, send, store and search.

Example
-------
>>> from docstack import BaseDoc, DocList
>>> from docstack.typing import NdArray
>>> class MyDoc(BaseDoc):
...     text: str
...     embedding: NdArray[3]
>>> docs = DocList[MyDoc]([MyDoc(text='hi', embedding=[1, 2, 3])])
>>> docs.text
['hi']
"""

from docstack.array import AnyDocArray, DocList, DocVec
from docstack.base_doc import AnyDoc, BaseDoc, BaseDocWithoutId

__version__ = "0.1.0"

__all__ = [
    "AnyDoc",
    "AnyDocArray",
    "BaseDoc",
    "BaseDocWithoutId",
    "DocList",
    "DocVec",
    "__version__",
]
