"""Chapters and tags: where each part of a session starts, and what the file says it is.

A chapter begins at every step that has a name or a side; a step with neither continues the
chapter before it. Unnamed steps are continuations in practice (the pause after "resting", the
count-back lines after "closing"), and a listener skipping through chapters in a podcast app
wants to land on "closing", not on five short chapters of one line each. A chapter is titled
with its first step's name and side (``hamstring stretch (right)``); an unnamed sided step, or
unnamed steps before the first named one, take a title from their kind (``Breathing (left)``).
The first chapter starts at 0 (it holds the lead-in) and the last ends at the session's end
(it holds the closing chime); chapters are contiguous.

`embed` writes chapters (and MP3's tags) into a finished file, one small writer per format:
WAV ``cue ``/``labl`` chunks (`loosen.output.riff`); Vorbis comments ``CHAPTER001=HH:MM:SS.mmm`` and
``CHAPTER001NAME`` for FLAC and Ogg (through mutagen); an ID3v2.4 tag with ``CTOC`` + ``CHAP``
frames for MP3 (`loosen.output.id3v2`). Tags go in each format's usual place: libsndfile writes them
for FLAC and Ogg (see `soundfile_tags`); an ID3v2.4 tag carries them for MP3 (libsndfile only
writes ID3v1 there: 30 Latin-1 characters a field) and, in an ``id3 `` chunk, for WAV, whose
``LIST``/``INFO`` chunk (libsndfile's) is left out when a text is not ASCII.

A cover (`Cover`, in `Tags`) goes where each format's players look (`loosen.output.pictures`):
an ``APIC`` frame (front cover) in MP3's ID3 tag, a ``PICTURE`` block in FLAC, a
``METADATA_BLOCK_PICTURE`` comment in Ogg Vorbis and Opus, and MP4's ``covr`` (its writer's,
`loosen.output.pyav`). A WAV carries none: few players read a picture from one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loosen.plan.timeline import StepSpan, Timeline

__all__ = [
    "Chapter",
    "ChapterSpan",
    "Cover",
    "Tags",
    "chapter_spans",
    "chapters_from",
    "clock",
    "embed",
    "soundfile_tags",
    "step_name",
    "step_title",
    "tags_for",
]

KIND_TITLES = {
    "say": "Speech",
    "pause": "Pause",
    "hold": "Hold",
    "reps": "Repetitions",
    "breathe": "Breathing",
    "tense_release": "Tense and release",
}
MAX_VORBIS_CHAPTERS = 999  # ffmpeg reads CHAPTERxxx keys with three digits


@dataclass(frozen=True)
class Chapter:
    """A part of the session from ``start_s`` to ``end_s`` seconds, with its title."""

    start_s: float
    end_s: float
    title: str


@dataclass(frozen=True)
class ChapterSpan:
    """A chapter in frames (``start`` inclusive, ``end`` exclusive), for exact cutting."""

    start: int
    end: int
    title: str


@dataclass(frozen=True, kw_only=True)
class Cover:
    """A front cover picture: its bytes, a JPEG or PNG (``mime``: ``image/jpeg``,
    ``image/png``), its width and height in pixels, its bits per pixel and, for an indexed
    picture, its palette's colours (0 otherwise): what a FLAC picture block states."""

    data: bytes = field(repr=False)
    mime: str
    width_px: int
    height_px: int
    depth_bits: int = 24
    colors: int = 0


@dataclass(frozen=True, kw_only=True)
class Tags:
    """What a file says it is. ``comment`` names the script; ``track`` numbers a split part;
    ``cover``: its front cover, if any."""

    title: str
    artist: str = "loosen"
    album: str = "loosen sessions"
    comment: str
    track: int | None = None
    cover: Cover | None = None


def tags_for(title: str, script: Path | str, cover: Cover | None = None) -> Tags:
    """Return the tags of a session titled ``title`` rendered from ``script`` (a path or name),
    with ``cover`` as its front cover."""
    name = Path(script).name
    return Tags(title=title, comment=f"Rendered by loosen from {name}", cover=cover)


def step_name(span: StepSpan) -> str:
    """``span``'s name, or its kind's title where it has none: ``reach``, ``Tense and release``."""
    return span.name or KIND_TITLES.get(span.kind, span.kind.replace("_", " ").capitalize())


def step_title(span: StepSpan) -> str:
    """Return ``span``'s name (or its kind's title), with its side: ``reach (left)``."""
    base = step_name(span)
    return f"{base} ({span.side})" if span.side else base


def chapter_spans(timeline: Timeline) -> list[ChapterSpan]:
    """Return the chapters of ``timeline`` in frames: contiguous, from 0 to ``total_frames``."""
    starts: list[tuple[int, str]] = []
    for span in timeline.steps:
        if starts and not (span.name or span.side):
            continue  # an unnamed step continues the chapter before it
        if starts and starts[-1][0] == span.start:
            starts.pop()  # the chapter before took no time: this one replaces it
        starts.append((span.start, step_title(span)))
    if not starts:
        return [ChapterSpan(0, timeline.total_frames, "Session")]
    starts[0] = (0, starts[0][1])
    ends = [start for start, _ in starts[1:]] + [timeline.total_frames]
    return [
        ChapterSpan(start, end, title) for (start, title), end in zip(starts, ends, strict=True)
    ]


