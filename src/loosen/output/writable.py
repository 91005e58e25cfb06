"""Whether a file can be written where the user asked: checked for every output (the export,
its parts, its sidecars, the timeline) before anything is rendered, so an export never renders
for minutes to fail at the end, nor leaves half of its files written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from loosen.atomic import TEMP_SUFFIX, temp_prefix
from loosen.errors import BadInputError, ExportError

__all__ = ["check_writable", "is_folder", "is_there"]


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder. A name the file system cannot even look up (one too long
    for it, say) is none: `check_writable` then says why it cannot be written."""
    try:
        return path.is_dir()
    except OSError:
        return False


def is_there(path: Path) -> bool:
    """Whether ``path`` exists; a name too long for its file system does not."""
    try:
        return path.exists()
    except OSError:
        return False


def check_writable(target: Path, *, what: str = "file") -> None:
    """Refuse ``target`` (a file to be written, replaced atomically) if it cannot be.

    Raises `BadInputError` when ``target`` is a folder or its folder is missing (the user's
    input), `ExportError` when the folder refuses a new file (read-only, another user's, a
    full disk, a name too long for its file system): found by making one named as the writer
    will name its temporary file (`loosen.atomic`), not by reading permission bits or limits.
    """
    if is_folder(target):
        raise BadInputError(f"{target}: is a folder; name a {what} to write")
    folder = target.parent if str(target.parent) else Path()
    if not is_folder(folder):
        if is_there(folder):
            raise BadInputError(f"{target}: {folder} is not a folder")
        raise BadInputError(f"{target}: the folder {folder} does not exist")
    try:
        # as long as the writer's own temporary file, which is longer than the target's name
        descriptor, probe = tempfile.mkstemp(
            prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=folder
        )
    except OSError as error:
        reason = error.strerror or str(error)
        raise ExportError(f"{target}: cannot write in {folder}: {reason}") from None
    os.close(descriptor)
    with contextlib.suppress(OSError):
        Path(probe).unlink()
