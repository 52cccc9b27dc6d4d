"""The column-wise ``DocVec`` (``docstack.array.doc_vec.doc_vec``) and DocArray's path of
its storage (``docstack.array.doc_vec.column_storage``)."""

from docstack.array.doc_vec.doc_vec import DocVec

__all__ = ["DocVec"]
