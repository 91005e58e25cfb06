"""Every file `loosen` writes reaches the disk whole or not at all.

An export, its sidecars, a timeline, a copy made by ``loosen new``, the saved places, a speech
cache entry: each is written to a temporary file beside its target (`tempfile.mkstemp` in the
target's folder, so the rename never crosses file systems), flushed to the disk (``fsync``),
given the permissions a plain new file would get, then renamed over the target with
`os.replace`, which readers see as one step: the old file or the new one, never half of one.
Any exception on the way, `KeyboardInterrupt` and `loosen.errors.Terminated` included, removes
the temporary file and leaves the target as it was.

Written by hand rather than taken from a package (``atomicwrites`` is unmaintained, and the
others do not offer a path for encoders that open the file themselves nor the umask-based mode):
it is a few dozen lines, and every writer of the program goes through it, so the rules above
hold everywhere or nowhere.

Two context managers, which raise `OSError` as it comes, for callers that handle it their own
way: `atomic_file` yields an open file (binary, or UTF-8 text with ``\\n`` line ends) and
`atomic_path` yields the temporary file's path, for writers that open the file themselves
(libsndfile, an encoder). Three one-line helpers, `write_bytes_atomic`, `write_text_atomic` and
`write_json_atomic`, raise the project's error instead (`ExportError` unless told otherwise),
one line naming the file: ``session.json: could not write the timeline: No space left on
device``; `write_error` makes that error for a caller of the context managers.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from loosen.errors import ExportError, LoosenError, printable

__all__ = [
    "TEMP_SUFFIX",
    "atomic_file",
    "atomic_path",
    "temp_prefix",
    "write_bytes_atomic",
    "write_error",
    "write_json_atomic",
    "write_text_atomic",
]

#: how the temporary files end: ``.session.wav.1234.k2j4x9.part``
TEMP_SUFFIX = ".part"
# Windows refuses a rename while another process has the target open (a player, a reader of
# the speech cache); it soon closes it
_REPLACE_TRIES = 20 if os.name == "nt" else 1


def temp_prefix(target: Path) -> str:
    """How the temporary files for ``target`` begin: hidden, named after it, and with this
    process's id, which tells a later run whether their writer is still alive
    (`loosen.output.export.remove_stale_parts`)."""
    return f".{target.name}.{os.getpid()}."


@contextlib.contextmanager
def atomic_path(
    target: Path,
    *,
    private: bool = False,
    durable: bool = True,
    prefix: str | None = None,
    suffix: str = TEMP_SUFFIX,
) -> Iterator[Path]:
    """Yield the path of a new, empty temporary file beside ``target`` for the caller to write
    (by name: an encoder that opens the file itself); when the block ends normally, the file
    replaces ``target``. On any exception the temporary file is removed, ``target`` is left as
    it was, and the exception goes on.

    ``private`` keeps the file readable by its owner only (mkstemp's 0600: saved places, the
    speech cache); otherwise it gets the mode a plain new file would (0666 less the umask).
    ``durable`` flushes it (and the rename) to the disk first; a cache whose entries check
    themselves may skip that. ``prefix`` and ``suffix`` name the temporary file (default:
    `temp_prefix` and `TEMP_SUFFIX`). Raises `OSError`.
    """
    folder = target.parent if str(target.parent) else Path()
    descriptor, name = tempfile.mkstemp(
        prefix=temp_prefix(target) if prefix is None else prefix, suffix=suffix, dir=folder
    )
    temp = Path(name)
    try:
        os.close(descriptor)
        yield temp
        if durable:
            _fsync(temp)
        _publish(temp, target, private=private, durable=durable)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


@overload
def atomic_file(
    target: Path,
    mode: Literal["wb"] = ...,
    *,
    private: bool = ...,
    durable: bool = ...,
    prefix: str | None = ...,
    suffix: str = ...,
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_file(
    target: Path,
    mode: Literal["w"],
    *,
    private: bool = ...,
    durable: bool = ...,
    prefix: str | None = ...,
    suffix: str = ...,
) -> contextlib.AbstractContextManager[IO[str]]: ...
def atomic_file(
    target: Path,
    mode: Literal["w", "wb"] = "wb",
    *,
    private: bool = False,
    durable: bool = True,
    prefix: str | None = None,
    suffix: str = TEMP_SUFFIX,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Yield a file open for writing (``"wb"``, or ``"w"``: UTF-8 text with ``\\n`` line ends on
    every system) whose content replaces ``target`` when the block ends normally; as
    `atomic_path` otherwise (the same options, the same cleanup). Raises `OSError`."""
    return _atomic_file(
        target, mode, private=private, durable=durable, prefix=prefix, suffix=suffix
    )


