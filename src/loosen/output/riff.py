"""Markers in a WAV file: `cue ` points and their `labl` labels, appended after the audio.

A RIFF file is a header (``RIFF``, size, ``WAVE``) and chunks (id, 32-bit little-endian size,
payload padded to an even length). Markers are two chunks: ``cue `` (a count, then one 24-byte
point per marker) and ``LIST`` of type ``adtl`` holding one ``labl`` (point id + zero-terminated
text) per marker. They are appended at the end of the file and the size in the header is
patched; the audio is never rewritten. ffprobe shows them as chapters; Reaper, ocenaudio and
Audition as markers.

RF64 files (WAV past 4 GiB) keep the real RIFF size in their ``ds64`` chunk; that is patched
instead. Positions in a cue point are 32-bit sample offsets: enough for 24 hours at 48 kHz.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

__all__ = ["Marker", "append_chunks", "append_markers", "id3_chunk", "marker_chunks"]

Marker = tuple[int, str]  # (position in frames, label)

_U32_MAX = 2**32 - 1


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    """One chunk: id, size, payload, and a pad byte when the payload's length is odd."""
    pad = b"\0" if len(payload) % 2 else b""
    return chunk_id + struct.pack("<I", len(payload)) + payload + pad


def marker_chunks(markers: Sequence[Marker]) -> bytes:
    """Return the ``cue `` and ``LIST``/``adtl`` chunks for ``markers`` (point ids from 1)."""
    points = b"".join(
        struct.pack("<II4sIII", number, frame, b"data", 0, 0, frame)
        for number, (frame, _) in enumerate(markers, start=1)
    )
    cue = _chunk(b"cue ", struct.pack("<I", len(markers)) + points)
    labels = b"".join(
        _chunk(b"labl", struct.pack("<I", number) + label.encode("utf-8") + b"\0")
        for number, (_, label) in enumerate(markers, start=1)
    )
    return cue + _chunk(b"LIST", b"adtl" + labels)


def id3_chunk(tag: bytes) -> bytes:
    """An ``id3 `` chunk holding the ID3v2 ``tag``: where mutagen, ffmpeg, exiftool and
    mediainfo look for a WAV's tags in Unicode (a ``LIST``/``INFO`` chunk has no encoding, and
    readers disagree on its non-ASCII text: ffprobe takes UTF-8, exiftool and mediainfo
    Latin-1)."""
    return _chunk(b"id3 ", tag)


def append_markers(path: Path, markers: Sequence[Marker]) -> None:
    """Append ``markers`` to the WAV or RF64 file at ``path`` and patch its RIFF size.

    Raises `ValueError` if the file is not RIFF/RF64 WAVE, or if a position or the grown file
    does not fit the format's 32-bit fields.
    """
    if any(not 0 <= frame <= _U32_MAX for frame, _ in markers):
        raise ValueError("a marker lies past the 32-bit sample offsets of a WAV cue point")
    append_chunks(path, marker_chunks(markers))


def append_chunks(path: Path, chunks: bytes) -> None:
    """Append ``chunks`` (whole, even-sized chunks) to the WAV or RF64 file at ``path`` and
    patch its RIFF size; `ValueError` as `append_markers`."""
    with path.open("r+b") as wav:
        kind = _riff_kind(wav)
        end = wav.seek(0, 2)
        tail = (b"\0" if end % 2 else b"") + chunks
        riff_size = end + len(tail) - 8
        if kind == b"RIFF" and riff_size > _U32_MAX:
            raise ValueError("the markers would take the file past the 4 GiB limit of WAV")
        wav.write(tail)
        if kind == b"RIFF":
            wav.seek(4)
            wav.write(struct.pack("<I", riff_size))
        else:
            wav.seek(20)  # RF64: the riffSize field of the ds64 chunk that follows the header
            wav.write(struct.pack("<Q", riff_size))


def _riff_kind(wav: BinaryIO) -> bytes:
    """Return ``b"RIFF"`` or ``b"RF64"`` from the header of ``wav``; `ValueError` otherwise."""
    header = wav.read(16)
    kind, form, first = header[:4], header[8:12], header[12:16]
    if form != b"WAVE" or kind not in (b"RIFF", b"RF64"):
        raise ValueError("not a WAV file")
    if kind == b"RF64" and first != b"ds64":
        raise ValueError("an RF64 file without its ds64 chunk first")
    return kind
