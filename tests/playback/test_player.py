"""Navigation and wording of the player, without an audio device."""

from dataclasses import replace
from pathlib import Path

import pytest

from loosen.errors import BadValueError
from loosen.plan.addresses import find_step
from loosen.plan.timeline import Event, StepSpan
from loosen.playback.controls import (
    held_frame,
    last_instruction,
    previous_step_frame,
    quiet_frame,
    remaining_words,
    status_line,
)
from loosen.render.rendering import render_session
from loosen.script.loading import load_session, parse_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech
from tests.fakes import FakeEngine

HERE = Path(__file__).parent.parent
RATE = 48_000
SPANS = [
    StepSpan(1, "say", "a", None, 0, 10 * RATE),
    StepSpan(2, "hold", "b", None, 10 * RATE, 40 * RATE),
]


def test_previous_restarts_the_step_once_more_than_two_seconds_in() -> None:
    assert previous_step_frame(SPANS, 15 * RATE, RATE) == 10 * RATE
    assert previous_step_frame(SPANS, 11 * RATE, RATE) == 0
    assert previous_step_frame(SPANS, 1 * RATE, RATE) == 0


def test_repeat_says_the_last_instruction_not_a_count() -> None:
    events = [
        Event(100, 900, "speech", 1, None, None, text="Do ten."),
        Event(1000, 2000, "rep", 1, None, None, text="1"),
        Event(1000, 1200, "speech", 1, None, None, text="1"),
    ]
    instruction = last_instruction(events, 1500)
    assert instruction is not None and instruction.text == "Do ten."
    assert last_instruction(events, 50) is None


HOLD = [
    Event(0, 4 * RATE, "speech", 1, "reach", None, text="Reach, and hold."),
    Event(5 * RATE, 7 * RATE, "chime", 1, "reach", None, cue="hold_start"),
    Event(5 * RATE, 35 * RATE, "hold", 1, "reach", None),
    Event(20 * RATE, 22 * RATE, "chime", 1, "reach", None, cue="halfway"),
    Event(35 * RATE, 37 * RATE, "chime", 1, "reach", None, cue="hold_end"),
]


def test_an_answer_waits_for_the_line_and_the_chimes_then_goes_into_the_quiet() -> None:
    def audible(event: Event) -> bool:
        return event.kind in ("speech", "chime")

    horizon = 15 * RATE
    # asked mid-line: after the line, but the hold-start chime comes too soon; after the chime
    assert quiet_frame(HOLD, 2 * RATE, 2 * RATE, horizon, audible) == 7 * RATE
    # asked in the hold: at once, if the words end before the halfway chime
    assert quiet_frame(HOLD, 10 * RATE, 2 * RATE, horizon, audible) == 10 * RATE
    assert quiet_frame(HOLD, 19 * RATE, 2 * RATE, horizon, audible) == 22 * RATE
    # no quiet moment long enough soon: none
    assert quiet_frame(HOLD, 10 * RATE, 30 * RATE, horizon, audible) is None


def test_the_session_is_held_only_where_nothing_stretches() -> None:
    assert held_frame(HOLD, 2 * RATE) == 4 * RATE  # after the line
    assert held_frame(HOLD, 10 * RATE) == 35 * RATE  # never inside the hold


@pytest.mark.parametrize("width", [30, 50, 80, 200])
def test_the_status_line_fits_the_terminal(width: int) -> None:
    line = status_line(
        paused=False,
        step="12/34 relaxation: back and abdomen (left)",
        elapsed_s=125.4,
        total_s=919.0,
        volume_db=-3.0,
        width=width,
    )
    assert len(line) <= width - 1
    assert line.startswith("Playing")
    if width >= 50:
        assert "2:05 / 15:19" in line and "vol -3 dB" in line


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(12, "About 10 seconds left."), (59, "About one minute left."),
     (70, "About one minute left."), (600, "About 10 minutes left.")],
)  # fmt: skip
def test_time_left_is_said_as_a_person_would(seconds: float, words: str) -> None:
    assert remaining_words(seconds) == words


def test_steps_are_found_by_number_name_prefix_or_name_and_side_as_shown() -> None:
    session = load_session(HERE / "data" / "tiny.toml")
    rendering = render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(), progressive=True
    )
    steps = rendering.steps
    assert find_step(steps, "3") == 3
    assert find_step(steps, "Reach") == 2
    assert find_step(steps, "rea") == 2
    assert find_step(steps, "reach:left") == 3
    assert find_step(steps, "reach (left)") == 3
    assert find_step(steps, "Reach  ( Left )") == 3
    with pytest.raises(BadValueError, match="no step of that name; steps: welcome, reach, taps"):
        find_step(steps, "dance")
    with pytest.raises(BadValueError, match="steps 1 to 7"):
        find_step(steps, "99")


def test_a_name_may_hold_a_colon_and_a_repeat_block_is_found_by_its_name() -> None:
    session = parse_session(
        'title = "T"\n[[steps]]\nkind = "say"\nname = "relaxation: hands"\ntext = "Hi."\n'
        '[[steps]]\nkind = "repeat"\nname = "cycle"\ntimes = 2\n'
        '[[steps.steps]]\nkind = "say"\ntext = "Again."\n'
    )
    steps = render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(), progressive=True
    ).steps
    assert find_step(steps, "relaxation: hands") == 1
    assert find_step(steps, "relaxation") == 1
    assert find_step(steps, "cycle") == 2
    with pytest.raises(BadValueError, match="could mean calm, cycle"):
        find_step([*steps, replace(steps[0], index=4, name="calm")], "c")
