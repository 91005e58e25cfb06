"""Loudness normalisation of an export, as a stream: ITU-R BS.1770-4 loudness and true peak.

`LoudnessMeter` measures integrated loudness (LUFS) and `TruePeakMeter` the true peak (dBTP, 4x
oversampled) of a stream of blocks. `Normalizer` (or `normalize`) reads the stream twice: the first
pass measures, the second applies the gain that reaches the target and a look-ahead limiter that
keeps the true peak under a ceiling. Memory does not grow with the stream beyond one float per
100 ms, and the output depends only on the samples, not on how they are cut into blocks: every
stage works on fixed chunks aligned to the start of the stream.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.errors import BadInputError

__all__ = [
    "DEFAULT_TRUE_PEAK_DBTP",
    "Forecast",
    "KFilter",
    "LoudnessMeter",
    "LoudnessReport",
    "Normalizer",
    "TruePeakMeter",
    "default_target_lufs",
    "gated_lufs",
    "k_weighting",
    "limit_true_peak",
    "normalize",
    "true_peak_bound_dbtp",
]

Audio = npt.NDArray[np.float32]
Array = npt.NDArray[np.float64]

DEFAULT_TRUE_PEAK_DBTP = -1.0
TARGET_RANGE_LUFS = (-60.0, -5.0)
LOOKAHEAD_S = 0.005  # the limiter's attack: the gain falls along a 5 ms ramp before a peak
RELEASE_S = 0.08  # time constant of the limiter's exponential recovery
PEAK_MARGIN_DB = 0.1  # the limiter aims this far under the ceiling: other meters, 16-bit
MAKE_UP_MOST_DB = 3.0  # the make-up gain stops where the limiter would take off more than this
MAKE_UP_TOLERANCE_LU = 0.02  # and where the forecast is this close to the target
_SUBCHUNK = 96  # frames per matrix product in the K-weighting filter
_SEGMENT = 64  # frames per stretch that the true-peak interpolation computes or skips
# A K-weighting state under this (300 dB under full scale) counts as rest: what it would still
# add to a gating block's power is 1e-30 of the -70 LUFS absolute gate.
_AT_REST = 1e-15

# 4x oversampling: each of the 3 points between x[n] and x[n+1] (x[n] itself is the 4th) is
# interpolated from x[n-15] ... x[n+16] by a Kaiser-windowed sinc (beta 8) with unit gain at DC:
# within 0.002 dB of the band-limited signal up to 20 kHz at 48 kHz. (The 12-tap example filter
# of BS.1770-4 Annex 2 reads up to 0.24 dB low between samples: with it, ffmpeg's meter, which
# resamples to 192 kHz with a 32-tap filter, found hard-limited noise 0.4 dB over the ceiling.)
_TAPS, _CENTER = 32, 15  # taps per point; the window's index of x[n]
TRUE_PEAK_TAPS = _TAPS  # the true peak at a frame depends on this many frames around it
_TRUE_PEAK_PIECE = 1 << 16  # frames the true-peak meter takes at a time
_SINC_AT = np.arange(1, 4)[None, :] / 4 - np.arange(-_CENTER, _TAPS - _CENTER)[:, None]
_INTERPOLATE = np.sinc(_SINC_AT) * np.i0(8.0 * np.sqrt(1 - (_SINC_AT / 16) ** 2)) / np.i0(8.0)
_INTERPOLATE = (_INTERPOLATE / _INTERPOLATE.sum(axis=0)).astype(np.float32)  # (taps, 3 points)
_INTERPOLATION_BOUND = float(np.abs(_INTERPOLATE).sum(axis=0).max())  # |value| <= this * max|x|


def true_peak_bound_dbtp(sample_peak: float) -> float:
    """An upper bound in dBTP of the true peak of a signal whose sample peak (full scale 1.0) is
    ``sample_peak``: no 4x-oversampled value exceeds it. ``-inf`` for silence."""
    bound = sample_peak * _INTERPOLATION_BOUND
    return 20.0 * math.log10(bound) if bound > 0 else -math.inf


def default_target_lufs(channels: int) -> float:
    """The spoken-word target in LUFS: -16 stereo, -19 mono (a mono file plays on both speakers,
    about 3 dB louder than its one channel measures)."""
    return -19.0 if channels == 1 else -16.0


def k_weighting(sample_rate: int) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """The two K-weighting biquads at ``sample_rate`` Hz: ``((b, a) of the shelf, (b, a) of the
    high-pass)``. The analog prototypes behind BS.1770's 48 kHz coefficients (as libebur128
    derives them) go through the bilinear transform, so 48 kHz gives the standard's numbers."""
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q, vh = 0.7071752369554196, 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = np.array([vh + vb * k / q + k * k, 2.0 * (k * k - vh), vh - vb * k / q + k * k]) / a0
    shelf_a = np.array([a0, 2.0 * (k * k - 1.0), 1.0 - k / q + k * k]) / a0
    k, q = math.tan(math.pi * 38.13547087602444 / sample_rate), 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    high_a = np.array([a0, 2.0 * (k * k - 1.0), 1.0 - k / q + k * k]) / a0
    return (shelf_b, shelf_a), (np.array([1.0, -2.0, 1.0]), high_a)


