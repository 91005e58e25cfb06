"""16-bit PCM: how float samples become integers, the one rule the cache and the exporter share."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FULL_SCALE", "to_pcm16"]

#: Float full scale in 16-bit steps: soundfile and most readers divide by it to read 16-bit back,
#: so a sample that is a multiple of 1 / 32768 survives the round trip unchanged.
FULL_SCALE = 32768.0


def to_pcm16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """``samples`` (float, full scale 1.0, any shape) as 16-bit integers of the same shape:
    rounded to the nearest step (half to even), clipped to -32768 ... 32767."""
    scaled = np.multiply(samples, np.float32(FULL_SCALE), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -FULL_SCALE, FULL_SCALE - 1, out=scaled)
    return scaled.astype(np.int16)