@contextlib.contextmanager
def _atomic_file(
    target: Path,
    mode: Literal["w", "wb"],
    *,
    private: bool,
    durable: bool,
    prefix: str | None,
    suffix: str,
) -> Iterator[IO[Any]]:
    folder = target.parent if str(target.parent) else Path()
    descriptor, name = tempfile.mkstemp(
        prefix=temp_prefix(target) if prefix is None else prefix, suffix=suffix, dir=folder
    )
    temp = Path(name)
    try:
        try:
            if mode == "w":
                handle: IO[Any] = os.fdopen(descriptor, "w", encoding="utf-8", newline="\n")
            else:
                handle = os.fdopen(descriptor, "wb")
        except BaseException:
            os.close(descriptor)
            raise
        with handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        _publish(temp, target, private=private, durable=durable)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def write_bytes_atomic(
    path: Path,
    data: bytes,
    *,
    what: str = "the file",
    private: bool = False,
    error: type[LoosenError] = ExportError,
) -> None:
    """Write ``data`` to ``path`` atomically (`atomic_file`). Raises ``error`` (`ExportError`)
    when it cannot: ``{path}: could not write {what}: {reason}``."""
    try:
        with atomic_file(path, "wb", private=private) as handle:
            handle.write(data)
    except OSError as failure:
        raise write_error(path, what, failure, error) from None


def write_text_atomic(
    path: Path,
    text: str,
    *,
    what: str = "the file",
    private: bool = False,
    error: type[LoosenError] = ExportError,
) -> None:
    """Write ``text`` to ``path`` atomically, as UTF-8 with ``\\n`` line ends; raises as
    `write_bytes_atomic` does."""
    write_bytes_atomic(path, text.encode("utf-8"), what=what, private=private, error=error)


def write_json_atomic(
    path: Path,
    document: object,
    *,
    what: str = "the file",
    private: bool = False,
    error: type[LoosenError] = ExportError,
) -> None:
    """Write ``document`` to ``path`` atomically as JSON indented by two spaces, with a final
    line end (as ``loosen show --json`` prints it); raises as `write_bytes_atomic` does."""
    text = json.dumps(document, indent=2) + "\n"
    write_text_atomic(path, text, what=what, private=private, error=error)


def write_error(
    path: Path, what: str, failure: BaseException, error: type[LoosenError] = ExportError
) -> LoosenError:
    """The project's error for ``failure`` (an `OSError`, an encoder's error) while writing
    ``what`` to ``path``: one line, ``{path}: could not write {what}: {reason}``."""
    reason = getattr(failure, "strerror", None) or str(failure) or type(failure).__name__
    return error(printable(f"{path}: could not write {what}: {reason}"))


def _publish(temp: Path, target: Path, *, private: bool, durable: bool) -> None:
    """Give the complete ``temp`` its mode and rename it over ``target``."""
    if not private:
        # mkstemp makes the file private; a plain new file is not
        temp.chmod(0o666 & ~_umask())
    for attempt in range(_REPLACE_TRIES):
        try:
            temp.replace(target)
            break
        except PermissionError:
            if attempt == _REPLACE_TRIES - 1:
                raise
            time.sleep(0.01)
    if durable:
        _fsync_folder(target.parent if str(target.parent) else Path())


def _fsync(path: Path) -> None:
    """Flush ``path`` to the disk, so the rename never publishes a file the disk lacks."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Flush the rename in ``folder`` to the disk, where the system allows it (not Windows)."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _umask() -> int:
    """This process's umask, read without changing it where the system says it (Linux): setting
    it to read it would, for a moment, give files other threads create the wrong mode."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
        for line in status.splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
