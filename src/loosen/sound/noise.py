"""Coloured noise that never ends: seeded, streamable and the same from wherever it starts.

`NoiseBed` renders an ambience recipe's noise (``loosen.sound.recipes.AmbienceRecipe``) at its
level, with its swell, block by block. The sample at frame ``f`` is a pure function of ``f`` (and
the recipe, rate and channel): it does not depend on where rendering started or on the block size,
so seeking in playback and exporting give the same samples.

Method. The noise is made in fixed chunks of ``2 * HOP_FRAMES`` frames, one every
``HOP_FRAMES``: chunk ``k`` of channel ``c`` is white noise drawn straight in the frequency
domain (uniform 16-bit real and imaginary parts, from the raw output of a PCG64 generator
seeded with ``(seed, c, k)``), shaped by the colour's magnitude response (amplitude ``1/f`` for
brown, ``1/sqrt(f)`` for pink, times second-order high-pass and low-pass corners; the DC bin is
zero, so there is no drift), brought back with one inverse real FFT and windowed with a sine
window. Overlapping the chunks by half and adding them gives stationary, Gaussian noise of unit
variance (the squared windows sum to one, the chunks are independent and every sample sums
thousands of bins), with the wanted spectrum above a few hertz. The channels have their own
seeds, so they are uncorrelated. A swelling texture (surf) has a slow, uneven swell, a
closed-form function of the absolute frame (each channel's a little later than the one
before, so the waves move across): it dips the level between waves, frame by frame, and opens
the low-pass from ``lowpass_hz`` towards ``bright_hz`` as a wave rises, chunk by chunk (each
chunk's response blends the dark and the bright one by the swell at its centre; the
overlap-add glides between chunks). Level and swell are applied to each chunk before the
overlap-add (they depend only on the frame), so a block only adds two or three cached chunks.

Chunks are cached (a few per track), so sequential rendering computes each chunk once; memory
does not depend on the session's length.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from loosen.sound.recipes import AmbienceRecipe

__all__ = ["HOP_FRAMES", "Frames", "NoiseBed"]

Frames: TypeAlias = npt.NDArray[np.float32]
"""Multichannel audio: float32 samples, shape ``(frames, channels)``."""

HOP_FRAMES = 16384  # chunks of twice this, overlapped by half
_CONTROL_FRAMES = 128  # step of the swell's control grid; HOP_FRAMES is a multiple of it
_CACHED_CHUNKS = 4
_CHANNEL_OFFSET_S = 0.37  # each channel's swell lags the previous one: the waves move across
_SWELL_RISE = 0.4  # part of a wave spent rising; the rest is the slower wash


_WHITE_VARIANCE = (2.0**32 - 1.0) / 12.0  # of a uniform 16-bit integer


def _power(recipe: AmbienceRecipe, sample_rate: int, lowpass_hz: float) -> npt.NDArray[np.float64]:
    """Power response of the colour and its corners over the bins of a chunk (DC: 0)."""
    f_hz = np.fft.rfftfreq(2 * HOP_FRAMES, 1.0 / sample_rate)
    f_hz[0] = 1.0  # DC is zeroed below; this only avoids dividing by zero
    power = f_hz ** (-2.0 if recipe.noise == "brown" else -1.0)
    power *= f_hz**4 / (f_hz**4 + recipe.highpass_hz**4)
    power /= 1.0 + (f_hz / min(lowpass_hz, 0.45 * sample_rate)) ** 4
    power[0] = 0.0
    return np.asarray(power, np.float64)


def _covariance(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Covariance of the samples of ``irfft(W * a)`` and ``irfft(W * b)`` for the same white
    spectrum ``W`` (real and imaginary parts of unit variance): the variance when ``a is b``."""
    n = 2 * (a.size - 1)
    return float(a[0] * b[0] + 4.0 * np.dot(a[1:-1], b[1:-1]) + a[-1] * b[-1]) / n**2


