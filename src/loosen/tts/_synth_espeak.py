"""The speech worker's espeak-ng synthesizer: in memory, each text spoken in a fork.

Runs inside the worker process (`loosen.tts._worker`), on Linux (it needs ``os.fork``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from loosen.errors import SpeechError
from loosen.tts._worker_env import die_with, native_said, one_line
from loosen.tts.espeak_loader import EspeakPlan

if TYPE_CHECKING:
    from loosen.tts._worker import WorkerConfig

__all__ = ["EspeakSynthesizer"]

#: Longest wait (s) for the start-up text, spoken to check espeak-ng's data.
_CHECK_TIMEOUT_S = 10.0


class EspeakSynthesizer:
    """espeak-ng in memory through pyttsx3's own bindings (`EspeakSession`), each text spoken
    by a child process forked from this one as it stands after start-up.

    espeak-ng carries a little state from one text to the next (its voice's pitch variation
    goes on where it left off), so the same text spoken after different ones differs by a few
    samples, and its length by a few frames; nothing in its API resets that. A child forked for
    each text starts from the same state every time, so a text's clip depends on the voice, the
    rate and the text alone: whichever worker or process speaks it, in whatever order, cold or
    after a repair. A fork of this single-threaded process costs about a millisecond.
    """

    def __init__(self, config: WorkerConfig) -> None:
        from loosen.tts.espeak_session import EspeakSession

        assert config.plan is not None
        plan = config.plan
        self.session = EspeakSession(plan)
        if config.voice is not None:
            self.session.set_voice(config.voice)
        self.session.set_rate(config.rate_wpm)
        self._pid = os.getpid()
        loaded = EspeakPlan(plan.source, plan.library, plan.data_path, self.session.version)
        self.backend = loaded.describe() + ", in memory"
        try:  # in a child, as every text: the state that texts start from is left as it is
            self.run(0, "Ready.", _CHECK_TIMEOUT_S)
        except (SpeechError, TimeoutError) as error:
            raise SpeechError(
                f"espeak-ng cannot speak with its data at {plan.data_path} ({error}); "
                "reinstall espeakng-loader"
            ) from None

    def voices(self) -> tuple[list[tuple[str, str, tuple[str, ...], str | None]], list[str]]:
        """espeak-ng's voices ``(id, name, languages, gender)`` and its variant names."""
        return self.session.voices(), self.session.variants()

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        """Text number ``seq`` spoken within ``timeout_s`` seconds: 16-bit little-endian mono
        PCM bytes, and the rate in Hz."""
        readable, writable = os.pipe()
        child = os.fork()
        if child == 0:  # the child: speak, hand the samples over, and leave without clean-up
            os.close(readable)
            die_with(self._pid)
            status, payload = 0, b""
            try:
                payload = self.session.speak(text)
            except BaseException as exc:  # reported by the worker, as any failure
                status, payload = 1, one_line(exc).encode("utf-8", "replace")
            with contextlib.suppress(OSError):
                _write_all(writable, bytes((status,)) + payload)
            os._exit(0)
        os.close(writable)
        try:
            data = _read_all(readable, time.monotonic() + timeout_s)
        except TimeoutError:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
            raise
        finally:
            os.close(readable)
            status = 0
            with contextlib.suppress(ChildProcessError):
                status = os.waitpid(child, 0)[1]
        if not data:
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no answer"
            said = native_said()
            raise SpeechError(f"espeak-ng crashed ({how})" + (f": {said}" if said else ""))
        if data[0] != 0:
            raise SpeechError(data[1:].decode("utf-8", "replace"))
        pcm = data[1:]
        if not pcm and any(c.isalnum() for c in text):
            raise RuntimeError(f"espeak-ng spoke nothing for text {seq}")
        return pcm, self.session.sample_rate_hz


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int, deadline: float) -> bytes:
    """Everything written to the pipe ``fd`` until its writer closes it; `TimeoutError` past
    ``deadline`` (a ``time.monotonic()`` value)."""
    import select

    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("espeak-ng gave no answer in time")
        part = os.read(fd, 1 << 20)
        if not part:
            return b"".join(parts)
        parts.append(part)
