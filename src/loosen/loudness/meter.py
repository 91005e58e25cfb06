"""ITU-R BS.1770-4 loudness of a stream: K-weighting, gating, integrated loudness.

`LoudnessMeter` measures the integrated loudness (LUFS) of a stream of blocks; `gated_lufs` gates
it from per-100 ms powers (as `loosen.loudness.sources` also gives them). Memory does not grow
with the stream beyond one float per 100 ms, and the result depends only on the samples, not on
how they are cut into blocks: the filter works on fixed chunks aligned to the start of the stream.

The rest of the loudness stage lives beside it: the true peak (`loosen.loudness.true_peak`), the
limiter (`loosen.loudness.limiter`) and the two-pass normaliser (`loosen.loudness.normalizer`).
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import numpy.typing as npt

from loosen.loudness.chunks import Rechunker, as_frames, dual_mono

__all__ = ["KFilter", "LoudnessMeter", "gain_to_reach_db", "gated_lufs", "k_weighting"]

Audio = npt.NDArray[np.float32]
Array = npt.NDArray[np.float64]

_SUBCHUNK = 96  # frames per matrix product in the K-weighting filter
# A K-weighting state under this (300 dB under full scale) counts as rest: what it would still
# add to a gating block's power is 1e-30 of the -70 LUFS absolute gate.
_AT_REST = 1e-15


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
        self._chunks = Rechunker(self.hop, channels)
        self._hops = array("d")

    def add(self, block: npt.ArrayLike) -> None:
        """Meter the next ``block``: float32, shape (frames, channels), full scale 1.0."""
        for chunk in self._chunks.push(as_frames(block, self.channels)):
            if not self._state.any() and not chunk.any():
                self._hops.append(0.0)  # silence after silence: the filter stays at rest
                continue
            if dual_mono(chunk) and not (self._state - self._state[0]).any():
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


def gain_to_reach_db(hop_powers: Array, target_lufs: float) -> float:
    """The gain in dB that brings a stream whose 100 ms have ``hop_powers`` (as `gated_lufs`
    takes them) to ``target_lufs`` integrated, gates included; 0.0 for silence.

    ``target - measured`` is not always it: a gain moves quiet blocks across the -70 LUFS
    absolute gate, which moves the relative gate, which may let in or shut out a block near it
    (hundredths of a dB where a chime's tail or a breath sits there). Both gates' sets only grow
    with the gain, so stepping by what is still missed settles in a few steps."""
    measured = gated_lufs(hop_powers)
    if measured == -math.inf:
        return 0.0
    gain_db = target_lufs - measured
    for _ in range(_GAIN_STEPS):
        missed_db = target_lufs - gated_lufs(hop_powers * 10.0 ** (gain_db / 10.0))
        if abs(missed_db) < _GAIN_SETTLED_DB:
            break
        gain_db += missed_db
    return gain_db


_GAIN_STEPS = 64  # each lets in (or shuts out) at least one block, so this many are plenty
_GAIN_SETTLED_DB = 1e-9  # rounding: a gain that moves no block across a gate is left as it is
