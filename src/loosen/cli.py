"""The `loosen` command: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 ok, 1 runtime failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
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


def _render(
    script: str,
    *,
    engine: str,
    voice: str | None,
    rate: int | None,
    no_cache: bool,
    sample_rate: int = 48_000,
    channels: int = 2,
    verbose: bool = False,
) -> Any:
    from loosen.render import render_session
    from loosen.script import load_session
    from loosen.sounds import load_cue_set
    from loosen.tts import Speech, SpeechCache, open_engine

    _check_audio_options(sample_rate, channels)
    session = load_session(script)
    source = session.path or Path(script)
    cue_set = load_cue_set(session.cues, script_path=session.path)
    speech_engine = open_engine(
        engine, voice=_pick_voice(voice, session), rate_wpm=rate or session.rate_wpm
    )
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
            rendering = render_session(
                session,
                speech=speech,
                cue_set=cue_set,
                sample_rate=sample_rate,
                channels=channels,
                progress=progress,
            )
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        if verbose:
            typer.echo(f"speech: {speech.synthesized_count} line(s) synthesized", err=True)
    return rendering


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
        rendering = _render(
            script,
            engine=engine,
            voice=voice,
            rate=rate,
            no_cache=no_cache,
            sample_rate=sample_rate,
            channels=channels,
            verbose=verbose,
        )
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
    sample_rate: RateHzOpt = 48_000,
) -> None:
    """Print the expanded timeline and the total length, without writing audio."""
    with _reported():
        rendering = _render(
            script,
            engine=engine,
            voice=voice,
            rate=rate,
            no_cache=no_cache,
            sample_rate=sample_rate,
        )
        timeline = rendering.timeline
        if as_json:
            typer.echo(json.dumps(timeline.to_json(rendering.session.title), indent=2))
            return
        from loosen.durations import format_clock

        typer.echo(f"{rendering.session.title}: {_clock(timeline.duration_s)} total")
        for event in timeline.events:
            if event.kind in ("pause", "rep", "breath"):
                continue  # their sound is the speech and chimes listed with them
            what = event.text if event.kind == "speech" else (event.cue or event.text or "")
            if event.kind == "hold":
                what = f"hold {timeline.seconds(event.frames):g} s"
            step = f"{event.step:>3} {event.step_name or ''}"
            if event.side:
                step += f" ({event.side})"
            typer.echo(
                f"{format_clock(timeline.seconds(event.start)):>10}  "
                f"{timeline.seconds(event.frames):6.2f}s  {step[:32]:<32}  {event.kind:<6}  {what}"
            )
        typer.echo(f"{format_clock(timeline.duration_s):>10}  end")


@app.command()
def check(
    scripts: Annotated[list[str], typer.Argument(help="Script files or bundled session names.")],
    engine: EngineOpt = "pyttsx3",
) -> None:
    """Validate scripts: format, variables, and that every cue fits its slot."""
    with _reported():
        for script in scripts:
            rendering = _render(script, engine=engine, voice=None, rate=None, no_cache=False)
            name = rendering.session.path or script
            typer.echo(
                f"{name}: ok, {len(rendering.steps)} steps, {_clock(rendering.timeline.duration_s)}"
            )


@app.command("list")
def list_sessions(engine: EngineOpt = "pyttsx3") -> None:
    """List the bundled sessions with their title and length."""
    with _reported():
        from loosen.script import bundled_scripts

        for name, path in bundled_scripts().items():
            rendering = _render(str(path), engine=engine, voice=None, rate=None, no_cache=False)
            length = _clock(rendering.timeline.duration_s)
            typer.echo(f"{name:<16} {length:>6}  {rendering.session.title}")


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
