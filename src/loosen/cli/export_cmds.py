"""The export command: one session to a file or a folder of parts, or several in parallel."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    SetOpt,
    VerboseOpt,
    VoiceDbOpt,
    VoiceModelOpt,
    VoiceOpt,
    app,
    clock,
    first_set,
    progress_bar,
    rendered,
    reported,
    write_json,
)
from loosen.errors import BadInputError

ScriptsArg = Annotated[
    list[str],
    typer.Argument(help="Script files or bundled sessions' names; several go to a folder."),
]


@dataclass(frozen=True)
class ExportJob:
    """Everything one export needs; picklable, so a worker process can run it."""

    script: str
    output: Path | None
    timeline: Path | None
    chapters: tuple[str, ...]
    split: bool
    extension: str  # ".wav": of the file in a batch, of the parts with --split
    loudness: str | None
    options: dict[str, Any]  # keyword arguments of `rendered`
    quality: str | None = None  # of a lossy format's encoder: low, standard, high


@app.command()
def export(
    scripts: ScriptsArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file: .wav (default), .flac, .ogg or .mp3; with --split or several "
            "scripts, a folder.",
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
    file_format: Annotated[
        str,
        typer.Option("--format", help="With --split or several scripts: wav, flac, ogg or mp3."),
    ] = "wav",
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", help="Sessions rendered at once (several scripts; default: cores)."
        ),
    ] = None,
    loudness: Annotated[
        str | None,
        typer.Option(
            "--loudness",
            help="Integrated loudness in LUFS (default -16 stereo, -19 mono; true peak at most "
            "-1 dBTP), or 'off' for the renderer's own levels.",
        ),
    ] = None,
    quality: Annotated[
        str | None,
        typer.Option(
            "--quality",
            help="Of .ogg and .mp3: low, standard (default) or high (a bigger file, a truer "
            "sound).",
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
    sample_rate: RateHzOpt = None,
    channels: ChannelsOpt = None,
    voice_db: VoiceDbOpt = None,
    chime_db: ChimeDbOpt = None,
    ambience: AmbienceOpt = None,
    ambience_db: AmbienceDbOpt = None,
    breath_tone: BreathToneOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Render sessions to audio files (with chapters and tags), or one file per chapter."""
    with reported():
        from loosen.config import load_defaults
        from loosen.output.encoders import check_encoding
        from loosen.output.export import format_for

        if loudness is None:  # the user's config file's, if it has one
            loudness = load_defaults().loudness
        _loudness_target(loudness)  # refuse a bad value before any work
        if jobs is not None and jobs < 1:
            raise BadInputError(f"--jobs must be at least 1, got {jobs}")
        extension = "." + file_format.lower().lstrip(".")
        format_for(Path(f"session{extension}"))  # a format we write, whatever the output
        if quality is not None:  # refused once, not once per session of a batch
            single = len(scripts) == 1 and not split
            written = (output.suffix if output else ".wav") if single else extension
            check_encoding(format_for(Path(f"session{written}")).container, quality=quality)
        job = ExportJob(
            script=scripts[0],
            output=output,
            timeline=timeline,
            chapters=tuple(dict.fromkeys(chapters or [])),
            split=split,
            extension=extension,
            loudness=loudness,
            quality=quality,
            options={
                "engine": engine, "voice": voice, "voice_model": voice_model, "rate": rate,
                "no_cache": no_cache,
                "pace": pace, "fit": fit, "overrides": overrides, "sample_rate": sample_rate,
                "channels": channels, "verbose": verbose,
                "mix": {
                    "voice_db": voice_db, "chime_db": chime_db, "ambience": ambience,
                    "ambience_db": ambience_db, "breath_tone": breath_tone,
                },
            },
        )  # fmt: skip
        if len(scripts) == 1:
            export_one(job)
            return
        from loosen.cli.export_batch import batch_jobs, run_batch

        batch, refused = batch_jobs(job, scripts, output or Path())
        code = run_batch(batch, refused, jobs or _cores())
    if code:
        raise typer.Exit(code)


