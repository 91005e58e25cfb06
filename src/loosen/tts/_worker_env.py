"""The speech worker process's surroundings: what it does to itself so that nothing of it reaches
the user's terminal, and it neither outlives its parent nor leaves files behind.

Used only inside the worker (`loosen.tts._worker`); imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from loosen.errors import SpeechError
from loosen.processes import process_alive

__all__ = [
    "die_with",
    "keep_native_stderr",
    "native_said",
    "one_line",
    "own_folder",
    "remove_own_folders",
    "silence_stdout",
]

_FOLDER_PREFIX = "loosen-tts-"


def die_with(parent_pid: int) -> None:
    """Have this process killed when its parent dies (Linux: the parent-death signal), so a
    killed `loosen` leaves no speech worker behind; elsewhere the pipe's end tells it."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the signal was asked for
        os._exit(0)


def own_folder() -> Path:
    """A fresh folder for this worker's files, named by its process id; those that workers
    killed outright left behind are removed first."""
    import tempfile

    root = Path(tempfile.gettempdir())
    for folder in root.glob(f"{_FOLDER_PREFIX}*"):
        pid = folder.name[len(_FOLDER_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-", dir=root))


def remove_own_folders() -> None:
    """Remove the folders `own_folder` made for this process."""
    import tempfile

    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}{os.getpid()}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    return process_alive(pid)  # never os.kill: on Windows that ends the process


_native_stderr: list[Any] = []  # the file the worker's fd 2 writes to


def keep_native_stderr() -> None:
    """Send what the speech library prints on fd 2 (espeak-ng's complaints about its data) to a
    file of the worker's, never the user's terminal; `native_said` tells the last of it."""
    import tempfile

    kept = tempfile.TemporaryFile()  # noqa: SIM115  (open as long as the worker lives)
    os.dup2(kept.fileno(), 2)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    _native_stderr.append(kept)


def native_said() -> str:
    """The last line the speech library printed, or ``""``."""
    if not _native_stderr:
        return ""
    kept = _native_stderr[0]
    with contextlib.suppress(OSError, ValueError):
        size = kept.seek(0, os.SEEK_END)
        kept.seek(max(0, size - 2000))
        lines = [line.strip() for line in kept.read().decode("utf-8", "replace").splitlines()]
        return next((line for line in reversed(lines) if line), "")
    return ""


def silence_stdout() -> None:
    """Send this process's standard output to /dev/null."""
    # pyttsx3's espeak driver prints "Audio saved to ..." for every file: keep it off the
    # user's terminal, at the file descriptor level too (the parent's fd 1 is inherited).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)


def one_line(exc: BaseException) -> str:
    """``exc`` told on one line for the parent (a `SpeechError` by its message alone)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, SpeechError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
