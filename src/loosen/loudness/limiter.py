"""The look-ahead true-peak limiter: a gain that falls smoothly before every true peak over a
ceiling and recovers after it, on fixed chunks of a stream (`Limiter`), or on one sound
(`limit_true_peak`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from loosen.loudness.true_peak import (
    INTERPOLATION_BOUND,
    TRUE_PEAK_CENTER,
    TRUE_PEAK_TAPS,
    interpolated_peaks,
)

__all__ = [
    "LOOKAHEAD_S",
    "PEAK_MARGIN_DB",
    "RELEASE_S",
    "Limiter",
    "largest_cell",
    "limit_true_peak",
    "limiter_delay",
]

Audio = npt.NDArray[np.float32]
Array = npt.NDArray[np.float64]

LOOKAHEAD_S = 0.005  # the limiter's attack: the gain falls along a 5 ms ramp before a peak
RELEASE_S = 0.08  # time constant of the limiter's exponential recovery
PEAK_MARGIN_DB = 0.1  # the limiter aims this far under the ceiling: other meters, 16-bit


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


def limiter_delay(sample_rate: int) -> int:
    """How many frames a `Limiter` at ``sample_rate`` (Hz) holds its output back."""
    width = max(TRUE_PEAK_TAPS, round(LOOKAHEAD_S * sample_rate))
    return width + TRUE_PEAK_TAPS - TRUE_PEAK_CENTER - 2


def largest_cell(sample_rate: int, chunk: int) -> int:
    """The gain step (frames) a `Limiter` takes for ``chunk``: the largest divisor of it up to
    16 and under half its look-ahead."""
    width = max(TRUE_PEAK_TAPS, round(LOOKAHEAD_S * sample_rate))
    return next(g for g in range(min(16, (width - 1) // 2), 0, -1) if chunk % g == 0)


class Limiter:
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

    def __init__(
        self, sample_rate: int, channels: int, ceiling_dbtp: float, chunk: int,
        cell: int | None = None,
    ):  # fmt: skip
        """``cell``: frames per gain step (it must divide ``chunk``); None: the largest that
        does, up to 16. The output depends on it, not on ``chunk``."""
        self.width = width = max(TRUE_PEAK_TAPS, round(LOOKAHEAD_S * sample_rate))
        # a frame's attenuation is known once the frames its interpolation reads have come in
        self.delay, self.chunk = limiter_delay(sample_rate), chunk
        self.ceiling = 10.0 ** (ceiling_dbtp / 20.0)
        self.cell = cell = cell or largest_cell(sample_rate, chunk)
        if chunk % cell:
            raise ValueError(f"a cell of {cell} frames does not divide a chunk of {chunk}")
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
        if resting and _magnitude(ext) * INTERPOLATION_BOUND <= self.ceiling:
            return out  # nothing here can reach the ceiling, and no reduction is releasing
        peaks = interpolated_peaks(ext[self.delay - TRUE_PEAK_TAPS + 1 :], self.ceiling)
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
    """``x`` (float32, shape (n,), mono) through the look-ahead true-peak limiter (`Limiter`,
    aiming `PEAK_MARGIN_DB` under ``ceiling_dbtp``), every sample in its place; and the limiter's
    deepest reduction in dB. Float32, shape (n,). Unchanged (the same array) when no true peak
    can reach the ceiling."""
    ceiling = ceiling_dbtp - PEAK_MARGIN_DB
    if x.size == 0 or _magnitude(x) * INTERPOLATION_BOUND <= 10.0 ** (ceiling / 20.0):
        return x, 0.0
    # chunks of a whole number of tenths of a second, at most one second, as few as cover the
    # sound (the limiter's work per chunk is mostly fixed: a tenth took 1.7 times as long), with
    # the gain steps of a tenth's chunks: the same samples as those gave
    tenth = round(sample_rate / 10)
    cell = largest_cell(sample_rate, tenth)
    needed = x.size + limiter_delay(sample_rate)
    count = -(-needed // (10 * tenth))
    chunk = tenth * -(-needed // (count * tenth))
    limiter = Limiter(sample_rate, 1, ceiling, chunk, cell)
    padded = np.zeros((count * chunk, 1), np.float32)
    padded[: x.size, 0] = x
    out = np.concatenate(
        [limiter.process(padded[i : i + chunk]) for i in range(0, count * chunk, chunk)]
    )
    return np.ascontiguousarray(
        out[limiter.delay : limiter.delay + x.size, 0]
    ), limiter.max_reduction_db
