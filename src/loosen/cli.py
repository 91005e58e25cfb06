"""The `loosen` command: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 ok, 1 runtime failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from loosen.errors import EXIT_INTERRUPTED, BadInputError, LoosenError

app = typer.Typer(
    name="loosen",
    help="Guided audio for progressive muscle relaxation and stretch routines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])

ScriptArg = Annotated[str, typer.Argument(help="A script file, or a bundled session's name.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Speech engine (see `loosen voices`).")]
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
VoiceOpt = Annotated[
    str | None, typer.Option("--voice", help="Voice id; overrides the script's `voice`.")
]
RateOpt = Annotated[
    int | None,
    typer.Option("--rate", help="Speaking rate in words per minute; overrides `rate_wpm`."),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Synthesize all speech again; do not use the cache.")
]
RateHzOpt = Annotated[int, typer.Option("--sample-rate", help="Output sample rate in Hz.")]
ChannelsOpt = Annotated[int, typer.Option("--channels", help="1 (mono) or 2 (stereo).")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say which engine and voice ran, and more.")
]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn the project's exceptions and Ctrl+C into one line on stderr and an exit code."""
    try:
        yield
    except LoosenError as error:
        raise _fail(str(error), error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _check_audio_options(sample_rate: int, channels: int) -> None:
    if not 8_000 <= sample_rate <= 192_000:
        raise BadInputError(f"--sample-rate must be from 8000 to 192000 Hz, got {sample_rate}")
    if channels not in (1, 2):
        raise BadInputError(f"--channels must be 1 or 2, got {channels}")


def _progress_bar(total: int, label: str) -> Any:
    """A progress bar on a terminal, nothing when stderr is piped."""
    if not sys.stderr.isatty():
        return None
    return typer.progressbar(length=total, label=label, file=sys.stderr)


@contextmanager
def _rendered(
    script: str,
    *,
    engine: str,
    voice: str | None,
    rate: int | None,
    no_cache: bool,
    sample_rate: int = 48_000,
    channels: int = 2,
    verbose: bool = False,
    progressive: bool = False,
    pace: str | None = None,
    fit: str | None = None,
    overrides: list[str] | None = None,
) -> Iterator[Any]:
    """Load, expand and measure ``script``; the speech engine stays open inside the block."""
    from loosen.pace import resolve_pace
    from loosen.render import render_session
    from loosen.script import load_session
    from loosen.sounds import load_cue_set
    from loosen.tts import Speech, SpeechCache, open_engine

    _check_audio_options(sample_rate, channels)
    if pace is not None and fit is not None:
        raise BadInputError("choose one of --pace and --fit")
    target_s = _fit_target(fit)
    preset = resolve_pace(pace) if pace is not None else None
    session = load_session(script, overrides or ())
    source = session.path or Path(script)
    cue_set = load_cue_set(session.cues, script_path=session.path)
    pacing = _paced(session.pacing, preset.pace) if preset is not None else session.pacing
    rate_wpm = rate or (preset.rate_wpm if preset else None) or session.rate_wpm
    speech_engine = open_engine(engine, voice=_pick_voice(voice, session), rate_wpm=rate_wpm)
    with speech_engine:
        if verbose:
            typer.echo(f"script: {source}", err=True)
            typer.echo(f"speech: {speech_engine.describe()}", err=True)
        speech = Speech(speech_engine, None if no_cache else SpeechCache())
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None and total:
                bar = _progress_bar(total, "Speaking")
                if bar is not None:
                    bar.__enter__()
            if bar is not None:
                bar.update(done - bar.pos)

        try:
            if target_s is not None:
                measured = render_session(
                    session, speech=speech, cue_set=cue_set, sample_rate=sample_rate,
                    pacing=pacing, progress=progress,
                )  # fmt: skip
                pacing = _fitted(session, measured, target_s)
                if verbose:
                    typer.echo(f"fit: every silence scaled by {pacing.pace:.3f}", err=True)
            rendering = render_session(
                session,
                speech=speech,
                cue_set=cue_set,
                sample_rate=sample_rate,
                channels=channels,
                pacing=pacing,
                progress=progress,
                progressive=progressive and target_s is None,
            )
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        if verbose and not progressive:
            typer.echo(f"speech: {speech.synthesized_count} line(s) synthesized", err=True)
        yield rendering


def _fit_target(fit: str | None) -> float | None:
    if fit is None:
        return None
    from loosen.durations import parse_duration_s

    try:
        target_s = parse_duration_s(fit)
    except ValueError as error:
        raise BadInputError(f"--fit: {error}") from None
    if target_s <= 0:
        raise BadInputError(f"--fit {fit}: give a length such as 15m")
    return target_s


def _paced(pacing: Any, factor: float) -> Any:
    """``pacing`` with every silence, the gap after speech included, scaled by ``factor``."""
    from dataclasses import replace

    from loosen.pace import paced_gap

    return replace(pacing, pace=factor, gap_s=paced_gap(pacing.gap_s, factor))


def _fitted(session: Any, measured: Any, target_s: float) -> Any:
    """The session's pacing scaled so its total length is ``target_s``."""
    from loosen.expand import expand_session
    from loosen.pace import fit_pace
    from loosen.timeline import build_timeline

    def total_for(factor: float) -> float:
        pacing = _paced(session.pacing, factor)
        timeline = build_timeline(
            expand_session(session, pacing),
            sample_rate=measured.sample_rate,
            gap_s=pacing.gap_s,
            speech_frames=measured.clips.frames,
            cue_frames=lambda cue: int(measured.cue_samples(cue).size),
        )
        return float(timeline.duration_s)

    return _paced(session.pacing, fit_pace(total_for, target_s))


def _pick_voice(option: str | None, session: Any) -> str | None:
    """The command line's voice, else the script's, else one for the script's language."""
    if option or session.voice:
        return str(option or session.voice)
    language = session.language
    if language and not language.lower().startswith("en"):
        return str(language)  # espeak-ng names a language's default voice by its code
    return None  # the engine's default English voice


@app.command()
def export(
    script: ScriptArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output file: .wav (default), .flac, .ogg or .mp3."),
    ] = None,
    timeline: Annotated[
        Path | None, typer.Option("--timeline", help="Also write the timeline as JSON here.")
    ] = None,
    engine: EngineOpt = "pyttsx3",
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    sample_rate: RateHzOpt = 48_000,
    channels: ChannelsOpt = 2,
    verbose: VerboseOpt = False,
) -> None:
    """Render a session to an audio file."""
    with _reported():
        from loosen.export import check_output_path, export_blocks
        from loosen.script import resolve_script

        out = output or Path(f"{resolve_script(script).stem}.wav")
        fmt = check_output_path(out)
        if timeline is not None and timeline.suffix.lower() != ".json":
            raise BadInputError(f"{timeline}: the timeline is JSON; name it .json")
        if timeline is not None:
            check_timeline = timeline.parent if str(timeline.parent) else Path()
            if not check_timeline.is_dir():
                raise BadInputError(f"{timeline}: the folder {check_timeline} does not exist")
        with _rendered(
            script,
            engine=engine,
            voice=voice,
            rate=rate,
            no_cache=no_cache,
            pace=pace,
            fit=fit,
            overrides=overrides,
            sample_rate=sample_rate,
            channels=channels,
            verbose=verbose,
        ) as rendering:
            total = rendering.timeline.total_frames
            bar = _progress_bar(total, f"Writing {out.name}")
            if bar is not None:
                bar.__enter__()
            try:
                export_blocks(
                    rendering.blocks(block_frames=rendering.sample_rate),
                    out,
                    sample_rate=rendering.sample_rate,
                    channels=rendering.channels,
                    total_frames=total,
                    progress=bar.update if bar is not None else None,
                )
            finally:
                if bar is not None:
                    bar.__exit__(None, None, None)
            if timeline is not None:
                _write_json(timeline, rendering.timeline.to_json(rendering.session.title))
            typer.echo(
                f"Wrote {out} ({fmt.name}, {_clock(rendering.timeline.duration_s)}, "
                f"{rendering.sample_rate} Hz, {rendering.channels} ch)",
                err=True,
            )


