"""Live playback: play and devices."""

from __future__ import annotations

import sys
import time
from typing import Annotated

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
from loosen.errors import BadInputError


@app.command()
def play(
    script: ScriptArg,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the step where you last stopped.")
    ] = False,
    from_step: Annotated[
        str | None,
        typer.Option("--from", help="Start at a step: its number, name, or name:side."),
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
        from loosen.durations import parse_clock_s
        from loosen.keys import single_keys
        from loosen.player import find_step, native_stderr_silenced, warm_up
        from loosen.player import play as play_session
        from loosen.resume import SavedPosition, clear_position, load_position, save_position

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
        with native_stderr_silenced():
            warm_up()
            with rendered(
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
            ) as rendering:
                key = str(rendering.session.path.resolve()) if rendering.session.path else script
                start_frame = 0
                if from_step is not None:
                    start_frame = rendering.step_start(find_step(rendering, from_step))
                elif start_s is not None:
                    start_frame = round(start_s * rendering.sample_rate)
                    rendering.place_until(start_frame + 1)
                    if rendering.finished and start_frame >= rendering.timeline.total_frames:
                        length = clock(rendering.timeline.duration_s)
                        raise BadInputError(
                            f"--start {start} is past the end of the session ({length})"
                        )
                elif resume:
                    saved = load_position(key)
                    if saved is not None and 1 <= saved.step <= len(rendering.steps):
                        start_frame = rendering.step_start(saved.step)
                        if not quiet:
                            typer.echo(
                                f"Resuming at step {saved.step} {saved.step_name or ''}", err=True
                            )
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
                    save_position(key, SavedPosition(result.step.index, result.step.name, time_s))
                if verbose:
                    typer.echo(f"play: {result.underruns} underrun(s)", err=True)
                    if result.first_sound_at is not None:
                        # wall-clock time, so a benchmark can measure from when it started us
                        typer.echo(f"play: first sound at {result.first_sound_at:.3f}", err=True)
                if result.error is not None:
                    raise result.error
                if result.reason == "interrupted":
                    raise KeyboardInterrupt


class _TerminalConsole:
    """The player's status line on stderr, redrawn in place; nothing when stderr is piped."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.drawn = False

    def status(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()
            self.drawn = True

    def line(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


@app.command()
def devices() -> None:
    """List the audio output devices (for `loosen play --device`)."""
    with reported():
        from loosen.player import list_devices

        for index, name, channels, default in list_devices():
            mark = "*" if default else " "
            typer.echo(f"{mark} {index:>3}  {name}  ({channels} channels)")
