"""The export command: one session to a file or a folder of parts, or several in parallel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    reported,
    session_options,
)
from loosen.cli.export_job import ExportJob, export_one
from loosen.errors import BadInputError

ScriptsArg = Annotated[
    list[str],
    typer.Argument(help="Script files or bundled sessions' names; several go to a folder."),
]


@app.command()
def export(
    scripts: ScriptsArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file: .wav (default), .flac, .ogg, .mp3, .opus, .m4a or .m4b; with "
            "--split or several scripts, a folder.",
        ),
    ] = None,
    timeline: Annotated[
        Path | None, typer.Option("--timeline", help="Also write the timeline as JSON here.")
    ] = None,
    chapters: Annotated[
        list[str] | None,
        typer.Option(
            "--chapters",
            help="Also write chapters beside the export: cue, audacity, json, vtt "
            "(captions of every spoken line) or podcast (Podcasting 2.0 JSON chapters). "
            "Repeatable.",
        ),
    ] = None,
    split: Annotated[
        bool, typer.Option("--split", help="One file per chapter, numbered, into a folder.")
    ] = False,
    file_format: Annotated[
        str,
        typer.Option(
            "--format", help="With --split or several scripts: wav, flac, ogg, mp3, opus, m4a, m4b."
        ),
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
            help="Of the lossy formats (.ogg, .mp3, .opus, .m4a, .m4b): low, standard (default) "
            "or high (a bigger file, a truer sound).",
        ),
    ] = None,
    cover: Annotated[
        str | None,
        typer.Option(
            "--cover",
            metavar="FILE|off",
            help="The front cover of every format but .wav: a JPEG or PNG file, or 'off' for "
            "none (default: one made from the session's title).",
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
        from loosen.pipeline import ExportOptions, check_export

        if jobs is not None and jobs < 1:
            raise BadInputError(f"--jobs must be at least 1, got {jobs}")
        if split and chapters:
            raise BadInputError("--chapters goes with a single file, not with --split")
        export_options = ExportOptions(
            loudness=loudness, quality=quality, sidecars=tuple(dict.fromkeys(chapters or [])),
            split=split, split_format=file_format, timeline=timeline,
            cover=None if cover is None else "off" if cover == "off" else Path(cover),
        )  # fmt: skip
        options = session_options(
            engine=engine, voice=voice, voice_model=voice_model, rate=rate, no_cache=no_cache,
            pace=pace, fit=fit, overrides=overrides, sample_rate=sample_rate, channels=channels,
            voice_db=voice_db, chime_db=chime_db, ambience=ambience, ambience_db=ambience_db,
            breath_tone=breath_tone,
        )  # fmt: skip
        # refused once, before any work, not once per session of a batch
        check_export(output, export_options, several=len(scripts) > 1)
        job = ExportJob(scripts[0], output, options, export_options, verbose)
        if len(scripts) == 1:
            export_one(job)
            return
        from loosen.cli.export_batch import batch_jobs, run_batch
        from loosen.session.exporting import available_cores

        batch, refused = batch_jobs(job, scripts, output or Path())
        code = run_batch(batch, refused, jobs or available_cores())
    if code:
        raise typer.Exit(code)
