"""libespeak-ng in synchronous mode, through pyttsx3's own ctypes bindings: text in, 16-bit PCM
out, in memory, with no file, no thread and no event loop.

pyttsx3's Linux driver drives espeak-ng through the same bindings, but through files and an
event loop that lose texts and, under load, the speaking rate. Here the rate is set once and
read back from espeak-ng before and after every text: a text spoken at any other rate fails
(`RateLostError`) instead of reaching the cache. No numpy: the speech worker that uses this
starts faster without it. One session per process (espeak-ng keeps one state per process).
"""

from __future__ import annotations

import ctypes
from typing import Any

from loosen.errors import SpeechError
from loosen.tts.espeak_loader import EspeakPlan, friendly_voice_id, load_espeak

__all__ = ["EspeakSession", "RateLostError"]


class RateLostError(SpeechError):
    """espeak-ng's rate was not the one asked for around a text: the clip must not be kept."""


class EspeakSession:
    """The process's libespeak-ng, initialised for synchronous synthesis into memory.

    Parameters
    ----------
    plan
        Which libespeak-ng to load (`loosen.tts.espeak_loader.plan_espeak`).
    """

    def __init__(self, plan: EspeakPlan) -> None:
        load_espeak(plan)
        try:
            from pyttsx3.drivers import _espeak
        except (ImportError, OSError, RuntimeError) as exc:
            raise SpeechError(f"cannot load espeak-ng: {exc}") from exc
        self._espeak: Any = _espeak
        self.sample_rate_hz: int = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
        if self.sample_rate_hz <= 0:
            raise SpeechError("espeak-ng failed to initialise")
        self._chunks: list[bytes] = []

        def on_samples(wav: Any, n_samples: int, events: Any) -> int:
            if n_samples > 0:
                self._chunks.append(
                    ctypes.string_at(wav, n_samples * ctypes.sizeof(ctypes.c_short))
                )
            return 0

        self._on_samples = on_samples  # referenced here, so ctypes's callback stays alive
        _espeak.SetSynthCallback(on_samples)
        # pyttsx3's binding of espeak_GetParameter takes one argument; it has two
        get_parameter = _espeak.dll.espeak_GetParameter
        get_parameter.argtypes = [ctypes.c_int, ctypes.c_int]
        get_parameter.restype = ctypes.c_int
        self._get_parameter = get_parameter
        self.version = str(_espeak.Info().decode("utf-8", "replace"))
        self.rate_wpm: int | None = None

    def set_voice(self, voice: str) -> None:
        """Speak with ``voice`` (``"en-us"``, ``"en-us+f3"``) from now on."""
        if self._espeak.SetVoiceByName(voice.encode("utf-8")) != 0:
            raise SpeechError(f"espeak-ng refused voice {voice!r}")

    def set_rate(self, rate_wpm: int) -> None:
        """Speak at ``rate_wpm`` words per minute from now on."""
        self._espeak.SetParameter(self._espeak.RATE, rate_wpm, 0)
        self.rate_wpm = rate_wpm
        self._check_rate("after it was set")

    def current_rate_wpm(self) -> int:
        """The rate espeak-ng would speak at now, as it says itself."""
        return int(self._get_parameter(self._espeak.RATE, 1))

    def speak(self, text: str) -> bytes:
        """``text`` spoken: 16-bit little-endian mono PCM at `sample_rate_hz`.

        Raises `RateLostError` if espeak-ng's rate is not `rate_wpm` before or after it, and
        `SpeechError` if espeak-ng fails.
        """
        self._chunks.clear()
        self._check_rate("before the text")
        status = self._espeak.Synth(text, flags=self._espeak.ENDPAUSE | self._espeak.CHARS_UTF8)
        pcm = b"".join(self._chunks)
        self._chunks.clear()
        if status != 0:
            raise SpeechError(f"espeak-ng failed to speak {text[:40]!r} (error {status})")
        self._check_rate("after the text")
        return pcm

    def voices(self) -> list[tuple[str, str, tuple[str, ...], str | None]]:
        """The voices espeak-ng offers: ``(id, name, languages, gender)``."""
        found = []
        for voice in self._espeak.ListVoices(None):
            languages = (voice.languages[1:].decode("utf-8", "replace"),)
            found.append(
                (
                    friendly_voice_id(voice.identifier.decode("utf-8", "replace")),
                    voice.name.decode("utf-8", "replace").strip(),
                    languages,
                    {1: "male", 2: "female"}.get(voice.gender),
                )
            )
        return sorted(found)

    def variants(self) -> list[str]:
        """The voice variants (``f3``, ``m3``...) in espeak-ng's data."""
        from loosen.tts.espeak_loader import list_espeak_variants

        data_path = ctypes.c_char_p()
        self._espeak.Info(ctypes.addressof(data_path))
        if not data_path.value:
            return []
        return list(list_espeak_variants(data_path.value.decode("utf-8", "replace")))

    def _check_rate(self, when: str) -> None:
        if self.rate_wpm is None:
            return
        actual = self.current_rate_wpm()
        if actual != self.rate_wpm:
            raise RateLostError(
                f"espeak-ng's speaking rate was {actual} wpm {when}, not the {self.rate_wpm} "
                "asked for"
            )
