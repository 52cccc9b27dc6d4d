"""DocArray's module path for the FastAPI JSON response for documents; it lives in ``docstack.io._fastapi``."""

from docstack.io._fastapi import DocstackResponse as DocArrayResponse

__all__ = ["DocArrayResponse"]
