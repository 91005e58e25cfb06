"""Where loosen keeps what it can make again (speech, covers, a server's renderings): one
folder per kind under ``$LOOSEN_CACHE_DIR`` if it is set, else under the user cache
directory's ``loosen`` (``~/.cache/loosen`` on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(kind: str) -> Path:
    """The folder of ``kind`` (``"speech"``, ``"covers"``, ``"served"``); not created here."""
    base = os.environ.get("LOOSEN_CACHE_DIR")
    if base:
        return Path(base).expanduser() / kind
    import platformdirs  # here: only what writes a cache pays for it

    return Path(platformdirs.user_cache_dir("loosen")) / kind
