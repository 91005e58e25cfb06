"""Commands that render or inspect a session: export, show, check, list, new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from loosen.cli.common import (
    AmbienceDbOpt,
    AmbienceOpt,
    BreathToneOpt,
    ChannelsOpt,
    ChimeDbOpt,
    EngineOpt,
    FitOpt,
    NoCacheOpt,
    PaceOpt,
    RateHzOpt,
    RateOpt,
    ScriptArg,
    SetOpt,
    VerboseOpt,
    VoiceDbOpt,
    VoiceOpt,
    app,
    clock,
    progress_bar,
    rendered,
    reported,
    write_json,
)
from loosen.errors import BadInputError


@app.command()
def export(
    script: ScriptArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file: .wav (default), .flac, .ogg or .mp3; with --split, a folder.",
        ),
    ] = None,
    timeline: Annotated[
        Path | None, typer.Option("--timeline", help="Also write the timeline as JSON here.")
    ] = None,
    chapters: Annotated[
        list[str] | None,
        typer.Option(
            "--chapters",
            help="Also write chapters beside the export: cue, audacity, json or vtt "
            "(captions of every spoken line). Repeatable.",
        ),
    ] = None,
    split: Annotated[
        bool, typer.Option("--split", help="One file per chapter, numbered, into a folder.")
    ] = False,
    split_format: Annotated[
        str, typer.Option("--format", help="With --split: wav, flac, ogg or mp3.")
    ] = "wav",
    loudness: Annotated[
        str | None,
        typer.Option(
            "--loudness",
            help="Integrated loudness in LUFS (default -16 stereo, -19 mono; true peak at most "
            "-1 dBTP), or 'off' for the renderer's own levels.",
        ),
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
    voice_db: VoiceDbOpt = None,
    chime_db: ChimeDbOpt = None,
    ambience: AmbienceOpt = None,
    ambience_db: AmbienceDbOpt = None,
    breath_tone: BreathToneOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Render a session to an audio file (with chapters and tags), or one file per chapter."""
    with reported():
        from loosen.chapters import chapters_from, tags_for
        from loosen.export import check_output_path, check_split_folder, export_blocks, export_split
        from loosen.script import resolve_script
        from loosen.sidecars import check_sidecars, write_sidecars

        stem = resolve_script(script).stem
        kinds = list(dict.fromkeys(chapters or []))
        if split:
            if kinds:
                raise BadInputError("--chapters goes with a single file, not with --split")
            out = output or Path(stem)
            extension = "." + split_format.lower().lstrip(".")
            fmt = check_split_folder(out, extension)
        else:
            out = output or Path(f"{stem}.wav")
            fmt = check_output_path(out)
            check_sidecars(out, kinds)
        _check_timeline_path(timeline)
        _loudness_target(loudness)  # refuse a bad value before any work
        with rendered(
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
            mix={
                "voice_db": voice_db,
                "chime_db": chime_db,
                "ambience": ambience,
                "ambience_db": ambience_db,
                "breath_tone": breath_tone,
            },
            ahead=True,
        ) as rendering:
            # the loudness pass lays the session out while its speech is synthesized ahead
            levelled = _levelled(rendering, fmt.container, loudness, verbose)
            session_timeline = rendering.timeline
            marks = chapters_from(session_timeline)
            tags = tags_for(rendering.session.title, rendering.session.path or script)
            with progress_bar(session_timeline.total_frames, f"Writing {out.name}") as update:
                if split:
                    parts = export_split(
                        _InOrder(rendering, levelled), out, extension=extension, tags=tags,
                        progress=update,
                    )  # fmt: skip
                else:
                    check_sidecars(out, kinds, chapters=len(marks))
                    export_blocks(
                        levelled,
                        out,
                        sample_rate=rendering.sample_rate,
                        channels=rendering.channels,
                        total_frames=session_timeline.total_frames,
                        progress=update,
                        chapters=marks,
                        tags=tags,
                    )
                    parts = [out]
            extras = write_sidecars(
                out, kinds, timeline=session_timeline, title=rendering.session.title, chapters=marks
            )
            if timeline is not None:
                write_json(timeline, session_timeline.to_json(rendering.session.title))
            what = f"{len(parts)} files in {out}" if split else str(out)
            typer.echo(
                f"Wrote {what} ({fmt.name}, {clock(session_timeline.duration_s)}, "
                f"{rendering.sample_rate} Hz, {rendering.channels} ch, {len(marks)} chapters)",
                err=True,
            )
            for extra in extras:
                typer.echo(f"Wrote {extra}", err=True)


