"""`WorkerEngine`: a speech engine whose synthesis runs in a watched, restartable worker process.

pyttsx3 loses, swaps and hangs on files when driven in a loop, and a neural voice is best kept
out of the caller's process, so both engines (`loosen.tts.pyttsx3_engine`,
`loosen.tts.piper_engine`) speak through a worker (`loosen.tts._worker`) that a watchdog kills
and replaces when a text takes too long (`Watchdog`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from loosen.errors import SpeechError
from loosen.tts._worker import WorkerConfig, serve
from loosen.tts.base import Clip, ClosingEngine, check_rate_wpm
from loosen.tts.worker_handle import WorkerFailedError, WorkerHandle

__all__ = ["TRIES", "Watchdog", "WorkerEngine"]

TRIES = 3
TIMEOUT_BASE_S = 10.0
TIMEOUT_PER_CHAR_S = 0.1
START_TIMEOUT_S = 30.0

T = TypeVar("T")


@dataclass(frozen=True)
class Watchdog:
    """How long a worker may take before it is killed and replaced.

    Attributes
    ----------
    text_base_s, text_per_char_s
        A text of ``n`` characters gets ``text_base_s + text_per_char_s * n`` seconds.
    start_s
        Seconds a worker may take to start (and to list its voices).
    """

    text_base_s: float = TIMEOUT_BASE_S
    text_per_char_s: float = TIMEOUT_PER_CHAR_S
    start_s: float = START_TIMEOUT_S

    def text_timeout_s(self, text: str) -> float:
        """Seconds the worker has to speak ``text``."""
        return self.text_base_s + self.text_per_char_s * len(text)


class WorkerEngine(ClosingEngine):
    """A speech engine whose synthesis runs in a watched, restartable worker process.

    The worker starts on the first :meth:`synthesize` and then serves every text. Each text
    gets the time `watchdog` grants it; a worker that hangs, dies or fails is killed and the
    text retried, :data:`TRIES` times in all, before :class:`~loosen.errors.SpeechError`. Not
    thread-safe. Subclasses say how to start their worker (`_worker_config`).

    A replacement worker is given the text in hand and nothing else: it replays none of the
    texts its predecessors spoke. Nothing needs it: espeak-ng speaks each text from the same
    start-up state (`loosen.tts._synth_espeak`), so a clip depends on voice, rate and text
    alone; replaying history would make a repair cost as much as everything spoken so far.

    ``watchdog`` is a class attribute: a subclass (a test's too) sets its own.
    """

    name: str
    voice: str
    watchdog: Watchdog = Watchdog()

    def __init__(self, *, rate_wpm: int | None, sample_rate: int) -> None:
        self.rate_wpm: int = check_rate_wpm(rate_wpm)
        self._worker: WorkerHandle | None = None
        self._workers_started = 0
        self._seq = 0
        self._closed = False
        self._sample_rate = sample_rate
        self.clip_rate_hz: int | None = None

    @property
    def workers_started(self) -> int:
        """How many worker processes this engine has started, each replacement counted."""
        return self._workers_started

    @property
    def worker_pid(self) -> int | None:
        """The process id of the running worker, or None while none runs."""
        worker = self._worker
        return None if worker is None else worker.pid

    def _worker_config(self) -> WorkerConfig:
        """How to start a worker."""
        raise NotImplementedError

    def _launch(self, config: WorkerConfig) -> WorkerHandle:
        """Start a worker process with ``config`` and wait until it is ready."""
        return WorkerHandle(serve, config, self.watchdog.start_s)

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        """Yield ``(text, clip)`` per text, in order: float32 mono at the voice's own rate."""
        for text in texts:
            yield text, self._synthesize_one(text)

    def rest(self) -> None:
        """Stop the worker process for now: the next text starts another. (Stopping it once its
        texts are spoken, while the caller still works, keeps that off the caller's end.)"""
        self._discard_worker(graceful=True)

    def close(self) -> None:
        """Stop the worker process. The engine cannot synthesize afterwards."""
        self._closed = True
        self._discard_worker(graceful=True)

    # -- worker and watchdog ------------------------------------------------------------------

    def _synthesize_one(self, text: str) -> Clip:
        if not text.strip():
            return Clip(np.zeros(0, dtype=np.float32), self._sample_rate)
        timeout_s = self.watchdog.text_timeout_s(text)

        def speak(worker: WorkerHandle) -> Clip:
            self._seq += 1
            return worker.synthesize(self._seq, text, timeout_s)

        preview = text if len(text) <= 40 else text[:37] + "..."
        clip = self._call_worker(speak, f"speak {preview!r}")
        self._sample_rate = clip.sample_rate
        return clip

    def _call_worker(self, call: Callable[[WorkerHandle], T], doing: str) -> T:
        failure = ""
        for _ in range(TRIES):
            if self._closed:  # (perhaps by another thread, meanwhile: start no worker for it)
                raise SpeechError(f"speech engine {self.name} is closed")
            try:
                if self._worker is None:
                    self._worker = self._start_worker()
                return call(self._worker)
            except WorkerFailedError as exc:
                failure = str(exc)
                self._discard_worker(graceful=False)
            except BaseException:
                # Interrupted mid-request (Ctrl+C): the worker's answer would be out of step.
                self._discard_worker(graceful=False)
                raise
        raise SpeechError(f"{self.name} failed to {doing} after {TRIES} tries: {failure}")

    def _start_worker(self) -> WorkerHandle:
        self._workers_started += 1
        return self._launch(self._worker_config())

    def _discard_worker(self, *, graceful: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if graceful:
            worker.stop()
        else:
            worker.kill()
