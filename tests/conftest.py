"""Suite-wide set-up.

``sqlite3`` is imported before any test module can import TensorFlow: TensorFlow brings an
SQLite without FTS5, and when it loads first its copy serves the whole process, so the
index's text search would fail in whichever order pytest happened to collect the modules.
``tests/index/test_hnsw_backend.py`` checks the error a user gets in that case.
"""

import sqlite3  # noqa: F401 - imported for its side effect on the process's SQLite
