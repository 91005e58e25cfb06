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

from loosen.errors import BadInputError, BadValueError, ScriptError

if TYPE_CHECKING:
    from loosen.config import Defaults
    from loosen.plan.pace import Pace, Preset
    from loosen.script.loading import Session
    from loosen.session.options import MixOptions, SessionOptions
    from loosen.tts import SpeechEngine

__all__ = [
    "DEFAULT_ENGINE",
    "PaceChoice",
    "SpeechChoice",
    "check_audio_settings",
    "check_rate_option",
    "choose_speech",
    "chosen_pace",
    "fit_target_s",
    "load_for",
    "open_chosen",
]

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


@dataclass(frozen=True)
class PaceChoice:
    """The pace a session runs at: ``asked`` (the options' preset or factor), else
    ``configured`` (the config file's); ``pace``, the silences' scaling that comes to (before
    any fit)."""

    asked: Preset | None
    configured: Preset | None

    @property
    def pace(self) -> Pace:
        from loosen.plan.pace import Pace

        chosen = self.asked or self.configured
        return Pace(chosen.pace) if chosen is not None else Pace()


def chosen_pace(asked: str | float | None, configured: str | None) -> PaceChoice:
    """The pace of ``asked`` (a preset's name or a factor), else of ``configured`` (the config
    file's; pass None when a length to fit is asked for instead). `BadValueError` ("pace")."""
    from loosen.plan.pace import resolve_pace

    if asked is not None:
        return PaceChoice(resolve_pace(str(asked)), None)
    return PaceChoice(None, resolve_pace(configured) if configured is not None else None)


def fit_target_s(fit: str | float | None) -> float | None:
    """The length to fit a session to, in seconds: ``fit`` in seconds, or as every command
    shows a length (15:00, 1:02:30) or as a script writes it (15m). `BadValueError` ("fit")."""
    if fit is None:
        return None
    from loosen.script.durations import parse_clock_s

    if isinstance(fit, str):
        try:
            target_s = parse_clock_s(fit)
        except ValueError as error:
            raise BadValueError("fit", fit, str(error)) from None
    else:
        target_s = float(fit)
    if not target_s > 0:
        raise BadValueError("fit", str(fit), "give a length such as 15m or 15:00")
    return target_s


def check_audio_settings(sample_rate: int, channels: int) -> None:
    """Refuse a sample rate (Hz) or channel count that no export or device takes."""
    if not 8_000 <= sample_rate <= 192_000:
        raise BadValueError("sample rate", str(sample_rate), "must be from 8000 to 192000 Hz")
    if channels not in (1, 2):
        raise BadValueError("channels", str(channels), "must be 1 or 2")


def load_for(script: str, options: SessionOptions, defaults: Defaults) -> Session:
    """``script`` loaded with the options' settings and mix changes (the config file's
    ambience where the options name none; ``"none"`` turns the script's off)."""
    from dataclasses import replace

    from loosen.plan.expand import numbered_places
    from loosen.script.loading import load_session

    mix = options.mix
    if mix.ambience is None and defaults.ambience is not None:
        mix = replace(mix, ambience=defaults.ambience)

    def numbered() -> list[tuple[tuple[int, ...], str | None]]:
        return numbered_places(load_session(script))

    session = load_session(script, [*options.settings, *mix_settings(mix)], numbered)
    if mix.ambience is not None and mix.ambience.lower() == "none":
        session = replace(session, mix=replace(session.mix, ambience=None))
    return session


def mix_settings(mix: MixOptions) -> list[str]:
    """``mix`` as ``mix.KEY=VALUE`` settings, each checked here first (so a bad one is blamed
    on its value, not on the script): `BadValueError` naming the key (``voice_db``)."""
    from dataclasses import asdict

    from loosen.script.overrides import check_table_value

    settings = []
    for key, value in asdict(mix).items():
        if value is None:
            continue
        if key == "ambience" and str(value).lower() == "none":
            continue
        check_table_value("mix", key, value, what=key, given=str(value))
        if key == "ambience":
            _check_ambience(str(value))
        shown = str(value).lower() if isinstance(value, bool) else value
        settings.append(f"mix.{key}={shown}")
    return settings


def _check_ambience(name: str) -> None:
    """Refuse an ambience that does not exist, blaming the value that named it."""
    from loosen.sound.ambience import load_ambience

    try:
        load_ambience(name)
    except ScriptError as error:
        if error.path is not None:  # the recipe file itself is broken: it is named
            raise
        raise BadValueError("ambience", name, error.message) from None


def check_rate_option(rate: int | None) -> None:
    """Refuse a speaking rate out of range (0 included: it is not "unset")."""
    from loosen.tts.base import MAX_RATE_WPM, MIN_RATE_WPM

    if rate is not None and not MIN_RATE_WPM <= rate <= MAX_RATE_WPM:
        reason = f"the speaking rate must be from {MIN_RATE_WPM} to {MAX_RATE_WPM} words per minute"
        raise BadValueError("rate", str(rate), reason)


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
