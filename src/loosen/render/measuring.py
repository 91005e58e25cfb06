"""A session's loudness measured from the sounds its layout places, without mixing it all: the
export's first pass for a dual-mono session (`loosen.loudness.sources`).

Where the mix is more than a plain sum of sounds (under the fades, where sounds overlap or reach
the soft limiter) the samples come from the mixer, so the figures are those of the blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from loosen.plan.timeline import Event
from loosen.render.layout import Layout
from loosen.render.mixer import LIMIT_KNEE_DBFS, Mixer
from loosen.tts.clips import db_to_gain

if TYPE_CHECKING:  # the loudness modules load only for an export that levels loudness
    from loosen.loudness.sources import Placed, SourceLoudness

__all__ = ["measure_loudness", "placed_sounds"]

Audio = npt.NDArray[np.float32]


def placed_sounds(layout: Layout, mixer: Mixer) -> Iterator[Placed]:
    """Every sound of the session in order of its start, laid out as they are taken: the mono
    mix (before the session's fades and the soft limiter) is their sum."""
    index = 0
    while True:
        with layout.lock:
            new = layout.events[index:]
            finished = layout.finished
            frontier = layout.frontier
        index += len(new)
        for event in new:
            if mixer.sounds(event):
                yield _placed(event, layout, mixer)
        if finished:
            return
        layout.place_until(frontier + 1)


def _placed(event: Event, layout: Layout, mixer: Mixer) -> Placed:
    """``event``'s sound for `placed_sounds`; a line's samples only if the meter needs them
    (a warm cache holds its profile)."""
    from loosen.loudness.sources import Placed

    key = (event.kind, event.text, event.cue, event.phase, event.frames)
    gain = mixer.gains[event.kind]
    if event.kind == "speech":
        assert event.text is not None
        text, clips = event.text, layout.clips
        spoken = clips.frames(text)
        frames = min(event.frames, spoken)

        def load() -> Audio:
            return clips.samples(text)[:frames]

        stored = clips.derived_key(text) if frames == spoken else None
        return Placed(event.start, None, gain, key, frames=frames, load=load, stored=stored)
    source = mixer.source(event)
    return Placed(event.start, source[: min(event.frames, source.size)], gain, key)


def measure_loudness(
    layout: Layout, mixer: Mixer, progress: Callable[[int], None] | None = None
) -> SourceLoudness:
    """The session's integrated loudness, measured from its sounds without mixing it all: as
    the mixer's blocks would measure, on every channel. Needs `Mixer.dual_mono`; lays out the
    whole session, metering each step as it is placed."""
    if not mixer.dual_mono:
        raise ValueError("an ambience makes the channels differ: meter the blocks")
    from loosen.loudness.sources import measure_placed

    fade_in = mixer.fade_in_frames

    def render(start: int, end: int) -> Audio:
        blocks = mixer.blocks(start, end, block_frames=mixer.sample_rate, mono=True)
        return np.concatenate([block[:, 0] for block in blocks])

    def linear_span() -> tuple[int, int]:
        with layout.lock:
            timeline, frontier = layout.final, layout.frontier
        if timeline is None:
            # the fade-out starts after the end chime does, which comes after every sound
            # placed so far: what has ended by the frontier is before it
            return fade_in, frontier
        return fade_in, timeline.total_frames - timeline.fade_out_frames

    return measure_placed(
        placed_sounds(layout, mixer),
        sample_rate=mixer.sample_rate,
        channels=mixer.channels,
        linear_span=linear_span,
        total_frames=lambda: layout.timeline.total_frames,
        knee=db_to_gain(LIMIT_KNEE_DBFS),
        render=render,
        progress=progress,
        store=layout.clips.speech.cache,
    )
