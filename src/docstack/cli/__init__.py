"""The ``docstack`` command: index folders of files, search them, inspect, evaluate, export
and serve the index.

::

    docstack index ~/notes ~/photos --into ~/.idx      # text, images, audio, video, meshes
    docstack search "vector databases" --index ~/.idx  # a table; --json for JSON lines
    docstack info ~/.idx
    docstack serve ~/.idx --port 8000

Run ``docstack --help`` or ``docstack COMMAND --help`` for every option. :func:`main` runs
the command in process (what the tests do).

Example
-------
>>> main(['--version'])  # doctest: +ELLIPSIS
docstack ...
0
"""

from docstack.cli._encoders import CliError, HashingEncoder, LazyEncoder
from docstack.cli._main import main

__all__ = ["CliError", "HashingEncoder", "LazyEncoder", "main"]
