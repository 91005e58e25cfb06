"""`SpeakingAhead`: texts spoken in a background thread while the caller mixes.

`loosen.tts.speech.Speech.prepare_ahead` hands it the texts still missing; its thread speaks
them in order, so lines come back in the order the session needs them. `Speech.clip` waits
here for a text still to come. (A second engine speaking every other line gained nothing:
measured 1.12x the time of one, `tests/benchmarks/bench_paths.py`; it was removed.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from loosen.tts.base import Clip

__all__ = ["Progress", "SpeakingAhead"]

Progress = Callable[[int, int], None]


class SpeakingAhead:
    """The background thread of one `Speech`, speaking the missing texts in order.

    Parameters
    ----------
    speak
        Has a text spoken and kept (the clip is float32 mono at the engine's sample rate);
        called from the thread.
    rest
        Tells the engine to rest (stop its worker process) once every text is spoken, so that
        the process exits now and not when the caller is done.

    The thread is stopped and joined by `stop`, which the owner calls. After a failure the
    thread gives up the texts left, and `wait_for` raises the failure for any of them.
    """

    def __init__(self, speak: Callable[[str], Clip], rest: Callable[[], None]) -> None:
        self._speak = speak
        self._rest = rest
        self._ready = threading.Condition()  # guards the four below
        self._pending: set[str] = set()  # texts the thread will synthesize
        self._given_up: set[str] = set()  # texts it will not speak after all
        self._failure: BaseException | None = None
        self._stopping = False
        self._threads: list[threading.Thread] = []  # one a `start`; a stopped one leaves

    def start(self, texts: Sequence[str], progress: Progress | None = None) -> None:
        """Start a thread speaking ``texts`` in order, and return at once. ``progress(done,
        total)`` is called here with ``done = 0``, then from the thread after each text."""
        missing = list(texts)
        with self._ready:
            self._pending = set(missing)
        if progress is not None:
            progress(0, len(missing))
        thread = threading.Thread(
            target=self._speak_ahead, args=(missing, progress), name="loosen-speech", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def pending(self, text: str) -> bool:
        """Whether ``text`` is still to be spoken by the thread (or was, until a failure)."""
        with self._ready:
            return text in self._pending

    def wait_for(self, text: str) -> None:
        """Wait until the thread will not speak ``text`` any more: it was spoken, or given up.

        Raises
        ------
        BaseException
            What stopped the thread, if anything did.
        """
        with self._ready:
            while text in self._pending and text not in self._given_up:
                self._ready.wait(0.1)
            if self._failure is not None:
                raise self._failure

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Stop the thread after the text it is on and join it (waiting at most ``timeout_s``).
        Whether it has ended: one still on its text ends after it and is joined by the next
        `stop`."""
        with self._ready:
            self._stopping = True
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        return not self._threads

    def _speak_ahead(self, texts: list[str], progress: Progress | None) -> None:
        done = 0
        try:
            for text in texts:
                with self._ready:
                    if self._stopping:
                        return
                self._speak(text)
                done += 1
                with self._ready:
                    self._pending.discard(text)
                    self._ready.notify_all()
                if progress is not None:
                    progress(done, len(texts))
        except BaseException as error:  # raised again in the thread that wants the clip
            with self._ready:
                self._failure = error
        finally:
            with self._ready:
                self._given_up.update(texts[done:])
                self._ready.notify_all()
        if texts and done == len(texts):
            self._rest()
