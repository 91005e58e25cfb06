"""Notices: what a user should be told that is not an error (the speech cache cannot be
written, so the session goes on without it). The library says them here; a front end listens
(`loosen.cli` prints each as one line, ``Note: ...``, on stderr). No listener: nothing is said.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["listen", "notice"]

_listeners: list[Callable[[str], None]] = []
_lock = threading.Lock()


def listen(listener: Callable[[str], None]) -> None:
    """Have ``listener`` called with every notice from now on (once, however often asked)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def notice(message: str) -> None:
    """Tell every listener ``message`` (one line)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(message)
