"""The blocks a file gets: the session's, loudness-normalised to a target (or as rendered), and
handed out span after span to a split export.

A session without an ambience is dual mono: its blocks are then one channel, shape (frames, 1),
and the file repeats them on every channel; its loudness is measured from its sounds
(`loosen.loudness.sources`, through `Rendering.measure_loudness`) instead of by mixing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from loosen.errors import BadValueError

if TYPE_CHECKING:
    from loosen.output.formats import AudioFormat
    from loosen.plan.timeline import Timeline
    from loosen.render.rendering import Rendering

__all__ = ["LOUDNESS_OFF", "Levelled", "SpanStream", "level_blocks", "loudness_target"]

Block = npt.NDArray[np.float32]

#: what a loudness setting says to keep the renderer's own levels
LOUDNESS_OFF = "off"


def loudness_target(loudness: str | float | None) -> float | None:
    """A loudness setting in LUFS: a number, or None for the channel count's default (and for
    ``"off"``, which `level_blocks` handles apart). `BadValueError` ("loudness") otherwise."""
    if loudness is None or (isinstance(loudness, str) and _is_off(loudness)):
        return None
    try:
        target = float(loudness)
    except ValueError:
        raise BadValueError("loudness", str(loudness), "give LUFS such as -16, or off") from None
    if not -60.0 <= target <= -5.0:
        raise BadValueError("loudness", str(loudness), "must be from -60 to -5 LUFS")
    return target


def _is_off(loudness: str | float | None) -> bool:
    return isinstance(loudness, str) and loudness.strip().lower() == LOUDNESS_OFF


@dataclass(frozen=True)
class Levelled:
    """A session's blocks as the file gets them, and what the levelling did: ``gain_db`` and
    the limiter's deepest cut (``max_reduction_db``, dB); ``reached_lufs``, the loudness the
    file will measure (None: not normalised); ``shortfall``, why the target is out of reach
    (None: it is reached within 0.1 LU)."""

    blocks: Iterator[Block]
    gain_db: float | None = None
    max_reduction_db: float = 0.0
    reached_lufs: float | None = None
    shortfall: str | None = None


def level_blocks(
    rendering: Rendering,
    fmt: AudioFormat,
    *,
    loudness: str | float | None,
    quality: str | None,
    progress: Callable[[int], None] | None = None,
) -> Levelled:
    """The blocks of ``rendering`` for a file of format ``fmt``: loudness-normalised to
    ``loudness`` (LUFS; None: -16 stereo, -19 mono; "off": as rendered) with true peaks under
    the format's ceiling (-1 dBTP; lower for a lossy format, whose encoder raises peaks).
    ``progress``
    hears the frames measured since it was last called."""
    from loosen.loudness.normalizer import MAKE_UP_MOST_DB, Normalizer, default_target_lufs
    from loosen.output.encoders import quality_of

    mono = rendering.dual_mono

    def blocks() -> Iterator[Block]:
        return rendering.blocks(block_frames=rendering.sample_rate, mono=mono)

    if _is_off(loudness):
        return Levelled(blocks())
    asked = loudness_target(loudness)
    settings = quality_of(fmt.container, quality)
    encoder_loss_db = settings.loss_db if settings is not None else 0.0
    target = default_target_lufs(rendering.channels) if asked is None else asked
    ceiling_dbtp = fmt.ceiling_dbtp
    normalizer = Normalizer(
        blocks,
        sample_rate=rendering.sample_rate,
        channels=1 if mono else rendering.channels,
        target_lufs=target + encoder_loss_db,
        true_peak_dbtp=ceiling_dbtp,
        full_report=False,
    )
    if mono:  # from the sounds, without mixing the session (loosen.loudness.sources)
        measured = rendering.measure_loudness(progress=progress)
        bound = measured.true_peak_bound
        peak_dbtp = 20.0 * math.log10(bound) if bound > 0 else -math.inf
        normalizer.use_measurement(measured.hop_powers, peak_dbtp)
    else:
        normalizer.measure(progress=progress)
    # where the limiter acts, the gain makes up for what it takes (a pass without output)
    forecast = normalizer.make_up(plays_on=rendering.channels if mono else 1)
    reached = forecast.lufs - encoder_loss_db
    shortfall = None
    if reached < target - 0.1:
        if forecast.max_reduction_db > MAKE_UP_MOST_DB:
            why = f"the limiter already takes up to {forecast.max_reduction_db:.0f} dB off them"
        else:
            why = f"closer would take over {MAKE_UP_MOST_DB:g} dB of limiting"
        shortfall = (
            f"loudness {target:g} LUFS is out of reach: the file will measure about "
            f"{reached:.1f} LUFS (its true peaks must stay under {ceiling_dbtp:g} dBTP; {why})"
        )
    return Levelled(
        normalizer.blocks(),
        gain_db=normalizer.gain_db,
        max_reduction_db=forecast.max_reduction_db,
        reached_lufs=reached,
        shortfall=shortfall,
    )


class SpanStream:
    """A rendering whose blocks come from one stream (the loudness-normalised one), handed out
    span after span in order, as `loosen.output.split.export_split` asks for them."""

    def __init__(self, rendering: Rendering, stream: Iterator[Block]) -> None:
        self.timeline: Timeline = rendering.timeline
        self.sample_rate = rendering.sample_rate
        self.channels = rendering.channels
        self._stream = stream
        self._held: Block | None = None
        self._position = 0

    def blocks(
        self, start_frame: int = 0, end_frame: int | None = None, block_frames: int = 0
    ) -> Iterator[Block]:
        """Blocks from ``start_frame`` (where the last span ended) to ``end_frame`` (None: the
        end); ``block_frames`` is ignored (the stream's blocks are cut where a span ends)."""
        if start_frame != self._position:
            raise ValueError("spans must be asked for in order")
        end = self.timeline.total_frames if end_frame is None else end_frame
        while self._position < end:
            block = self._held if self._held is not None else next(self._stream, None)
            self._held = None
            if block is None:
                return
            take = min(len(block), end - self._position)
            if take < len(block):
                self._held = block[take:]
            self._position += take
            yield block[:take]
