"""The writers behind `loosen.output.export`: libsndfile for WAV, FLAC and Ogg Vorbis, LAME
through `lameenc` for MP3, FFmpeg through PyAV for MP4 and Ogg Opus (`loosen.output.pyav`);
and ``--quality`` for the lossy formats.

MP3 is not written through libsndfile: libsndfile 1.2.2 never calls ``lame_set_quality``, so
LAME runs its slowest algorithm (``-q 0``), and its stereo default is 320 kbps: a 30-minute
session took 20 times as long as its WAV. `lameenc` bundles LAME 3.100 (LGPL), releases the GIL
while it encodes (the writer's thread encodes while the renderer's mixes) and sets LAME's
algorithm and VBR quality; but it writes no info frame, so `Mp3Writer` keeps room for one and
writes it last (`loosen.output.lame_tag`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from loosen.errors import BadInputError, BadValueError

if TYPE_CHECKING:
    from loosen.plan.chapters import Cover

__all__ = [
    "DEFAULT_QUALITY",
    "ENCODER_DELAY",
    "OPUS_RATES_HZ",
    "QUALITIES",
    "Mp3Writer",
    "Quality",
    "check_encoding",
    "open_writer",
    "quality_of",
]

QUALITIES = ("low", "standard", "high")
DEFAULT_QUALITY = "standard"
ENCODER_DELAY = 576  # samples LAME 3.100 puts before the audio when it does not resample
OPUS_RATES_HZ = (8000, 12000, 16000, 24000, 48000)  # what Opus encodes


@dataclass(frozen=True)
class Quality:
    """What one ``--quality`` asks of a lossy format's encoder.

    ``level``: for Ogg, libsndfile's compression level (0 best to 1 smallest; Vorbis quality
    1 - level); for MP3, LAME's VBR quality ``-V`` (0 best to 9). ``algorithm``: for MP3,
    LAME's ``-q`` (0 slowest to 9 fastest). ``loss_db``: how much quieter the encoder makes a
    session, as ffmpeg's ebur128 meter finds after decoding (an export aims that much higher).
    MP4 and Opus take their bit rates from `loosen.output.pyav` instead of ``level``.
    """

    level: float
    algorithm: int = 0
    loss_db: float = 0.0


# Measured on back-loosening and pmr-16 (README, "loosen export"): MP3 -V7 ~41 kbps mono, -V4
# ~50, -V2 ~64; LAME's -q costs little time in VBR (-q 5 is 16 % slower than -q 7 at -V4,
# -q 2 25 % at -V2). Vorbis ~26, ~30 and ~41 kbps. The losses: what each encoder takes off the
# sessions' loudness (ffmpeg's ebur128 after decoding), stereo and mono alike within 0.01 LU;
# LAME's at most 0.005 LU. Opus (libopus) and AAC (FFmpeg's) on tiny, back-loosening and
# pmr-16, mono (ffmpeg's loudnorm, to 0.01 LU): Opus 0.19-0.30 at low, 0.18-0.25 standard,
# 0.16-0.18 high; AAC 0.09-0.13.
_QUALITIES = {
    "OGG": {
        "low": Quality(0.8, loss_db=0.16),
        "standard": Quality(0.6, loss_db=0.12),  # libsndfile's default
        "high": Quality(0.4, loss_db=0.02),
    },
    "OPUS": {  # the level is unused: `loosen.output.pyav.bit_rate_bps` sets the rate
        "low": Quality(0.0, loss_db=0.22),
        "standard": Quality(0.0, loss_db=0.20),
        "high": Quality(0.0, loss_db=0.17),
    },
    "MP4": {
        "low": Quality(0.0, loss_db=0.13),
        "standard": Quality(0.0, loss_db=0.11),
        "high": Quality(0.0, loss_db=0.09),
    },
    "MP3": {
        "low": Quality(7, algorithm=7),
        "standard": Quality(4, algorithm=7),
        "high": Quality(2, algorithm=2),
    },
}


def quality_of(container: str, quality: str | None) -> Quality | None:
    """The encoder settings of ``quality`` (None: `DEFAULT_QUALITY`) for libsndfile's
    ``container``; None for a lossless one."""
    return _QUALITIES.get(container, {}).get(quality or DEFAULT_QUALITY)


def check_encoding(
    container: str, *, sample_rate: int | None = None, quality: str | None = None
) -> None:
    """Refuse, before any work, a ``quality`` the format does not take and a sample rate (Hz)
    an MP3 cannot have (`BadInputError`; `BadValueError` "quality")."""
    if quality is not None:
        if quality not in QUALITIES:
            raise BadValueError("quality", quality, "choose low, standard or high")
        if container not in _QUALITIES:
            reason = f"goes with .ogg, .opus, .mp3, .m4a and .m4b files; {container} is lossless"
            raise BadValueError("quality", quality, reason)
    if container in ("MP4", "OPUS"):
        from loosen.output.pyav import require_av

        require_av()
    if container == "OPUS" and sample_rate is not None and sample_rate not in OPUS_RATES_HZ:
        shown = ", ".join(map(str, OPUS_RATES_HZ))
        raise BadInputError(f"an Opus file cannot have {sample_rate} Hz; use one of {shown}")
    if container == "MP3" and sample_rate is not None:
        from loosen.output.lame_tag import supported_rates_hz

        rates = supported_rates_hz()
        if sample_rate not in rates:
            shown = ", ".join(map(str, rates))
            raise BadInputError(f"an MP3 cannot have {sample_rate} Hz; use one of {shown}")


@contextlib.contextmanager
def open_writer(
    path: Path,
    *,
    container: str,
    subtype: str,
    sample_rate: int,
    channels: int,
    quality: str | None,
    strings: dict[str, str],
    cover: Cover | None = None,
) -> Iterator[Any]:
    """The file at ``path`` (it exists, empty) open for writing blocks of samples (shape
    (frames, channels); int16 for 16-bit PCM and MP3, float32 for Vorbis and Opus) with ``write``;
    closed, complete, when the block ends. ``strings``: libsndfile's tags, set before the
    first frame (WAV puts them up front). ``cover``: an MP4's, which its writer holds (the
    other formats' are `loosen.plan.chapters.embed`'s)."""
    settings = quality_of(container, quality)
    if container in ("MP4", "OPUS"):
        from loosen.output.pyav import PyavWriter

        names = {"tracknumber": "track"}  # libsndfile's names to FFmpeg's
        metadata = {names.get(key, key): value for key, value in strings.items()}
        with PyavWriter(
            path, container=container, sample_rate=sample_rate, channels=channels,
            quality=quality or DEFAULT_QUALITY, audiobook=subtype == "AAC_AUDIOBOOK",
            metadata=metadata, cover=cover if container == "MP4" else None,
        ) as writer:  # fmt: skip
            yield writer
        return
    if container == "MP3":
        assert settings is not None
        with Mp3Writer(path, sample_rate=sample_rate, channels=channels, quality=settings) as mp3:
            yield mp3
        return
    import soundfile as sf

    extra = {"compression_level": settings.level} if settings is not None else {}
    # libsndfile writes the file itself (not through Python callbacks), so Ctrl+C is never
    # swallowed inside a cffi callback and writing costs no Python per chunk
    with sf.SoundFile(
        str(path), "w", samplerate=sample_rate, channels=channels, subtype=subtype,
        format=container, **extra,
    ) as out:  # fmt: skip
        for key, value in strings.items():
            setattr(out, key, value)
        yield out


class Mp3Writer:
    """An MP3 file being written by LAME (VBR, ``quality``'s ``-V`` and ``-q``): `write` takes
    int16 samples, shape (frames, channels); leaving the ``with`` block completes the file (the
    encoder's last frames, then the info frame in the room kept for it at the start); leaving
    it on an exception only closes the file. `OSError` on a write failure, `RuntimeError` when
    the encoder fails."""

    def __init__(self, path: Path, *, sample_rate: int, channels: int, quality: Quality):
        import lameenc

        from loosen.output.lame_tag import StreamLog, tag_frame_bytes

        self.quality = quality
        encoder = lameenc.Encoder()
        encoder.set_channels(channels)
        encoder.set_in_sample_rate(sample_rate)
        encoder.set_out_sample_rate(sample_rate)  # else LAME may resample a low VBR quality
        encoder.set_vbr(4)  # vbr_mtrh, LAME's -V
        encoder.set_vbr_quality(int(quality.level))
        encoder.set_quality(quality.algorithm)
        encoder.silence()
        self._encoder = encoder
        self._log = StreamLog()
        self._samples = 0
        self._started = False
        self._file = path.open("r+b")
        try:
            self._file.write(bytes(tag_frame_bytes(sample_rate)))
        except BaseException:
            self._file.close()
            raise

    def write(self, samples: npt.NDArray[np.int16]) -> None:
        """Encode and write ``samples`` (int16, shape (frames, channels), interleaved)."""
        self._put(self._encoder.encode(np.ascontiguousarray(samples, np.int16).tobytes()))
        self._samples += len(samples)
        self._started = True

    def _put(self, data: bytes | bytearray) -> None:
        try:
            self._log.feed(data)
        except ValueError as error:
            raise RuntimeError(f"the MP3 encoder's output: {error}") from None
        self._file.write(data)

    def _finish(self) -> None:
        from loosen.output.lame_tag import info_frame

        if not self._started:
            self._put(self._encoder.encode(b""))
        self._put(self._encoder.flush())
        try:
            self._log.finish()
            tag = info_frame(
                self._log,
                samples=self._samples,
                delay=ENCODER_DELAY,
                vbr_quality=int(self.quality.level),
                algorithm_quality=self.quality.algorithm,
            )
        except ValueError as error:
            raise RuntimeError(f"the MP3 encoder's output: {error}") from None
        self._file.seek(0)
        self._file.write(tag)

    def __enter__(self) -> Mp3Writer:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._file.close()
