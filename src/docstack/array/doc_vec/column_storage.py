"""DocArray's module path for DocVec's column storage; it lives in ``docstack.array._column_storage``."""

from docstack.array._column_storage import ColumnStorage

__all__ = ["ColumnStorage"]
