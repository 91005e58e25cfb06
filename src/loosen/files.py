"""Reading a user's small files (scripts, recipes, the config file, saved places, cue sounds)
without ever blocking or filling memory.

A path given or found by name may turn out to be a FIFO (reading it waits for a writer that
never comes), a device such as ``/dev/zero`` (endless), a folder, or a regular file far larger
than any such file can be. `open_regular` opens the file without blocking and looks at what
it opened, through that open descriptor, before a byte is read: so a file swapped for another
between a check and the read is still checked. Errors are `ScriptError` naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from loosen.errors import ScriptError

__all__ = ["open_regular", "read_regular"]

# Opening a FIFO for reading waits for a writer unless non-blocking; a regular file ignores it.
_NONBLOCKING = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def open_regular(path: Path, max_bytes: int, what: str) -> BinaryIO:
    """Open ``path`` for reading in binary, once it is known to be a regular file of at most
    ``max_bytes`` bytes; the caller closes it. ``what`` names the file in a message (``"a
    script"``, ``"a cue sound"``).

    Raises
    ------
    ScriptError
        Naming ``path``: it cannot be opened, is not a regular file, or is larger.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCKING)
    except OSError as error:
        raise ScriptError(f"cannot read: {error.strerror or error}", path=path) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, pipe or socket"
            raise ScriptError(f"is {kind}, not a regular file", path=path)
        if status.st_size > max_bytes:
            raise ScriptError(_too_big(status.st_size, max_bytes, what), path=path)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, which must hold at most ``max_bytes`` bytes (see
    `open_regular`); a file that grows past the limit while it is read is refused too."""
    with open_regular(path, max_bytes, what) as handle:
        try:
            data = handle.read(max_bytes + 1)  # one byte more tells a file that grew
            if len(data) > max_bytes:
                size = max(os.fstat(handle.fileno()).st_size, len(data))
                raise ScriptError(_too_big(size, max_bytes, what), path=path)
        except OSError as error:
            raise ScriptError(f"cannot read: {error.strerror or error}", path=path) from None
    return data


def _too_big(size: int, max_bytes: int, what: str) -> str:
    return f"the file is {size:,} bytes; the limit for {what} is {max_bytes:,} bytes"
