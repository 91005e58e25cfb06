"""Navigation and wording of the player, without an audio device."""

from pathlib import Path

import pytest

from loosen.errors import BadInputError
from loosen.player import (
    find_step,
    previous_step_frame,
    remaining_words,
    repeat_frame,
)
from loosen.render import render_session
from loosen.script import load_session
from loosen.sounds import load_cue_set
from loosen.timeline import Event, StepSpan
from loosen.tts import Speech
from tests.fakes import FakeEngine

HERE = Path(__file__).parent
RATE = 48_000
SPANS = [
    StepSpan(1, "say", "a", None, 0, 10 * RATE),
    StepSpan(2, "hold", "b", None, 10 * RATE, 40 * RATE),
]


def test_previous_restarts_the_step_once_more_than_two_seconds_in() -> None:
    assert previous_step_frame(SPANS, 15 * RATE, RATE) == 10 * RATE
    assert previous_step_frame(SPANS, 11 * RATE, RATE) == 0
    assert previous_step_frame(SPANS, 1 * RATE, RATE) == 0


def test_repeat_goes_back_to_the_last_instruction_not_to_a_count() -> None:
    events = [
        Event(100, 900, "speech", 1, None, None, text="Do ten."),
        Event(1000, 2000, "rep", 1, None, None, text="1"),
        Event(1000, 1200, "speech", 1, None, None, text="1"),
    ]
    assert repeat_frame(events, 1500) == 100
    assert repeat_frame(events, 50) is None


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(12, "About 10 seconds left."), (59, "About 60 seconds left."), (70, "About one minute left."),
     (600, "About 10 minutes left.")],
)  # fmt: skip
def test_time_left_is_said_as_a_person_would(seconds: float, words: str) -> None:
    assert remaining_words(seconds) == words


def test_steps_are_found_by_number_name_or_name_and_side() -> None:
    session = load_session(HERE / "data" / "tiny.toml")
    rendering = render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(), progressive=True
    )
    assert find_step(rendering, "3") == 3
    assert find_step(rendering, "Reach") == 2
    assert find_step(rendering, "reach:left") == 3
    with pytest.raises(BadInputError, match="no such step; steps: welcome, reach, taps"):
        find_step(rendering, "dance")
    with pytest.raises(BadInputError, match="steps 1 to 7"):
        find_step(rendering, "99")
