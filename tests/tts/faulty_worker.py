"""Speech workers that fail on purpose, for the watchdog's tests: test subclasses, no hooks in
the engines themselves.

`FaultyPyttsx3Engine` starts its workers through `faulty_serve` (or with a broken config)
instead of `loosen.tts._worker.serve`. Faults:

``"hang"``
    never answer a text;
``"die"``
    exit (code 3) on a text;
``"exit-on-start"``
    exit (code 1) before anything, as espeak-ng does when it lacks its data;
``"missing-data"``
    a worker config whose espeak-ng data path does not exist;
``"drop-rate"``
    espeak-ng's rate set to 200 wpm in the fork that speaks each text (the start-up check's
    aside), as pyttsx3 was seen to lose it.

A ``"-once"`` suffix limits the fault to the engine's first worker. `faulty_serve` runs in the
spawned worker process, which imports this module for it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from multiprocessing.connection import Connection
from typing import Any

from loosen.tts._worker import WorkerConfig, serve
from loosen.tts.pyttsx3_engine import Pyttsx3Engine
from loosen.tts.worker_handle import WorkerHandle

FAULTS = ("hang", "die", "exit-on-start", "missing-data", "drop-rate")


class _FaultyConnection:
    """The worker's end of the pipe, which hangs or dies when a text is asked for."""

    def __init__(self, conn: Connection, fault: str) -> None:
        self._conn = conn
        self._fault = fault

    def send(self, message: Any) -> None:
        self._conn.send(message)

    def recv(self) -> Any:
        request = self._conn.recv()
        if request[0] == "synth":
            if self._fault == "hang":
                time.sleep(3600)
            if self._fault == "die":
                os._exit(3)
        return request


def _drop_rate_in_each_fork() -> None:
    from loosen.tts._synth_espeak import EspeakSynthesizer

    run = EspeakSynthesizer.run

    def dropping(self: EspeakSynthesizer, seq: int, text: str, timeout_s: float) -> Any:
        if seq:  # not the start-up check: the fork speaks at a lost rate
            session = self.session
            speak = type(session).speak
            espeak = session._espeak

            def lost(text: str) -> bytes:
                espeak.SetParameter(espeak.RATE, 200, 0)
                return speak(session, text)

            session.speak = lost  # type: ignore[method-assign]
        return run(self, seq, text, timeout_s)

    EspeakSynthesizer.run = dropping  # type: ignore[method-assign]


def faulty_serve(fault: str, conn: Connection, config: WorkerConfig) -> None:
    """`serve`, with ``fault`` (in the worker process)."""
    if fault == "exit-on-start":
        os._exit(1)
    if fault == "drop-rate":
        _drop_rate_in_each_fork()
    serve(_FaultyConnection(conn, fault), config)  # type: ignore[arg-type]


class FaultyPyttsx3Engine(Pyttsx3Engine):
    """A `Pyttsx3Engine` whose workers have ``fault`` (see the module's docstring).

    ``launched`` counts the workers it started; ``watchdog`` may be set on an instance, before
    its first text, to shorten the timeouts."""

    def __init__(self, fault: str, **options: Any) -> None:
        assert fault.removesuffix("-once") in FAULTS, fault
        self.fault = fault
        self.launched = 0
        super().__init__(**options)

    def _current_fault(self) -> str | None:
        if self.fault.endswith("-once"):
            return self.fault.removesuffix("-once") if self.launched == 1 else None
        return self.fault

    def _launch(self, config: WorkerConfig) -> WorkerHandle:
        self.launched += 1
        fault = self._current_fault()
        if fault == "missing-data":
            assert config.plan is not None
            plan = dataclasses.replace(config.plan, data_path="/nonexistent/espeak-ng-data")
            config = dataclasses.replace(config, plan=plan)
        elif fault is not None:
            entry = functools.partial(faulty_serve, fault)
            return WorkerHandle(entry, config, self.watchdog.start_s)
        return super()._launch(config)
