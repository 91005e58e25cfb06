"""The parent's handle on one speech worker process (`loosen.tts._worker`): start it, talk to
it over its pipe with a timeout on every answer, stop or kill it.

A worker that hangs, dies or fails raises `WorkerFailedError`; `loosen.tts.worker_engine` then
kills it and starts another.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from loosen.errors import SpeechError
from loosen.tts._worker import WorkerConfig
from loosen.tts.base import Clip, VoiceInfo

__all__ = ["WorkerEntry", "WorkerFailedError", "WorkerHandle"]

_STOP_TIMEOUT_S = 2.0
#: Extra time (fraction of the text's timeout) the watchdog grants so that the worker's own
#: timeout, which says more, can report first.
_REPORT_MARGIN = 0.1

#: What a worker process runs: `loosen.tts._worker.serve`, given its end of the pipe.
WorkerEntry = Callable[[Connection, WorkerConfig], None]


class WorkerFailedError(Exception):
    """The worker hung, died or failed on a text: kill it, start another, try again."""


class WorkerHandle:
    """Parent-side handle of one worker process (spawned, never forked), running ``entry``
    with ``config``; it waits ``start_timeout_s`` seconds at most for the worker to be ready."""

    def __init__(self, entry: WorkerEntry, config: WorkerConfig, start_timeout_s: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=entry, args=(child_conn, config), name="loosen-tts-worker", daemon=True
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

    @property
    def pid(self) -> int | None:
        """The worker process's id (None before it started)."""
        return self._process.pid

    def _receive(self, timeout_s: float, doing: str) -> tuple[Any, ...]:
        try:
            if not self._conn.poll(timeout_s):
                raise WorkerFailedError(
                    f"worker gave no answer within {timeout_s:.1f} s while {doing}"
                )
            reply: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._process.join(_STOP_TIMEOUT_S)
            code = self._process.exitcode
            hint = _main_guard_hint() if doing == "starting" else ""
            raise WorkerFailedError(f"worker exited with code {code} while {doing}{hint}") from exc
        return reply

    def _send(self, request: tuple[Any, ...], doing: str) -> None:
        try:
            self._conn.send(request)
        except OSError as exc:
            raise WorkerFailedError(f"worker is gone while {doing}") from exc

    def synthesize(self, seq: int, text: str, timeout_s: float) -> Clip:
        """Text number ``seq`` spoken within ``timeout_s`` seconds (and a margin): float32 mono
        in [-1, 1] at the voice's rate."""
        self._send(("synth", seq, text, timeout_s), "speaking")
        reply = self._receive(timeout_s * (1 + _REPORT_MARGIN), "speaking")
        if reply[0] == "failed":
            raise WorkerFailedError(reply[2])
        _, reply_seq, reply_text, samples, sample_rate = reply
        if reply_seq != seq or reply_text != text:
            raise WorkerFailedError(f"worker answered text {reply_seq} when asked for text {seq}")
        if isinstance(samples, bytes):  # 16-bit PCM, as soundfile would read it
            samples = np.frombuffer(samples, "<i2").astype(np.float32) / np.float32(32768)
        samples = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
        return Clip(samples, int(sample_rate))

    def voices(self, timeout_s: float) -> tuple[list[VoiceInfo], list[str]]:
        """The worker's voices and variant names, within ``timeout_s`` seconds."""
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
        """Kill the worker now (idempotent)."""
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
