"""What the commands share: the app (`loosen.cli.app`), the options, error reporting, and
loading a session."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from loosen.cli.app import app as app  # the commands register on it from here
from loosen.errors import (
    EXIT_INTERRUPTED,
    BadInputError,
    BadValueError,
    LoosenError,
    Terminated,
    printable,
)

T = TypeVar("T")

ScriptArg = Annotated[str, typer.Argument(help="A script file, or a bundled session's name.")]
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="Speech engine: pyttsx3 (default), espeak, or piper (neural)."),
]
PaceOpt = Annotated[
    str | None,
    typer.Option(
        "--pace",
        help="Scale every silence (holds, rests, releases, cadence): a factor such as 1.2, or "
        "a preset: gentle, standard, brisk. Speech is untouched (--rate sets it).",
    ),
]
FitOpt = Annotated[
    str | None,
    typer.Option("--fit", help="Scale the silences so the session lasts this long, e.g. 15m."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help='Change a value without editing the script: "STEP.KEY=VALUE" such as '
        '"hamstring stretch.hold=40", or pacing.KEY=VALUE. Repeatable.',
    ),
]
VoiceDbOpt = Annotated[
    float | None, typer.Option("--voice-db", help="Voice level change in dB (e.g. -3).")
]
ChimeDbOpt = Annotated[
    float | None, typer.Option("--chime-db", help="Chime level change in dB (e.g. -6).")
]
AmbienceOpt = Annotated[
    str | None,
    typer.Option("--ambience", help="Background sound: brown-noise, pink-noise, surf, or none."),
]
AmbienceDbOpt = Annotated[
    float | None, typer.Option("--ambience-db", help="Ambience level change in dB.")
]
BreathToneOpt = Annotated[
    bool | None,
    typer.Option("--breath-tone/--no-breath-tone", help="A soft tone guiding each breath."),
]
VoiceOpt = Annotated[
    str | None, typer.Option("--voice", help="Voice id; overrides the script's `voice`.")
]
VoiceModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--voice-model",
        help="A Piper voice (PATH.onnx, its .onnx.json beside it); implies --engine piper.",
    ),
]
RateOpt = Annotated[
    int | None,
    typer.Option("--rate", help="Speaking rate in words per minute; overrides `rate_wpm`."),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Synthesize all speech again; do not use the cache.")
]
RateHzOpt = Annotated[
    int | None, typer.Option("--sample-rate", help="Output sample rate in Hz (default 48000).")
]
ChannelsOpt = Annotated[
    int | None, typer.Option("--channels", help="1 (mono) or 2 (stereo, the default).")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say which engine and voice ran, and more.")
]


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


# what a library error says a value is -> the option that carries it
_OPTION_FOR = {
    "setting": "--set",
    "step": "--from",
    "pace": "--pace",
    "fit": "--fit",
    "rate": "--rate",
    "loudness": "--loudness",
    "timeline": "--timeline",
    "sample rate": "--sample-rate",
    "channels": "--channels",
    "start": "--start",
    "voice": "--voice",
    "engine": "--engine",
    "voice_db": "--voice-db",
    "chime_db": "--chime-db",
    "ambience": "--ambience",
    "ambience_db": "--ambience-db",
    "breath_tone": "--breath-tone",
    "sidecars": "--chapters",
    "jobs": "--jobs",
    "latency": "--latency",
}


def said_stopped(stop: KeyboardInterrupt) -> int:
    """Say how the process was stopped (Ctrl+C, a signal); return the exit code for it."""
    import contextlib
    import signal

    if isinstance(stop, Terminated):
        words = {"SIGHUP": "Hung up.", "SIGTERM": "Terminated."}
        message = words.get(signal.Signals(stop.signum).name, "Stopped.")
        code = stop.exit_code
    else:
        message, code = "Interrupted.", EXIT_INTERRUPTED
    with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
        typer.echo(message, err=True)
    return code


def message_of(error: LoosenError) -> str:
    """``error`` in the words of the command line: a value names the option that carried it."""
    if isinstance(error, BadValueError):
        option = _OPTION_FOR.get(error.what, error.what if error.what.startswith("-") else None)
        if option is not None:
            return printable(f"{option} {shlex.quote(error.value)}: {error.reason}")
    return str(error)


@contextmanager
def reported() -> Iterator[None]:
    """Turn the project's exceptions and Ctrl+C into one line on stderr and an exit code."""
    try:
        yield
    except LoosenError as error:
        raise fail(message_of(error), error.exit_code) from None
    except KeyboardInterrupt as stop:
        raise typer.Exit(said_stopped(stop)) from None


def worst_exit_code(codes: Iterable[int]) -> int:
    """The exit code of several outcomes: an interruption, else the highest (0: all ok)."""
    found = set(codes)
    return EXIT_INTERRUPTED if EXIT_INTERRUPTED in found else max(found, default=0)


