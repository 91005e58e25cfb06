"""Choose a speech engine by name."""

from __future__ import annotations

from collections.abc import Callable

from loosen.errors import BadInputError
from loosen.tts.base import SpeechEngine

__all__ = ["ENGINE_NAMES", "open_engine"]


def _open_pyttsx3(voice: str | None, rate_wpm: int | None) -> SpeechEngine:
    from loosen.tts.pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine(voice=voice, rate_wpm=rate_wpm)


def _open_espeak(voice: str | None, rate_wpm: int | None) -> SpeechEngine:
    from loosen.tts.espeak_engine import EspeakEngine

    return EspeakEngine(voice=voice, rate_wpm=rate_wpm)


def _open_piper(voice: str | None, rate_wpm: int | None) -> SpeechEngine:
    from loosen.tts.piper_engine import PiperEngine  # piper itself only once it is wanted

    return PiperEngine(voice=voice, rate_wpm=rate_wpm)


_OPENERS: dict[str, Callable[[str | None, int | None], SpeechEngine]] = {
    "pyttsx3": _open_pyttsx3,
    "espeak": _open_espeak,
    "piper": _open_piper,
}

#: Engine names :func:`open_engine` accepts; the first is the default.
ENGINE_NAMES: tuple[str, ...] = tuple(_OPENERS)


def open_engine(
    name: str = "pyttsx3", *, voice: str | None = None, rate_wpm: int | None = None
) -> SpeechEngine:
    """Open the speech engine called ``name``.

    Parameters
    ----------
    name
        One of :data:`ENGINE_NAMES`: ``"pyttsx3"`` (default; a watched worker process, every
        platform), ``"espeak"`` (libespeak-ng in memory, in this process; faster) or
        ``"piper"`` (a neural voice, with the ``neural`` extra; a worker process too).
    voice
        Voice id (``"en-us"``, ``"en-us+f3"``; for piper a voice name or a ``.onnx`` path);
        ``None`` for the engine's English default.
    rate_wpm
        Speaking rate in words per minute (80 to 450); ``None`` for 150.

    Raises
    ------
    BadInputError
        Unknown engine or voice, or rate out of range; the message lists the choices.
    SpeechError
        The engine cannot run on this machine.
    """
    opener = _OPENERS.get(name.strip().lower())
    if opener is None:
        raise BadInputError(f"unknown speech engine {name!r}; available: {', '.join(ENGINE_NAMES)}")
    return opener(voice, rate_wpm)
