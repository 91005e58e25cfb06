"""The default engine: pyttsx3 (espeak-ng on Linux, nsss on macOS, SAPI5 on Windows).

pyttsx3 loses, swaps and hangs on files when driven in a loop, so it runs in a worker process
(:mod:`loosen.tts._worker`) that a watchdog kills and restarts when a text takes too long
(:mod:`loosen.tts.worker_engine`, whose names are importable from here too).
"""

from __future__ import annotations

import os
import sys

from loosen.errors import SpeechError
from loosen.tts._worker import WorkerConfig
from loosen.tts.base import DEFAULT_VOICE, VoiceInfo, resolve_voice
from loosen.tts.espeak_loader import (
    EspeakPlan,
    list_espeak_variants,
    list_espeak_voices,
    plan_espeak,
)
from loosen.tts.worker_engine import (
    START_TIMEOUT_S,
    TIMEOUT_BASE_S,
    TIMEOUT_PER_CHAR_S,
    TRIES,
    Watchdog,
    WorkerEngine,
)

__all__ = [
    "START_TIMEOUT_S",
    "TIMEOUT_BASE_S",
    "TIMEOUT_PER_CHAR_S",
    "TRIES",
    "Pyttsx3Engine",
    "Watchdog",
    "WorkerEngine",
]

_ESPEAK_RATE_HZ = 22050


def _default_driver() -> str:
    if sys.platform == "darwin":
        return "nsss"
    if sys.platform == "win32":
        return "sapi5"
    return "espeak"


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

    def __init__(
        self,
        *,
        voice: str | None = None,
        rate_wpm: int | None = None,
    ) -> None:
        super().__init__(rate_wpm=rate_wpm, sample_rate=_ESPEAK_RATE_HZ)
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
                self._catalog = self.driver_voices()
        return self._catalog

    def driver_voices(self) -> tuple[list[VoiceInfo], list[str]]:
        """The voices and variant names as the driver itself lists them, asked in a worker
        (`voices` reads espeak-ng's data files instead where it can, which is cheaper)."""
        return self._call_worker(lambda worker: worker.voices(self.watchdog.start_s), "list voices")

    def _resolve_voice(self, wanted: str | None) -> str:
        voices, variants = self._load_catalog()
        friendly = self._driver == "espeak"
        return resolve_voice(self.name, wanted, voices, variants, friendly_ids=friendly)

    def _worker_config(self) -> WorkerConfig:
        return WorkerConfig(
            driver=self._driver,
            voice=self.voice if self._voice_resolved else None,
            rate_wpm=self.rate_wpm,
            plan=self._plan,
            parent_pid=os.getpid(),
        )
