"""The platform's part of reading single keys (`single_keys`): the terminal's mode, waiting for
input, Ctrl+Z.

POSIX: cbreak mode through termios, ``select`` on the terminal, and a SIGTSTP handler that
gives the shell its terminal back. Windows: the console through ``msvcrt`` (keys arrive unechoed
and at once there, so nothing is changed or restored). Each reader turns what it reads into key
names with the pure decoders of `loosen.playback.keys`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from loosen.playback.keys import KeyReader

__all__ = ["single_keys"]


def _terminal_fd(stream: TextIO | None) -> int | None:
    """The file descriptor of ``stream`` (default stdin) if it is a terminal, else None."""
    stream = stream or sys.stdin
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


if sys.platform == "win32":
    import msvcrt

    from loosen.playback.keys import decode_windows_keys

    _POLL_S = 0.01  # the console cannot be waited on with select: poll it

    class _ConsoleKeys:
        """Keys from the Windows console (``msvcrt.kbhit`` / ``getwch``)."""

        def __init__(self) -> None:
            self.resumed_at = 0.0  # no Ctrl+Z job control on Windows

        def read(self, timeout_s: float) -> list[str]:
            deadline = time.monotonic() + timeout_s
            while not msvcrt.kbhit():
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                time.sleep(min(_POLL_S, left))
            chars: list[str] = []
            while msvcrt.kbhit() and len(chars) < 64:
                char = msvcrt.getwch()
                if char == "\x03":  # Ctrl+C read as a character: it still interrupts
                    raise KeyboardInterrupt
                chars.append(char)
                if char in ("\x00", "\xe0"):
                    chars.append(msvcrt.getwch())  # the scan code always follows
            return decode_windows_keys("".join(chars))

    @contextlib.contextmanager
    def single_keys(stream: TextIO | None = None) -> Iterator[KeyReader | None]:
        """Read single keys from the console for the block; None when ``stream`` (default
        stdin) is not one. Ctrl+C still raises KeyboardInterrupt."""
        if _terminal_fd(stream) is None:
            yield None
            return
        yield _ConsoleKeys()

else:
    import select
    import signal
    import termios
    import threading
    import tty

    from loosen.playback.keys import decode_keys

    class _TerminalKeys:
        """Keys from a POSIX terminal in cbreak mode."""

        def __init__(self, fd: int):
            self.fd = fd
            self.resumed_at = 0.0

        def read(self, timeout_s: float) -> list[str]:
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
        """Put the terminal in single-key mode (keys arrive at once, unechoed) for the block.

        Yields None when ``stream`` (default stdin) is not a terminal: then there are no keys.
        Ctrl+C still raises KeyboardInterrupt, and the terminal is restored however the block
        ends.
        """
        fd = _terminal_fd(stream)
        if fd is None:
            yield None
            return
        saved = termios.tcgetattr(fd)
        reader = _TerminalKeys(fd)

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
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTSTP, suspend)
        try:
            tty.setcbreak(fd, termios.TCSANOW)
            yield reader
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            if previous is not None:
                signal.signal(signal.SIGTSTP, previous)
