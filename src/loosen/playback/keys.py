"""Single keys from a terminal, no Enter: cbreak mode, escape sequences decoded to key names."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

__all__ = ["KEY_NAMES", "KeyReader", "decode_keys", "single_keys"]

_SEQUENCES = {
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1bOC": "right",
    "\x1bOD": "left",
    "\x1bOA": "up",
    "\x1bOB": "down",
}
_SINGLE = {" ": "space", "\r": "enter", "\n": "enter", "\x1b": "escape", "=": "+", "_": "-"}
KEY_NAMES = ("space", "right", "left", "up", "down", "enter", "escape")


def decode_keys(text: str) -> list[str]:
    """Turn raw terminal input into key names (``"space"``, ``"right"``, ``"q"``, ...).

    Letters are lower-cased so Caps Lock does not matter to someone with their eyes closed;
    ``=`` counts as ``+`` (the same key without Shift) and ``_`` as ``-``.
    """
    keys: list[str] = []
    i = 0
    while i < len(text):
        for sequence, name in _SEQUENCES.items():
            if text.startswith(sequence, i):
                keys.append(name)
                i += len(sequence)
                break
        else:
            char = text[i]
            if char == "\x1b" and text.startswith("\x1b[", i):
                # an unknown escape sequence: skip it up to its final letter
                j = i + 2
                while j < len(text) and not text[j].isalpha() and text[j] != "~":
                    j += 1
                i = j + 1
                continue
            keys.append(_SINGLE.get(char, char.lower()))
            i += 1
    return keys


class KeyReader:
    """Reads key names from a terminal in cbreak mode (see `single_keys`).

    ``resumed_at`` is the ``time.monotonic()`` of the last return from a Ctrl+Z (0 if none): the
    process was stopped until then, and nothing it waits for (the audio callback) ran.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.resumed_at = 0.0

    def read(self, timeout_s: float) -> list[str]:
        """Keys pressed within ``timeout_s`` seconds (an empty list if none)."""
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return []
        try:
            data = os.read(self.fd, 64)
        except OSError:
            return []
        return decode_keys(data.decode("utf-8", "replace"))


@contextlib.contextmanager
def single_keys(stream: TextIO | None = None) -> Iterator[KeyReader | None]:
    """Put the terminal in cbreak mode (keys arrive at once, unechoed) for the block.

    Yields None when ``stream`` (default stdin) is not a terminal: then there are no keys. Ctrl+C
    still raises KeyboardInterrupt, and the terminal is restored however the block ends.
    """
    stream = stream or sys.stdin
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        yield None
        return
    if not os.isatty(fd):
        yield None
        return
    import signal
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    reader = KeyReader(fd)

    def suspend(signum: int, frame: object) -> None:
        # Ctrl+Z: give the shell its terminal back as it was, stop, and on `fg` take up the
        # single keys again (the handler returns once the process is continued)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, suspend)
        tty.setcbreak(fd, termios.TCSANOW)
        reader.resumed_at = time.monotonic()

    previous = None
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTSTP"):
        previous = signal.signal(signal.SIGTSTP, suspend)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield reader
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if previous is not None:
            signal.signal(signal.SIGTSTP, previous)
