"""A step that waits for the listener, with the transport driven by a fake stream: playback
stops at the wait, sounds the step's line or the pause answer and a reminder now and then, and
goes on from the wait's end, with the rendered samples, when the listener resumes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loosen.playback.actions import KeyActions
from loosen.playback.answers import answer_samples
from loosen.playback.controls import status_line
from loosen.playback.playhead import FADE_S
from loosen.playback.remote import Action, Command, Status
from loosen.playback.transport import Transport
from loosen.playback.waits import Waits
from loosen.render.rendering import Rendering, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.audio_server import align
from tests.fakes import FakeEngine

WAITS = Path(__file__).parent.parent / "data" / "waits.toml"
BLOCK = 2400


def rendering_of(tmp_path: Path, wait: str) -> Rendering:
    """tests/data/waits.toml, its first step's ``wait`` set to ``wait`` (a TOML value)."""
    script = tmp_path / "waits.toml"
    text = WAITS.read_text().replace('wait = "Press play when you are ready."', f"wait = {wait}")
    script.write_text(text)
    session = load_session(script)
    speech = Speech(FakeEngine(), None)
    return render_session(session, speech=speech, cue_set=load_cue_set(session.cues))


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def silent(tmp_path: Path) -> Iterator[tuple[Rendering, Transport]]:
    rendering = rendering_of(tmp_path, "true")
    transport = Transport(rendering)
    transport.start()
    assert transport.wait_ready(timeout_s=30.0)
    yield rendering, transport
    transport.close()


def pull(transport: Transport, frames: int, follow: Waits | None = None) -> np.ndarray:
    """What the device gets over ``frames`` frames (mono), the player's loop following the
    waits after each block."""
    out, got = np.zeros((BLOCK, transport.channels), np.float32), []
    for _ in range(0, frames, BLOCK):
        transport.wait_ready(timeout_s=5.0, ahead_s=3 * BLOCK / transport.rate)  # no underrun
        transport.fill(out)
        got.append(out[:, 0].copy())
        if follow is not None:
            follow.follow()
    return np.concatenate(got)


def the_wait(rendering: Rendering) -> tuple[int, int]:
    [wait] = [e for e in rendering.timeline.events if e.kind == "wait"]
    return wait.start, wait.end


def test_playback_stops_at_the_wait_and_goes_on_from_its_end_when_resumed(
    silent: tuple[Rendering, Transport],
) -> None:
    rendering, transport = silent
    actions = KeyActions(rendering, transport, announce=False)
    start, end = the_wait(rendering)
    before = pull(transport, start + 10 * BLOCK, actions.waits)
    assert transport.waiting_at == start
    assert actions.waits.waiting and "Waiting" in actions.status_text()
    assert actions.now_playing().status is Status.PAUSED
    expected = np.concatenate(list(rendering.blocks(block_frames=BLOCK)))[:, 0]
    assert np.array_equal(before[:start], expected[:start])  # the session as rendered
    assert not before[start:].any()  # then silence: the wait holds, for as long as it takes
    assert transport.position < end
    assert actions.handle("space")  # resume
    assert transport.waiting_at is None
    after = pull(transport, 2 * rendering.sample_rate, actions.waits)
    faded = round(FADE_S * rendering.sample_rate)
    # from the wait's end: the next step's line, at once, as the export has it (faded in)
    assert np.allclose(after[faded:], expected[end + faded : end + after.size], atol=1e-6)


def test_media_controls_play_resumes_and_a_seek_elsewhere_ends_the_wait(
    silent: tuple[Rendering, Transport],
) -> None:
    rendering, transport = silent
    actions = KeyActions(rendering, transport, announce=False)
    start, _ = the_wait(rendering)
    pull(transport, start + 4 * BLOCK, actions.waits)
    assert actions.obey(Command(Action.PAUSE)) and transport.waiting_at == start  # still waits
    assert actions.obey(Command(Action.PLAY)) and transport.waiting_at is None
    assert not transport.paused
    actions.handle("left")  # back to the step's start: it waits there again
    pull(transport, start + 4 * BLOCK, actions.waits)
    assert transport.waiting_at == start
    actions.handle("right")  # on to the next step: no more waiting
    assert transport.waiting_at is None


