"""Retrieval helpers shared by every index: fusing ranked lists.

Example
-------
>>> from docstack.retrieval import reciprocal_rank_fusion
>>> reciprocal_rank_fusion([['a', 'b'], ['b']])[0]
['b', 'a']
"""

from docstack.retrieval._fusion import reciprocal_rank_fusion, weighted_fusion

__all__ = ["reciprocal_rank_fusion", "weighted_fusion"]
