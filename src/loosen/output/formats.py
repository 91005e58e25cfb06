"""The formats `loosen` exports to, named by a file's extension, and the check of an output
path made before any work (`check_output_path`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loosen.errors import BadInputError
from loosen.output.writable import check_writable, is_folder

__all__ = ["FORMATS", "AudioFormat", "check_output_path", "format_for", "wav_limit_frames"]


@dataclass(frozen=True)
class AudioFormat:
    """A container and codec as libsndfile names them (``MP4``, ``OPUS``: FFmpeg's).
    ``lossy``: its encoder changes the samples (they get room under the true-peak ceiling; see
    `loosen.output.encoders` for their ``--quality`` and what each encoder takes off the
    loudness). ``ceiling_dbtp``: the true peak an export is limited to: lower for a lossy
    format, whose encoder raises peaks a little."""

    name: str
    container: str
    subtype: str
    lossy: bool = False
    ceiling_dbtp: float = -1.0


FORMATS = {
    ".wav": AudioFormat("WAV (PCM 16-bit)", "WAV", "PCM_16"),
    ".flac": AudioFormat("FLAC (16-bit)", "FLAC", "PCM_16"),
    ".ogg": AudioFormat("Ogg Vorbis", "OGG", "VORBIS", lossy=True, ceiling_dbtp=-2.0),
    # LAME, not libsndfile
    ".mp3": AudioFormat("MP3", "MP3", "MPEG_LAYER_III", lossy=True, ceiling_dbtp=-2.0),
    # the phones' formats through PyAV (loosen.output.pyav), an optional extra
    ".opus": AudioFormat("Ogg Opus", "OPUS", "OPUS", lossy=True, ceiling_dbtp=-2.0),
    ".m4a": AudioFormat("MPEG-4 audio (AAC)", "MP4", "AAC", lossy=True, ceiling_dbtp=-2.0),
    ".m4b": AudioFormat(
        "MPEG-4 audiobook (AAC)", "MP4", "AAC_AUDIOBOOK", lossy=True, ceiling_dbtp=-2.0
    ),
}
_WAV_LIMIT_BYTES = 2**32 - 2**20  # past this a RIFF size field overflows: write RF64 instead


def wav_limit_frames(channels: int) -> int:
    """The most 16-bit frames of ``channels`` a WAV holds; past it, an export is RF64."""
    return _WAV_LIMIT_BYTES // (2 * channels)


def format_for(path: Path) -> AudioFormat:
    """Return the format of ``path`` from its extension; `BadInputError` if it has none we write."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(FORMATS)
        shown = path.suffix or "no extension"
        raise BadInputError(f"{path}: cannot export to {shown}; use one of {known}")
    return fmt


def check_output_path(path: Path) -> AudioFormat:
    """Check before any work that ``path`` can be written; return its format."""
    if is_folder(path):
        raise BadInputError(
            f"{path}: is a folder; name an output file such as {path / 'session.wav'}"
        )
    fmt = format_for(path)
    check_writable(path)
    return fmt
