"""`e` makes the running hold 10 s longer, live: the hold-end chime, and all after it, come 10 s
later in what the device gets; outside a hold it changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loosen.playback.actions import EXTEND_S, KeyActions
from loosen.playback.transport import Transport
from loosen.render.rendering import Rendering, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.fakes import FakeEngine

TINY = Path(__file__).parent.parent / "data" / "tiny.toml"
BLOCK = 4800


def first_sound_from(rendering: Rendering, start: int, key: str | None, frames: int) -> int:
    """Frames from ``start`` until the device first gets a sound, ``key`` pressed (answers off)
    after the first block."""
    transport = Transport(rendering, start_frame=start)
    transport.start()
    try:
        assert transport.wait_ready(timeout_s=30.0)
        out = np.zeros((BLOCK, rendering.channels), np.float32)
        for done in range(0, frames, BLOCK):
            transport.fill(out)
            if done == 0 and key is not None:
                KeyActions(rendering, transport, announce=False).handle(key)
            loud = np.flatnonzero(np.abs(out[:, 0]) > 1e-3)
            if loud.size:
                return done + int(loud[0])
        raise AssertionError("nothing sounded")
    finally:
        transport.close()


@pytest.fixture
def rendering() -> Rendering:
    session = load_session(TINY)
    return render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    )


def test_extending_a_hold_brings_the_next_sound_exactly_ten_seconds_later(
    rendering: Rendering,
) -> None:
    rate = rendering.sample_rate
    hold = next(e for e in rendering.timeline.events if e.kind == "hold")
    # from just after the halfway chime: the countdown's first tick is the next sound
    halfway = next(e for e in rendering.timeline.events if e.cue == "halfway")
    start = halfway.end + rate // 10
    assert start < hold.end
    scheduled = first_sound_from(rendering, start, None, 20 * rate)
    extended = first_sound_from(rendering, start, "e", 20 * rate)
    assert extended - scheduled == round(EXTEND_S * rate)


def test_outside_a_hold_e_does_nothing(rendering: Rendering) -> None:
    rate = rendering.sample_rate
    assert first_sound_from(rendering, 0, "e", 5 * rate) == first_sound_from(
        rendering, 0, None, 5 * rate
    )
