"""Exporting a session: to one file with its chapters, tags and sidecars, or to one file per
chapter in a folder; loudness-normalised (`loosen.output.levelled`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from loosen.errors import BadValueError
from loosen.session.covers import asked_cover_file, export_cover
from loosen.session.opening import opened_rendering
from loosen.session.options import QUIET, ExportOptions, Listener, SessionOptions

if TYPE_CHECKING:
    from loosen.render.rendering import Rendering

__all__ = ["ExportResult", "available_cores", "check_export", "export_session"]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: ``output``, the file or the folder of a split's parts; the audio
    ``files`` (the one file, or the parts in order),
    the ``sidecars`` and timeline beside them; the format's name, the length in seconds, the
    sample rate (Hz) and channels; ``mono_from_same``: one channel, because the session's
    channels would all have been the same; the number of chapters, and of lines synthesized
    (not found in the speech cache)."""

    output: Path
    files: tuple[Path, ...]
    sidecars: tuple[Path, ...]
    format_name: str
    duration_s: float
    sample_rate: int
    channels: int
    mono_from_same: bool
    chapters: int
    lines_synthesized: int


def check_export(output: Path | None, export: ExportOptions, *, several: bool = False) -> None:
    """Refuse export options that no session could be written with, before any work: a format
    we do not write, a quality it has not, a loudness out of range, a cover file that is not a
    JPEG or PNG. ``several``: the output is a folder of sessions (`loosen.output.batch`)."""
    from loosen.output.encoders import check_encoding
    from loosen.output.formats import format_for
    from loosen.output.levelled import loudness_target

    loudness_target(export.loudness)
    asked_cover_file(export.cover)
    extension = "." + export.split_format.lower().lstrip(".")
    format_for(Path(f"session{extension}"))
    if export.quality is not None:
        single = not several and not export.split
        written = (output.suffix if output else ".wav") if single else extension
        check_encoding(format_for(Path(f"session{written}")).container, quality=export.quality)


