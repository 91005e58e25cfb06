import pytest

from loosen.errors import BadInputError, ScriptError
from loosen.expand import Hold, Reps, expand_session
from loosen.script import load_session, parse_session

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
    return expand_session(parse_session(SCRIPT, overrides=overrides))


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
        ("nope.hold=3", "no step named 'nope'; steps: hamstring stretch, dead bug"),
        ("dead bug.colour=3", "a reps step has no 'colour'; keys:"),
        ("hold=3", "write STEP.KEY=VALUE"),
    ],
)
def test_an_unknown_step_or_key_is_refused_by_name(override: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        expanded(override)


def test_a_bad_value_is_refused_like_one_written_in_the_script() -> None:
    with pytest.raises(ScriptError, match="key 'seconds'"):
        expanded("hamstring stretch.hold=-4")
    with pytest.raises(ScriptError, match=r"pacing\.release"):
        parse_session(SCRIPT, overrides=["pacing.release=forever"])


def test_overrides_reach_bundled_sessions_by_name() -> None:
    session = load_session("back-loosening", overrides=["hamstring.hold=45"])
    holds = [s for s in expand_session(session) if s.name == "hamstring stretch"]
    assert [h.seconds_s for h in holds] == [45, 45]