def report_error(error: LoosenError, script: str) -> int:
    """Say ``error`` about ``script`` in one line on stderr, and return its exit code (for
    commands that go on with their next file)."""
    typer.echo(f"Error: {naming(script, str(error))}", err=True)
    return error.exit_code


def naming(script: str, message: str) -> str:
    """``message`` about ``script`` (a path or a session's name), naming it once: most errors
    name their file already."""
    from loosen.script.library import find_scripts

    entry = find_scripts().get(script)
    names = [script, str(entry.path)] if entry is not None else [script]
    return message if any(name in message for name in names) else f"{script}: {message}"


def check_audio_options(sample_rate: int, channels: int) -> None:
    if not 8_000 <= sample_rate <= 192_000:
        raise BadInputError(f"--sample-rate must be from 8000 to 192000 Hz, got {sample_rate}")
    if channels not in (1, 2):
        raise BadInputError(f"--channels must be 1 or 2, got {channels}")


_bars = {"on": True}


def bars_off() -> None:
    """Show no progress bars in this process (a worker of a batch export)."""
    _bars["on"] = False


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal (yields its update function); nothing when stderr is piped."""
    if not _bars["on"] or not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@contextmanager
def rendered(
    script: str,
    *,
    engine: str | None,
    voice: str | None,
    rate: int | None,
    no_cache: bool,
    sample_rate: int | None = None,
    channels: int | None = None,
    verbose: bool = False,
    progressive: bool = False,
    pace: str | None = None,
    fit: str | None = None,
    overrides: list[str] | None = None,
    mix: dict[str, Any] | None = None,
    ahead: bool = False,
    voice_model: Path | None = None,
    speakers: int = 1,
    mono_if_same: bool = False,
) -> Iterator[Any]:
    """Load, expand and measure ``script``; the speech engine stays open inside the block.

    What the options leave unset comes from the user's config file (`loosen.config`), then the
    script (`loosen.session.choices` says in which order). ``progressive`` lays steps out as they
    are first played; ``ahead`` too, while every line is synthesized in the background (an
    export: speech overlaps mixing), by up to ``speakers`` instances of an engine that speaks on
    one core. With ``verbose``, says at the end how many lines were synthesized.
    ``mono_if_same``: when neither ``channels`` nor the config file asks for a channel count,
    a session whose channels would all be the same (no ambience) renders as one channel.
    """
    from loosen.config import load_defaults
    from loosen.plan.expand import numbered_places
    from loosen.plan.pace import Pace, resolve_pace
    from loosen.render.rendering import render_session
    from loosen.script.loading import load_session
    from loosen.session.choices import choose_speech, open_chosen
    from loosen.sound.cues import load_cue_set
    from loosen.tts import Speech, SpeechCache, open_engine
    from loosen.tts.clips import MixReady

    defaults = load_defaults()
    sample_rate = first_set(sample_rate, defaults.sample_rate, 48_000)
    asked_channels = first_set(channels, defaults.channels, 0)  # 0: not asked for
    channels = asked_channels or 2
    check_audio_options(sample_rate, channels)
    if voice_model is not None:
        if voice is not None:
            raise BadInputError("choose one of --voice and --voice-model")
        if engine not in (None, "pyttsx3", "piper"):  # pyttsx3: the default, not asked for
            raise BadInputError("--voice-model is a Piper voice; it goes with --engine piper")
        engine, voice = "piper", str(voice_model)
    if pace is not None and fit is not None:
        raise BadInputError("choose one of --pace and --fit")
    target_s = fit_target(fit)
    preset = resolve_pace(pace) if pace is not None else None
    configured = defaults.pace if pace is None and fit is None else None
    configured_preset = resolve_pace(configured) if configured is not None else None
    if mix is not None and mix.get("ambience") is None and defaults.ambience is not None:
        mix = {**mix, "ambience": defaults.ambience}

    def numbered() -> list[tuple[tuple[int, ...], str | None]]:
        return numbered_places(load_session(script))

    session = load_session(script, [*(overrides or ()), *mix_overrides(mix or {})], numbered)
    ambience = (mix or {}).get("ambience")  # None: as the script says
    if ambience is not None and str(ambience).lower() == "none":
        from dataclasses import replace

        session = replace(session, mix=replace(session.mix, ambience=None))
    if mono_if_same and not asked_channels and session.mix.ambience is None:
        channels = 1  # what `Rendering.dual_mono` says of it
    source = session.path or Path(script)
    cue_set = load_cue_set(session.cues, script_path=session.path)
    chosen_pace = preset or configured_preset
    session_pace = Pace(chosen_pace.pace) if chosen_pace is not None else Pace()
    choice = choose_speech(
        session, defaults, engine=engine, voice=voice, rate=rate, preset=preset,
        configured_preset=configured_preset,
    )  # fmt: skip
    speech_engine = open_chosen(choice, session, defaults)
    with speech_engine, ExitStack() as spares:
        if verbose:
            typer.echo(f"script: {source}", err=True)
            typer.echo(f"speech: {speech_engine.describe()}", err=True)
        spare_engines = []
        if ahead and getattr(speech_engine, "speaks_on_one_core", False):
            for _ in range(speakers - 1):  # each starts its worker when it is first given a line
                spare = open_engine(choice.engine, voice=choice.voice, rate_wpm=choice.rate_wpm)
                spare_engines.append(spares.enter_context(spare))
        speech = Speech(
            speech_engine, None if no_cache else SpeechCache(), spare_engines,
            condition=MixReady(getattr(speech_engine, "level_db", None)),
        )  # fmt: skip
        bars = ExitStack()
        shown = 0
        update: Callable[[int], None] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal shown, update
            if progressive:  # playback: the player's status line is the display
                return
            if update is None and total:
                update = bars.enter_context(progress_bar(total, "Speaking")) or (lambda _: None)
            if update is not None:
                update(done - shown)
                shown = done
                if done >= total:
                    bars.close()  # the bar ends its line now, before any other bar starts
                    update = lambda _: None  # noqa: E731

        with bars:
            ahead = ahead and target_s is None
            if target_s is not None:
                measured = render_session(
                    session, speech=speech, cue_set=cue_set, sample_rate=sample_rate,
                    progress=progress,
                )  # fmt: skip
                session_pace = fitted(session, measured, target_s, fit or "")
                if verbose:
                    typer.echo(f"fit: {describe_pace(session_pace)}", err=True)
            rendering = render_session(
                session,
                speech=speech,
                cue_set=cue_set,
                sample_rate=sample_rate,
                channels=channels,
                pace=session_pace,
                progress=progress,
                progressive=(progressive or ahead) and target_s is None,
                synthesize_ahead=ahead,
            )
            try:
                yield rendering
            finally:
                speech.stop()
            if verbose:
                count = speech.synthesized_count
                typer.echo(f"speech: {count} line{'' if count == 1 else 's'} synthesized", err=True)


def first_set(*values: T | None) -> T:
    """The first of ``values`` that is not None (the last one must not be)."""
    found = next((value for value in values if value is not None), None)
    assert found is not None
    return found


def mix_overrides(options: dict[str, Any]) -> list[str]:
    """Command-line level options as ``mix.KEY=VALUE`` settings, each checked here first (so
    a bad one is blamed on its option, not on the script)."""
    from loosen.script.overrides import check_table_value

    settings = []
    for key, value in options.items():
        if value is None:
            continue
        if key == "ambience" and str(value).lower() == "none":
            continue
        option = "--" + key.replace("_", "-")
        check_table_value("mix", key, value, what=option, given=str(value))
        if key == "ambience":
            _check_ambience(str(value), option)
        shown = str(value).lower() if isinstance(value, bool) else value
        settings.append(f"mix.{key}={shown}")
    return settings


def _check_ambience(name: str, option: str) -> None:
    """Refuse an ambience that does not exist, blaming the option that named it."""
    from loosen.errors import ScriptError
    from loosen.sound.ambience import load_ambience

    try:
        load_ambience(name)
    except ScriptError as error:
        if error.path is not None:  # the recipe file itself is broken: it is named
            raise
        raise BadValueError(option, name, error.message) from None


def fit_target(fit: str | None) -> float | None:
    if fit is None:
        return None
    from loosen.script.durations import parse_clock_s

    try:  # a length as every command shows it (15:00, 1:02:30), or written as in a script
        target_s = parse_clock_s(fit)
    except ValueError as error:
        raise BadInputError(f"--fit: {error}") from None
    if target_s <= 0:
        raise BadInputError(f"--fit {fit}: give a length such as 15m or 15:00")
    return target_s


def fitted(session: Any, measured: Any, target_s: float, fit: str) -> Any:
    """The pace at which ``session`` lasts ``target_s`` (``--fit``), from the speech that
    ``measured`` (a rendering of it as written) has measured."""
    from loosen.plan.fitting import Measures, fit_pace

    measures = Measures(
        sample_rate=measured.sample_rate,
        speech_frames=measured.clips.frames,
        cue_frames=lambda cue: int(measured.cue_samples(cue).size),
    )
    try:
        return fit_pace(session, session.pacing, target_s, measures)
    except BadInputError as error:
        raise BadInputError(f"--fit {fit}: {error}") from None


def describe_pace(pace: Any) -> str:
    """How ``pace`` scales the silences, in words for ``-v``."""
    words = f"every silence scaled by {pace.factor:.3f}"
    if pace.announced_factor is not None:
        words += f", the holds a line announces by {pace.announced_factor:.3f}"
    return words + " (announced holds in whole seconds)"


def clock(seconds: float) -> str:
    """A length as every command shows it (`loosen.script.durations.format_length`)."""
    from loosen.script.durations import format_length

    return format_length(seconds)


def write_json(path: Path, document: dict[str, Any]) -> None:
    import os
    import tempfile

    from loosen.errors import ExportError

    folder = path.parent if str(path.parent) else Path()
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        Path(temp).replace(path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise ExportError(f"{path}: could not write the timeline: {error.strerror}") from None
