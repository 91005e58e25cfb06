"""The phones' formats through PyAV, whose wheels bundle FFmpeg: AAC-LC in MP4 (``.m4a``,
``.m4b``, what iPhones, Apple Books and audiobook players play) with FFmpeg's AAC encoder, and
Ogg Opus (``.opus``) with libopus; chapters, tags and gapless playback.

Why PyAV and no writer of our own: an MP4 is a tree of boxes whose sample tables index every
AAC frame; FFmpeg's muxer writes them, the edit list that hides the encoder's delay, and both
kinds of chapters players read (a QuickTime text track, which Apple Books and Podcasts show,
and Nero's ``chpl``, which VLC, ffprobe and mutagen read). For Opus, libsndfile's encoder made
speech up to 1 dB quieter after decoding, by a margin that depended on the session (FFmpeg's
libopus: 0.06 dB), and Ogg's pre-skip and end trim are FFmpeg's too. It is an optional extra
(about 100 MB installed): ``pip install 'loosen[phone]'``. mutagen adds what FFmpeg does not
write: ``iTunSMPB`` (Apple's gapless note), an ``.m4b``'s audiobook media kind and an MP4's
cover (``covr``), and Opus's chapters and cover (Vorbis comments, `loosen.plan.chapters.embed`;
FFmpeg writes them only at the start).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from loosen.errors import PHONE_EXTRA_HINT, BadInputError
from loosen.plan.chapters import Chapter, Cover

__all__ = ["AAC_DELAY", "AAC_FRAME", "PyavWriter", "bit_rate_bps", "require_av"]

AAC_FRAME = 1024  # samples per AAC-LC frame
AAC_DELAY = 1024  # samples FFmpeg's AAC encoder puts before the audio (its initial padding)
# bits per second for one channel, by container and --quality: AAC under 80 kbps raised a
# chime's peaks over -1 dBTP after decoding; Opus keeps speech clear at a third of that
_MONO_BPS = {
    "MP4": {"low": 80_000, "standard": 96_000, "high": 128_000},
    "OPUS": {"low": 24_000, "standard": 32_000, "high": 48_000},
}
_FFMPEG = {"MP4": ("ipod", "aac"), "OPUS": ("opus", "libopus")}  # muxer, encoder
# the AAC encoder's effort (issue 18): FFmpeg's default coder (a two-loop search) took 9.4 s of
# CPU for a 15-minute mono session, its fast coder 4.1 s, with a waveform SNR after decoding of
# 25.6 against 39.7 dB and the loudness as near the target. libopus stays at its complexity 10:
# at 5 or 6 it took a third of the time (1.9 s against 5.6 s) but decoded 0.15 LU loud, outside
# the 0.1 LU the exports keep; at 7 it saved only a tenth
_EFFORT = {"MP4": {"aac_coder": "fast"}, "OPUS": {}}


def require_av() -> None:
    """Refuse, before any work, a phone format on a machine without PyAV (`BadInputError`)."""
    try:
        import av  # noqa: F401
    except ImportError:
        raise BadInputError(
            f".m4a, .m4b and .opus files need PyAV (FFmpeg): {PHONE_EXTRA_HINT}"
        ) from None


def bit_rate_bps(container: str, quality: str, channels: int) -> int:
    """The bit rate of ``quality`` in ``container`` (``MP4``, ``OPUS``) for ``channels`` (a
    second channel adds half again)."""
    mono = _MONO_BPS[container][quality]
    return mono if channels == 1 else mono * 3 // 2


class PyavWriter:
    """An MP4 or Ogg Opus file being written (``container``: ``MP4``, ``OPUS``): `write`
    takes float32 samples, shape (frames, channels); `set_chapters` names an MP4's chapters
    before the block ends; leaving the ``with`` block completes the file (the encoder's last
    frames, the chapters, the gapless note); leaving it on an exception only closes the file.
    `RuntimeError` when FFmpeg fails.

    ``audiobook``: an ``.m4b`` (the audiobook media kind; players keep the place in it).
    ``metadata``: tags by FFmpeg's names (title, artist, album, comment, track).
    ``cover``: an MP4's front cover (an Opus file's is `loosen.plan.chapters.embed`'s).
    """

    def __init__(
        self,
        path: Path,
        *,
        container: str,
        sample_rate: int,
        channels: int,
        quality: str,
        audiobook: bool,
        metadata: dict[str, str],
        cover: Cover | None = None,
    ):
        import av

        self._path = path
        self._mp4 = container == "MP4"
        self._rate = sample_rate
        self._channels = channels
        self._audiobook = audiobook
        self._cover = cover
        self._layout = "mono" if channels == 1 else "stereo"
        self._samples = 0
        self._packets = 0  # AAC frames written
        self._chapters: list[Any] = []
        try:
            muxer, encoder = _FFMPEG[container]
            # faststart: the index goes before the audio, so a phone plays while it downloads;
            # bitexact: the same session gives the same bytes (no random Ogg serial)
            options = {"movflags": "+faststart"} if self._mp4 else {}
            self._container: Any = av.open(
                str(path), "w", format=muxer, options={**options, "fflags": "+bitexact"}
            )
            for key, value in metadata.items():
                self._container.metadata[key] = value
            stream: Any = self._container.add_stream(
                encoder, rate=sample_rate, layout=self._layout, options=_EFFORT[container]
            )
            stream.bit_rate = bit_rate_bps(container, quality, channels)
            self._stream = stream
        except av.FFmpegError as error:
            raise RuntimeError(f"FFmpeg: {error}") from None

    def write(self, samples: npt.NDArray[np.float32]) -> None:
        """Encode ``samples`` (float32, shape (frames, channels), interleaved)."""
        import av

        packed = np.ascontiguousarray(samples, np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=self._layout)
        frame.sample_rate, frame.pts = self._rate, self._samples
        frame.time_base = Fraction(1, self._rate)
        self._samples += len(samples)
        self._mux(frame)

    def set_chapters(self, chapters: Sequence[Chapter]) -> None:
        """The chapters an MP4 will hold (at whole samples; the last ends with the audio).
        An Ogg file's are written by `loosen.plan.chapters.embed` once it is complete."""
        if not self._mp4:
            return
        self._chapters = [
            {
                "id": number,
                "start": round(chapter.start_s * self._rate),
                "end": round(chapter.end_s * self._rate),
                "time_base": Fraction(1, self._rate),
                "metadata": {"title": chapter.title},
            }
            for number, chapter in enumerate(chapters, start=1)
        ]

    def _mux(self, frame: Any) -> None:
        import av

        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
                self._packets += 1
        except av.FFmpegError as error:
            raise RuntimeError(f"FFmpeg's AAC encoder: {error}") from None

    def _finish(self) -> None:
        import av

        self._mux(None)
        try:
            if self._chapters:
                self._container.set_chapters(self._chapters)
            self._container.close()
        except av.FFmpegError as error:
            raise RuntimeError(f"FFmpeg: {error}") from None
        if self._mp4:
            _note_gapless(
                self._path, self._samples, self._packets, audiobook=self._audiobook,
                cover=self._cover,
            )  # fmt: skip

    def __enter__(self) -> PyavWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self._finish()
        else:
            self._container.close()


def _note_gapless(
    path: Path, samples: int, frames: int, *, audiobook: bool, cover: Cover | None
) -> None:
    """Add ``iTunSMPB`` (the encoder delay, the padding and the length in samples of the
    ``frames`` AAC frames, as Apple's players read them), for an audiobook its kind, and the
    cover: one rewrite of the file."""
    from mutagen import mp4

    from loosen.output.pictures import mp4_cover

    padding = max(0, frames * AAC_FRAME - AAC_DELAY - samples)
    fields = [0, AAC_DELAY, padding, samples] + [0] * 8
    note = " " + " ".join(
        f"{value:016X}" if position == 3 else f"{value:08X}"
        for position, value in enumerate(fields)
    )
    opener: Any = mp4.MP4  # unannotated
    free_form: Any = mp4.MP4FreeForm
    audio = opener(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags["----:com.apple.iTunes:iTunSMPB"] = [free_form(note.encode("ascii"))]
    if audiobook:
        audio.tags["stik"] = [2]  # the audiobook media kind
    if cover is not None:
        audio.tags["covr"] = [mp4_cover(cover)]
    audio.save()
