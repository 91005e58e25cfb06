"""A session as one file per chapter (`export_split`): the parts' folder checked before any
work, their file names made safe for any file system, and each part written by
`loosen.output.export.export_blocks`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from loosen.errors import BadInputError, ExportError
from loosen.output.encoders import check_encoding
from loosen.output.export import export_blocks
from loosen.output.formats import AudioFormat, format_for
from loosen.output.writable import check_writable, is_folder, is_there
from loosen.plan.chapters import Tags, chapter_spans

if TYPE_CHECKING:
    from loosen.plan.timeline import Timeline
    from loosen.render.rendering import Rendering

__all__ = ["SpanSource", "check_split_folder", "export_split", "split_names"]


class SpanSource(Protocol):
    """What `export_split` reads: a timeline and the blocks of any span, asked for in order."""

    timeline: Timeline
    sample_rate: int
    channels: int

    def blocks(
        self, start_frame: int = ..., end_frame: int | None = ..., block_frames: int = ...
    ) -> Iterator[npt.NDArray[np.float32]]: ...


def check_split_folder(folder: Path, extension: str = ".wav") -> AudioFormat:
    """Check before any work that split files can be written into ``folder``; return the format.

    The folder may exist (same-named files in it are replaced) or be missing with its parent
    present (it is created).
    """
    fmt = format_for(Path(f"part{extension}"))
    here = is_folder(folder)
    if not here and is_there(folder):
        raise BadInputError(f"{folder}: is a file; name a folder for the split parts")
    # the parts go into the folder; a missing folder is made in its parent
    check_writable(folder / f"part{extension}" if here else folder, what="folder")
    return fmt


def split_names(titles: Sequence[str], extension: str = ".wav") -> list[str]:
    """Return file names for parts titled ``titles``: ``01 welcome.wav``, ``02 reach (right).wav``.

    Numbers are zero-padded to the count's width (at least two digits). Titles are made safe
    for any file system: no control characters, none of ``<>:"/\\|?*``, spaces collapsed,
    trimmed, at most `_MAX_NAME_BYTES` bytes of UTF-8.
    """
    width = max(2, len(str(len(titles))))
    names = []
    for number, title in enumerate(titles, start=1):
        safe = _safe_name(title) or "part"
        names.append(f"{number:0{width}d} {safe}{extension}")
    return names


_MAX_NAME_BYTES = 120  # well inside the 255 bytes of common file systems, with room for a number
_UNSAFE = str.maketrans(
    {"/": "-", "\\": "-"} | {c: " " for c in '<>"|?*\x7f'} | {chr(c): " " for c in range(32)}
)


def _safe_name(title: str) -> str:
    text = " - ".join(part.strip() for part in title.split(":"))  # "relaxation - hands"
    text = " ".join(text.translate(_UNSAFE).split()).strip(" .")
    while len(text.encode("utf-8")) > _MAX_NAME_BYTES:
        text = text[:-1].rstrip(" .")
    return text


def export_split(
    rendering: Rendering | SpanSource,
    folder: Path,
    *,
    extension: str = ".wav",
    tags: Tags | None = None,
    progress: Callable[[int], None] | None = None,
    quality: str | None = None,
) -> list[Path]:
    """Export one file per chapter of ``rendering`` into ``folder``; return their paths in order.

    The parts follow `loosen.plan.chapters.chapter_spans`: a part per named (or sided) step, unnamed
    steps with the part before, the lead-in in the first part and the closing chime and lead-out
    in the last, so the parts played one after another are the whole export, sample for sample.
    Each is written atomically by `export_blocks`; the folder is created if missing; same-named
    files are replaced, other files are left alone. Each part is tagged with its own title,
    ``tags.title`` as the album, and its number as the track. ``progress(frames)`` counts frames
    across all parts. ``quality``: as `export_blocks` takes it.
    """
    fmt = check_split_folder(folder, extension)
    check_encoding(fmt.container, sample_rate=rendering.sample_rate, quality=quality)
    spans = chapter_spans(rendering.timeline)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise ExportError(f"{folder}: could not create the folder: {error.strerror}") from None
    paths = []
    names = split_names([span.title for span in spans], extension.lower())
    for number, (span, name) in enumerate(zip(spans, names, strict=True), start=1):
        part_tags = None
        if tags is not None:
            part_tags = replace(tags, title=span.title, album=tags.title, track=number)
        path = folder / name
        export_blocks(
            rendering.blocks(span.start, span.end, block_frames=rendering.sample_rate),
            path,
            sample_rate=rendering.sample_rate,
            channels=rendering.channels,
            total_frames=span.end - span.start,
            progress=progress,
            tags=part_tags,
            quality=quality,
        )
        paths.append(path)
    return paths
