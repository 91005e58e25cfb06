"""A session's integrated loudness measured from the sounds placed on it, without mixing it.

An export must know its integrated loudness before its first sample is written, which takes a
pass over the whole session. Mixing 15 minutes of mostly silent stereo only to meter it costs as
much as writing the file, so this pass works from the sounds themselves. K-weighting is linear
and time-invariant: the K-weighted mix is the sum of each sound K-weighted on its own and moved
to its place. A chime that rings twenty times is filtered once. Every sound's K-weighted signal
rings out within `TAIL_HOPS` hops (its filter state falls under 1e-20), so sounds further apart
than that never meet in the meter, and silence between them costs nothing.

Where the mix is not a plain sum of sounds, the samples come from the renderer itself: under the
session's fades, where sounds overlap (the renderer's soft limiter may bend their sum) and where a
sound alone is loud enough to reach that limiter. Memory holds one sound and its ring-out at a
time. The result equals the streaming `loosen.loudness.LoudnessMeter` over the mixed session up
to float rounding (tested against it on the bundled sessions).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.loudness import KFilter, gated_lufs

__all__ = ["Placed", "SourceLoudness", "measure_placed"]

Audio = npt.NDArray[np.float32]

TAIL_HOPS = 2  # 200 ms: a full-scale sound's K-filter state is under 1e-20 this long after it
_FILTERED_KEPT_FRAMES = 2_000_000  # K-weighted sounds kept for reuse (8 MB): cues repeat


@dataclass(frozen=True)
class Placed:
    """One sound on the session's timeline: ``samples`` (float32, shape (n,), mono, unit level)
    played from frame ``start`` at ``gain`` (linear). Sounds with the same ``key`` have the same
    samples."""

    start: int
    samples: Audio
    gain: float
    key: Hashable

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclass(frozen=True)
class SourceLoudness:
    """What `measure_placed` found: integrated loudness in LUFS (``-inf`` for silence) and an
    upper bound of the mix's sample peak (full scale 1.0)."""

    lufs: float
    sample_peak_bound: float


def measure_placed(
    placed: Iterable[Placed],
    *,
    sample_rate: int,
    channels: int,
    linear_span: Callable[[], tuple[int, int]],
    total_frames: Callable[[], int],
    knee: float,
    render: Callable[[int, int], Audio],
    progress: Callable[[int], None] | None = None,
) -> SourceLoudness:
    """The integrated loudness of a session whose mono mix is the sum of ``placed`` sounds.

    ``placed`` in order of ``start``, and it may still be laid out as they are taken: each
    group of overlapping sounds is metered once the next sound starts after it (or the sounds
    end), so metering keeps pace with the layout. The session plays its mono mix on
    ``channels`` identical channels. Within ``linear_span()`` (frames ``[from, to)``, asked when
    a group is metered; the groups metered before the last must lie in it when it is asked) and
    under ``knee`` (full scale 1.0) the mix is the plain sum of the sounds. Elsewhere, and where
    sounds overlap, ``render(start, end)`` gives the session's mono samples (float32, shape
    (end - start,)). ``total_frames()`` is asked once the sounds are over. ``progress(frames)``
    reports the frames done.
    """
    hops = _HopPowers(sample_rate, channels)
    peak = 0.0
    cluster: list[Placed] = []  # sounds that overlap one another (usually one)
    for sound in placed:
        if len(sound.samples) == 0 or sound.gain == 0.0:
            continue
        if cluster and sound.start >= max(s.end for s in cluster):
            peak = max(peak, _add_cluster(hops, cluster, linear_span(), knee, render))
            cluster = []
            if progress is not None:
                progress(hops.advance_report())
        cluster.append(sound)
    total = total_frames()
    hops.end_at(total)
    if cluster:
        peak = max(peak, _add_cluster(hops, cluster, linear_span(), knee, render))
    hops.flush()
    if progress is not None:
        progress(max(0, total - hops.reported))
    return SourceLoudness(lufs=gated_lufs(hops.powers), sample_peak_bound=peak)


def _add_cluster(
    hops: _HopPowers,
    cluster: list[Placed],
    linear_span: tuple[int, int],
    knee: float,
    render: Callable[[int, int], Audio],
) -> float:
    """Meter ``cluster`` (sounds overlapping one another); return a bound of its sample peak."""
    first, end = cluster[0], max(s.end for s in cluster)
    if len(cluster) == 1:
        weighted, peak = hops.weighted(first.key, first.samples)
        level = peak * abs(first.gain)
        plain = linear_span[0] <= first.start and first.end <= linear_span[1]
        if plain and level <= knee * (1.0 + 1e-6):  # under the knee, bending changes nothing
            hops.add(first.start, weighted, first.gain)
            return level
    mono = render(first.start, end)
    hops.add(first.start, hops.k_weighted(mono), 1.0)
    return float(np.abs(mono).max(initial=0.0))