def export_session(
    script: str | Path,
    output: Path | None = None,
    options: SessionOptions | None = None,
    export: ExportOptions | None = None,
    *,
    listener: Listener = QUIET,
) -> ExportResult:
    """Render ``script`` to ``output`` (default: ``STEM.wav``, or the folder ``STEM`` with
    ``split``), its format by its extension (.wav, .flac, .ogg, .mp3, .opus, .m4a, .m4b), with
    chapters, tags, a cover (but in a WAV) and the sidecars ``export`` asks for. Nothing is
    left half-written: on any error the files being written are removed.
    """
    from loosen.config import load_defaults
    from loosen.output.encoders import check_encoding
    from loosen.output.export import export_blocks
    from loosen.output.formats import check_output_path
    from loosen.output.levelled import SpanStream, level_blocks
    from loosen.output.sidecars import check_sidecars, write_sidecars
    from loosen.output.split import check_split_folder, export_split
    from loosen.plan.chapters import chapters_from, tags_for
    from loosen.script.loading import resolve_script

    options = options or SessionOptions()
    export = export or ExportOptions()
    defaults = load_defaults()
    loudness = export.loudness if export.loudness is not None else defaults.loudness
    check_export(output, export)
    cover_file = asked_cover_file(export.cover)  # read once, checked before any rendering
    stem = resolve_script(str(script)).stem
    kinds = list(dict.fromkeys(export.sidecars))
    extension = "." + export.split_format.lower().lstrip(".")
    if export.split:
        if kinds:
            raise BadValueError("sidecars", ", ".join(kinds), "go with one file, not split parts")
        out = output or Path(stem)
        fmt = check_split_folder(out, extension)
    else:
        out = output or Path(f"{stem}.wav")
        fmt = check_output_path(out)
        check_sidecars(out, kinds)
    _check_timeline_path(export.timeline)
    sample_rate = options.sample_rate or defaults.sample_rate or 48_000
    check_encoding(fmt.container, sample_rate=sample_rate, quality=export.quality)
    # a lossy file of a session whose channels are all the same is mono unless asked otherwise:
    # half the size and the encoding time, and it plays alike in both ears
    mono_if_same = fmt.lossy and (options.channels or defaults.channels or 0) == 0
    synthesized = [0]
    with opened_rendering(
        script, options, listener=listener, progressive=False, ahead=True,
        mono_if_same=mono_if_same, on_synthesized=lambda count: synthesized.append(count),
    ) as rendering:  # fmt: skip
        # Speech is synthesized ahead while the loudness pass lays the session out; without
        # that pass, while the file is written (when nothing needs the whole layout first).
        # before the layout is done (speech still being synthesized) the length is unknown
        known = rendering.timeline.total_frames if rendering.finished else 0
        levelled = level_blocks(
            rendering, fmt, loudness=loudness, quality=export.quality,
            progress=listener.counter("Measuring loudness", known),
        )  # fmt: skip
        if levelled.shortfall is not None:
            listener.warn(levelled.shortfall)
        if levelled.gain_db is not None:
            listener.tell(
                f"loudness: gain {levelled.gain_db:+.1f} dB "
                f"(limiter up to {levelled.max_reduction_db:.1f} dB)"
            )
        if export.split or "cue" in kinds or _may_need_rf64(rendering, fmt.container):
            # parts, a CUE sheet's track limit and a WAV's size field need the whole layout
            rendering.place_until(None)
        total = rendering.timeline.total_frames if rendering.finished else 0
        title = rendering.session.title
        cover = export_cover(export.cover, title, cover_file) if fmt.container != "WAV" else None
        if cover_file is not None and cover is None:
            listener.warn(f"a WAV file carries no cover: {export.cover} is left out")
        tags = tags_for(title, rendering.session.path or str(script), cover)
        writing = listener.counter(f"Writing {out.name}", total)
        if export.split:
            parts = export_split(
                SpanStream(rendering, levelled.blocks), out, extension=extension, tags=tags,
                progress=writing, quality=export.quality,
            )  # fmt: skip
        else:
            if rendering.finished:
                check_sidecars(out, kinds, chapters=len(chapters_from(rendering.timeline)))
            export_blocks(
                levelled.blocks,
                out,
                sample_rate=rendering.sample_rate,
                channels=rendering.channels,
                total_frames=total or None,
                progress=writing,
                chapters=lambda: chapters_from(rendering.timeline),
                tags=tags,
                quality=export.quality,
            )
            parts = [out]
        timeline = rendering.timeline
        marks = chapters_from(timeline)
        extras = write_sidecars(
            out, kinds, timeline=timeline, title=rendering.session.title, chapters=marks
        )
        if export.timeline is not None:
            write_timeline(export.timeline, timeline.to_json(rendering.session.title))
        result = ExportResult(
            output=out,
            files=tuple(parts),
            sidecars=tuple(extras),
            format_name=fmt.name,
            duration_s=timeline.duration_s,
            sample_rate=rendering.sample_rate,
            channels=rendering.channels,
            mono_from_same=mono_if_same and rendering.channels == 1,
            chapters=len(marks),
            lines_synthesized=0,
        )
    return replace(result, lines_synthesized=synthesized[-1])


def write_timeline(path: Path, document: dict[str, object]) -> None:
    """Write a timeline's JSON document to ``path`` whole, or not at all (`ExportError`)."""
    from loosen.atomic import write_json_atomic

    write_json_atomic(path, document, what="the timeline")


def available_cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _may_need_rf64(rendering: Rendering, container: str) -> bool:
    """Whether a WAV of ``rendering`` might pass 4 GB (about 6 h 12 min of 48 kHz stereo)."""
    if container != "WAV" or rendering.finished:
        return False
    from loosen.output.formats import wav_limit_frames

    return bool(rendering.frames_at_most() > wav_limit_frames(rendering.channels))


def _check_timeline_path(timeline: Path | None) -> None:
    if timeline is None:
        return
    from loosen.output.writable import check_writable

    if timeline.suffix.lower() != ".json":
        raise BadValueError("timeline", str(timeline), "the timeline is JSON; name it .json")
    check_writable(timeline, what="timeline file")
