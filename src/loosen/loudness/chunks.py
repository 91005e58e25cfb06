"""Blocks of a stream as the loudness modules take them: shaped as frames, and regrouped into
fixed chunks aligned to the stream's start, so that what is computed per chunk does not depend on
how the stream was cut into blocks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Rechunker", "as_frames", "dual_mono"]

Audio = npt.NDArray[np.float32]


def as_frames(block: npt.ArrayLike, channels: int) -> Audio:
    """``block`` as float32 of shape (frames, channels); a 1-D block is one channel."""
    x = np.asarray(block, dtype=np.float32)
    if x.ndim == 1 and channels == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != channels:
        raise ValueError(f"expected a block of shape (frames, {channels}), got {x.shape}")
    return x


class Rechunker:
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


def dual_mono(x: Audio) -> bool:
    """Whether every channel of ``x`` ((frames, channels)) holds the same samples."""
    return x.shape[1] > 1 and not (x[:, 1:] != x[:, :1]).any()
