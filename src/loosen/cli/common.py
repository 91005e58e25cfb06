"""What the commands share: the app (`loosen.cli.app`), the options, error reporting, and
loading a session."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from loosen.pipeline import Listener, SessionOptions

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
    "quality": "--quality",
    "cover": "--cover",
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


def session_options(
    *,
    engine: str | None = None,
    voice: str | None = None,
    voice_model: Path | None = None,
    rate: int | None = None,
    no_cache: bool = False,
    pace: str | None = None,
    fit: str | None = None,
    overrides: list[str] | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    voice_db: float | None = None,
    chime_db: float | None = None,
    ambience: str | None = None,
    ambience_db: float | None = None,
    breath_tone: bool | None = None,
) -> SessionOptions:
    """The library's options from a command's; the pairs that exclude each other refused in
    the command's words."""
    from loosen.pipeline import MixOptions, SessionOptions

    if pace is not None and fit is not None:
        raise BadInputError("choose one of --pace and --fit")
    if voice_model is not None:
        if voice is not None:
            raise BadInputError("choose one of --voice and --voice-model")
        if engine not in (None, "pyttsx3", "piper"):  # pyttsx3: the default, not asked for
            raise BadInputError("--voice-model is a Piper voice; it goes with --engine piper")
    mix = MixOptions(
        voice_db=voice_db, chime_db=chime_db, ambience=ambience, ambience_db=ambience_db,
        breath_tone=breath_tone,
    )  # fmt: skip
    return SessionOptions(
        engine=engine, voice=voice, voice_model=voice_model, rate_wpm=rate, pace=pace, fit=fit,
        settings=tuple(overrides or ()), mix=mix, sample_rate=sample_rate, channels=channels,
        cache=not no_cache,
    )  # fmt: skip


class Bars:
    """The library's progress as bars on a terminal, one stage at a time (nothing when stderr
    is piped, or in a batch's worker); a context manager that ends the last bar."""

    def __init__(self) -> None:
        self._stage: str | None = None
        self._bar: ExitStack | None = None
        self._update: Callable[[int], None] | None = None
        self._shown = 0

    def progress(self, stage: str, done: int, total: int) -> None:
        """Hear that ``done`` of ``total`` units of ``stage`` are done (0: total unknown)."""
        if stage != self._stage:
            self._end()
            self._stage = stage
            if total > 0:
                self._bar = ExitStack()
                self._update = self._bar.enter_context(progress_bar(total, stage))
        if self._update is not None:
            self._update(done - self._shown)
            self._shown = done
            if total and done >= total:
                self._end()  # the bar ends its line now, before any other bar starts

    def _end(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._update, self._shown = None, None, 0

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()


def listener_for(bars: Bars | None, *, verbose: bool, quiet: bool = False) -> Listener:
    """What the command shows of the library's work: ``bars``, details with ``verbose``,
    notices unless ``quiet``, and always the warnings, on stderr."""
    from loosen.pipeline import Listener

    return Listener(
        progress=bars.progress if bars is not None else None,
        detail=_to_stderr if verbose else None,
        notice=None if quiet else _to_stderr,
        warning=lambda line: _to_stderr(f"warning: {line}"),
    )


def _to_stderr(line: str) -> None:
    typer.echo(line, err=True)


def clock(seconds: float) -> str:
    """A length as every command shows it (`loosen.script.durations.format_length`)."""
    from loosen.script.durations import format_length

    return format_length(seconds)