def chapters_from(timeline: Timeline) -> list[Chapter]:
    """Return the chapters of ``timeline`` in seconds (see the module's notes for the rules)."""
    rate = timeline.sample_rate
    return [Chapter(s.start / rate, s.end / rate, s.title) for s in chapter_spans(timeline)]


def clock(seconds: float) -> str:
    """Return ``seconds`` as ``HH:MM:SS.mmm``, rounded to the millisecond."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def soundfile_tags(container: str, tags: Tags | None) -> dict[str, str]:
    """Return the SoundFile string attributes that carry ``tags`` in ``container``.

    Empty for MP3 and for no tags: `embed` writes MP3's tags in its ID3v2 tag. Empty too for a
    WAV when a text is not ASCII: readers disagree on the encoding of an ``INFO`` chunk, and
    `embed` puts every text, in UTF-8, in an ``id3 `` chunk as well.
    """
    if tags is None or container == "MP3":
        return {}
    strings = {"title": tags.title, "artist": tags.artist, "album": tags.album}
    strings["comment"] = tags.comment
    if tags.track is not None:
        strings["tracknumber"] = str(tags.track)
    if container in ("WAV", "RF64") and not all(value.isascii() for value in strings.values()):
        return {}  # ffmpeg reads a WAV's ID3 tags only when it has no INFO tags
    return {key: value for key, value in strings.items() if value}


def embed(
    path: Path,
    container: str,
    *,
    sample_rate: int,
    chapters: Sequence[Chapter] | None,
    tags: Tags | None,
) -> None:
    """Write ``chapters`` (and, for MP3 and WAV, ``tags``; the cover of ``tags`` but in a WAV
    or an MP4, whose writer holds it) into the finished file at ``path``.

    ``container`` is libsndfile's name for the format (``WAV``, ``RF64``, ``FLAC``, ``OGG``,
    ``OPUS``, ``MP3``). Raises `ValueError` when the chapters do not fit the format, and
    mutagen's errors (`mutagen.MutagenError`) when it cannot rewrite the file.
    """
    if container in ("WAV", "RF64"):
        from loosen.output.riff import append_chunks, id3_chunk, marker_chunks

        if chapters:
            markers = [(round(c.start_s * sample_rate), c.title) for c in chapters]
            if any(not 0 <= frame <= 2**32 - 1 for frame, _ in markers):
                raise ValueError("a marker lies past the 32-bit sample offsets of a WAV cue point")
        chunks = marker_chunks(markers) if chapters else b""
        if tags is not None:
            from loosen.output.id3v2 import id3_tag

            chunks += id3_chunk(id3_tag(_id3_texts(tags), ()))
        if chunks:
            append_chunks(path, chunks)
    elif container in ("FLAC", "OGG", "OPUS"):
        cover = tags.cover if tags is not None else None
        if chapters or cover is not None:
            _embed_vorbis(path, container, chapters or (), cover)
    elif container == "MP3":
        if chapters or tags:
            _embed_id3(path, chapters or (), tags)
    elif container == "MP4":
        pass  # its writer holds them (`loosen.output.pyav`)
    else:
        raise ValueError(f"no chapter writer for {container}")


def _embed_vorbis(
    path: Path, container: str, chapters: Sequence[Chapter], cover: Cover | None
) -> None:
    """Add ``CHAPTERnnn`` / ``CHAPTERnnnNAME`` Vorbis comments (time first: ffmpeg needs it)
    and the cover: a FLAC picture block, or an Ogg file's ``METADATA_BLOCK_PICTURE``."""
    from mutagen import flac, oggopus, oggvorbis

    from loosen.output.pictures import flac_picture, vorbis_picture

    if len(chapters) > MAX_VORBIS_CHAPTERS:
        raise ValueError(f"Vorbis comments hold at most {MAX_VORBIS_CHAPTERS} chapters")
    openers: dict[str, Any] = {"FLAC": flac.FLAC, "OGG": oggvorbis.OggVorbis}  # unannotated
    opener = openers.get(container, oggopus.OggOpus)
    audio = opener(path)
    if audio.tags is None:
        audio.add_tags()
    for number, chapter in enumerate(chapters, start=1):
        audio.tags[f"CHAPTER{number:03d}"] = clock(chapter.start_s)
        audio.tags[f"CHAPTER{number:03d}NAME"] = chapter.title
    if cover is not None and container == "FLAC":
        audio.clear_pictures()
        audio.add_picture(flac_picture(cover))
    elif cover is not None:
        audio.tags["METADATA_BLOCK_PICTURE"] = [vorbis_picture(cover)]
    audio.save()


def _embed_id3(path: Path, chapters: Sequence[Chapter], tags: Tags | None) -> None:
    """Put an ID3v2.3 tag with ``tags`` and ``chapters`` at the start of the MP3 file."""
    from loosen.output.id3v2 import id3_tag, prepend_tag

    texts = _id3_texts(tags) if tags is not None else {}
    frames = [(round(c.start_s * 1000), round(c.end_s * 1000), c.title) for c in chapters]
    cover = tags.cover if tags is not None else None
    prepend_tag(path, id3_tag(texts, frames, tags.title if tags else None, cover=cover))


def _id3_texts(tags: Tags) -> dict[str, str]:
    """``tags`` as ID3 text frames by id."""
    texts = {"TIT2": tags.title, "TPE1": tags.artist, "TALB": tags.album}
    return texts | {"COMM": tags.comment, "TRCK": "" if tags.track is None else str(tags.track)}