def _write_json(path: Path, document: dict[str, Any]) -> None:
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


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


@app.command()
def show(
    script: ScriptArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    engine: EngineOpt = "pyttsx3",
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    sample_rate: RateHzOpt = 48_000,
) -> None:
    """Print the expanded timeline and the total length, without writing audio."""
    with (
        _reported(),
        _rendered(
            script,
            engine=engine,
            voice=voice,
            rate=rate,
            no_cache=no_cache,
            pace=pace,
            fit=fit,
            overrides=overrides,
            sample_rate=sample_rate,
        ) as rendering,
    ):
        timeline = rendering.timeline
        if as_json:
            typer.echo(json.dumps(timeline.to_json(rendering.session.title), indent=2))
            return
        typer.echo(f"{rendering.session.title}: {_clock(timeline.duration_s)} total")
        for line in _timeline_lines(timeline):
            typer.echo(line)


def _timeline_lines(timeline: Any) -> Iterator[str]:
    from loosen.durations import format_clock

    for event in timeline.events:
        if event.kind in ("pause", "rep", "breath"):
            continue  # their sound is the speech and chimes listed with them
        what = event.text if event.kind == "speech" else (event.cue or event.text or "")
        if event.kind == "hold":
            what = f"hold {timeline.seconds(event.frames):g} s"
        step = f"{event.step:>3} {event.step_name or ''}"
        if event.side:
            step += f" ({event.side})"
        start = format_clock(timeline.seconds(event.start))
        length_s = timeline.seconds(event.frames)
        yield f"{start:>10}  {length_s:6.2f}s  {step[:32]:<32}  {event.kind:<6}  {what}"
    yield f"{format_clock(timeline.duration_s):>10}  end"


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
    engine: EngineOpt = "pyttsx3",
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    pace: PaceOpt = None,
    fit: FitOpt = None,
    overrides: SetOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Play a session now, with single-key controls (space, arrows, r, +/-, t, q)."""
    with _reported():
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
            with _rendered(
                script,
                engine=engine,
                voice=voice,
                rate=rate,
                no_cache=no_cache,
                pace=pace,
                fit=fit,
                overrides=overrides,
                verbose=verbose,
                progressive=True,
            ) as rendering:
                key = str(rendering.session.path.resolve()) if rendering.session.path else script
                start_frame = 0
                if from_step is not None:
                    start_frame = rendering.step_start(find_step(rendering, from_step))
                elif start_s is not None:
                    start_frame = round(start_s * rendering.sample_rate)
                    rendering.place_until(start_frame + 1)
                    if rendering.finished and start_frame >= rendering.timeline.total_frames:
                        length = _clock(rendering.timeline.duration_s)
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
    with _reported():
        from loosen.player import list_devices

        for index, name, channels, default in list_devices():
            mark = "*" if default else " "
            typer.echo(f"{mark} {index:>3}  {name}  ({channels} channels)")


@app.command()
def check(
    scripts: Annotated[list[str], typer.Argument(help="Script files or bundled session names.")],
    engine: EngineOpt = "pyttsx3",
) -> None:
    """Validate scripts: format, variables, and that every cue fits its slot."""
    with _reported():
        for script in scripts:
            with _rendered(
                script, engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                name = rendering.session.path or script
                length = _clock(rendering.timeline.duration_s)
                typer.echo(f"{name}: ok, {len(rendering.steps)} steps, {length}")


@app.command("list")
def list_sessions(engine: EngineOpt = "pyttsx3") -> None:
    """List the sessions, bundled and your own, with their title and length."""
    with _reported():
        from loosen.library import find_scripts, user_scripts_dir

        for entry in find_scripts().values():
            with _rendered(
                str(entry.path), engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                length = _clock(rendering.timeline.duration_s)
                typer.echo(
                    f"{entry.name:<18} {length:>6}  {entry.origin:<7}  {rendering.session.title}"
                )
        typer.echo(f"# your own scripts live in {user_scripts_dir()} (see `loosen new`)")


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of your new session (no .toml).")],
    source: Annotated[
        str, typer.Option("--from", help="The session to copy: a name or a script file.")
    ] = "stretch-quick",
) -> None:
    """Copy a session into your own scripts folder to edit; it is then found by NAME."""
    with _reported():
        from loosen.library import new_script

        path = new_script(name, source)
        typer.echo(f"Wrote {path}; edit it, then: loosen play {name}")


@app.command()
def voices(
    engine: EngineOpt = "pyttsx3",
    language: Annotated[
        str | None, typer.Option("--language", help="Only voices for this language prefix.")
    ] = None,
) -> None:
    """List the voices of a speech engine."""
    with _reported():
        from loosen.tts import open_engine

        with open_engine(engine) as speech_engine:
            typer.echo(f"# {speech_engine.describe()}")
            for info in speech_engine.voices():
                languages = ",".join(info.languages)
                if language and not any(lang.startswith(language) for lang in info.languages):
                    continue
                typer.echo(f"{info.id:<24} {info.name:<28} {languages}")


@app.command()
def sounds() -> None:
    """List the cue sounds: which recipe sounds each cue, and every recipe available."""
    with _reported():
        from loosen.sounds import (
            CUE_KINDS,
            Recipe,
            list_recipes,
            load_cue_set,
            load_recipe,
            user_sounds_dir,
        )

        cue_set = load_cue_set()
        typer.echo("# cue kind -> recipe (a script's [cues] table can change any of them)")
        for cue in CUE_KINDS:
            source = cue_set.sources[cue]
            name = source.name if isinstance(source, Recipe) else str(source.path)
            typer.echo(f"{cue:<14} {name}")
        typer.echo(f"# recipes (add your own .toml recipes in {user_sounds_dir()})")
        for name, path in list_recipes().items():
            typer.echo(f"{name:<14} {load_recipe(path).description}")


def main() -> None:
    """Entry point of the `loosen` console script."""
    app()
