"""An ID3v2.4 tag with chapters, put at the start of an MP3 file (and, without chapters, in a
WAV file's ``id3 `` chunk).

The tag holds the text frames ``TIT2`` (title), ``TPE1`` (artist), ``TALB`` (album), ``COMM``
(comment) and ``TRCK`` (track), a top-level ordered table of contents (``CTOC``) and one
``CHAP`` frame per chapter with a ``TIT2`` sub-frame, written in chapter order, and last an
``APIC`` frame with the front cover, if any.

Written here rather than with mutagen: mutagen sorts frames by size when it saves, so the
``CHAP`` frames land out of order (quodlibet/mutagen#506), and ffmpeg lists chapters in the
order of the frames, not of the table of contents. Version 2.4 with its text in UTF-8: version
2.3's text is UCS-2, so a character past it (an emoji) must be a UTF-16 surrogate pair, which
exiftool and mediainfo read as two broken characters ("??"); ffprobe, mutagen, exiftool and
mediainfo all read 2.4's UTF-8 right. The tests read the tag back with mutagen and ffprobe (and
exiftool and mediainfo where installed).
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loosen.atomic import atomic_file
from loosen.output.pictures import FRONT_COVER

if TYPE_CHECKING:
    from loosen.plan.chapters import Cover

__all__ = ["ChapterFrame", "id3_tag", "prepend_tag"]

ChapterFrame = tuple[int, int, str]  # (start in ms, end in ms, title)

_NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets unused: players seek by time
_PADDING_BYTES = 1024  # room for a tag editor to grow the tag without moving the audio
_MAX_CTOC_ENTRIES = 255  # the entry count of a CTOC frame is one byte
_MAX_FRAME_BYTES = 2**28 - 1  # a syncsafe size holds 28 bits


def _syncsafe(size: int) -> bytes:
    """``size`` in four bytes of seven bits each, as the tag header wants."""
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _frame(frame_id: str, payload: bytes) -> bytes:
    """A frame: id, size (syncsafe in version 2.4), no flags, payload."""
    if len(payload) > _MAX_FRAME_BYTES:
        raise ValueError(f"an ID3 frame holds at most {_MAX_FRAME_BYTES:,} bytes")
    return frame_id.encode("ascii") + _syncsafe(len(payload)) + b"\0\0" + payload


_UTF8 = b"\x03"  # the text encoding byte of UTF-8 (ID3v2.4)


def _text(frame_id: str, text: str) -> bytes:
    return _frame(frame_id, _UTF8 + text.encode("utf-8"))


def _toc(
    element_id: bytes, children: Sequence[bytes], *, top_level: bool, title: str | None = None
) -> bytes:
    """A ``CTOC`` frame: an ordered table of contents listing ``children`` (255 at most)."""
    flags = (0x02 if top_level else 0x00) | 0x01  # bit 1: top-level, bit 0: ordered
    entries = b"".join(child + b"\0" for child in children)
    sub_frames = _text("TIT2", title) if title else b""
    payload = element_id + b"\0" + bytes((flags, len(children))) + entries + sub_frames
    return _frame("CTOC", payload)


def _picture(cover: Cover) -> bytes:
    """An ``APIC`` frame: the front cover, its MIME type, no description."""
    mime = cover.mime.encode("latin-1")
    return _frame("APIC", _UTF8 + mime + b"\0" + bytes((FRONT_COVER,)) + b"\0" + cover.data)


def id3_tag(
    texts: dict[str, str],
    chapters: Sequence[ChapterFrame],
    toc_title: str | None = None,
    *,
    cover: Cover | None = None,
) -> bytes:
    """Return a whole ID3v2.4 tag.

    Parameters
    ----------
    texts
        Text frames by id (``TIT2``, ``TPE1``, ``TALB``, ``TRCK``); ``COMM`` becomes a comment
        frame in English with no description. Empty texts are left out.
    chapters
        ``(start_ms, end_ms, title)`` in order. Up to 255 are listed by one top-level table of
        contents; more by a top-level table of tables of 255 each.
    toc_title
        Title of the table of contents, if any.
    cover
        The front cover, if any: an ``APIC`` frame after the chapters.
    """
    frames = []
    for frame_id, text in texts.items():
        if not text:
            continue
        if frame_id == "COMM":
            # encoding, language, an empty description and its terminator, the text
            frames.append(_frame("COMM", _UTF8 + b"eng\0" + text.encode("utf-8")))
        else:
            frames.append(_text(frame_id, text))
    ids = [f"chp{number}".encode("ascii") for number in range(1, len(chapters) + 1)]
    if 0 < len(ids) <= _MAX_CTOC_ENTRIES:
        frames.append(_toc(b"toc", ids, top_level=True, title=toc_title))
    elif len(ids) > _MAX_CTOC_ENTRIES:  # a top-level table of tables of 255 chapters each
        groups = [ids[i : i + _MAX_CTOC_ENTRIES] for i in range(0, len(ids), _MAX_CTOC_ENTRIES)]
        if len(groups) > _MAX_CTOC_ENTRIES:
            raise ValueError(f"an ID3 tag here holds at most {_MAX_CTOC_ENTRIES**2} chapters")
        tocs = [f"toc{number}".encode("ascii") for number in range(1, len(groups) + 1)]
        frames.append(_toc(b"toc", tocs, top_level=True, title=toc_title))
        frames += [_toc(t, group, top_level=False) for t, group in zip(tocs, groups, strict=True)]
    for element_id, (start_ms, end_ms, title) in zip(ids, chapters, strict=True):
        times = struct.pack(">IIII", start_ms, end_ms, _NO_OFFSET, _NO_OFFSET)
        frames.append(_frame("CHAP", element_id + b"\0" + times + _text("TIT2", title)))
    if cover is not None:
        frames.append(_picture(cover))
    body = b"".join(frames) + bytes(_PADDING_BYTES)
    return b"ID3\x04\x00\x00" + _syncsafe(len(body)) + body


def prepend_tag(path: Path, tag: bytes) -> None:
    """Put ``tag`` at the start of the MP3 file at ``path``, replacing an ID3v2 tag there.

    The file is rewritten through a second temporary file beside it (`loosen.atomic`), then
    renamed over it. Its name begins with the file's: the temporary file of an export killed
    outright is found by `loosen.output.export.remove_stale_parts` with this one.
    """
    # flushed to the disk with the whole file, once the export's writer renames it into place;
    # the source is closed before the rename, which Windows refuses over an open file
    with (
        atomic_file(path, "wb", durable=False, prefix=f"{path.name}.") as target,
        path.open("rb") as source,
    ):
        header = source.read(10)
        if header[:3] == b"ID3" and len(header) == 10:
            size = 0
            for byte in header[6:10]:
                size = size << 7 | (byte & 0x7F)
            footer = 10 if header[5] & 0x10 else 0
            source.seek(10 + size + footer)
        else:
            source.seek(0)
        target.write(tag)
        shutil.copyfileobj(source, target, 2**20)