class NoiseBed:
    """The recipe's noise at its level, endless and position-independent (no ducking, no fades).

    Parameters
    ----------
    recipe
        The ambience.
    sample_rate
        Output rate in Hz.
    channels
        Number of independent channels to render (at least 1).
    """

    def __init__(self, recipe: AmbienceRecipe, sample_rate: int, channels: int = 2):
        self.recipe = recipe
        self.sample_rate = sample_rate
        self.channels = channels
        # magnitude responses scaled to give unit variance from 16-bit white noise
        dark = np.sqrt(_power(recipe, sample_rate, recipe.lowpass_hz))
        self._dark = dark / math.sqrt(_WHITE_VARIANCE * _covariance(dark, dark))
        self._bright: npt.NDArray[np.float64] | None = None
        self._crossed = 0.0
        if recipe.swell_s is not None and recipe.bright_hz is not None:
            bright = np.sqrt(_power(recipe, sample_rate, recipe.bright_hz))
            self._bright = bright / math.sqrt(_WHITE_VARIANCE * _covariance(bright, bright))
            self._crossed = _WHITE_VARIANCE * _covariance(self._dark, self._bright)
        n = 2 * HOP_FRAMES
        self._window = np.sin(np.pi * (np.arange(n) + 0.5) / n)
        # swell phases: fixed by the seed, so the waves fall the same way in every render
        phases = np.random.default_rng([recipe.seed, 2**32]).uniform(0.0, 2 * np.pi, 3)
        self._swell_phases = tuple(float(p) for p in phases)
        self._level = float(10.0 ** (recipe.gain_db / 20.0))
        self._chunks: OrderedDict[int, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, start_frame: int, frames: int) -> Frames:
        """Return frames ``[start_frame, start_frame + frames)`` of the bed.

        Returns
        -------
        Frames
            float32, shape ``(frames, channels)``; RMS about ``recipe.gain_db`` dBFS (at the
            crest of a swell), the same samples whatever the call pattern.
        """
        if start_frame < 0 or frames < 0:
            raise ValueError(f"frames must be >= 0, not {start_frame}, {frames}")
        out = np.zeros((frames, self.channels), np.float32)
        end_frame = start_frame + frames
        for k in range(start_frame // HOP_FRAMES - 1, (end_frame - 1) // HOP_FRAMES + 1):
            c0 = k * HOP_FRAMES
            lo, hi = max(start_frame, c0), min(end_frame, c0 + 2 * HOP_FRAMES)
            if hi > lo:
                out[lo - start_frame : hi - start_frame] += self._chunk(k)[lo - c0 : hi - c0]
        return out

    def _chunk(self, k: int) -> npt.NDArray[np.float32]:
        """Chunk ``k``: frames ``[k * HOP, k * HOP + 2 * HOP)``, windowed, swelled and at the
        recipe's level; shape (2 * HOP, channels). Cached: a block mostly reuses the last."""
        with self._lock:
            chunk = self._chunks.get(k)
            if chunk is not None:
                self._chunks.move_to_end(k)
                return chunk
        n = 2 * HOP_FRAMES
        chunk = np.empty((n, self.channels), np.float32)
        for channel in range(self.channels):
            # k >= -1, and a SeedSequence takes non-negative entropy only. The bit generator's
            # raw output is stable across numpy versions (its distributions need not be);
            # uniform 16-bit parts are as good as Gaussian ones here, as every sample of the
            # inverse FFT sums thousands of bins, and far cheaper to draw.
            bits = np.random.PCG64([self.recipe.seed, channel, k + 1])
            white = bits.random_raw((HOP_FRAMES + 1 + 1) // 2).view(np.int16)
            spectrum = white[: 2 * (HOP_FRAMES + 1)].astype(np.float32).view(np.complex64)
            shape, envelope = self._shape_and_envelope(k * HOP_FRAMES, channel)
            chunk[:, channel] = np.fft.irfft(spectrum * shape, n=n) * envelope
        with self._lock:
            self._chunks[k] = chunk
            while len(self._chunks) > _CACHED_CHUNKS:
                self._chunks.popitem(last=False)
        return chunk

    def _shape_and_envelope(
        self, start_frame: int, channel: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The magnitude response of the chunk starting at ``start_frame``, and the gain over
        its frames (window, level, swell)."""
        if self.recipe.swell_s is None:
            return self._dark.astype(np.float32), (self._window * self._level).astype(np.float32)
        # The swell is slow: it is computed every _CONTROL_FRAMES on a grid fixed in absolute
        # frames (chunks start on it), so it does not depend on the chunk, and interpolated
        # linearly in between.
        frames = self._window.size
        grid = start_frame + _CONTROL_FRAMES * np.arange(frames // _CONTROL_FRAMES + 1)
        swell = self._swell_at(grid / self.sample_rate - channel * _CHANNEL_OFFSET_S)
        gain = self._level * 10.0 ** (-self.recipe.swell_db * (1.0 - swell) / 20.0)
        envelope = (_interpolate(gain) * self._window).astype(np.float32)
        if self._bright is None:
            return self._dark.astype(np.float32), envelope
        # The low-pass opens towards bright_hz as the wave rises: each chunk blends the two
        # responses by the swell at its centre, and the overlap-add glides between chunks.
        a = float(swell[swell.size // 2])
        shape = (1.0 - a) * self._dark + a * self._bright
        variance = (1.0 - a) ** 2 + a**2 + 2.0 * a * (1.0 - a) * self._crossed
        return (shape / math.sqrt(variance)).astype(np.float32), envelope

    def _swell_at(self, t_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The swell at times ``t_s``: 0 in a trough, at most 1 at the highest crest."""
        assert self.recipe.swell_s is not None
        period_s = self.recipe.swell_s
        p0, p1, p2 = self._swell_phases
        # A warped clock makes each wave up to 30 % shorter or longer than swell_s (the warp
        # never stops the clock); each wave rises over _SWELL_RISE of it and washes out slower.
        warp = 0.8 / (2 * np.pi) * np.sin(2 * np.pi * t_s / (2.7 * period_s) + p1)
        x = np.mod(t_s / period_s + warp + p0 / (2 * np.pi), 1.0)
        shape = np.where(
            x < _SWELL_RISE,
            0.5 - 0.5 * np.cos(np.pi * x / _SWELL_RISE),
            0.5 + 0.5 * np.cos(np.pi * (x - _SWELL_RISE) / (1.0 - _SWELL_RISE)),
        )
        height = 0.7 + 0.3 * np.cos(2 * np.pi * t_s / (3.3 * period_s) + p2)
        return np.asarray(shape * height, dtype=np.float64)


def _interpolate(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Interpolate linearly between ``values`` given every _CONTROL_FRAMES frames: shape
    ``((len(values) - 1) * _CONTROL_FRAMES,)``."""
    fraction = np.arange(_CONTROL_FRAMES) / _CONTROL_FRAMES
    ramps = values[:-1, None] + np.diff(values)[:, None] * fraction[None, :]
    return np.asarray(ramps.ravel(), np.float64)
