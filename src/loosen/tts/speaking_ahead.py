"""`SpeakingAhead`: texts spoken in background threads, an engine each, while the caller mixes.

`loosen.tts.speech.Speech.prepare_ahead` hands it the texts still missing and its engines; each
engine speaks every n-th text in a thread of its own, so that lines come back in order and which
engine speaks a line never depends on timing. `Speech.clip` waits here for a text still to come.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from loosen.tts.base import Clip, SpeechEngine

__all__ = ["Progress", "Speak", "Speaker", "SpeakingAhead"]

Progress = Callable[[int, int], None]
#: ``speak(text, engine, lock)``: the clip of ``text`` from ``engine``, spoken holding ``lock``
Speak = Callable[[str, SpeechEngine, threading.Lock], Clip]
#: an engine and the lock that has it serve one thread at a time
Speaker = tuple[SpeechEngine, threading.Lock]


class SpeakingAhead:
    """The background threads of one `Speech`, each speaking its share of the missing texts.

    Parameters
    ----------
    speak
        Has a text spoken and kept (the clip is float32 mono at the engine's sample rate);
        called from the threads.

    Every thread is stopped and joined by `stop`, which the owner calls. After a failure in one
    thread the others stop after the text they are on, and `wait_for` raises it.
    """

    def __init__(self, speak: Speak) -> None:
        self._speak = speak
        self._ready = threading.Condition()  # guards the five below
        self._pending: set[str] = set()  # texts the background threads will synthesize
        self._failure: BaseException | None = None  # the first failure ahead
        self._failures: dict[str, BaseException] = {}  # each text that failed: its failure
        self._given_up: set[str] = set()  # texts an engine will not speak ahead after all
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(
        self, speakers: Sequence[Speaker], texts: Sequence[str], progress: Progress | None = None
    ) -> None:
        """Start a thread per speaker, the n-th of n speaking ``texts[n::len(speakers)]``, and
        return at once. ``progress(done, total)`` is called here with ``done = 0``, then from
        the threads after each text. A speaker's engine is told to rest once its texts are
        spoken."""
        missing = list(texts)
        with self._ready:
            self._pending = set(missing)
        if progress is not None:
            progress(0, len(missing))
        counted = [0]

        def spoken() -> None:
            with self._ready:
                counted[0] += 1
                if progress is not None:
                    progress(counted[0], len(missing))

        for number, (engine, lock) in enumerate(speakers):
            share = missing[number :: len(speakers)]  # every n-th: lines come back in order
            thread = threading.Thread(
                target=self._speak_ahead,
                args=(engine, lock, share, spoken),
                name=f"loosen-speech-{number}", daemon=True,
            )  # fmt: skip
            self._threads.append(thread)
            thread.start()

    def pending(self, text: str) -> bool:
        """Whether ``text`` is still to be spoken by a thread (or was, until a failure)."""
        with self._ready:
            return text in self._pending

    def wait_for(self, text: str) -> None:
        """Wait until no thread will speak ``text`` any more: it was spoken, or given up.

        Raises
        ------
        BaseException
            After a failure ahead: that of ``text`` if it failed, else the first one.
        """
        with self._ready:
            while text in self._pending and text not in self._given_up:
                self._ready.wait(0.1)
            if self._failure is not None:
                raise self._failures.get(text, self._failure)

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Stop every thread after the text it is on and join them (waiting at most
        ``timeout_s`` in all). Whether every thread has ended: one still on its text ends after
        it and is joined by the next `stop`."""
        with self._ready:
            self._stopping = True
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        return not self._threads

    def _speak_ahead(
        self,
        engine: SpeechEngine,
        lock: threading.Lock,
        texts: list[str],
        spoken: Callable[[], None],
    ) -> None:
        done = 0
        try:
            for text in texts:
                with self._ready:
                    if self._stopping or self._failure is not None:
                        return  # a failure elsewhere stops every engine
                self._speak(text, engine, lock)
                with self._ready:
                    self._pending.discard(text)
                    self._ready.notify_all()
                done += 1
                spoken()
        except BaseException as error:  # raised again in the thread that wants the clip
            with self._ready:
                self._failures[texts[done]] = error
                if self._failure is None:
                    self._failure = error
        finally:
            with self._ready:
                self._given_up.update(texts[done:])
                self._ready.notify_all()
        if texts and done == len(texts):
            with lock:  # its worker process exits now, not when the caller is done
                engine.rest()
