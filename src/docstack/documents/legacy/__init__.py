"""``LegacyDocument``: a document with the fields of DocArray v1's ``Document``.

Example
-------
>>> from docstack.documents.legacy import LegacyDocument
>>> LegacyDocument(text='hello').tags
{}
"""

from docstack.documents.legacy.legacy_document import LegacyDocument

__all__ = ["LegacyDocument"]
