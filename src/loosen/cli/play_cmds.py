"""Live playback: play and devices."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Annotated

import typer

from loosen.cli.common import (
    AmbienceDbOpt,
    AmbienceOpt,
    BreathToneOpt,
    ChimeDbOpt,
    EngineOpt,
    FitOpt,
    NoCacheOpt,
    PaceOpt,
    RateOpt,
    ScriptArg,
    SetOpt,
    VerboseOpt,
    VoiceDbOpt,
    VoiceModelOpt,
    VoiceOpt,
    app,
    clock,
    listener_for,
    reported,
    session_options,
)
from loosen.errors import BadInputError, PlaybackError

if TYPE_CHECKING:
    from loosen.pipeline import PlayOutcome
    from loosen.playback.player import PlayResult


@app.command()
def play(
    script: ScriptArg,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the step where you last stopped.")
    ] = False,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from",
            help='Start at a step: its number, its name (or a unique start of it), "name (side)",'
            " or a repeat block's name.",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Start at a time, such as 5:00.")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Output device: index or part of its name.")
    ] = None,
    latency: Annotated[
        float | None,
        typer.Option("--latency", help="Output latency in seconds; raise it on a slow machine."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Show nothing while playing.")] = False,
    no_announce: Annotated[
        bool,
        typer.Option(
            "--no-announce",
            help="Answer the controls silently (no sound for pause and volume, no step names).",
        ),
    ] = False,
    wait_reminder: Annotated[
        str | None,
        typer.Option(
            "--wait-reminder",
            metavar="DURATION|off",
            help="While a step waits for you, a reminder sound this often (default 30s), or off.",
        ),
    ] = None,
    engine: EngineOpt = None,
    voice: VoiceOpt = None,
    voice_model: VoiceModelOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    voice_db: VoiceDbOpt = None,
    chime_db: ChimeDbOpt = None,
    ambience: AmbienceOpt = None,
    ambience_db: AmbienceDbOpt = None,
    breath_tone: BreathToneOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Play a session now, with single-key controls (space, arrows, r, +/-, t, e, q)."""
    with reported():
        from loosen.pipeline import PlayOptions, play_session
        from loosen.playback.terminal_keys import single_keys

        if sum(x is not None for x in (from_step, start)) + resume > 1:
            raise BadInputError("choose one of --resume, --from and --start")
        if latency is not None and not 0.001 <= latency <= 2.0:
            raise BadInputError(f"--latency must be from 0.001 to 2 seconds, got {latency:g}")
        options = session_options(
            engine=engine, voice=voice, voice_model=voice_model, rate=rate, no_cache=no_cache,
            pace=pace, fit=fit, overrides=overrides, voice_db=voice_db, chime_db=chime_db,
            ambience=ambience, ambience_db=ambience_db, breath_tone=breath_tone,
        )  # fmt: skip
        play_options = PlayOptions(
            from_step=from_step,
            start=start,
            resume=resume,
            device=device,
            latency_s=latency,
            announce=not no_announce,
            wait_reminder_s=_reminder_s(wait_reminder),
        )
        console = None if quiet else _TerminalConsole()

        def first_block(seconds: float) -> None:
            if verbose:
                typer.echo(
                    f"play: first block to the device after {seconds:.3f} s (at {time.time():.3f})",
                    err=True,
                )

        try:
            with single_keys() as keys:
                outcome = play_session(
                    script, options, play_options, console=console, keys=keys,
                    listener=listener_for(None, verbose=verbose, quiet=quiet),
                    on_first_block=first_block,
                )  # fmt: skip
        finally:
            if console is not None:
                console.close()
        result = outcome.result
        if verbose:
            typer.echo(f"play: {result.underruns} underrun(s)", err=True)
        where = _where_it_stopped(outcome, script)
        if result.abandoned:  # the audio server hangs: PortAudio would wait for it at exit
            _leave_at_once(result, where)
        if result.error is not None:  # one line: what went wrong, and how to go on
            raise PlaybackError(f"{result.error}. {where}")
        if not quiet:
            typer.echo(where, err=True)
        if result.interruption is not None:
            raise result.interruption


def _leave_at_once(result: PlayResult, where: str) -> None:
    """Exit now, without Python's clean-up: the audio output would not stop (a hung audio
    server), and PortAudio's own clean-up at exit would wait for it for ever. The position is
    saved and the terminal restored already."""
    from loosen.cli.common import message_of, said_stopped

    code = 1
    with contextlib.suppress(OSError):
        if result.interruption is not None:
            code = said_stopped(result.interruption)
        elif result.error is not None:
            typer.echo(f"Error: {message_of(result.error)}. {where}", err=True)
        sys.stderr.flush()
        sys.stdout.flush()
    os._exit(code)


def _where_it_stopped(outcome: PlayOutcome, script: str) -> str:
    """One line for the end of playback: where it stopped, and how to go on from there."""
    if outcome.result.reason == "end":
        return f"Finished ({clock(outcome.duration_s)})."
    step = outcome.stopped_step
    if step is None:
        return "Stopped before the first step."
    return (
        f"Stopped at {clock(outcome.stopped_at_s)}, in step {step.index} of "
        f"{len(outcome.steps)}, {step.address}. "
        f"To go on from there: loosen play {shlex.quote(script)} --resume"
    )


class _TerminalConsole:
    """The player's status line on stderr, redrawn in place and fitted to the terminal's width;
    nothing when stderr is piped."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.drawn = False

    @property
    def width(self) -> int:
        """The terminal's width now (it may be resized while playing); 80 if it says none."""
        try:
            columns = os.get_terminal_size(sys.stderr.fileno()).columns
        except (OSError, ValueError):
            columns = 0
        return columns or shutil.get_terminal_size().columns

    def status(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()
            self.drawn = True

    def line(self, text: str) -> None:
        if self.tty:
            lines = textwrap.wrap(text, max(20, self.width - 1), break_on_hyphens=False)
            sys.stderr.write("\r\x1b[K" + "\n".join(lines) + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@app.command()
def devices() -> None:
    """List the audio output devices (for `loosen play --device`)."""
    with reported():
        from loosen.playback.devices import list_devices

        for index, name, channels, default in list_devices():
            mark = "*" if default else " "
            typer.echo(f"{mark} {index:>3}  {name}  ({channels} channels)")


def _reminder_s(value: str | None) -> float | None:
    """``--wait-reminder``: seconds between reminders (30 if not given), None for ``off``."""
    from loosen.pipeline import PlayOptions
    from loosen.script.durations import parse_duration_s

    if value is None:
        return PlayOptions().wait_reminder_s
    if value.strip().lower() == "off":
        return None
    try:
        seconds = parse_duration_s(value)
    except ValueError as error:
        raise BadInputError(f"--wait-reminder {value}: {error}; or off") from None
    if seconds < 1.0:
        raise BadInputError(f"--wait-reminder {value}: must be at least 1 second, or off")
    return seconds