class KFilter:
    """K-weighting of chunks of ``length`` frames as a few matrix products per chunk.

    A recursive filter looping in Python would take minutes for a 2-hour session, and a truncated
    impulse response is not exact. Instead the two biquads (transposed direct form II) become one
    4-state linear system s' = A s + B x, y = C s + D x, exact over n frames as y = T x + O s0
    (T: the lower-triangular Toeplitz matrix of the impulse response; O[j] = C A^j). A chunk is
    cut into sub-chunks of n = `_SUBCHUNK` frames: one product filters them all from zero state,
    one carries the state across them (S_k = A^n S_k-1 + F_k-1, solved as one block-triangular
    product), one adds each sub-chunk's response to its starting state. About 200 multiply-adds
    per sample, in BLAS.
    """

    def __init__(self, sample_rate: int, length: int):
        n = min(_SUBCHUNK, length)
        count = -(-length // n)
        rest = length - (count - 1) * n  # real frames in the last sub-chunk
        (b1, a1), (b2, a2) = k_weighting(sample_rate)
        a = np.zeros((4, 4))
        a[:2, :2] = [[-a1[1], 1.0], [-a1[2], 0.0]]
        a[2:, 2:] = [[-a2[1], 1.0], [-a2[2], 0.0]]
        feed1 = np.array([b1[1] - a1[1] * b1[0], b1[2] - a1[2] * b1[0]])
        feed2 = np.array([b2[1] - a2[1] * b2[0], b2[2] - a2[2] * b2[0]])
        a[2:, 0] = feed2  # the shelf's output (its first state + b0 x) feeds the high-pass
        b = np.concatenate([feed1, feed2 * b1[0]])
        c = np.array([b2[0], 0.0, 1.0, 0.0])
        powers = [np.eye(4)]
        for _ in range(n):
            powers.append(a @ powers[-1])
        response = np.array([b2[0] * b1[0]] + [c @ powers[j] @ b for j in range(n - 1)])
        rows, cols = np.indices((n, n))
        toeplitz = np.where(rows >= cols, response[np.abs(rows - cols)], 0.0)
        self.toeplitz_t = toeplitz.T.astype(np.float32)
        self.from_input_t = np.array([powers[n - 1 - i] @ b for i in range(n)])  # (n, 4)
        self.from_state_t = np.array([c @ powers[j] for j in range(n)]).T  # (4, n)
        across = [np.eye(4)]
        for _ in range(count):
            across.append(powers[n] @ across[-1])
        self.start_t = np.concatenate([m.T for m in across[:count]], axis=1)  # (4, 4 count)
        self.carry_t = np.zeros((4 * count, 4 * count))
        for k in range(count):
            for j in range(k):
                self.carry_t[4 * j : 4 * j + 4, 4 * k : 4 * k + 4] = across[k - 1 - j].T
        self.last_t = powers[rest].T
        self.last_input_t = np.array([powers[rest - 1 - i] @ b for i in range(rest)])
        self.n, self.count, self.rest, self.length = n, count, rest, length

    def powers(self, x: Audio, state: Array) -> tuple[Array, Array]:
        """Filter ``x`` ((length, channels)) from ``state`` ((channels, 4)); return the mean
        square of the K-weighted signal per channel, and the state after ``x``."""
        y, after = self.filtered(x, state)
        return np.einsum("ij,ij->i", y, y) / self.length, after

    def filtered(self, x: Audio, state: Array) -> tuple[Array, Array]:
        """Filter ``x`` ((length, channels)) from ``state`` ((channels, 4)); return the
        K-weighted signal (float64, shape (channels, length)) and the state after ``x``."""
        channels, (n, count) = x.shape[1], (self.n, self.count)
        padded = np.zeros((channels, count * n))
        padded[:, : self.length] = x.T
        sub = padded.reshape(channels, count, n)
        carried = (sub @ self.from_input_t).reshape(channels, -1) @ self.carry_t
        starts = (state @ self.start_t + carried).reshape(channels, count, 4)
        # the costliest product in float32: 2x faster, 1e-7 relative error, 1e-6 dB
        y = (sub.astype(np.float32) @ self.toeplitz_t) + starts @ self.from_state_t
        y = y.reshape(channels, -1)
        y = y[:, : self.length]
        last = padded[:, (count - 1) * n : (count - 1) * n + self.rest]
        after = starts[:, -1] @ self.last_t + last @ self.last_input_t
        return y, after


def _frames(block: npt.ArrayLike, channels: int) -> Audio:
    """``block`` as float32 of shape (frames, channels); a 1-D block is one channel."""
    x = np.asarray(block, dtype=np.float32)
    if x.ndim == 1 and channels == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != channels:
        raise ValueError(f"expected a block of shape (frames, {channels}), got {x.shape}")
    return x


class _Rechunker:
    """Regroups blocks of any length into chunks of ``length`` frames aligned to the stream's
    start, so what is computed per chunk does not depend on how the stream was cut."""

    def __init__(self, length: int, channels: int):
        self.length, self._rest = length, np.zeros((0, channels), np.float32)

    def push(self, x: Audio) -> list[Audio]:
        """The chunks that ``x`` ((frames, channels)) completes."""
        joined = np.concatenate([self._rest, x]) if len(self._rest) else x
        end = len(joined) - len(joined) % self.length
        self._rest = joined[end:].copy()
        return [joined[i : i + self.length] for i in range(0, end, self.length)]

    def flush(self) -> Audio:
        """The incomplete last chunk padded with zeros to ``length`` frames (then only zeros)."""
        chunk = np.zeros((self.length, self._rest.shape[1]), np.float32)
        chunk[: len(self._rest)], self._rest = self._rest, self._rest[:0]
        return chunk


class LoudnessMeter:
    """Streaming ITU-R BS.1770-4 integrated loudness.

    K-weighting with its state carried across blocks, 400 ms gating blocks every 100 ms, an
    absolute gate at -70 LUFS and a relative gate at -10 LU. Every channel weighs 1.0, and a mono
    stream is one channel (it measures 3 LU under the same signal on two channels). What is kept
    per 100 ms is one float: the channel-summed mean square of the K-weighted signal.

    Parameters
    ----------
    sample_rate
        In Hz, at least 8000.
    channels
        Channels per frame in every block given to `add`.
    """

    def __init__(self, sample_rate: int, channels: int):
        if sample_rate < 8000 or channels < 1:
            raise ValueError(f"cannot meter {channels} channels at {sample_rate} Hz")
        self.sample_rate, self.channels = sample_rate, channels
        self.hop = round(sample_rate / 10)  # frames per 100 ms; a gating block is 4 hops
        self._filter = KFilter(sample_rate, self.hop)
        self._state = np.zeros((channels, 4))
        self._chunks = _Rechunker(self.hop, channels)
        self._hops = array("d")

    def add(self, block: npt.ArrayLike) -> None:
        """Meter the next ``block``: float32, shape (frames, channels), full scale 1.0."""
        for chunk in self._chunks.push(_frames(block, self.channels)):
            if not self._state.any() and not chunk.any():
                self._hops.append(0.0)  # silence after silence: the filter stays at rest
                continue
            if _dual_mono(chunk) and not (self._state - self._state[0]).any():
                # the same signal in every channel (as the renderer makes): filter it once
                power, state = self._filter.powers(chunk[:, :1], self._state[:1])
                power, self._state = power * self.channels, np.repeat(state, self.channels, 0)
            else:
                power, self._state = self._filter.powers(chunk, self._state)
            if np.abs(self._state).max() < _AT_REST:
                self._state[:] = 0.0  # rung out: lets the next silent chunk skip the filter
            self._hops.append(float(power.sum()))

    @property
    def hop_powers(self) -> Array:
        """Per complete 100 ms in order: channel-summed mean square of the K-weighted signal."""
        return np.array(self._hops, dtype=np.float64)

    def integrated_lufs(self) -> float:
        """The integrated loudness so far, in LUFS; ``-inf`` for silence or under 400 ms."""
        return gated_lufs(self.hop_powers)


def gated_lufs(hop_powers: Array) -> float:
    """Integrated loudness in LUFS of a stream whose successive 100 ms have ``hop_powers``
    (channel-summed mean squares of the K-weighted signal); ``-inf`` for silence or under 400 ms.
    Gating blocks of 4 hops every hop, absolute gate -70 LUFS, relative gate -10 LU."""
    hops = hop_powers
    power = (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]) / 4.0
    power = power[power > 10.0 ** ((-70.0 + 0.691) / 10.0)]  # the absolute gate
    if power.size == 0:
        return -math.inf
    power = power[power > power.mean() / 10.0]  # the relative gate, 10 LU under
    return -0.691 + 10.0 * math.log10(float(power.mean()))


