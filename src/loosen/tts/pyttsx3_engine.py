"""The default engine: pyttsx3 (espeak-ng on Linux, nsss on macOS, SAPI5 on Windows).

pyttsx3 loses, swaps and hangs on files when driven in a loop, so it runs in a worker process
(:mod:`loosen.tts._worker`) that a watchdog kills and restarts when a text takes too long.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import numpy as np

from loosen.errors import SpeechError
from loosen.tts._worker import WorkerConfig, serve
from loosen.tts.base import (
    DEFAULT_VOICE,
    Clip,
    ClosingEngine,
    VoiceInfo,
    check_rate_wpm,
    resolve_voice,
)
from loosen.tts.espeak_loader import (
    EspeakPlan,
    list_espeak_variants,
    list_espeak_voices,
    plan_espeak,
)

__all__ = ["Pyttsx3Engine", "WorkerEngine"]

TRIES = 3
TIMEOUT_BASE_S = 10.0
TIMEOUT_PER_CHAR_S = 0.1
START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 2.0
#: Extra time (fraction of the text's timeout) the watchdog grants so that the worker's own
#: timeout, which says more, can report first.
_REPORT_MARGIN = 0.1
_ESPEAK_RATE_HZ = 22050

T = TypeVar("T")


class _WorkerFailedError(Exception):
    """The worker hung, died or failed on a text: kill it, start another, try again."""


def _default_driver() -> str:
    if sys.platform == "darwin":
        return "nsss"
    if sys.platform == "win32":
        return "sapi5"
    return "espeak"


class _Worker:
    """Parent-side handle of one worker process (spawned, never forked)."""

    def __init__(self, config: WorkerConfig, start_timeout_s: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=serve, args=(child_conn, config), name="loosen-tts-worker", daemon=True
        )
        with _stderr_for_children():
            self._process.start()
        child_conn.close()
        self._finalizer = weakref.finalize(self, _kill, self._process, self._conn)
        try:
            reply = self._receive(start_timeout_s, "starting")
        except BaseException:
            self.kill()
            raise
        if reply[0] == "fatal":
            self.kill()
            raise SpeechError(f"{config.backend} could not start: {reply[1]}")
        self.backend: str = reply[1]

    def _receive(self, timeout_s: float, doing: str) -> tuple[Any, ...]:
        try:
            if not self._conn.poll(timeout_s):
                raise _WorkerFailedError(
                    f"worker gave no answer within {timeout_s:.1f} s while {doing}"
                )
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._process.join(_STOP_TIMEOUT_S)
            code = self._process.exitcode
            hint = _main_guard_hint() if doing == "starting" else ""
            raise _WorkerFailedError(f"worker exited with code {code} while {doing}{hint}") from exc
        return reply

    def _send(self, request: tuple[Any, ...], doing: str) -> None:
        try:
            self._conn.send(request)
        except OSError as exc:
            raise _WorkerFailedError(f"worker is gone while {doing}") from exc

    def synthesize(self, seq: int, text: str, timeout_s: float) -> Clip:
        self._send(("synth", seq, text, timeout_s), "speaking")
        reply = self._receive(timeout_s * (1 + _REPORT_MARGIN), "speaking")
        if reply[0] == "failed":
            raise _WorkerFailedError(reply[2])
        _, reply_seq, reply_text, samples, sample_rate = reply
        if reply_seq != seq or reply_text != text:
            raise _WorkerFailedError(f"worker answered text {reply_seq} when asked for text {seq}")
        if isinstance(samples, bytes):  # 16-bit PCM, as soundfile would read it
            samples = np.frombuffer(samples, "<i2").astype(np.float32) / np.float32(32768)
        samples = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
        return Clip(samples, int(sample_rate))

    def voices(self, timeout_s: float) -> tuple[list[VoiceInfo], list[str]]:
        self._send(("voices",), "listing voices")
        _, raw, variants = self._receive(timeout_s, "listing voices")
        voices = [VoiceInfo(v_id, name, tuple(langs), gender) for v_id, name, langs, gender in raw]
        return voices, list(variants)

    def stop(self) -> None:
        """Ask the worker to exit; kill it if it does not."""
        try:
            self._conn.send(("stop",))
            self._process.join(_STOP_TIMEOUT_S)
        except (OSError, ValueError):
            pass
        self.kill()

    def kill(self) -> None:
        self._finalizer()


_SPAWNING = threading.Lock()


@contextlib.contextmanager
def _stderr_for_children() -> Iterator[None]:
    """Start a child with /dev/null as its standard error, from its very first instruction.

    A worker keeps what the speech library prints off the terminal itself (`_worker`), but a
    spawned child runs multiprocessing's start-up first, which prints a traceback when the
    parent dies just then (``kill -9`` of `loosen`): nothing of that may reach the user's
    terminal. The parent's own stderr points at /dev/null only while the child starts (under a
    lock: two engines may start workers at once).
    """
    with _SPAWNING:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (AttributeError, OSError, ValueError):
            yield  # no stderr to keep anything off
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _main_guard_hint() -> str:
    # spawn re-runs a main *script* in the worker; unguarded top-level code then fails there.
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        return ""
    return f" (if {path} runs code at import, guard it with `if __name__ == '__main__':`)"


def _kill(process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
    if process.is_alive():
        process.kill()
    process.join(_STOP_TIMEOUT_S)
    conn.close()


class WorkerEngine(ClosingEngine):
    """A speech engine whose synthesis runs in a watched, restartable worker process.

    The worker starts on the first :meth:`synthesize` and then serves every text. Each text
    gets ``timeout_base_s + timeout_per_char_s * len(text)`` seconds; a worker that hangs,
    dies or fails is killed and the text retried, :data:`TRIES` times in all, before
    :class:`~loosen.errors.SpeechError`. Not thread-safe. Subclasses say how to start their
    worker (`_worker_config`).

    The underscored arguments are test hooks: ``_fault`` makes workers fail (see
    :class:`~loosen.tts._worker.WorkerConfig`; a ``"-once"`` suffix limits it to the first
    worker) and the ``_timeout_*`` ones shorten the watchdog.
    """

    name: str
    voice: str

    def __init__(
        self,
        *,
        rate_wpm: int | None,
        sample_rate: int,
        _fault: str | None = None,
        _timeout_base_s: float = TIMEOUT_BASE_S,
        _timeout_per_char_s: float = TIMEOUT_PER_CHAR_S,
        _start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.rate_wpm: int = check_rate_wpm(rate_wpm)
        self._fault = _fault
        self._timeout_base_s = _timeout_base_s
        self._timeout_per_char_s = _timeout_per_char_s
        self._start_timeout_s = _start_timeout_s
        self._worker: _Worker | None = None
        self._workers_started = 0
        self._seq = 0
        self._closed = False
        self._sample_rate = sample_rate
        self.clip_rate_hz: int | None = None

    def _worker_config(self, fault: str | None) -> WorkerConfig:
        """How to start a worker."""
        raise NotImplementedError

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
        timeout_s = self._timeout_s(text)

        def speak(worker: _Worker) -> Clip:
            self._seq += 1
            return worker.synthesize(self._seq, text, timeout_s)

        preview = text if len(text) <= 40 else text[:37] + "..."
        clip = self._call_worker(speak, f"speak {preview!r}")
        self._sample_rate = clip.sample_rate
        return clip

    def _timeout_s(self, text: str) -> float:
        return self._timeout_base_s + self._timeout_per_char_s * len(text)

    def _call_worker(self, call: Callable[[_Worker], T], doing: str) -> T:
        if self._closed:
            raise SpeechError(f"speech engine {self.name} is closed")
        failure = ""
        for _ in range(TRIES):
            try:
                if self._worker is None:
                    self._worker = self._start_worker()
                return call(self._worker)
            except _WorkerFailedError as exc:
                failure = str(exc)
                self._discard_worker(graceful=False)
            except BaseException:
                # Interrupted mid-request (Ctrl+C): the worker's answer would be out of step.
                self._discard_worker(graceful=False)
                raise
        raise SpeechError(f"{self.name} failed to {doing} after {TRIES} tries: {failure}")

    def _start_worker(self) -> _Worker:
        fault = self._fault
        if fault is not None and fault.endswith("-once"):
            fault = fault.removesuffix("-once") if self._workers_started == 0 else None
        self._workers_started += 1
        return _Worker(self._worker_config(fault), self._start_timeout_s)

    def _discard_worker(self, *, graceful: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if graceful:
            worker.stop()
        else:
            worker.kill()


class Pyttsx3Engine(WorkerEngine):
    """Speech through pyttsx3 in a restartable worker process (see `WorkerEngine`).

    Parameters
    ----------
    voice
        Voice id (``"en-us"``, ``"gmw/en-us"``, ``"en-us+f3"``); ``None`` for US English.
    rate_wpm
        Speaking rate in words per minute, 80 to 450; ``None`` for 150.
    """

    name = "pyttsx3"
    # its worker speaks on one core: on a machine with more, another instance speaks as much
    # again (`loosen.tts.Speech`'s spares)
    speaks_on_one_core = True

    def __init__(
        self,
        *,
        voice: str | None = None,
        rate_wpm: int | None = None,
        _fault: str | None = None,
        _timeout_base_s: float = TIMEOUT_BASE_S,
        _timeout_per_char_s: float = TIMEOUT_PER_CHAR_S,
        _start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__(
            rate_wpm=rate_wpm, sample_rate=_ESPEAK_RATE_HZ, _fault=_fault,
            _timeout_base_s=_timeout_base_s, _timeout_per_char_s=_timeout_per_char_s,
            _start_timeout_s=_start_timeout_s,
        )  # fmt: skip
        self._driver = _default_driver()
        self.clip_rate_hz = _ESPEAK_RATE_HZ if self._driver == "espeak" else None
        self._planned: tuple[EspeakPlan | None] | None = None
        self._catalog: tuple[list[VoiceInfo], list[str]] | None = None
        self._voice_resolved = False
        self.voice: str = ""
        if voice is None and self._driver == "espeak":
            # espeak-ng always has it: no catalogue to read, no library to find, so a session
            # whose speech is all cached starts playing without touching espeak-ng at all
            self.voice = DEFAULT_VOICE
            self._voice_resolved = True
            return
        try:
            self.voice = self._resolve_voice(voice)
        finally:
            # A worker started only to list voices used the driver's default voice.
            self._discard_worker(graceful=True)
        self._voice_resolved = True

    @property
    def _plan(self) -> EspeakPlan | None:
        """The espeak-ng library the worker loads (Linux), found on first need."""
        if self._planned is None:
            plan = plan_espeak()
            if self._driver == "espeak" and plan is None:
                raise SpeechError(
                    "no espeak-ng library found: install espeak-ng (libespeak-ng1) "
                    "or the espeakng-loader package"
                )
            self._planned = (plan,)
        return self._planned[0]

    # -- SpeechEngine -------------------------------------------------------------------------

    def describe(self) -> str:
        """``"pyttsx3 (espeak-ng 1.52 from espeakng-loader), voice en-us, 150 wpm"``."""
        if self._worker is not None:
            backend = self._worker.backend
        elif self._plan is not None and self._driver == "espeak":
            backend = self._plan.describe()
        else:
            backend = self._driver
        return f"{self.name} ({backend}), voice {self.voice}, {self.rate_wpm} wpm"

    def voices(self) -> list[VoiceInfo]:
        """Voices of the platform's driver; read from espeak-ng's data files when possible."""
        return list(self._load_catalog()[0])

    # -- voices -------------------------------------------------------------------------------

    def _load_catalog(self) -> tuple[list[VoiceInfo], list[str]]:
        if self._catalog is None:
            plan = self._plan
            if self._driver == "espeak" and plan is not None and plan.data_path is not None:
                data_path = plan.data_path
                voices = list(list_espeak_voices(data_path))
                if not voices:
                    raise SpeechError(
                        f"espeak-ng's data at {data_path} holds no voices: it is damaged or "
                        "incomplete; reinstall espeakng-loader"
                    )
                self._catalog = (voices, list(list_espeak_variants(data_path)))
            else:
                self._catalog = self._call_worker(
                    lambda worker: worker.voices(self._start_timeout_s), "list voices"
                )
        return self._catalog

    def _resolve_voice(self, wanted: str | None) -> str:
        voices, variants = self._load_catalog()
        friendly = self._driver == "espeak"
        return resolve_voice(self.name, wanted, voices, variants, friendly_ids=friendly)

    def _worker_config(self, fault: str | None) -> WorkerConfig:
        return WorkerConfig(
            driver=self._driver,
            voice=self.voice if self._voice_resolved else None,
            rate_wpm=self.rate_wpm,
            plan=self._plan,
            parent_pid=os.getpid(),
            fault=fault,
        )
