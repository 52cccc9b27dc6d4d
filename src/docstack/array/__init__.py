"""Arrays of documents: the row-wise ``DocList`` and the column-wise ``DocVec``."""

from docstack.array.any_array import AnyDocArray
from docstack.array.doc_list import DocList
from docstack.array.doc_vec import DocVec

__all__ = ["AnyDocArray", "DocList", "DocVec"]
