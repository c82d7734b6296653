"""The ``rlwatch`` monitor, as a self-contained binary in a platform wheel.

``pip install rlwatch-server`` (or ``pip install "rlwatch-client[server]"``) puts the binary in the environment's
scripts directory (``<venv>/bin/rlwatch``), so ``rlwatch`` is on PATH wherever the environment is active. The
binary is installed as the wheel's script itself, not behind a Python wrapper, so ``rlwatch`` starts as fast as a
native program. :func:`binary_path` finds it when the environment is not on PATH (``/path/to/venv/bin/python
train.py``): the Python client uses it to start ``rlwatch serve`` for ``attach()``.
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = ["__version__", "binary_path"]

# Written by packaging/wheel/pack_wheel.py from the binary's `rlwatch --version`.
__version__ = "@VERSION@"


def binary_path() -> Optional[str]:
    """The installed ``rlwatch`` binary of this wheel, or None if it is missing (a broken install).

    It is looked up in the wheel's RECORD (the list of installed files pip keeps), which holds wherever the
    install scheme put the scripts directory: a virtual environment, ``--user``, ``--prefix`` or ``--target``.
    """
    try:
        from importlib.metadata import PackageNotFoundError, distribution
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        files = distribution("rlwatch-server").files or []
    except PackageNotFoundError:
        return None
    for file in files:
        if file.name == "rlwatch" and file.parent.name == "bin":
            path = os.path.normpath(str(file.locate()))
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return None
