"""The ``espeak`` engine: libespeak-ng in this process, samples handed over in memory.

It uses pyttsx3's own ctypes bindings (``pyttsx3.drivers._espeak``) with espeak-ng's
``AUDIO_OUTPUT_SYNCHRONOUS`` mode: ``espeak_Synth`` returns once the callback has received every
sample, with no file, no thread and no event loop, so it avoids pyttsx3's loop bugs and is
several times faster. It has no watchdog: espeak-ng in synchronous mode does not hang.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from loosen.errors import SpeechError
from loosen.tts.base import Clip, ClosingEngine, VoiceInfo, check_rate_wpm, resolve_voice
from loosen.tts.espeak_loader import (
    EspeakPlan,
    list_espeak_variants,
    list_espeak_voices,
    load_espeak,
    plan_espeak,
)

__all__ = ["EspeakEngine"]

_FULL_SCALE = 32768.0
# espeak-ng is initialised once per process and keeps one voice and rate: engines share it.
_LOCK = threading.Lock()
_state: dict[str, Any] = {}


def _espeak_module(plan: EspeakPlan) -> Any:
    """pyttsx3's binding module, with espeak-ng initialised for synchronous retrieval."""
    if "module" in _state:
        return _state["module"]
    driver = sys.modules.get("pyttsx3.drivers.espeak")
    if driver is not None and getattr(driver.EspeakDriver, "_moduleInitialized", False):
        raise SpeechError("the espeak engine cannot run in a process where pyttsx3 uses espeak-ng")
    load_espeak(plan)
    try:
        from pyttsx3.drivers import _espeak
    except (ImportError, OSError, RuntimeError) as exc:
        raise SpeechError(f"cannot load espeak-ng: {exc}") from exc
    sample_rate_hz = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
    if sample_rate_hz <= 0:
        raise SpeechError("espeak-ng failed to initialise")
    chunks: list[bytes] = []

    def on_samples(wav: Any, n_samples: int, events: Any) -> int:
        if n_samples > 0:
            chunks.append(ctypes.string_at(wav, n_samples * ctypes.sizeof(ctypes.c_short)))
        return 0

    _espeak.SetSynthCallback(on_samples)
    version = _espeak.Info().decode("utf-8", "replace")
    _state.update(module=_espeak, chunks=chunks, rate_hz=sample_rate_hz, version=version)
    return _espeak


class EspeakEngine(ClosingEngine):
    """Speech from libespeak-ng called directly, in memory (Linux with espeak-ng available).

    Parameters
    ----------
    voice
        Voice id (``"en-us"``, ``"gmw/en-us"``, ``"en-us+f3"``); ``None`` for US English.
    rate_wpm
        Speaking rate in words per minute, 80 to 450; ``None`` for 150.
    """

    name = "espeak"
    clip_rate_hz: int | None = 22050  # espeak-ng's own rate, whatever the voice

    def __init__(self, *, voice: str | None = None, rate_wpm: int | None = None) -> None:
        self.rate_wpm: int = check_rate_wpm(rate_wpm)
        plan = plan_espeak()
        if plan is None:
            raise SpeechError(
                "the espeak engine needs libespeak-ng: install espeak-ng (libespeak-ng1) "
                "or the espeakng-loader package, or use the pyttsx3 engine"
            )
        self._plan = plan
        self._variants: list[str] = []
        if plan.data_path is not None:
            self._voices = list(list_espeak_voices(plan.data_path))
            self._variants = list(list_espeak_variants(plan.data_path))
        else:
            self._voices = self._voices_from_library()
        self.voice: str = resolve_voice(
            self.name, voice, self._voices, self._variants, friendly_ids=True
        )
        self._closed = False

    def describe(self) -> str:
        """``"espeak (espeak-ng 1.52 from espeakng-loader, in memory), voice en-us, 150 wpm"``."""
        backend = self._plan.describe()
        return f"{self.name} ({backend}, in memory), voice {self.voice}, {self.rate_wpm} wpm"

    def voices(self) -> list[VoiceInfo]:
        """Voices in espeak-ng's data (variants excluded)."""
        return list(self._voices)

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        """Yield ``(text, clip)`` per text, in order: float32 mono at espeak-ng's 22050 Hz."""
        for text in texts:
            yield text, self._synthesize_one(text)

    def close(self) -> None:
        """Mark the engine closed; espeak-ng itself stays loaded for the process."""
        self._closed = True

    def _voices_from_library(self) -> list[VoiceInfo]:
        from loosen.tts.espeak_loader import friendly_voice_id

        with _LOCK:
            espeak = _espeak_module(self._plan)
            raw = espeak.ListVoices(None)
        return sorted(
            (
                VoiceInfo(
                    friendly_voice_id(v.identifier.decode("utf-8", "replace")),
                    v.name.decode("utf-8", "replace").strip(),
                    (v.languages[1:].decode("utf-8", "replace"),),
                    {1: "male", 2: "female"}.get(v.gender),
                )
                for v in raw
            ),
            key=lambda v: v.id,
        )

    def _synthesize_one(self, text: str) -> Clip:
        if self._closed:
            raise SpeechError(f"speech engine {self.name} is closed")
        with _LOCK:
            espeak = _espeak_module(self._plan)
            sample_rate_hz: int = _state["rate_hz"]
            if not text.strip():
                return Clip(np.zeros(0, dtype=np.float32), sample_rate_hz)
            chunks: list[bytes] = _state["chunks"]
            chunks.clear()
            if espeak.SetVoiceByName(self.voice.encode("utf-8")) != 0:
                raise SpeechError(f"espeak-ng refused voice {self.voice!r}")
            espeak.SetParameter(espeak.RATE, self.rate_wpm, 0)
            status = espeak.Synth(text, flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
            pcm = b"".join(chunks)
            chunks.clear()
        if status != 0:
            raise SpeechError(f"espeak-ng failed to speak {text[:40]!r} (error {status})")
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(_FULL_SCALE)
        return Clip(samples, sample_rate_hz)
