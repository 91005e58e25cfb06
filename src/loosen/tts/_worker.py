"""The pyttsx3 worker process: one engine, many texts, one text per file, nothing on stdout.

Runs in a child started with the multiprocessing *spawn* context (pyttsx3 misbehaves after fork)
so that the parent can kill it when pyttsx3 hangs. The parent talks to :func:`serve` over a pipe:

==========================  =====================================================
parent -> worker            worker -> parent
==========================  =====================================================
(start)                     ``("ready", backend)`` or ``("fatal", message)``
``("synth", seq, text, s)``  ``("clip", seq, text, samples, sample_rate)`` or
                            ``("failed", seq, message)``
``("voices",)``             ``("voices", [(id, name, languages, gender), ...], variants)``
``("stop",)``               (exits)
==========================  =====================================================

``s`` is the longest wait in seconds for that text; ``samples`` is mono float32 of shape
``(n_frames,)``, or 16-bit little-endian PCM as bytes; ``sample_rate`` in Hz; ``variants`` the
espeak voice variant names, if any.

The synthesizers, one per backend, are modules of their own, imported by the worker only:
`loosen.tts._synth_espeak` (espeak-ng in memory, Linux), `loosen.tts._synth_pyttsx3` (pyttsx3
through files, any platform) and `loosen.tts._synth_piper` (a Piper voice);
`loosen.tts._worker_env` keeps the process itself off the user's terminal.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from loosen.tts._worker_env import (
    die_with,
    keep_native_stderr,
    one_line,
    remove_own_folders,
    silence_stdout,
)
from loosen.tts.espeak_loader import EspeakPlan

__all__ = ["Synthesizer", "WorkerConfig", "serve"]


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to start.

    Parameters
    ----------
    driver
        pyttsx3 driver name (``"espeak"``, ``"nsss"``, ``"sapi5"``) or ``None`` for its default.
    voice
        Voice id for pyttsx3's ``voice`` property, or ``None`` to keep the driver's.
    rate_wpm
        Speaking rate in words per minute.
    plan
        Which libespeak-ng to load first (Linux), or ``None``.
    parent_pid
        The process that started the worker: the worker does not outlive it.
    backend
        ``"pyttsx3"``, or ``"piper"``: a Piper voice (``voice`` is then the model's path, and
        ``driver`` and ``plan`` are unused).
    """

    driver: str | None
    voice: str | None
    rate_wpm: int
    plan: EspeakPlan | None
    parent_pid: int
    backend: str = "pyttsx3"


class Synthesizer(Protocol):
    """What the worker speaks with: one backend, started in the worker."""

    #: Describes the backend for `describe` (``"espeak-ng 1.52 from espeakng-loader"``).
    backend: str

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        """Text number ``seq`` spoken within ``timeout_s`` seconds: mono float32 samples of
        shape (n,), or 16-bit little-endian PCM bytes, and their rate in Hz."""
        ...

    def voices(self) -> tuple[list[tuple[str, str, tuple[str, ...], str | None]], list[str]]:
        """The voices ``(id, name, languages, gender)`` and the variant names it offers."""
        ...


def serve(conn: Connection, config: WorkerConfig) -> None:
    """Entry point of the worker process: start pyttsx3, then answer requests until told to
    stop, or until the parent is gone (then it leaves at once and quietly: nothing of it may
    reach the user's terminal)."""
    silence_stdout()
    keep_native_stderr()
    # Ctrl+C reaches the whole process group: the parent decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(config.parent_pid)
    try:
        _serve(conn, config)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass  # the parent is gone: nobody to answer
    finally:
        remove_own_folders()


def _start(config: WorkerConfig) -> Synthesizer:
    """The synthesizer ``config`` asks for, started."""
    if config.backend == "piper":
        from loosen.tts._synth_piper import PiperSynthesizer

        return PiperSynthesizer(config)
    if config.driver == "espeak" and config.plan is not None and hasattr(os, "fork"):
        from loosen.tts._synth_espeak import EspeakSynthesizer

        return EspeakSynthesizer(config)
    from loosen.tts._synth_pyttsx3 import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer(config)


def _serve(conn: Connection, config: WorkerConfig) -> None:
    try:
        synthesizer = _start(config)
    except Exception as exc:
        conn.send(("fatal", one_line(exc)))
        return
    conn.send(("ready", synthesizer.backend))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request[0] == "stop":
            return
        if request[0] == "voices":
            conn.send(("voices", *synthesizer.voices()))
            continue
        _, seq, text, timeout_s = request
        try:
            samples, sample_rate = synthesizer.run(seq, text, timeout_s)
        except Exception as exc:
            conn.send(("failed", seq, one_line(exc)))
        else:
            conn.send(("clip", seq, text, samples, sample_rate))
