"""Settings change a script's values without editing it; their step addresses are those of
`--from` and of the messages, and a bad one is blamed on the setting, never on the file."""

import pytest

from loosen.errors import BadInputError, BadValueError
from loosen.plan.expand import Hold, Reps, expand_session, numbered_places
from loosen.script.loading import load_session, parse_session

SCRIPT = """
title = "T"
[[steps]]
kind = "hold"
name = "hamstring stretch"
sides = ["right", "left"]
text = "Hold."
seconds = 30
[[steps]]
kind = "repeat"
times = 2
[[steps.steps]]
kind = "reps"
name = "dead bug"
text = "Go {count}."
count = "15-20"
"""


def expanded(*overrides: str) -> list:
    def numbered() -> list:
        return numbered_places(parse_session(SCRIPT))

    return expand_session(parse_session(SCRIPT, overrides=overrides, numbered=numbered))


def test_a_step_value_is_changed_on_every_copy_by_name_or_unique_prefix() -> None:
    steps = expanded("hamstring.hold=40", "dead bug.count=20")
    holds = [s for s in steps if isinstance(s, Hold)]
    reps = [s for s in steps if isinstance(s, Reps)]
    assert [h.seconds_s for h in holds] == [40, 40]
    assert [r.count for r in reps] == [20, 20]
    assert reps[0].text == "Go 20."


def test_pacing_values_are_set_like_the_script_would() -> None:
    session = parse_session(SCRIPT, overrides=["pacing.release=35s", "pacing.gap=0"])
    assert session.pacing.release_s == 35
    assert session.pacing.gap_s == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("nope.hold=3", "no step of that name; steps: hamstring stretch, dead bug"),
        ("dead bug.colour=3", "a reps step has no 'colour'; keys:"),
        ("hold=3", "write STEP.KEY=VALUE"),
    ],
)
def test_an_unknown_step_or_key_is_refused_by_name(override: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        expanded(override)


def test_a_bad_value_is_refused_as_the_setting_not_as_the_script() -> None:
    with pytest.raises(BadValueError, match="a duration must be zero or more seconds") as caught:
        expanded("hamstring stretch.hold=-4")
    assert caught.value.what == "setting" and caught.value.value == "hamstring stretch.hold=-4"
    with pytest.raises(BadValueError, match="expected a duration"):
        parse_session(SCRIPT, overrides=["pacing.release=forever"])


def test_a_side_of_a_step_is_set_on_its_own() -> None:
    steps = expanded("hamstring stretch (left).hold=45")
    right, left = [s for s in steps if isinstance(s, Hold)]
    assert (right.seconds_s, left.seconds_s) == (30, 45)
    steps = expanded("hamstring:right.hold=20")
    right, left = [s for s in steps if isinstance(s, Hold)]
    assert (right.seconds_s, left.seconds_s) == (20, 30)


def test_a_step_is_set_by_the_number_show_gives_it() -> None:
    steps = expanded("2.hold=50")  # step 2 is the left side of the hamstring stretch
    right, left = [s for s in steps if isinstance(s, Hold)]
    assert (right.seconds_s, left.seconds_s) == (30, 50)
    with pytest.raises(BadValueError, match="the session has steps 1 to 4"):
        expanded("9.hold=50")


def test_a_repeat_block_is_set_by_its_name() -> None:
    script = SCRIPT.replace('kind = "repeat"\n', 'kind = "repeat"\nname = "core"\n')
    session = parse_session(script, overrides=["core.times=3"])
    assert sum(isinstance(s, Reps) for s in expand_session(session)) == 3


def test_a_per_side_value_in_the_script_changes_that_side() -> None:
    script = SCRIPT.replace(
        "seconds = 30\n", "seconds = 30\n[steps.per_side.left]\nseconds = 40\n", 1
    )
    right, left = [s for s in expand_session(parse_session(script)) if isinstance(s, Hold)]
    assert (right.seconds_s, left.seconds_s) == (30, 40)


def test_overrides_reach_bundled_sessions_by_name() -> None:
    session = load_session("back-loosening", overrides=["hamstring.hold=45"])
    holds = [s for s in expand_session(session) if s.name == "hamstring stretch"]
    assert [h.seconds_s for h in holds] == [45, 45]
