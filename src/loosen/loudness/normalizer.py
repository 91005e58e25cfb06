"""Loudness normalisation of an export, as a stream, in two passes.

`Normalizer` (or `normalize`) reads the stream twice: the first pass measures its integrated
loudness (`loosen.loudness.meter.LoudnessMeter`) and true peak, the second applies the gain that
reaches the target and a look-ahead limiter (`loosen.loudness.limiter`) that keeps the true peak
under a ceiling; between them, `Normalizer.make_up` may raise the gain by what the limiter takes.
The output depends only on the samples, not on how they are cut into blocks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.errors import BadInputError
from loosen.loudness.chunks import Rechunker, as_frames
from loosen.loudness.limiter import PEAK_MARGIN_DB, Limiter
from loosen.loudness.meter import LoudnessMeter, gain_to_reach_db, gated_lufs
from loosen.loudness.true_peak import TruePeakMeter

__all__ = [
    "DEFAULT_TRUE_PEAK_DBTP",
    "MAKE_UP_MOST_DB",
    "Forecast",
    "LoudnessReport",
    "Normalizer",
    "default_target_lufs",
    "normalize",
]

Audio = npt.NDArray[np.float32]

DEFAULT_TRUE_PEAK_DBTP = -1.0
TARGET_RANGE_LUFS = (-60.0, -5.0)
MAKE_UP_MOST_DB = 3.0  # the make-up gain stops where the limiter would take off more than this
MAKE_UP_TOLERANCE_LU = 0.02  # and where the forecast is this close to the target


def default_target_lufs(channels: int) -> float:
    """The spoken-word target in LUFS: -16 stereo, -19 mono (a mono file plays on both speakers,
    about 3 dB louder than its one channel measures)."""
    return -19.0 if channels == 1 else -16.0


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
        Meter the output's loudness and true peak for `report` (``nan`` without it); an
        export that does not show them saves that metering. Pass 1 meters the input's true
        peak either way (it interpolates only what can pass the peak so far): bounded from the
        sample peak instead (7.6 dB over it), it told pass 2 to limit, and `make_up` to run a
        pass of its own, on every session with an ambience, also where the true peak needs
        neither (issue 18: back-loosening with brown noise, 8.7 s, and 5.6 s with the true peak
        known; where the limiter does act, the metering costs 5 %).
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
        self._reaching_db = 0.0  # see `gain_db`

    def measure(self, progress: Callable[[int], None] | None = None) -> float:
        """Pass 1, run once: the input's integrated loudness in LUFS (``-inf`` for silence).

        ``progress(frames)`` is called after each block with the number of frames it held.
        """
        if self._measured is None:
            loudness = LoudnessMeter(self.sample_rate, self.channels)
            peak = TruePeakMeter(self.sample_rate, self.channels)
            for block in self.make_blocks():
                x = as_frames(block, self.channels)
                loudness.add(x)
                peak.add(x)
                if progress is not None:
                    progress(len(x))
            true_peak_dbtp = peak.true_peak_dbtp()
            self.use_measurement(loudness.hop_powers, true_peak_dbtp)
        return self._measured[0] if self._measured is not None else -math.inf

    def use_measurement(self, hop_powers: npt.NDArray[np.float64], true_peak_dbtp: float) -> None:
        """Take pass 1's figures from elsewhere (see `loosen.loudness.sources`): the input's
        K-weighted power per 100 ms (float64, shape (hops,), as `LoudnessMeter.hop_powers`) and
        its true peak, or a bound of it, in dBTP."""
        self._measured = (gated_lufs(hop_powers), float(true_peak_dbtp))
        self._reaching_db = gain_to_reach_db(hop_powers, self.target_lufs)

    @property
    def gain_db(self) -> float:
        """The gain pass 2 applies before limiting, in dB (runs `measure` if it has not run):
        what brings the input to the target (`gain_to_reach_db`: ``target - measured``, unless a
        gate moves), plus what `make_up` found the limiter takes; 0.0 for silence."""
        measured = self.measure()
        return 0.0 if measured == -math.inf else self._reaching_db + self._make_up_db

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

    def _limiter(self) -> Limiter | None:
        """A limiter for pass 2, or ``None`` where the gain alone keeps the peaks under it."""
        measured_peak = (self._measured or (0.0, 0.0))[1]
        ceiling = self.true_peak_dbtp - PEAK_MARGIN_DB
        if measured_peak + self.gain_db <= ceiling:
            return None
        # one-second chunks: a tenth of the per-chunk overhead of 100 ms ones, same output
        return Limiter(self.sample_rate, self.channels, ceiling, self.sample_rate)

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

    def _scaled(self, gain: np.float32, limiter: Limiter | None) -> Iterator[Audio]:
        """The input times ``gain`` through ``limiter``, cut back to the input's block shapes."""
        if limiter is None:
            for block in self.make_blocks():
                yield (as_frames(block, self.channels) * gain).reshape(np.shape(block))
            return
        shapes: deque[tuple[int, ...]] = deque()  # of the blocks read but not yet yielded
        chunks = Rechunker(limiter.chunk, self.channels)
        ready = np.zeros((0, self.channels), np.float32)  # limited frames not yet yielded
        skip = limiter.delay  # the limiter's first frames come from before the start
        blocks = iter(self.make_blocks())
        while True:
            got = next(blocks, None)
            if got is not None:
                shapes.append(np.shape(got))
                todo = chunks.push(as_frames(got, self.channels) * gain)
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
