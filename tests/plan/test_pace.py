"""Pacing: one factor scales every silence within bounds; fitting finds the factor for a length."""

import pytest

from loosen.errors import BadInputError
from loosen.plan.expand import Hold, Pause, Reps, TenseRelease, expand_session
from loosen.plan.pace import Bounds, Pace, fit_factor, load_presets, resolve_pace
from loosen.script.loading import parse_session

SCRIPT = """
title = "T"
[pacing]
transition = "6s"
[[steps]]
kind = "hold"
name = "stretch"
sides = ["right", "left"]
text = "Hold."
seconds = 30
countdown = 3
[[steps]]
kind = "pause"
seconds = 20
[[steps]]
kind = "reps"
text = "Go."
count = 3
cadence = 3
[[steps]]
kind = "tense_release"
name = "hands"
tense = 6
release = 30
"""


def steps(factor: float, script: str = SCRIPT) -> list:
    return expand_session(parse_session(script), pace=Pace(factor))


def test_a_factor_scales_holds_pauses_cadence_releases_and_transitions() -> None:
    hold, hold_left, pause, reps, tense = steps(1.5)
    assert isinstance(hold, Hold) and hold.seconds_s == 45
    assert hold_left.switch is not None and hold_left.switch.transition_s == 9
    assert isinstance(pause, Pause) and pause.seconds_s == 30
    assert isinstance(reps, Reps) and reps.cadence_s == 4.5
    assert isinstance(tense, TenseRelease) and tense.release_s == 45


def test_speech_is_never_scaled() -> None:
    def texts(factor: float) -> list[str | None]:
        return [getattr(s, "text", None) for s in steps(factor)]

    assert texts(0.5) == texts(1.0)


def test_scaling_down_stops_at_the_floors() -> None:
    hold, _, pause, reps, tense = steps(0.01)
    bounds = Bounds()
    assert hold.seconds_s == bounds.hold_min
    assert pause.seconds_s == bounds.pause_min
    assert reps.cadence_s == bounds.cadence_min
    assert tense.tense_s == bounds.tense_min
    assert tense.release_s == bounds.release_min


def test_pmr_tension_stays_within_its_method_range() -> None:
    *_, tense = steps(3.0)
    assert tense.tense_s == Bounds().tense_max


def test_a_value_the_script_wrote_below_a_floor_is_left_as_written() -> None:
    (pause,) = steps(0.5, 'title = "T"\n[[steps]]\nkind = "pause"\nseconds = 0.5\n')
    assert pause.seconds_s == 0.5


def test_the_gap_after_speech_scales_too_with_a_floor() -> None:
    assert Pace(2.0).gap_s(1.0) == 2.0
    assert Pace(0.1).gap_s(1.0) == Bounds().gap_min


ANNOUNCED = """
title = "T"
[[steps]]
kind = "hold"
name = "reach"
text = "Reach, and hold for {seconds} seconds."
seconds = 30
[[steps]]
kind = "hold"
name = "rest"
text = "Rest."
seconds = 30
[[steps]]
kind = "tense_release"
name = "hands"
text = "Make fists for {seconds} seconds."
tense = 6
"""


@pytest.mark.parametrize("factor", [0.25, 0.4, 0.75, 1.3, 1.37, 2.0, 4.0])
def test_a_line_that_says_how_long_a_hold_lasts_says_the_paced_length(factor: float) -> None:
    reach, rest, hands = steps(factor, ANNOUNCED)
    assert reach.text == f"Reach, and hold for {reach.seconds_s:g} seconds."
    assert reach.seconds_s == int(reach.seconds_s)  # a number a person says
    assert hands.text == f"Make fists for {hands.tense_s:g} seconds."
    assert hands.tense_s == int(hands.tense_s)
    assert rest.seconds_s == max(30 * factor, Bounds().hold_min)  # not announced: not rounded


def test_an_announced_hold_may_have_a_factor_of_its_own() -> None:
    reach, rest, _ = expand_session(parse_session(ANNOUNCED), pace=Pace(2.0, announced_factor=1.5))
    assert (reach.seconds_s, rest.seconds_s) == (45, 60)
    assert reach.text == "Reach, and hold for 45 seconds."


def test_presets_are_data_and_factors_are_checked() -> None:
    presets = load_presets()
    assert {"gentle", "standard", "brisk"} <= set(presets)
    assert presets["gentle"].pace > 1 > presets["brisk"].pace
    assert resolve_pace("GENTLE") == presets["gentle"]
    assert resolve_pace("1.2").pace == 1.2
    with pytest.raises(BadInputError, match="preset: gentle, standard, brisk"):
        resolve_pace("fast")
    with pytest.raises(BadInputError, match=r"from 0\.25 to 4"):
        resolve_pace("0")


def test_fitting_finds_the_factor_for_the_target() -> None:
    def total_for(factor: float) -> float:  # 100 s of speech plus 200 s of silence
        return 100 + 200 * min(max(factor, 0.2), 4.0)

    factor = fit_factor(total_for, 900.0)
    assert total_for(factor) == pytest.approx(900.0, abs=0.25)


def test_a_target_out_of_reach_says_how_close_it_can_get() -> None:
    def total_for(factor: float) -> float:
        return 100 + 200 * min(max(factor, 0.2), 4.0)

    with pytest.raises(BadInputError, match=r"cannot be shorter than 2:20"):
        fit_factor(total_for, 60.0)
    with pytest.raises(BadInputError, match="cannot be longer than 15:00"):
        fit_factor(total_for, 3600.0)


def test_the_floors_that_stop_a_fit_are_named_with_how_many_steps_they_hold() -> None:
    from loosen.plan.fitting import floors_reached

    session = parse_session(SCRIPT)
    words = floors_reached(session, session.pacing, 0.01)
    assert "holds stop at 10 s (2 of them)" in words
    assert "releases at 10 s (1 of them)" in words
    assert floors_reached(session, session.pacing, 1.0) == ""
