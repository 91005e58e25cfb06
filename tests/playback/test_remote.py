"""The player's remote: commands arrive in order and wake a waiting loop; what is playing is the
step at the position, named as the voice names it."""

from __future__ import annotations

import threading
from pathlib import Path

from loosen.playback.remote import Action, Command, Inbox, Status, now_playing
from loosen.render.rendering import render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.fakes import FakeEngine

DATA = Path(__file__).parent.parent / "data"


def test_commands_from_another_thread_arrive_in_order_and_wake_the_loop() -> None:
    inbox = Inbox()
    sent = [Command(Action.PAUSE), Command(Action.NEXT), Command(Action.VOLUME, volume=0.5)]
    sender = threading.Thread(target=lambda: [inbox.put(command) for command in sent])
    sender.start()
    sender.join()
    assert inbox.arrived.wait(5.0)
    assert inbox.take() == sent
    assert not inbox.arrived.is_set()
    assert inbox.take() == []


def test_what_is_playing_is_the_step_at_the_position_with_its_side() -> None:
    session = load_session(DATA / "tiny.toml")
    with render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    ) as rendering:
        spans = rendering.timeline.steps
        reach = next(span for span in spans if span.name == "reach" and span.side == "left")
        rate = rendering.sample_rate
        now = now_playing(rendering, reach.start + 2 * rate, status=Status.PAUSED, volume=0.5)
        assert now.session_title == "Tiny"
        assert (now.step, now.steps) == (reach.index, len(spans))
        assert now.title == "Reach, left side"
        assert now.length_s == (reach.end - reach.start) / rate
        assert now.position_s == 2.0
        assert (now.status, now.volume) == (Status.PAUSED, 0.5)
        before = now_playing(rendering, 0, status=Status.PLAYING, volume=1.0)
        assert (before.step, before.title) == (0, "")  # the lead-in, before the first step
