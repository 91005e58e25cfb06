"""Speech conditioning: an engine clip turned into a line ready to mix.

Speech is freed of DC (espeak-ng's lines carry an offset of up to -46 dBFS), trimmed of the
engine's own silence, levelled (by its loudness, to `SPEECH_LOUDNESS_LUFS`, its true peaks held
under `SPEECH_PEAK_DBFS`) - that is `MixReady`, done once per clip at the engine's rate - then
resampled to the output rate with soxr and faded at the edges (`finish_speech`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.tts.base import Clip

__all__ = [
    "EDGE_FADE_S",
    "EDGE_PAD_S",
    "HIGHPASS_HZ",
    "PROCESSING_VERSION",
    "SILENCE_DBFS",
    "SPEECH_LIMIT_DB",
    "SPEECH_LOUDNESS_LUFS",
    "SPEECH_PEAK_DBFS",
    "Audio",
    "MixReady",
    "db_to_gain",
    "finish_speech",
    "line_lufs",
    "output_frames",
    "prepare_speech",
    "speech_frames",
]

#: Mono float32 samples, shape (n,).
Audio = npt.NDArray[np.float32]

SPEECH_PEAK_DBFS = -3.0  # no line's true peak passes it (the renderer's soft limiter starts here)
SPEECH_LOUDNESS_LUFS = -18.5  # every line's loudness (on one channel), but Piper's
SPEECH_LIMIT_DB = 3.0  # the most the line's limiter takes off its peaks
# names what `prepare_speech` makes of a clip: change it whenever that changes, so what is kept
# of processed speech in the cache (`SpeechClips.derived_key`) is not taken for the new
PROCESSING_VERSION = 3  # 2: DC removed; 3: levelled by loudness, true peaks limited
SILENCE_DBFS = -50.0  # below this, the engine's leading and trailing samples count as silence
HIGHPASS_HZ = 20.0  # what drifts below this within a line (under any voice's pitch) is removed
EDGE_PAD_S = 0.015  # of the engine's silence kept before and after a line's sound
EDGE_FADE_S = 0.008  # fade at each edge of a finished line


def db_to_gain(db: float) -> float:
    """Turn a level in dB into a linear gain."""
    return float(10.0 ** (db / 20.0))


def prepare_speech(clip: Clip, sample_rate: int, level_db: float | None = None) -> Audio:
    """Turn an engine clip into speech ready to mix: `MixReady`, then `finish_speech`.

    Returns float32 of shape (n,), mono, at ``sample_rate``; at least one frame.
    """
    return finish_speech(MixReady(level_db)(clip), sample_rate, level_db)


@dataclass(frozen=True)
class MixReady:
    """What is done once to a clip as the engine gives it (`loosen.tts.speech.Conditioner`):
    its DC removed (its mean, then what drifts under `HIGHPASS_HZ`), the engine's own leading
    and trailing silence trimmed (timing is the timeline's job) and, unless the engine has a
    fixed level (``level_db``, Piper), levelled: its loudness `SPEECH_LOUDNESS_LUFS` with its
    true peaks limited under `SPEECH_PEAK_DBFS` (see `_levelled`). At the engine's rate.

    It is the costly part of a line's processing (the limiter looks at 4x the samples), so the
    speech cache keeps clips as it leaves them and a warm export does none of it.
    """

    level_db: float | None = None

    @property
    def name(self) -> str:
        """Names the conditioning in cache keys: change `PROCESSING_VERSION` with it."""
        levels = f"{SPEECH_LOUDNESS_LUFS:g},{SPEECH_PEAK_DBFS:g},{SPEECH_LIMIT_DB:g}"
        level = "fixed" if self.level_db is not None else f"levelled:{levels}"
        return f"mix-ready {PROCESSING_VERSION}, high-pass {HIGHPASS_HZ:g} Hz, {level}"

    def __call__(self, clip: Clip) -> Clip:
        x = _high_passed(_trimmed(clip), clip.sample_rate)
        if self.level_db is None:
            x = _levelled(x, clip.sample_rate)
        return Clip(x.astype(np.float32, copy=False), clip.sample_rate)


def finish_speech(ready: Clip, sample_rate: int, level_db: float | None = None) -> Audio:
    """A clip `MixReady` made: resampled to ``sample_rate`` with soxr, its edges faded over a
    few milliseconds so nothing clicks, and scaled by ``level_db`` dB if given (an engine of a
    fixed level). Float32, shape (n,), mono; at least one frame."""
    import soxr  # imported here: only rendering needs it, `loosen --help` should not pay for it

    x = np.asarray(ready.samples, np.float32)
    frames = output_frames(x.size, ready.sample_rate, sample_rate)
    if ready.sample_rate != sample_rate and x.size > 1:
        x = np.asarray(soxr.resample(x, ready.sample_rate, sample_rate, quality="HQ"), np.float32)
        # soxr gives round(n * ratio) frames; pin it, since the timeline was laid out with it
        if x.size != frames:
            x = np.pad(x, (0, max(0, frames - x.size)))[:frames]
    else:
        x = x.copy()
    if x.size == 0:
        x = np.zeros(1, np.float32)
    fade = min(round(EDGE_FADE_S * sample_rate), x.size // 2)
    if fade:
        ramp = np.sin(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    if level_db is not None:
        x *= db_to_gain(level_db)
    return x.astype(np.float32, copy=False)


def speech_frames(clip: Clip, sample_rate: int) -> int:
    """The length in frames of ``prepare_speech(clip, sample_rate)``, without resampling."""
    return output_frames(_trimmed(clip).size, clip.sample_rate, sample_rate)


def _trimmed(clip: Clip) -> Audio:
    """``clip`` less its mean, without the engine's leading and trailing silence (a short pad
    kept). The mean goes first: an offset over the threshold would pass for sound."""
    x = np.asarray(clip.samples, dtype=np.float32)
    if x.size:
        x = (x - np.float32(x.mean(dtype=np.float64))).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > db_to_gain(SILENCE_DBFS))
    if loud.size:
        pad = round(EDGE_PAD_S * clip.sample_rate)
        return x[max(0, loud[0] - pad) : loud[-1] + pad + 1]
    return x[:1] * 0


def _high_passed(x: Audio, rate: int) -> Audio:
    """``x`` (float32, (n,), at ``rate`` Hz) through a zero-phase high-pass at `HIGHPASS_HZ`:
    the magnitude of a second-order Butterworth filter, applied in the frequency domain. Its DC
    is 0 and what drifts within the line (espeak-ng's offset changes from sound to sound) goes;
    speech is untouched (-0.03 dB at 70 Hz, under the lowest voice's pitch). No phase shift, so
    the peaks stay where they were. Float32, (n,)."""
    if x.size < 2:
        return x
    pad = round(0.25 * rate)  # the filter rings out within it (to 1e-9), past the kept frames
    size = _fft_size(x.size + pad)
    spectrum = np.fft.rfft(x.astype(np.float64), size)
    ratio4 = (np.fft.rfftfreq(size, 1.0 / rate) / HIGHPASS_HZ) ** 4
    spectrum *= np.sqrt(ratio4 / (1.0 + ratio4))
    return np.fft.irfft(spectrum, size)[: x.size].astype(np.float32)


def _fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= ``n``: pocketfft is as quick on these as on powers of two,
    and a power of two pads a line by up to twice its length (the high-pass took 2.2 times as
    long; the filtered line is the same to float32's last bit but for rounding)."""
    best = 1 << (n - 1).bit_length()
    fives = 1
    while fives < best:
        threes = fives
        while threes < best:
            size = threes
            while size < n:
                size *= 2
            best = min(best, size)
            threes *= 3
        fives *= 5
    return best


def line_lufs(x: Audio, rate: int) -> float:
    """The loudness in LUFS of a line ``x`` (float32, (n,), at ``rate`` Hz) on one channel:
    BS.1770's gating (so pauses inside it do not count), or, for a line under 400 ms, the mean
    power of its K-weighted frames. ``-inf`` for silence."""
    from loosen.loudness.meter import LoudnessMeter, gated_lufs

    meter = LoudnessMeter(rate, 1)
    hops = max(1, -(-x.size // meter.hop))
    padded = np.zeros((hops * meter.hop, 1), np.float32)
    padded[: x.size, 0] = x
    meter.add(padded)
    powers = meter.hop_powers
    if powers.size >= 4:
        return gated_lufs(powers)
    power = float(powers.sum()) * meter.hop / max(1, x.size)
    return -0.691 + 10.0 * math.log10(power) if power > 0 else -math.inf


def _levelled(x: Audio, rate: int) -> Audio:
    """``x`` (float32, (n,), at the engine's ``rate``) scaled to `SPEECH_LOUDNESS_LUFS`, its
    true peaks over `SPEECH_PEAK_DBFS` held under it by the look-ahead limiter. A line's
    peak-to-loudness ratio is then at most their difference: at the export's target the
    session's peaks stay under the lossy formats' ceiling, and the export's limiter (which
    would trim every line alike) rarely acts. Worked out at the engine's rate: oversampled 4x,
    its true peaks are those the resampled line has, for half the work."""
    from loosen.loudness.limiter import limit_true_peak
    from loosen.loudness.true_peak import TruePeakMeter

    lufs = line_lufs(x, rate)
    if not math.isfinite(lufs):
        return x
    loudness_gain_db = SPEECH_LOUDNESS_LUFS - lufs
    # a line so peaky that it would need more than `SPEECH_LIMIT_DB` stays that much quieter;
    # a true peak under the level where that begins need not be known exactly
    peaky_from = db_to_gain(SPEECH_PEAK_DBFS + SPEECH_LIMIT_DB - loudness_gain_db)
    meter = TruePeakMeter(rate, 1, floor=peaky_from)
    meter.add(x[:, None])
    gain_db = min(loudness_gain_db, SPEECH_PEAK_DBFS + SPEECH_LIMIT_DB - meter.true_peak_dbtp())
    x = x * np.float32(db_to_gain(gain_db))
    return limit_true_peak(x, rate, SPEECH_PEAK_DBFS)[0]


def output_frames(n: int, rate: int, sample_rate: int) -> int:
    """The length in frames at ``sample_rate`` (Hz) of ``n`` frames at ``rate`` (Hz), as soxr
    resamples them (rounded half up); at least 1."""
    if rate == sample_rate or n <= 1:
        return max(1, n)
    return max(1, (2 * n * sample_rate + rate) // (2 * rate))  # round half up, in integers