def _dual_mono(x: Audio) -> bool:
    """Whether every channel of ``x`` ((frames, channels)) holds the same samples."""
    return x.shape[1] > 1 and not (x[:, 1:] != x[:, :1]).any()


def _interpolated_peaks(ext: Audio, floor: float) -> Audio:
    """The true peak of ``ext`` ((frames + 31, channels)) near its frames 15 ... frames + 14.

    Entry i is the largest magnitude over the channels of frame i + 15 and of the signal 4x
    oversampled between it and frame i + 16. Stretches of `_SEGMENT` frames whose interpolation
    cannot exceed ``floor`` are skipped: their entries are the frames' magnitudes, under ``floor``.
    """
    ext = ext[:, :1] if _dual_mono(ext) else ext
    frames, channels = len(ext) - _TAPS + 1, ext.shape[1]
    count = -(-frames // _SEGMENT)
    rows = np.zeros((channels, (count + 1) * _SEGMENT), np.float32)  # channels first: fast
    rows[:, : len(ext)] = ext.T
    loudest = np.abs(rows[0]) if channels == 1 else np.abs(rows).max(axis=0)
    out = loudest[_CENTER : _CENTER + count * _SEGMENT].reshape(count, _SEGMENT)
    if float(loudest.max()) * _INTERPOLATION_BOUND > floor:
        segment_max = loudest.reshape(count + 1, _SEGMENT).max(axis=1)
        bound = np.maximum(segment_max[:-1], segment_max[1:]) * _INTERPOLATION_BOUND
        by_segment = rows.reshape(channels, count + 1, _SEGMENT)
        spans = np.concatenate([by_segment[:, :-1], by_segment[:, 1:, : _TAPS - 1]], axis=2)
        picked = np.flatnonzero(bound > floor)
        for part in np.split(picked, range(16, picked.size, 16)):  # temporaries near 1 MB
            chosen = spans[:, part]  # (channels, segments, 256 + 31)
            windows = np.stack([chosen[..., k : k + _SEGMENT] for k in range(_TAPS)])
            values = np.abs(_INTERPOLATE.T @ windows.reshape(_TAPS, -1))
            values = values.reshape(3 * channels, -1).max(axis=0).reshape(part.size, _SEGMENT)
            out[part] = np.maximum(values, out[part])
    return np.asarray(out.ravel()[:frames], np.float32)


def _cell_max(x: Audio, cell: int) -> Audio:
    """The largest of each ``cell`` values of ``x`` (a whole number of cells long)."""
    if cell & (cell - 1):
        return np.asarray(x.reshape(-1, cell).max(axis=1), np.float32)
    while cell > 1:  # halving: 3 times quicker than a max over rows of 16
        x, cell = np.maximum(x[0::2], x[1::2]), cell // 2
    return x


def _magnitude(x: Audio) -> float:
    """The largest magnitude in ``x`` (without a temporary of its absolute values)."""
    return max(float(x.max(initial=0.0)), -float(x.min(initial=0.0)))


def _sliding_max(x: Array, width: int) -> Array:
    """``out[i] = max(x[i : i + width])`` for every full window, O(1) per value (van Herk)."""
    n, rows = x.size, -(-x.size // width)
    flat = np.zeros(rows * width)  # padding with 0 is safe: the values are all >= 0
    flat[:n] = x
    grid = flat.reshape(rows, width)
    forward = np.maximum.accumulate(grid, axis=1).ravel()
    backward = np.maximum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.maximum(backward[: n - width + 1], forward[width - 1 : n])


class TruePeakMeter:
    """Streaming true peak (ITU-R BS.1770-4): the largest magnitude of the signal oversampled 4x
    (see `_INTERPOLATE`). ``sample_rate`` (Hz) and ``channels``
    (per frame in every block given to `add`) as for `LoudnessMeter`."""

    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate, self.channels = sample_rate, channels
        self._history = np.zeros((_TAPS - 1, channels), np.float32)
        self._peak = 0.0

    def add(self, block: npt.ArrayLike) -> None:
        """Meter the next ``block``: float32, shape (frames, channels), full scale 1.0. A long
        block is metered in pieces, so memory stays bounded (a line of minutes at once)."""
        x = _frames(block, self.channels)
        for start in range(0, len(x), _TRUE_PEAK_PIECE):
            piece = x[start : start + _TRUE_PEAK_PIECE]
            ext = np.concatenate([self._history, piece])
            self._history = ext[-(_TAPS - 1) :].copy()
            peaks = _interpolated_peaks(ext, self._peak)
            self._peak = max(self._peak, float(np.abs(piece).max()), float(peaks.max()))

    def true_peak_dbtp(self) -> float:
        """The true peak so far in dBTP (dB relative to full scale); ``-inf`` for silence."""
        return 20.0 * math.log10(self._peak) if self._peak > 0 else -math.inf


class _Limiter:
    """Look-ahead true-peak limiter on fixed chunks; the output lags the input by `delay` frames.

    Per frame, the attenuation (dB) that brings the 4x-oversampled peak on either side of it under
    the ceiling is known. The gain is worked out on cells of `cell` frames (about a third of a
    millisecond), the largest attenuation in each: held over the cells of the look-ahead before
    it, released exponentially (`RELEASE_S`), averaged over the look-ahead, and interpolated
    linearly between cells. Each value in an average is at least what a frame in the cell needs,
    and a straight line between two gains that are low enough is low enough, so no peak escapes;
    the gain falls along a ramp of about `width` frames before a peak and never jumps, so limiting
    adds no clicks. All of it vectorised on cells (a sixteenth of the frames at 48 kHz).
    """

    def __init__(self, sample_rate: int, channels: int, ceiling_dbtp: float, chunk: int):
        self.width = width = max(_TAPS, round(LOOKAHEAD_S * sample_rate))
        # a frame's attenuation is known once the frames its interpolation reads have come in
        self.delay, self.chunk = width + _TAPS - _CENTER - 2, chunk
        self.ceiling = 10.0 ** (ceiling_dbtp / 20.0)
        self.cell = cell = next(
            g for g in range(min(16, (width - 1) // 2), 0, -1) if chunk % g == 0
        )
        # A peak that frame i's attenuation is for leaves the delay line at frame i + width - 1
        # or i + width, whose gains come from the cells around them: an attenuation is held for
        # `_hold` cells from its own and averaged over `_average` cells, which covers them.
        self._hold = -(-width // cell)
        self._average = max(1, (width - 1) // cell)
        cells = chunk // cell
        log_decay = np.arange(1, cells + 1) * (-cell / (RELEASE_S * sample_rate))
        self._decay = np.exp(log_decay)  # the release's factor after 1, 2, ... cells
        self._growth = np.exp(-log_decay)
        # a frame's place between two cells
        self._t = (np.arange(1, cell + 1) / cell).astype(np.float32)[None, :]
        self._x = np.zeros((self.delay, channels), np.float32)  # input not yet output
        self._need = np.zeros(self._hold)  # the last cells' attenuations needed, in dB
        self._held = np.zeros(self._average - 1)  # the last released attenuations, for the average
        self._released = 0.0  # the last cell's released attenuation
        self._gain = 1.0  # the last cell's gain
        self.max_reduction_db, self.limited_frames = 0.0, 0

    def process(self, chunk: Audio) -> Audio:
        """Take ``chunk`` ((`chunk`, channels)); return as many frames, `delay` frames back."""
        ext = np.concatenate([self._x, chunk])
        self._x, out = ext[-self.delay :].copy(), ext[: len(chunk)]
        resting = self._gain == 1.0 and not (self._released or self._need.any() or self._held.any())
        if resting and _magnitude(ext) * _INTERPOLATION_BOUND <= self.ceiling:
            return out  # nothing here can reach the ceiling, and no reduction is releasing
        peaks = _interpolated_peaks(ext[self.delay - _TAPS + 1 :], self.ceiling)
        # per cell, the attenuation its loudest peak needs (log10 is monotonic: of the max)
        loudest = _cell_max(peaks, self.cell) / self.ceiling
        need = np.zeros(len(loudest))
        over = np.flatnonzero(loudest > 1.0)
        need[over] = 20.0 * np.log10(loudest[over])
        needs = np.concatenate([self._need, need])
        self._need = needs[-self._hold :]
        if resting and not needs.any():
            return out
        held = _sliding_max(needs, self._hold + 1)
        # max over j <= i of held[j] decayed by (i - j) cells, as decay[i] * max(held[j] /
        # decay[j]): 1 / decay stays under e^12.5 over a one-second chunk
        released = np.maximum.accumulate(held * self._growth) * self._decay
        released = np.maximum(np.maximum(released, self._released * self._decay), held)
        released[released < 1e-6] = 0.0
        self._released = float(released[-1])
        series = np.concatenate([self._held, released])
        self._held = series[len(series) - self._average + 1 :]
        sums = np.cumsum(np.concatenate([[0.0], series]))
        reduction = (sums[self._average :] - sums[: -self._average]) / self._average
        self.max_reduction_db = max(self.max_reduction_db, float(reduction.max()))
        self.limited_frames += self.cell * int(np.count_nonzero(reduction > 0.01))
        gains = np.exp(reduction * (-math.log(10.0) / 20.0))
        before = np.concatenate([[self._gain], gains[:-1]])
        self._gain = float(gains[-1])
        if not reduction.any() and before[0] == 1.0:
            return out
        # each cell's frames between the gain at the end of the cell before and its own
        start = before.astype(np.float32)[:, None]
        gain = start + (gains.astype(np.float32)[:, None] - start) * self._t
        return np.asarray(out * gain.reshape(-1, 1), np.float32)


def limit_true_peak(x: Audio, sample_rate: int, ceiling_dbtp: float) -> tuple[Audio, float]:
    """``x`` (float32, shape (n,), mono) through the look-ahead true-peak limiter (`_Limiter`,
    aiming `PEAK_MARGIN_DB` under ``ceiling_dbtp``), every sample in its place; and the limiter's
    deepest reduction in dB. Float32, shape (n,). Unchanged (the same array) when no true peak
    can reach the ceiling."""
    ceiling = ceiling_dbtp - PEAK_MARGIN_DB
    if x.size == 0 or _magnitude(x) * _INTERPOLATION_BOUND <= 10.0 ** (ceiling / 20.0):
        return x, 0.0
    chunk = round(sample_rate / 10)
    limiter = _Limiter(sample_rate, 1, ceiling, chunk)
    count = -(-(x.size + limiter.delay) // chunk)
    padded = np.zeros((count * chunk, 1), np.float32)
    padded[: x.size, 0] = x
    out = np.concatenate(
        [limiter.process(padded[i : i + chunk]) for i in range(0, count * chunk, chunk)]
    )
    return np.ascontiguousarray(
        out[limiter.delay : limiter.delay + x.size, 0]
    ), limiter.max_reduction_db


@dataclass(frozen=True)
class Forecast:
    """What `Normalizer.make_up` expects pass 2 to give: its integrated loudness in LUFS, the
    limiter's deepest reduction in dB, and the gain added to make up for the limiter, in dB."""

    lufs: float
    max_reduction_db: float
    make_up_db: float


@dataclass(frozen=True)
class LoudnessReport:
    """What normalisation measured and did: loudness in LUFS, true peaks in dBTP, gains in dB.

    ``measured_*`` describe the input, ``output_*`` the blocks yielded (``nan`` when not
    metered); ``max_reduction_db`` is
    the limiter's deepest gain reduction and ``limited_s`` how long it reduced by over 0.01 dB.
    """

    target_lufs: float
    measured_lufs: float
    measured_true_peak_dbtp: float
    gain_db: float
    output_lufs: float
    output_true_peak_dbtp: float
    max_reduction_db: float
    limited_s: float


class Normalizer:
    """Loudness normalisation of a stream, in two passes over ``make_blocks()``.

    Pass 1 (`measure`) meters the integrated loudness and true peak. Pass 2 (`blocks`) yields the
    blocks scaled by ``target - measured`` dB (no gain for silence) through a look-ahead limiter
    that keeps the true peak at most ``true_peak_dbtp``. The blocks keep their shapes and every
    sample its position (the limiter's delay is compensated). When the limiter has much to do (a
    target far above what the peaks allow) the output ends under the target: see `report`. The
    same samples give bit-identical output, however they are cut into blocks.

    Parameters
    ----------
    make_blocks
        Called once per pass, each time yielding the same samples: float32 blocks of shape
        (frames, channels), full scale 1.0.
    sample_rate
        In Hz, at least 8000.
    channels
        Channels per frame.
    target_lufs
        The integrated loudness to reach; default `default_target_lufs` (-16 stereo, -19 mono).
    true_peak_dbtp
        The ceiling for the output's true peak, in dBTP.
    full_report
        Meter the input's true peak and the output's loudness and true peak for `report`
        (``nan`` without it). An export that does not show them saves about a third of the
        time: pass 1 then bounds the true peak from the sample peak to decide whether pass 2
        needs its limiter (which finds the true peaks it must hold down itself).
    """

    def __init__(
        self,
        make_blocks: Callable[[], Iterable[Audio]],
        *,
        sample_rate: int,
        channels: int,
        target_lufs: float | None = None,
        true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP,
        full_report: bool = True,
    ):
        target = default_target_lufs(channels) if target_lufs is None else float(target_lufs)
        low, high = TARGET_RANGE_LUFS
        if not low <= target <= high:
            raise BadInputError(f"loudness {target:g} LUFS: choose from {low:g} to {high:g}")
        if not -20.0 <= true_peak_dbtp <= 0.0:
            raise BadInputError(f"true peak {true_peak_dbtp:g} dBTP: choose from -20 to 0")
        self.make_blocks = make_blocks
        self.sample_rate, self.channels = sample_rate, channels
        self.target_lufs, self.true_peak_dbtp = target, float(true_peak_dbtp)
        self.report: LoudnessReport | None = None  # set once `blocks` is exhausted
        self.full_report = full_report
        self._measured: tuple[float, float] | None = None
        self._make_up_db = 0.0  # see `make_up`

    def measure(self, progress: Callable[[int], None] | None = None) -> float:
        """Pass 1, run once: the input's integrated loudness in LUFS (``-inf`` for silence).

        ``progress(frames)`` is called after each block with the number of frames it held.
        """
        if self._measured is None:
            loudness = LoudnessMeter(self.sample_rate, self.channels)
            peak = TruePeakMeter(self.sample_rate, self.channels)
            sample_peak = 0.0
            for block in self.make_blocks():
                x = _frames(block, self.channels)
                loudness.add(x)
                if self.full_report:
                    peak.add(x)
                elif x.size:
                    sample_peak = max(sample_peak, float(np.abs(x).max()))
                if progress is not None:
                    progress(len(x))
            if self.full_report:
                true_peak_dbtp = peak.true_peak_dbtp()
            else:
                true_peak_dbtp = true_peak_bound_dbtp(sample_peak)
            self._measured = (loudness.integrated_lufs(), true_peak_dbtp)
        return self._measured[0]

    def use_measurement(self, lufs: float, true_peak_dbtp: float) -> None:
        """Take pass 1's figures from elsewhere (see `loosen.loudness.sources`): the input's
        integrated loudness in LUFS and its true peak, or a bound of it, in dBTP."""
        self._measured = (float(lufs), float(true_peak_dbtp))

    @property
    def gain_db(self) -> float:
        """The gain pass 2 applies before limiting, in dB (runs `measure` if it has not run):
        ``target - measured``, plus what `make_up` found the limiter takes."""
        measured = self.measure()
        return 0.0 if measured == -math.inf else self.target_lufs - measured + self._make_up_db

    def make_up(
        self, *, plays_on: int = 1, rounds: int = 2, most_db: float = MAKE_UP_MOST_DB
    ) -> Forecast:
        """Between the passes: if the limiter will act, run pass 2 without output to meter how
        much loudness it takes, and raise the gain by that; again, up to ``rounds`` times (the
        louder the input, the more it takes), as long as the limiter's deepest reduction stays
        within ``most_db`` dB. Returns what pass 2 will give. Each round costs about a pass 2;
        a stream the gain alone keeps under the ceiling costs nothing. ``plays_on``: how many
        of the file's channels each channel of the stream plays on (a mono stream written as
        stereo: 2), as the measurement counted them."""
        previous: Forecast | None = None
        for done in range(rounds + 1):
            limiter = self._limiter()
            if limiter is None:
                return Forecast(self.target_lufs, 0.0, self._make_up_db)
            loudness = LoudnessMeter(self.sample_rate, self.channels)
            for block in self._scaled(np.float32(10.0 ** (self.gain_db / 20.0)), limiter):
                loudness.add(block)
            lufs = loudness.integrated_lufs() + 10.0 * math.log10(plays_on)
            forecast = Forecast(lufs, limiter.max_reduction_db, self._make_up_db)
            if forecast.max_reduction_db > most_db:
                if previous is None:
                    return forecast  # the target itself asks for more: out of reach
                self._make_up_db = previous.make_up_db
                return previous
            short_db = self.target_lufs - forecast.lufs
            if abs(short_db) < MAKE_UP_TOLERANCE_LU or done == rounds:
                return forecast
            previous = forecast
            self._make_up_db += short_db
        raise AssertionError("unreachable")

    def _limiter(self) -> _Limiter | None:
        """A limiter for pass 2, or ``None`` where the gain alone keeps the peaks under it."""
        measured_peak = (self._measured or (0.0, 0.0))[1]
        ceiling = self.true_peak_dbtp - PEAK_MARGIN_DB
        if measured_peak + self.gain_db <= ceiling:
            return None
        # one-second chunks: a tenth of the per-chunk overhead of 100 ms ones, same output
        return _Limiter(self.sample_rate, self.channels, ceiling, self.sample_rate)

    def blocks(self) -> Iterator[Audio]:
        """Pass 2: yield the normalised blocks, float32, shaped as given; then set `report`."""
        gain_db = self.gain_db
        measured_lufs, measured_peak = self._measured or (0.0, 0.0)
        limiter = self._limiter()
        loudness = LoudnessMeter(self.sample_rate, self.channels)
        peak = TruePeakMeter(self.sample_rate, self.channels)
        for block in self._scaled(np.float32(10.0 ** (gain_db / 20.0)), limiter):
            if self.full_report:
                loudness.add(block)
                peak.add(block)
            yield block
        self.report = LoudnessReport(
            target_lufs=self.target_lufs,
            measured_lufs=measured_lufs,
            measured_true_peak_dbtp=measured_peak if self.full_report else math.nan,
            gain_db=gain_db,
            output_lufs=loudness.integrated_lufs() if self.full_report else math.nan,
            output_true_peak_dbtp=peak.true_peak_dbtp() if self.full_report else math.nan,
            max_reduction_db=limiter.max_reduction_db if limiter else 0.0,
            limited_s=limiter.limited_frames / self.sample_rate if limiter else 0.0,
        )

    def _scaled(self, gain: np.float32, limiter: _Limiter | None) -> Iterator[Audio]:
        """The input times ``gain`` through ``limiter``, cut back to the input's block shapes."""
        if limiter is None:
            for block in self.make_blocks():
                yield (_frames(block, self.channels) * gain).reshape(np.shape(block))
            return
        shapes: deque[tuple[int, ...]] = deque()  # of the blocks read but not yet yielded
        chunks = _Rechunker(limiter.chunk, self.channels)
        ready = np.zeros((0, self.channels), np.float32)  # limited frames not yet yielded
        skip = limiter.delay  # the limiter's first frames come from before the start
        blocks = iter(self.make_blocks())
        while True:
            got = next(blocks, None)
            if got is not None:
                shapes.append(np.shape(got))
                todo = chunks.push(_frames(got, self.channels) * gain)
            elif shapes:  # the input is over: its tail, then silence until every block is out
                todo = [chunks.flush()]
            else:
                return
            ready = np.concatenate([ready, *(limiter.process(chunk) for chunk in todo)])
            dropped = min(skip, len(ready))
            ready, skip = ready[dropped:], skip - dropped
            while shapes and len(ready) >= shapes[0][0]:
                shape = shapes.popleft()
                yield ready[: shape[0]].reshape(shape)
                ready = ready[shape[0] :]


def normalize(
    make_blocks: Callable[[], Iterable[Audio]],
    *,
    sample_rate: int,
    channels: int,
    target_lufs: float | None = None,
    true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP,
    on_report: Callable[[LoudnessReport], None] | None = None,
) -> Iterator[Audio]:
    """Yield ``make_blocks()`` loudness-normalised: `Normalizer` in one call. ``on_report``
    receives the `LoudnessReport` after the last block."""
    normalizer = Normalizer(
        make_blocks,
        sample_rate=sample_rate,
        channels=channels,
        target_lufs=target_lufs,
        true_peak_dbtp=true_peak_dbtp,
    )
    yield from normalizer.blocks()
    if on_report is not None and normalizer.report is not None:
        on_report(normalizer.report)