class _HopPowers:
    """Channel-summed mean squares of the K-weighted mix per 100 ms (`powers`, float64), summed
    from K-weighted sounds added in order of their start."""

    def __init__(self, sample_rate: int, channels: int):
        self.hop = round(sample_rate / 10)
        self.powers = np.zeros(0)  # grows as sounds come; `end_at` cuts it to the session
        self._hops_at_most: int | None = None
        self.channels = channels
        self.reported = 0  # frames reported as done
        self._filter = KFilter(sample_rate, self.hop)
        self._filtered: OrderedDict[Hashable, tuple[Audio, float]] = OrderedDict()
        self._kept_frames = 0
        self._start = 0  # the first frame of `_pending`, on the hop grid
        self._pending = np.zeros(0)  # the K-weighted mix from `_start` on, not yet final

    def add(self, start: int, weighted: Audio, gain: float) -> None:
        """Add ``weighted`` (float32, (n,): a sound K-weighted from rest, see `k_weighted`)
        from frame ``start`` on, times ``gain``. Sounds come in order of ``start``."""
        hop = self.hop
        aligned = start // hop * hop
        if aligned >= self._start + len(self._pending):
            self.flush()
            self._start = aligned
        else:  # no later sound starts before `aligned`: the hops before it are final
            self._settle(aligned)
        offset = start - self._start
        needed = offset + len(weighted)
        if needed > len(self._pending):
            grown = np.zeros(-(-needed // hop) * hop)
            grown[: len(self._pending)] = self._pending
            self._pending = grown
        self._pending[offset:needed] += weighted * gain if gain != 1.0 else weighted

    def end_at(self, total_frames: int) -> None:
        """The session ends at ``total_frames``: only its whole hops count."""
        self._hops_at_most = total_frames // self.hop
        self.powers = self.powers[: self._hops_at_most]
        if len(self.powers) < self._hops_at_most:
            self.powers = np.concatenate(
                [self.powers, np.zeros(self._hops_at_most - len(self.powers))]
            )

    def flush(self) -> None:
        """Make every pending hop final."""
        self._settle(self._start + len(self._pending))

    def advance_report(self) -> int:
        """Frames made final since the last call."""
        done = self._start - self.reported
        self.reported += max(done, 0)
        return max(done, 0)

    def _settle(self, until: int) -> None:
        """Turn the pending hops before frame ``until`` (on the hop grid) into powers."""
        hop, count = self.hop, (until - self._start) // self.hop
        if count <= 0:
            return
        first = self._start // hop
        kept = count
        if self._hops_at_most is not None:  # hops past the session's end: none
            kept = max(0, min(count, self._hops_at_most - first))
        elif first + count > len(self.powers):
            grown = np.zeros(max(first + count, 2 * len(self.powers)))
            grown[: len(self.powers)] = self.powers
            self.powers = grown
        if kept:
            blocks = self._pending[: kept * hop].reshape(kept, hop)
            self.powers[first : first + kept] += np.einsum("ij,ij->i", blocks, blocks) * (
                self.channels / hop
            )
        self._pending = self._pending[count * hop :].copy()
        self._start += count * hop

    def weighted(self, key: Hashable, samples: Audio) -> tuple[Audio, float]:
        """`k_weighted` of ``samples`` and their sample peak, remembered by ``key`` (a session's
        cues repeat)."""
        got = self._filtered.get(key)
        if got is None:
            got = (self.k_weighted(samples), float(np.abs(samples).max(initial=0.0)))
            if len(got[0]) <= _FILTERED_KEPT_FRAMES // 4:
                self._filtered[key] = got
                self._kept_frames += len(got[0])
            while self._kept_frames > _FILTERED_KEPT_FRAMES:
                self._kept_frames -= len(self._filtered.popitem(last=False)[1][0])
        else:
            self._filtered.move_to_end(key)
        return got

    def k_weighted(self, samples: Audio) -> Audio:
        """``samples`` ((n,), the filter at rest before them) K-weighted and rung out: float32,
        shape (n + `TAIL_HOPS` hops,). Past that its magnitude is under 1e-20."""
        hop = self.hop
        count = -(-len(samples) // hop) + TAIL_HOPS
        padded = np.zeros((count * hop, 1), np.float32)
        padded[: len(samples), 0] = samples
        out = np.empty(count * hop, np.float32)
        state = np.zeros((1, 4))
        for i in range(count):
            y, state = self._filter.filtered(padded[i * hop : (i + 1) * hop], state)
            out[i * hop : (i + 1) * hop] = y[0]
        return out[: len(samples) + TAIL_HOPS * hop]
