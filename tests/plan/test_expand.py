import pytest

from loosen.errors import ScriptError
from loosen.plan.expand import MAX_EXPANDED_STEPS, Hold, Reps, TenseRelease, expand_session
from loosen.script.loading import parse_session, session_from_dict

HEADER = 'title = "T"\n'


def expand(body: str) -> list:
    return expand_session(parse_session(HEADER + body))


def test_a_sided_step_becomes_one_copy_per_side_with_a_switch_before_the_second() -> None:
    steps = expand(
        '[[steps]]\nkind = "hold"\nname = "hamstring stretch"\nsides = ["right", "left"]\n'
        'text = "Reach for your {side} foot, not the {other_side}."\nseconds = 20\n'
        'switch_text = "Now the {side} side."\n'
    )
    first, second = steps
    assert isinstance(first, Hold) and isinstance(second, Hold)
    assert (first.side, second.side) == ("right", "left")
    assert first.text == "Reach for your right foot, not the left."
    assert second.text == "Reach for your left foot, not the right."
    assert first.switch is None
    assert second.switch is not None and second.switch.text == "Now the left side."
    assert [s.index for s in steps] == [1, 2]


def test_a_rep_range_resolves_by_the_pacing_choice() -> None:
    body = '[[steps]]\nkind = "reps"\ntext = "{count} times"\ncount = "15-20"\n'
    for pick, count in [("low", 15), ("middle", 18), ("high", 20)]:
        (step,) = expand(f'[pacing]\nreps = "{pick}"\n' + body)
        assert isinstance(step, Reps)
        assert step.count == count
        assert step.text == f"{count} times"
        assert step.rep_texts[-1] == str(count)


def test_tense_release_phrases_come_from_the_templates() -> None:
    (step,) = expand(
        '[templates]\ntense = "Squeeze your {name}."\n[pacing]\ntense = "7s"\nrelease = "35s"\n'
        '[[steps]]\nkind = "tense_release"\nname = "right hand"\n'
    )
    assert isinstance(step, TenseRelease)
    assert step.text == "Squeeze your right hand."
    assert step.release_text.startswith("And release. Let your right hand")
    assert (step.tense_s, step.release_s) == (7.0, 35.0)


def test_repeat_unrolls_its_block_and_numbers_steps_in_order() -> None:
    steps = expand(
        '[[steps]]\nkind = "repeat"\ntimes = 3\n'
        '[[steps.steps]]\nkind = "say"\ntext = "in"\n[[steps.steps]]\nkind = "pause"\n'
    )
    assert [s.kind for s in steps] == ["say", "pause"] * 3
    assert [s.index for s in steps] == list(range(1, 7))


def test_a_variable_with_no_value_in_its_step_names_the_step_and_key() -> None:
    with pytest.raises(ScriptError, match=r"step 1 'intro', key 'text': \{side\} has no value"):
        expand('[[steps]]\nkind = "say"\nname = "intro"\ntext = "Your {side} arm."\n')


def test_an_expansion_past_the_limit_is_refused_before_any_work() -> None:
    body = '[[steps]]\nkind = "repeat"\ntimes = 1000\n'
    body += (
        '[[steps.steps]]\nkind = "repeat"\ntimes = 1000\n[[steps.steps.steps]]\nkind = "pause"\n'
    )
    with pytest.raises(ScriptError, match=f"limit is {MAX_EXPANDED_STEPS}"):
        expand(body)


def test_a_wait_is_the_pacings_pause_scaled_by_the_pace_with_its_line_filled_in() -> None:
    from loosen.plan.expand import Wait
    from loosen.plan.pace import Pace

    document = {
        "title": "T",
        "pacing": {"wait": "4s"},
        "steps": [
            {"kind": "hold", "name": "twist", "sides": ["right", "left"], "text": "Twist {side}.",
             "seconds": 20, "wait": "Lie on your {side} side, then press play.",
             "per_side": {"left": {"wait": False}}},
            {"kind": "say", "text": "Sit up.", "wait": True},
            {"kind": "say", "text": "Done."},
        ],
    }  # fmt: skip
    right, left, sit, done = expand_session(session_from_dict(document))
    assert right.wait == Wait(seconds_s=4.0, text="Lie on your right side, then press play.")
    assert left.wait is None  # per_side turned it off for the second side
    assert sit.wait == Wait(seconds_s=4.0, text=None)
    assert done.wait is None
    slow = expand_session(session_from_dict(document), pace=Pace(factor=1.5))
    assert slow[2].wait == Wait(seconds_s=6.0, text=None)
