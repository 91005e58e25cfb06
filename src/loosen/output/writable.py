"""Whether a file can be written where the user asked: checked for every output (the export,
its parts, its sidecars, the timeline) before anything is rendered, so an export never renders
for minutes to fail at the end, nor leaves half of its files written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from loosen.errors import BadInputError, ExportError

__all__ = ["check_writable"]


def check_writable(target: Path, *, what: str = "file") -> None:
    """Refuse ``target`` (a file to be written, replaced atomically) if it cannot be.

    Raises `BadInputError` when ``target`` is a folder or its folder is missing (the user's
    input), `ExportError` when the folder refuses a new file (read-only, another user's, a
    full disk): found by making one, as the writer will, not by reading permission bits.
    """
    if target.is_dir():
        raise BadInputError(f"{target}: is a folder; name a {what} to write")
    folder = target.parent if str(target.parent) else Path()
    if not folder.is_dir():
        if folder.exists():
            raise BadInputError(f"{target}: {folder} is not a folder")
        raise BadInputError(f"{target}: the folder {folder} does not exist")
    try:
        descriptor, probe = tempfile.mkstemp(prefix=f".{target.name[:40]}.", dir=folder)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ExportError(f"{target}: cannot write in {folder}: {reason}") from None
    os.close(descriptor)
    with contextlib.suppress(OSError):
        Path(probe).unlink()
