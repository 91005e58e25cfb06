"""Files written beside an export, named like it with their own extension.

``session.wav`` gets ``session.cue`` (a CUE sheet: one track per chapter), ``session.txt`` (an
Audacity label track, which Audacity imports with File > Import > Labels, since it does not read
WAV markers), ``session.json`` (the timeline of ``loosen show --json``), ``session.vtt``
(WebVTT captions, one cue per spoken line, for people who cannot hear the voice well and for
video) and ``session.chapters.json`` (Podcasting 2.0 JSON chapters, which a feed's
``podcast:chapters`` links to: podcast apps show them as they play). Each is written
atomically (`loosen.atomic`): whole, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from loosen.atomic import write_text_atomic
from loosen.errors import BadInputError
from loosen.plan.chapters import Chapter, clock
from loosen.plan.timeline import Timeline

__all__ = [
    "SIDECAR_KINDS",
    "audacity_labels",
    "check_sidecars",
    "cue_sheet",
    "podcast_chapters",
    "sidecar_path",
    "webvtt",
    "write_sidecars",
]

SIDECAR_KINDS = ("cue", "audacity", "json", "vtt", "podcast")
_EXTENSIONS = {
    "cue": ".cue",
    "audacity": ".txt",
    "json": ".json",
    "vtt": ".vtt",
    "podcast": ".chapters.json",
}
PODCAST_CHAPTERS_VERSION = "1.2.0"  # of the Podcasting 2.0 JSON chapters format
PODCAST_CHAPTERS_TYPE = "application/json+chapters"  # its media type, as a feed names it
CUE_FRAMES_PER_S = 75  # a CUE sheet counts time in CD frames
MAX_CUE_TRACKS = 99


def sidecar_path(audio_path: Path, kind: str) -> Path:
    """Return where the sidecar ``kind`` of ``audio_path`` goes: ``session.wav`` -> ``session.cue``.

    Raises `BadInputError` naming the kinds if ``kind`` is not one of `SIDECAR_KINDS`.
    """
    extension = _EXTENSIONS.get(kind)
    if extension is None:
        known = ", ".join(SIDECAR_KINDS)
        raise BadInputError(f"no chapter file of kind {kind!r}; use one of {known}")
    return audio_path.with_suffix(extension)


def check_sidecars(audio_path: Path, kinds: Sequence[str], chapters: int | None = None) -> None:
    """Check before any work that ``kinds`` can be written beside ``audio_path``.

    Raises `BadInputError` for an unknown kind and, when the number of ``chapters`` is known,
    for a CUE sheet past its 99 tracks.
    """
    from loosen.output.writable import check_writable

    for kind in kinds:
        check_writable(sidecar_path(audio_path, kind), what=f"{kind} file")
    _check_cue_tracks(audio_path, kinds, chapters)


def _check_cue_tracks(audio_path: Path, kinds: Sequence[str], chapters: int | None) -> None:
    if "cue" in kinds and chapters is not None and chapters > MAX_CUE_TRACKS:
        raise BadInputError(
            f"{sidecar_path(audio_path, 'cue')}: a CUE sheet holds at most {MAX_CUE_TRACKS} "
            f"tracks; this session has {chapters} chapters"
        )


def write_sidecars(
    audio_path: Path,
    kinds: Sequence[str],
    *,
    timeline: Timeline,
    title: str,
    chapters: Sequence[Chapter],
) -> list[Path]:
    """Write the sidecars ``kinds`` of ``audio_path`` (see `SIDECAR_KINDS`); return their paths.

    Parameters
    ----------
    audio_path
        The export they go beside; the CUE sheet names its file.
    kinds
        Which to write, in order; a kind named twice is written once.
    timeline
        The session's timeline (the JSON document, and the spoken lines of the captions).
    title
        The session's title.
    chapters
        The chapters (CUE tracks and Audacity labels), as `loosen.plan.chapters.chapters_from`
        gives.

    Raises `BadInputError` for an unknown kind (before writing anything) and `ExportError` when
    a file cannot be written.
    """
    unique = list(dict.fromkeys(kinds))
    for kind in unique:
        sidecar_path(audio_path, kind)  # a kind it does not know
    _check_cue_tracks(audio_path, unique, len(chapters))
    makers: dict[str, Callable[[], str]] = {
        "cue": lambda: cue_sheet(audio_path.name, title, chapters),
        "audacity": lambda: audacity_labels(chapters),
        "json": lambda: json.dumps(timeline.to_json(title), indent=2) + "\n",
        "vtt": lambda: webvtt(timeline),
        "podcast": lambda: podcast_chapters(title, chapters),
    }
    written = []
    for kind in unique:
        path = sidecar_path(audio_path, kind)
        write_text_atomic(path, makers[kind]())
        written.append(path)
    return written


def cue_sheet(audio_name: str, title: str, chapters: Sequence[Chapter]) -> str:
    """Return a CUE sheet for the file ``audio_name``: one track per chapter, ``INDEX 01 mm:ss:ff``.

    Quotes in titles become apostrophes (a CUE sheet has no escapes).
    """
    file_type = "MP3" if audio_name.lower().endswith(".mp3") else "WAVE"
    lines = [
        'REM COMMENT "Rendered by loosen"',
        f"TITLE {_quoted(title)}",
        'PERFORMER "loosen"',
        f"FILE {_quoted(audio_name)} {file_type}",
    ]
    for number, chapter in enumerate(chapters, start=1):
        lines += [
            f"  TRACK {number:02d} AUDIO",
            f"    TITLE {_quoted(chapter.title)}",
            '    PERFORMER "loosen"',
            f"    INDEX 01 {_cue_time(chapter.start_s)}",
        ]
    return "\n".join(lines) + "\n"


def audacity_labels(chapters: Sequence[Chapter]) -> str:
    """Return an Audacity label track: ``start<TAB>end<TAB>label`` per chapter, in seconds."""
    return "".join(f"{c.start_s:.6f}\t{c.end_s:.6f}\t{_one_line(c.title)}\n" for c in chapters)


def podcast_chapters(title: str, chapters: Sequence[Chapter]) -> str:
    """Return Podcasting 2.0 JSON chapters: ``{"version", "title", "chapters": [{"startTime",
    "endTime", "title"}]}``, times in seconds (three decimals: the format's millisecond)."""
    document = {
        "version": PODCAST_CHAPTERS_VERSION,
        "title": _one_line(title),
        "chapters": [
            {
                "startTime": round(c.start_s, 3),
                "endTime": round(c.end_s, 3),
                "title": _one_line(c.title),
            }
            for c in chapters
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def webvtt(timeline: Timeline) -> str:
    """Return WebVTT captions for ``timeline``: one cue per spoken line, text escaped."""
    rate = timeline.sample_rate
    blocks = ["WEBVTT\n"]
    spoken = [e for e in timeline.events if e.kind == "speech" and e.text]
    for number, event in enumerate(spoken, start=1):
        assert event.text is not None
        text = _one_line(event.text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        timing = f"{clock(event.start / rate)} --> {clock(event.end / rate)}"
        blocks.append(f"{number}\n{timing}\n{text}\n")
    return "\n".join(blocks)


def _cue_time(seconds: float) -> str:
    frames = round(seconds * CUE_FRAMES_PER_S)
    minutes, rest = divmod(frames, 60 * CUE_FRAMES_PER_S)
    return f"{minutes:02d}:{rest // CUE_FRAMES_PER_S:02d}:{rest % CUE_FRAMES_PER_S:02d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quoted(text: str) -> str:
    return '"' + _one_line(text).replace('"', "'") + '"'
