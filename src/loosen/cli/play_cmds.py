"""Live playback: play and devices."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import textwrap
import time
from typing import Annotated, Any

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
    rendered,
    reported,
)
from loosen.errors import BadInputError, PlaybackError


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
    """Play a session now, with single-key controls (space, arrows, r, +/-, t, q)."""
    with reported():
        from loosen.playback.keys import single_keys
        from loosen.playback.player import native_stderr_silenced
        from loosen.playback.player import play as play_session
        from loosen.playback.resume import SavedPosition, clear_position, save_position
        from loosen.script.durations import parse_clock_s

        if sum(x is not None for x in (from_step, start)) + resume > 1:
            raise BadInputError("choose one of --resume, --from and --start")
        if latency is not None and not 0.001 <= latency <= 2.0:
            raise BadInputError(f"--latency must be from 0.001 to 2 seconds, got {latency:g}")
        start_s = None
        if start is not None:
            try:
                start_s = parse_clock_s(start)
            except ValueError as error:
                raise BadInputError(f"--start: {error}") from None
        with (
            native_stderr_silenced(),
            rendered(
                script,
                engine=engine,
                voice=voice,
                voice_model=voice_model,
                rate=rate,
                no_cache=no_cache,
                pace=pace,
                fit=fit,
                overrides=overrides,
                verbose=verbose,
                progressive=True,
                ahead=True,
                mix={
                    "voice_db": voice_db,
                    "chime_db": chime_db,
                    "ambience": ambience,
                    "ambience_db": ambience_db,
                    "breath_tone": breath_tone,
                },
            ) as rendering,
        ):
            key = str(rendering.session.path.resolve()) if rendering.session.path else script
            # every option is checked before anything touches the audio device
            start_frame, notice = _start_frame(rendering, key, from_step, start, start_s, resume)
            if notice and not quiet:
                typer.echo(notice, err=True)
            console = None if quiet else _TerminalConsole()

            def first_block(seconds: float) -> None:
                if verbose:
                    typer.echo(
                        f"play: first block to the device after {seconds:.3f} s "
                        f"(at {time.time():.3f})",
                        err=True,
                    )

            try:
                with single_keys() as keys:
                    result = play_session(
                        rendering,
                        start_frame=start_frame,
                        device=device,
                        latency=latency,
                        console=console,
                        keys=keys,
                        on_first_block=first_block,
                    )
            finally:
                if console is not None:
                    console.close()
            if result.reason == "end":
                clear_position(key)
            elif result.step is not None:
                time_s = result.frame / rendering.sample_rate
                step = rendering.steps[result.step.index - 1]
                save_position(key, SavedPosition(step.index, step.name, time_s, step.address))
            if verbose:
                typer.echo(f"play: {result.underruns} underrun(s)", err=True)
                if result.first_sound_at is not None:
                    # wall-clock time, so a benchmark can measure from when it started us
                    typer.echo(f"play: first sound at {result.first_sound_at:.3f}", err=True)
            where = _where_it_stopped(rendering, result, script)
            if result.abandoned:  # the audio server hangs: PortAudio would wait for it at exit
                _leave_at_once(result, where)
            if result.error is not None:  # one line: what went wrong, and how to go on
                raise PlaybackError(f"{result.error}. {where}")
            if not quiet:
                typer.echo(where, err=True)
            if result.interruption is not None:
                raise result.interruption


def _leave_at_once(result: Any, where: str) -> None:
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


def _start_frame(
    rendering: Any,
    key: str,
    from_step: str | None,
    start: str | None,
    start_s: float | None,
    resume: bool,
) -> tuple[int, str | None]:
    """Where playback starts, and what to tell the listener about it (or None)."""
    from loosen.plan.addresses import find_step
    from loosen.playback.resume import SavedPlacesError, load_position

    if from_step is not None:
        return rendering.step_start(find_step(rendering.steps, from_step)), None
    if start_s is not None:
        start_frame = round(start_s * rendering.sample_rate)
        rendering.place_until(start_frame + 1)
        if rendering.finished and start_frame >= rendering.timeline.total_frames:
            length = clock(rendering.timeline.duration_s)
            raise BadInputError(f"--start {start} is past the end of the session ({length})")
        return start_frame, None
    if not resume:
        return 0, None
    try:
        saved = load_position(key)
    except SavedPlacesError as error:
        return 0, f"The saved places could not be read ({error}); starting from the beginning."
    if saved is None:
        return 0, "Nothing saved to resume for this session; starting from the beginning."
    steps = rendering.steps
    if not 1 <= saved.step <= len(steps) or steps[saved.step - 1].name != saved.step_name:
        return 0, (
            f"The place saved (step {saved.step}, {saved.address or saved.step_name}) is no "
            "longer in this "
            "session; starting from the beginning."
        )
    step = steps[saved.step - 1]
    return rendering.step_start(step.index), f"Resuming at step {step.index}, {step.address}."


def _where_it_stopped(rendering: Any, result: Any, script: str) -> str:
    """One line for the end of playback: where it stopped, and how to go on from there."""
    if result.reason == "end":
        return f"Finished ({clock(rendering.timeline.duration_s)})."
    if result.step is None:
        return "Stopped before the first step."
    step = rendering.steps[result.step.index - 1]
    at = clock(result.frame / rendering.sample_rate)
    return (
        f"Stopped at {at}, in step {step.index} of {len(rendering.steps)}, {step.address}. "
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
        from loosen.playback.player import list_devices

        for index, name, channels, default in list_devices():
            mark = "*" if default else " "
            typer.echo(f"{mark} {index:>3}  {name}  ({channels} channels)")