def _levelled(rendering: Any, container: str, loudness: str | None, verbose: bool) -> Any:
    """The session's blocks, loudness-normalised unless ``--loudness off``."""
    from loosen.loudness import Normalizer

    def blocks() -> Any:
        return rendering.blocks(block_frames=rendering.sample_rate)

    if loudness is not None and loudness.strip().lower() == "off":
        return blocks()
    target = _loudness_target(loudness)
    # lossy encoders raise peaks a little after limiting: leave them room under -1 dBTP
    lossy = container in ("OGG", "MP3")
    normalizer = Normalizer(
        blocks,
        sample_rate=rendering.sample_rate,
        channels=rendering.channels,
        target_lufs=target,
        true_peak_dbtp=-2.0 if lossy else -1.0,
        full_report=False,
    )
    # before the layout is done (speech still being synthesized) the length is unknown
    total = rendering.timeline.total_frames if rendering.finished else 0
    with progress_bar(total, "Measuring loudness") as update:
        normalizer.measure(progress=update)
    if verbose:
        typer.echo(f"loudness: gain {normalizer.gain_db:+.1f} dB", err=True)
    return normalizer.blocks()


class _InOrder:
    """A rendering whose blocks come from one stream (the loudness-normalised one), handed out
    span after span in order, as `export_split` asks for them."""

    def __init__(self, rendering: Any, stream: Iterator[Any]):
        self.timeline = rendering.timeline
        self.sample_rate = rendering.sample_rate
        self.channels = rendering.channels
        self._stream = stream
        self._held: Any = None
        self._position = 0

    def blocks(
        self, start_frame: int = 0, end_frame: int | None = None, block_frames: int = 0
    ) -> Iterator[Any]:
        if start_frame != self._position:
            raise ValueError("spans must be asked for in order")
        end = self.timeline.total_frames if end_frame is None else end_frame
        while self._position < end:
            block = self._held if self._held is not None else next(self._stream, None)
            self._held = None
            if block is None:
                return
            take = min(len(block), end - self._position)
            if take < len(block):
                self._held = block[take:]
            self._position += take
            yield block[:take]


def _loudness_target(loudness: str | None) -> float | None:
    """``--loudness`` in LUFS (None: the default for the channel count; "off" is handled apart)."""
    if loudness is None or loudness.strip().lower() == "off":
        return None
    try:
        target = float(loudness)
    except ValueError:
        raise BadInputError(f"--loudness {loudness!r}: give LUFS such as -16, or off") from None
    if not -60.0 <= target <= -5.0:
        raise BadInputError(f"--loudness {loudness}: must be from -60 to -5 LUFS")
    return target


def _check_timeline_path(timeline: Path | None) -> None:
    if timeline is None:
        return
    if timeline.suffix.lower() != ".json":
        raise BadInputError(f"{timeline}: the timeline is JSON; name it .json")
    folder = timeline.parent if str(timeline.parent) else Path()
    if not folder.is_dir():
        raise BadInputError(f"{timeline}: the folder {folder} does not exist")


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
        reported(),
        rendered(
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
        typer.echo(f"{rendering.session.title}: {clock(timeline.duration_s)} total")
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
def check(
    scripts: Annotated[list[str], typer.Argument(help="Script files or bundled session names.")],
    engine: EngineOpt = "pyttsx3",
) -> None:
    """Validate scripts: format, variables, and that every cue fits its slot."""
    with reported():
        for script in scripts:
            with rendered(
                script, engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                name = rendering.session.path or script
                length = clock(rendering.timeline.duration_s)
                typer.echo(f"{name}: ok, {len(rendering.steps)} steps, {length}")


@app.command("list")
def list_sessions(engine: EngineOpt = "pyttsx3") -> None:
    """List the sessions, bundled and your own, with their title and length."""
    with reported():
        from loosen.library import find_scripts, user_scripts_dir

        for entry in find_scripts().values():
            with rendered(
                str(entry.path), engine=engine, voice=None, rate=None, no_cache=False
            ) as rendering:
                length = clock(rendering.timeline.duration_s)
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
    with reported():
        from loosen.library import new_script

        path = new_script(name, source)
        typer.echo(f"Wrote {path}; edit it, then: loosen play {name}")
