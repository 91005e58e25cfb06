"""`Prefetcher`: the coming lines processed ahead on a helper thread, until taken or closed.

`loosen.tts.clips.SpeechClips` has one: the mixer asks for the next line to be processed
(`Prefetcher.prefetch`) while it mixes the current one (soxr and numpy release the GIL), and
`SpeechClips.samples` takes it when it is due (`Prefetcher.take`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from loosen.tts.conditioning import Audio

__all__ = ["Prefetcher"]

_AHEAD_KEPT = 2  # prefetched lines waiting to be taken
_STOP = None  # put on the queue by `Prefetcher.close`: the helper thread ends


class Prefetcher:
    """Lines processed in order on one helper thread, kept (a few) until taken.

    Parameters
    ----------
    make
        The line of a text processed: float32, shape (n,), mono, at the output rate. Called
        on the helper thread, with no lock held.
    lock
        The owner's lock, which guards what ``kept`` reads; this object's state is guarded by
        it too, so that a line is never both kept by the owner and waiting here.
    kept
        Whether the owner keeps the line of a text already (then it is not made here); called
        with ``lock`` held.

    The thread starts with the first `prefetch`; `close`, which the owner calls, stops and
    joins it.
    """

    def __init__(
        self, make: Callable[[str], Audio], lock: threading.Lock, kept: Callable[[str], bool]
    ) -> None:
        self._make = make
        self._lock = lock
        self._kept = kept
        self._ahead: dict[str, Audio] = {}  # made, not yet taken
        self._fetching: set[str] = set()
        self._to_fetch: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._fetcher: threading.Thread | None = None  # started by the first `prefetch`
        self._closed = False

    def prefetch(self, text: str) -> None:
        """Have the line of ``text`` made on the helper thread, after those asked for before.
        Nothing is made once `close` is called, nor twice, nor what the owner keeps."""
        with self._lock:
            if self._closed:
                return
            if self._kept(text) or text in self._ahead or text in self._fetching:
                return
            self._fetching.add(text)
            if self._fetcher is None:
                self._fetcher = threading.Thread(
                    target=self._fetch, name="loosen-prefetch", daemon=True
                )
                self._fetcher.start()
        self._to_fetch.put(text)

    def take(self, text: str) -> Audio | None:
        """The line of ``text`` if it is made and waiting (it waits no more), else ``None``."""
        with self._lock:
            return self._ahead.pop(text, None)

    def waiting(self, text: str) -> bool:
        """Whether the line of ``text`` is made and waiting to be taken."""
        with self._lock:
            return text in self._ahead

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the helper thread: it ends after the line it is on, if any, and is joined
        (waiting at most ``timeout_s`` for that line). Lines asked for and not begun are never
        made. Idempotent."""
        with self._lock:
            if self._closed:
                fetcher = None
            else:
                self._closed = True
                fetcher = self._fetcher
                self._fetching.clear()
        if fetcher is not None:
            self._to_fetch.put(_STOP)
            fetcher.join(timeout_s)

    def _fetch(self) -> None:
        while True:
            text = self._to_fetch.get()
            if text is _STOP:
                return
            with self._lock:
                if self._closed:  # texts queued before `close`: left alone
                    return
            try:
                audio = self._make(text)
            except Exception:  # the owner meets it again, in the mixer's thread
                audio = None
            with self._lock:
                self._fetching.discard(text)
                if audio is not None and not self._kept(text):
                    self._ahead[text] = audio
                    while len(self._ahead) > _AHEAD_KEPT:
                        self._ahead.pop(next(iter(self._ahead)))
