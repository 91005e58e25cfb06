"""The speech worker's pyttsx3 synthesizer: one text per file, waited for (any platform).

Runs inside the worker process (`loosen.tts._worker`): there, pyttsx3 may hang or lose texts
without harm, as the parent kills and replaces the worker. Imports no numpy for espeak-ng's
16-bit WAV files.
"""

from __future__ import annotations

import contextlib
import struct
import threading
import time
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loosen.tts._worker_env import own_folder
from loosen.tts.espeak_loader import (
    EspeakPlan,
    friendly_voice_id,
    list_espeak_variants,
    load_espeak,
)

if TYPE_CHECKING:
    from loosen.tts._worker import WorkerConfig

__all__ = ["Pyttsx3Synthesizer", "read_speech"]

_POLL_S = 0.005


def _start_engine(config: WorkerConfig) -> tuple[Any, str]:
    """pyttsx3 started with the voice and rate of ``config``, and its backend's description."""
    plan = config.plan
    if plan is not None:
        load_espeak(plan)
    import pyttsx3

    engine = pyttsx3.init(config.driver)
    backend = str(engine)
    if backend == "espeak" and plan is not None:
        from pyttsx3.drivers import _espeak

        version = _espeak.Info().decode("utf-8", "replace")
        loaded = EspeakPlan(plan.source, plan.library, plan.data_path, version)
        backend = loaded.describe()
    if config.voice is not None:
        engine.setProperty("voice", config.voice)
    engine.setProperty("rate", config.rate_wpm)
    return engine, backend


def _list_voices(
    engine: Any, config: WorkerConfig
) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    result = []
    for voice in engine.getProperty("voices"):
        voice_id = str(voice.id)
        if config.plan is not None:
            voice_id = friendly_voice_id(voice_id)
        languages = tuple(str(lang) for lang in (voice.languages or ()))
        gender = str(voice.gender).lower() if voice.gender else None
        result.append((voice_id, str(voice.name), languages, gender))
    return result


def _list_variants(engine: Any) -> list[str]:
    if str(engine) != "espeak":
        return []
    import ctypes

    from pyttsx3.drivers import _espeak

    data_path = ctypes.c_char_p()
    _espeak.Info(ctypes.addressof(data_path))
    if not data_path.value:
        return []
    return list(list_espeak_variants(data_path.value.decode("utf-8", "replace")))


class Pyttsx3Synthesizer:
    """Drives pyttsx3 the one safe way: one text per save_to_file/runAndWait, then wait."""

    def __init__(self, config: WorkerConfig) -> None:
        engine, self.backend = _start_engine(config)
        self.engine = engine
        self._engine = engine
        self._config = config
        self._workdir = own_folder()
        self._suffix = ".aiff" if str(engine) == "nsss" else ".wav"
        self._finished = threading.Event()
        engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def voices(self) -> tuple[list[tuple[str, str, tuple[str, ...], str | None]], list[str]]:
        """The driver's voices ``(id, name, languages, gender)`` and espeak's variant names."""
        return _list_voices(self.engine, self._config), _list_variants(self.engine)

    def run(self, seq: int, text: str, timeout_s: float) -> tuple[Any, int]:
        """Text number ``seq`` spoken within ``timeout_s`` seconds: its samples (see
        `read_speech`) and their rate in Hz."""
        for stale in self._workdir.iterdir():
            stale.unlink()
        path = self._workdir / f"utterance-{seq:06d}{self._suffix}"
        deadline = time.monotonic() + timeout_s
        self._finished.clear()
        # The rate is set once, at start-up (`_start_engine`). Setting it again before every
        # text through espeak-ng's own call made pyttsx3 lose whole texts ("no audio") far more
        # often, and so did pyttsx3's setProperty per text; a rate seen lost at start-up is why
        # a second worker starts only once the first has spoken (`loosen.tts.Speech`).
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        if not self._finished.wait(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"no finished-utterance event after {timeout_s:.1f} s")
        _wait_until_complete(path, deadline)
        self._settle(deadline)
        # Each text has its own file: any other file means pyttsx3 mixed utterances up.
        others = [p.name for p in self._workdir.iterdir() if p != path]
        if others:
            raise RuntimeError(f"pyttsx3 wrote unexpected files {others} for text {seq}")
        samples, sample_rate = read_speech(path)
        path.unlink()
        if len(samples) == 0 and any(c.isalnum() for c in text):
            # pyttsx3 has been seen writing an empty file for a real text: retry, never keep it
            raise RuntimeError(f"pyttsx3 wrote no audio for text {seq}")
        return samples, sample_rate

    def _settle(self, deadline: float) -> None:
        # espeak's driver fires finished-utterance from espeak's thread, then still calls
        # setBusy/endLoop: starting the next text before that returns can lose the next text.
        if str(self._engine) != "espeak":
            return
        from pyttsx3.drivers import _espeak

        while _espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise TimeoutError("espeak-ng did not become idle")
            time.sleep(_POLL_S)


def read_speech(path: Path) -> tuple[Any, int]:
    """The samples of ``path`` and its rate: a 16-bit mono WAV (espeak-ng's) as its
    little-endian bytes, read without numpy, which this worker then need not load; anything
    else as mono float32 through soundfile."""
    with contextlib.suppress(wave.Error, EOFError), wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() == 2 and wav.getnchannels() == 1 and wav.getcomptype() == "NONE":
            return wav.readframes(wav.getnframes()), wav.getframerate()
    import numpy as np
    import soundfile

    with soundfile.SoundFile(path) as audio:
        frames = audio.read(dtype="float32", always_2d=True)
        sample_rate = int(audio.samplerate)
    return np.ascontiguousarray(frames.mean(axis=1, dtype=np.float32)), sample_rate


def _wait_until_complete(path: Path, deadline: float) -> None:
    while not _is_complete(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"audio file {path.name} missing or incomplete")
        time.sleep(_POLL_S)


def _is_complete(path: Path) -> bool:
    """True when ``path`` holds a whole WAV/AIFF file: chunk sizes agree with the file size."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if len(data) < 12:
        return False
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _riff_complete(data)
    if data[:4] == b"FORM":
        form_size: int = struct.unpack(">I", data[4:8])[0]
        return form_size + 8 <= len(data)
    return _readable(path)


def _riff_complete(data: bytes) -> bool:
    riff_size: int = struct.unpack("<I", data[4:8])[0]
    if riff_size + 8 > len(data):
        return False
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        size: int = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if chunk_id == b"data":
            return offset + 8 + size <= len(data)
        offset += 8 + size + (size & 1)
    return False


def _readable(path: Path) -> bool:
    import soundfile

    with contextlib.suppress(Exception):
        soundfile.info(str(path))
        return True
    return False
