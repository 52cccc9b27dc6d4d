"""Utilities over document arrays: filtering, exact search, parallel map and reduce."""

from docstack.utils.filter import FilterError, filter_docs
from docstack.utils.find import FindResult, FindResultBatched, find, find_batched
from docstack.utils.map import map_docs, map_docs_batched
from docstack.utils.reduce import reduce, reduce_all

__all__ = [
    "FilterError",
    "FindResult",
    "FindResultBatched",
    "filter_docs",
    "find",
    "find_batched",
    "map_docs",
    "map_docs_batched",
    "reduce",
    "reduce_all",
]
