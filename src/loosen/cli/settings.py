"""Which engine, voice, rate and pace a command uses: its options, else the user's config file,
else the script, else the defaults (see the README's "Configuration").

Voice: ``--voice``; else the config's voice, unless the script's ``language`` is one it does
not speak, or another ``--engine`` is asked for than the config's (a voice belongs to its
engine); else the script's ``voice``; else a voice for the script's ``language``; else the
engine's default. Rate: ``--rate``; else the rate of ``--pace``'s preset; else the config's
``rate_wpm``; else the rate of the config's pace preset; else the script's ``rate_wpm``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loosen.errors import BadInputError, ScriptError

if TYPE_CHECKING:
    from loosen.config import Defaults
    from loosen.plan.pace import Preset
    from loosen.script.loading import Session
    from loosen.tts import SpeechEngine

__all__ = ["DEFAULT_ENGINE", "SpeechChoice", "check_rate_option", "choose_speech", "open_chosen"]

DEFAULT_ENGINE = "pyttsx3"
#: languages the engines' default voices speak: no voice list needs reading for them
_DEFAULT_LANGUAGES = ("en", "en-us")


@dataclass(frozen=True)
class SpeechChoice:
    """The speech settings a command runs with, and where the voice came from (``"option"``,
    ``"config"``, ``"script"``, ``"language"`` or ``"default"``), for its error messages."""

    engine: str
    voice: str | None
    rate_wpm: int | None
    voice_from: str


def check_rate_option(rate: int | None) -> None:
    """Refuse a ``--rate`` out of range (0 included: it is not "unset")."""
    from loosen.tts.base import MAX_RATE_WPM, MIN_RATE_WPM

    if rate is not None and not MIN_RATE_WPM <= rate <= MAX_RATE_WPM:
        raise BadInputError(
            f"--rate {rate}: the speaking rate must be from {MIN_RATE_WPM} to {MAX_RATE_WPM} "
            "words per minute"
        )


def choose_speech(
    session: Session,
    defaults: Defaults,
    *,
    engine: str | None,
    voice: str | None,
    rate: int | None,
    preset: Preset | None = None,
    configured_preset: Preset | None = None,
) -> SpeechChoice:
    """The engine, voice and rate for ``session``, by the order in this module's docstring."""
    check_rate_option(rate)
    name = (engine or defaults.engine or DEFAULT_ENGINE).strip().lower()
    rates = (
        rate,
        preset.rate_wpm if preset is not None else None,
        defaults.rate_wpm,
        configured_preset.rate_wpm if configured_preset is not None else None,
        session.rate_wpm,
    )
    rate_wpm = next((r for r in rates if r is not None), None)
    if voice:
        return SpeechChoice(name, voice, rate_wpm, "option")
    language = session.language
    same_engine = name == (defaults.engine or DEFAULT_ENGINE)
    configured = defaults.voice if same_engine else None
    if configured and (language is None or _speaks(name, configured, language)):
        return SpeechChoice(name, configured, rate_wpm, "config")
    if session.voice:
        return SpeechChoice(name, session.voice, rate_wpm, "script")
    if language is None or language.lower().replace("_", "-") in _DEFAULT_LANGUAGES:
        return SpeechChoice(name, None, rate_wpm, "default")
    return SpeechChoice(name, _voice_for(name, language, session), rate_wpm, "language")


def open_chosen(choice: SpeechChoice, session: Session, defaults: Defaults) -> SpeechEngine:
    """Open the engine of ``choice``; a voice it does not know is blamed on where it came from
    (the config file's or the script's key ``voice``)."""
    from loosen.tts import open_engine

    try:
        return open_engine(choice.engine, voice=choice.voice, rate_wpm=choice.rate_wpm)
    except BadInputError as error:
        if choice.voice_from == "config":
            raise ScriptError(str(error), path=defaults.path, where="key 'voice'") from None
        if choice.voice_from == "script" and session.path is not None:
            raise ScriptError(str(error), path=session.path, where="key 'voice'") from None
        raise


def _speaks(engine: str, voice: str, language: str) -> bool:
    """Whether ``voice`` of ``engine`` speaks ``language`` (its id tells, or its description)."""
    from loosen.tts import open_engine
    from loosen.tts.base import speaks

    if speaks(voice, language):  # "en-gb" for "en": no voice list to read
        return True
    try:
        with open_engine(engine, voice=voice) as probe:
            ids = {voice, probe.voice.split("+")[0]}
            info = next((v for v in probe.voices() if v.id in ids), None)
    except BadInputError:
        return True  # an unknown voice: `open_chosen` says so, naming the config file
    return info is None or speaks(info, language)


def _voice_for(engine: str, language: str, session: Session) -> str:
    """A voice of ``engine`` for the script's ``language``; a `ScriptError` naming the script's
    key ``language`` if it has none."""
    from loosen.tts import open_engine
    from loosen.tts.base import voice_for_language

    with open_engine(engine) as probe:
        found = voice_for_language(probe.voices(), language)
    if found is None:
        raise ScriptError(
            f"no voice of engine {engine} speaks {language!r}; see `loosen voices --engine "
            f"{engine}`",
            path=session.path,
            where="key 'language'",
        )
    return found