def export_one(
    job: ExportJob, speakers: int | None = None, say: Callable[[str], None] | None = None
) -> None:
    """Render one session to a file (or parts in a folder), with its sidecars; say where
    (``say``: default, a line on stderr).

    ``speakers``: how many instances of an engine that speaks on one core synthesize the
    session's lines at once; default two on a machine with two cores or more (more do not pay:
    the mixing needs a core too).
    """
    from loosen.config import load_defaults
    from loosen.output.encoders import check_encoding
    from loosen.output.export import (
        check_output_path,
        check_split_folder,
        export_blocks,
        export_split,
    )
    from loosen.output.sidecars import check_sidecars, write_sidecars
    from loosen.plan.chapters import chapters_from, tags_for
    from loosen.script.loading import resolve_script

    stem = resolve_script(job.script).stem
    kinds = list(job.chapters)
    if job.split:
        if kinds:
            raise BadInputError("--chapters goes with a single file, not with --split")
        out = job.output or Path(stem)
        fmt = check_split_folder(out, job.extension)
    else:
        out = job.output or Path(f"{stem}.wav")
        fmt = check_output_path(out)
        check_sidecars(out, kinds)
    _check_timeline_path(job.timeline)
    defaults = load_defaults()
    sample_rate = first_set(job.options["sample_rate"], defaults.sample_rate, 48_000)
    check_encoding(fmt.container, sample_rate=sample_rate, quality=job.quality)
    if speakers is None:
        speakers = min(2, _cores())
    # a lossy file of a session whose channels are all the same is mono unless asked otherwise:
    # half the size and the encoding time, and it plays alike in both ears
    mono_if_same = fmt.lossy and first_set(job.options["channels"], defaults.channels, 0) == 0
    with rendered(
        job.script, **job.options, ahead=True, speakers=speakers, mono_if_same=mono_if_same
    ) as rendering:
        # Speech is synthesized ahead while the loudness pass lays the session out; without
        # that pass, while the file is written (when nothing needs the whole layout first).
        levelled = _levelled(rendering, fmt, job, job.options["verbose"])
        if job.split or "cue" in kinds or _may_need_rf64(rendering, fmt.container):
            # parts, a CUE sheet's track limit and a WAV's size field need the whole layout
            rendering.place_until(None)
        total = rendering.timeline.total_frames if rendering.finished else 0
        tags = tags_for(rendering.session.title, rendering.session.path or job.script)
        with progress_bar(total, f"Writing {out.name}") as update:
            if job.split:
                parts = export_split(
                    _InOrder(rendering, levelled), out, extension=job.extension, tags=tags,
                    progress=update, quality=job.quality,
                )  # fmt: skip
            else:
                if rendering.finished:
                    check_sidecars(out, kinds, chapters=len(chapters_from(rendering.timeline)))
                export_blocks(
                    levelled,
                    out,
                    sample_rate=rendering.sample_rate,
                    channels=rendering.channels,
                    total_frames=total or None,
                    progress=update,
                    chapters=lambda: chapters_from(rendering.timeline),
                    tags=tags,
                    quality=job.quality,
                )
                parts = [out]
        session_timeline = rendering.timeline
        marks = chapters_from(session_timeline)
        extras = write_sidecars(
            out, kinds, timeline=session_timeline, title=rendering.session.title, chapters=marks
        )
        if job.timeline is not None:
            write_json(job.timeline, session_timeline.to_json(rendering.session.title))
        what = f"{len(parts)} files in {out}" if job.split else str(out)
        say = say or _to_stderr
        channels = f"{rendering.channels} ch"
        if mono_if_same and rendering.channels == 1:
            channels = "mono: both channels are the same"
        say(
            f"Wrote {what} ({fmt.name}, {clock(session_timeline.duration_s)}, "
            f"{rendering.sample_rate} Hz, {channels}, {len(marks)} chapters)"
        )
        for extra in extras:
            say(f"Wrote {extra}")


def _to_stderr(line: str) -> None:
    typer.echo(line, err=True)


def _cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _may_need_rf64(rendering: Any, container: str) -> bool:
    """Whether a WAV of ``rendering`` might pass 4 GB (about 6 h 12 min of 48 kHz stereo)."""
    if container != "WAV" or rendering.finished:
        return False
    from loosen.output.export import wav_limit_frames

    return bool(rendering.frames_at_most() > wav_limit_frames(rendering.channels))


def _levelled(rendering: Any, fmt: Any, job: ExportJob, verbose: bool) -> Any:
    """The session's blocks, loudness-normalised unless ``--loudness off``. Without an ambience
    they are mono, shape (frames, 1): the file repeats them on every channel. Says so on stderr
    when the target is out of reach under the true-peak ceiling."""
    from loosen.loudness.meter import MAKE_UP_MOST_DB, Normalizer, default_target_lufs
    from loosen.output.encoders import quality_of

    mono = rendering.dual_mono
    loudness = job.loudness
    settings = quality_of(fmt.container, job.quality)
    encoder_loss_db = settings.loss_db if settings is not None else 0.0

    def blocks() -> Any:
        return rendering.blocks(block_frames=rendering.sample_rate, mono=mono)

    if loudness is not None and loudness.strip().lower() == "off":
        return blocks()
    asked = _loudness_target(loudness)
    target = default_target_lufs(rendering.channels) if asked is None else asked
    # lossy encoders raise peaks a little after limiting: leave them room under -1 dBTP
    ceiling_dbtp = -2.0 if fmt.lossy else -1.0
    normalizer = Normalizer(
        blocks,
        sample_rate=rendering.sample_rate,
        channels=1 if mono else rendering.channels,
        target_lufs=target + encoder_loss_db,
        true_peak_dbtp=ceiling_dbtp,
        full_report=False,
    )
    # before the layout is done (speech still being synthesized) the length is unknown
    total = rendering.timeline.total_frames if rendering.finished else 0
    with progress_bar(total, "Measuring loudness") as update:
        if mono:  # from the sounds, without mixing the session (loosen.loudness.sources)
            measured = rendering.measure_loudness(progress=update)
            bound = measured.true_peak_bound
            peak_dbtp = 20.0 * math.log10(bound) if bound > 0 else -math.inf
            normalizer.use_measurement(measured.lufs, peak_dbtp)
        else:
            normalizer.measure(progress=update)
    # where the limiter acts, the gain makes up for what it takes (a pass without output)
    forecast = normalizer.make_up(plays_on=rendering.channels if mono else 1)
    reached = forecast.lufs - encoder_loss_db
    if reached < target - 0.1:
        if forecast.max_reduction_db > MAKE_UP_MOST_DB:
            why = f"the limiter already takes up to {forecast.max_reduction_db:.0f} dB off them"
        else:
            why = f"closer would take over {MAKE_UP_MOST_DB:g} dB of limiting"
        typer.echo(
            f"warning: loudness {target:g} LUFS is out of reach: the file will measure about "
            f"{reached:.1f} LUFS (its true peaks must stay under {ceiling_dbtp:g} dBTP; {why})",
            err=True,
        )
    if verbose:
        typer.echo(
            f"loudness: gain {normalizer.gain_db:+.1f} dB "
            f"(limiter up to {forecast.max_reduction_db:.1f} dB)",
            err=True,
        )
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
    from loosen.output.writable import check_writable

    if timeline.suffix.lower() != ".json":
        raise BadInputError(f"{timeline}: the timeline is JSON; name it .json")
    check_writable(timeline, what="timeline file")