def test_the_wait_sounds_the_pause_answer_then_a_reminder_each_interval(
    silent: tuple[Rendering, Transport],
) -> None:
    rendering, transport = silent
    clock = Clock()
    waits = Waits(rendering, transport, reminder_s=30.0, announce=True, clock=clock)
    start, _ = the_wait(rendering)
    pause_sound = answer_samples(rendering, "pause")
    answered = pull(transport, start + pause_sound.size + 4 * BLOCK, waits)[start:]
    at, similar = align(answered, pause_sound)
    assert similar > 0.99 and 0 <= at <= 2 * BLOCK
    clock.now_s = 29.9
    assert not pull(transport, 20 * BLOCK, waits).any()  # not yet
    clock.now_s = 30.0
    reminder = answer_samples(rendering, "reminder")
    reminded = pull(transport, reminder.size + 4 * BLOCK, waits)
    assert align(reminded, reminder)[1] > 0.99
    clock.now_s = 45.0
    assert not pull(transport, 20 * BLOCK, waits).any()  # the next one at 60 s


def test_without_reminders_or_answers_the_wait_is_silent(
    silent: tuple[Rendering, Transport],
) -> None:
    rendering, transport = silent
    clock = Clock()
    waits = Waits(rendering, transport, reminder_s=None, announce=False, clock=clock)
    start, _ = the_wait(rendering)
    pull(transport, start + 2 * BLOCK, waits)
    clock.now_s = 3600.0
    assert not pull(transport, 20 * BLOCK, waits).any()


def test_a_wait_with_a_line_says_it_whether_or_not_controls_are_answered(tmp_path: Path) -> None:
    rendering = rendering_of(tmp_path, '"Sit up, then press play."')
    transport = Transport(rendering)
    transport.start()
    try:
        assert transport.wait_ready(timeout_s=30.0)
        waits = Waits(rendering, transport, announce=False, clock=Clock())
        start, _ = the_wait(rendering)
        words = rendering.clips.samples("Sit up, then press play.") * rendering.voice_gain
        said = pull(transport, start + words.size + 4 * BLOCK, waits)[start:]
        at, similar = align(said, words)
        assert similar > 0.99 and 0 <= at <= 2 * BLOCK  # at once (the loop's next turn)
    finally:
        transport.close()


def test_the_status_line_says_waiting() -> None:
    line = status_line(
        paused=False, waiting=True, step="1/2 lie down", elapsed_s=3, total_s=20,
        volume_db=0, width=60,
    )  # fmt: skip
    assert line.startswith("Waiting 1/2 lie down")


def test_a_step_that_waits_first_still_waits_when_the_loop_arms_it_late(tmp_path: Path) -> None:
    script = tmp_path / "first.toml"
    script.write_text(
        'title = "First"\n[pacing]\nwait = "2s"\n'
        '[[steps]]\nkind = "say"\ntext = "Welcome."\n'
        '[[steps]]\nkind = "tense_release"\nname = "hands"\ntext = "Make fists."\n'
        'tense = "3s"\nrelease = "5s"\nwait = true\n'
    )
    session = load_session(script)
    rendering = render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    )
    transport = Transport(rendering)
    transport.start()
    try:
        assert transport.wait_ready(timeout_s=30.0)
        actions = KeyActions(rendering, transport, announce=False)
        actions.obey(Command(Action.GO_TO_STEP, step=2))  # its wait comes before its words
        start, end = the_wait(rendering)
        assert transport.position == start
        pull(transport, 3 * BLOCK)  # the loop is late: playback is already in the wait
        actions.waits.follow()
        halted = pull(transport, 20 * BLOCK, actions.waits)
        assert transport.waiting_at is not None and start < transport.position < end
        assert not halted.any()  # the words of the step are not said until resumed
    finally:
        transport.close()
