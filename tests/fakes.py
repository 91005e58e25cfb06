"""Test doubles shared by test modules: ``from tests.fakes import FakeEngine``."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence

import numpy as np

from loosen.tts import Clip, Speech, VoiceInfo
from loosen.tts.base import ClosingEngine

__all__ = ["FakeEngine", "RecordingSpeech"]


class FakeEngine(ClosingEngine):
    """A deterministic speech engine: each text becomes a tone burst, 22050 Hz mono float32.

    The burst lasts ``0.1 + 0.02 * len(text)`` seconds at 150 wpm (scaled by ``150 / rate_wpm``),
    its pitch depends on the text, so different texts give different clips. Every text
    synthesized is appended to ``spoken``.
    """

    name = "fake"
    sample_rate = 22050
    clip_rate_hz: int | None = 22050

    def __init__(self, voice: str = "fake-voice", rate_wpm: int = 150) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.spoken: list[str] = []
        self.closed = False

    def describe(self) -> str:
        return f"{self.name} (tone bursts), voice {self.voice}, {self.rate_wpm} wpm"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("fake-voice", "Fake Voice", ("en",), None)]

    def duration_s(self, text: str) -> float:
        """Length in seconds of the clip of ``text``."""
        if not text.strip():
            return 0.0
        return (0.1 + 0.02 * len(text)) * 150 / self.rate_wpm

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        for text in texts:
            if self.closed:
                raise RuntimeError("FakeEngine is closed")
            self.spoken.append(text)
            yield text, self._tone(text)

    def _tone(self, text: str) -> Clip:
        n_frames = round(self.duration_s(text) * self.sample_rate)
        frequency_hz = 200.0 + zlib.crc32(text.encode("utf-8")) % 600
        t_s = np.arange(n_frames, dtype=np.float64) / self.sample_rate
        fade = np.minimum(1.0, np.minimum(t_s, t_s[::-1]) / 0.01) if n_frames else t_s
        samples = 0.5 * fade * np.sin(2 * np.pi * frequency_hz * t_s)
        return Clip(samples.astype(np.float32), self.sample_rate)

    def close(self) -> None:
        self.closed = True


class RecordingSpeech(Speech):
    """`Speech` that records every clip asked of it: ``asked`` holds ``(text, thread name)``.

    Processed speech (`loosen.tts.clips.SpeechClips`) asks for a clip each time it processes
    a sentence, so ``asked`` shows what was processed, and on which thread."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.asked: list[tuple[str, str]] = []
        self._asked_lock = threading.Lock()

    def clip(self, text: str) -> Clip:
        with self._asked_lock:
            self.asked.append((text, threading.current_thread().name))
        return super().clip(text)
