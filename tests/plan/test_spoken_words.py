"""What the voice says is true: for every bundled session, however it is paced, a number of
seconds that a line speaks is the length of the hold it describes, a switch of sides names the
side that comes next, no instruction is read out word for word again and again, and a held
breath stays short. Checked on the timelines `loosen show --json` prints (the real speech
engine measures every line)."""

import json
import re
from functools import cache
from typing import Any

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from loosen.plan.expand import TenseRelease, expand_session
from loosen.script.library import bundled_scripts
from loosen.script.loading import load_session
from loosen.tts.clips import split_sentences

SESSIONS = sorted(bundled_scripts())
PACES = ["0.25", "0.5", "brisk", "gentle", "2", "4"]
FIT_SHARES = [0.8, 1.35]  # targets as shares of the session's length as written
RATE = 48_000

_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
_WORDS += "fifteen sixteen seventeen eighteen nineteen twenty"
NUMBER_WORDS = {word: value for value, word in enumerate(_WORDS.split())}
NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
SPOKEN_LENGTH = re.compile(
    r"\b(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")\s+(seconds?|minutes?)\b", re.IGNORECASE
)


@cache
def timeline(session: str, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["show", session, "--json", *options])
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def spoken_lengths(document: dict[str, Any]) -> list[tuple[int, float, str]]:
    """Every length a line speaks: (its step, the length in seconds, the line)."""
    found = []
    for event in document["events"]:
        if event["kind"] != "speech":
            continue
        for number, unit in SPOKEN_LENGTH.findall(event["text"]):
            value = NUMBER_WORDS.get(number.lower()) or float(number)
            scale = 60 if unit.lower().startswith("minute") else 1
            found.append((event["step"], value * scale, event["text"]))
    return found


def hold_lengths(document: dict[str, Any], step: int) -> list[float]:
    """The holds (or tension) of ``step``, in seconds, exact to the frame."""
    rate = document["sample_rate"]
    return [
        round((e["end_s"] - e["start_s"]) * rate) / rate
        for e in document["events"]
        if e["kind"] == "hold" and e["step"] == step
    ]


def check_spoken_lengths_are_true(document: dict[str, Any]) -> int:
    checked = 0
    for step, seconds, line in spoken_lengths(document):
        holds = hold_lengths(document, step)
        assert holds, f"step {step} says {seconds:g} s but holds nothing: {line!r}"
        assert any(abs(hold - seconds) < 1 / RATE for hold in holds), (step, line, holds)
        checked += 1
    return checked


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("pace", PACES)
def test_every_length_a_line_says_is_the_length_of_its_hold_at_any_pace(
    session: str, pace: str
) -> None:
    written = timeline(session)
    paced = timeline(session, "--pace", pace)
    assert check_spoken_lengths_are_true(paced) == len(spoken_lengths(written))


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("share", FIT_SHARES)
def test_a_fitted_session_says_whole_seconds_that_are_true_and_lasts_its_target(
    session: str, share: float
) -> None:
    target_s = round(timeline(session)["duration_s"] * share)
    fitted = timeline(session, "--fit", f"{target_s}s")
    assert abs(fitted["duration_s"] - target_s) <= 1.0
    check_spoken_lengths_are_true(fitted)
    for _, seconds, line in spoken_lengths(fitted):
        assert seconds == int(seconds), line  # a length a person would say


def test_the_bundled_sessions_say_how_long_some_holds_last() -> None:
    # the checks above are not vacuous
    assert sum(len(spoken_lengths(timeline(session))) for session in SESSIONS) >= 4


@pytest.mark.parametrize("session", SESSIONS)
def test_every_switch_of_sides_names_the_side_that_comes_next(session: str) -> None:
    steps = expand_session(load_session(session))
    sides = {side for step in steps if step.side for side in [step.side]}
    for step in steps:
        if step.switch is None or step.switch.text is None:
            continue
        named = {side for side in sides if re.search(rf"\b{side}\b", step.switch.text)}
        assert named <= {step.side}, (step.index, step.switch.text, step.side)


def test_a_switch_text_speaks_of_the_coming_side_as_side_and_the_finished_one_as_other_side() -> (
    None
):
    from loosen.script.loading import parse_session

    session = parse_session(
        'title = "T"\n[[steps]]\nkind = "hold"\nname = "reach"\nsides = ["right", "left"]\n'
        'text = "Reach {side}."\nseconds = 20\n'
        'switch_text = "Shake out your {other_side} leg. Now the {side} leg."\n'
    )
    _, second = expand_session(session)
    assert second.switch is not None
    assert second.switch.text == "Shake out your right leg. Now the left leg."


def instructions(document: dict[str, Any]) -> list[str]:
    """The lines spoken on their own (not the counts and cues inside a hold, rep or breath)."""
    slots = [e for e in document["events"] if e["kind"] in ("hold", "rep", "breath")]
    return [
        e["text"]
        for e in document["events"]
        if e["kind"] == "speech"
        and not any(s["start_s"] <= e["start_s"] < s["end_s"] for s in slots)
    ]


@pytest.mark.parametrize("session", SESSIONS)
def test_no_instruction_is_read_out_word_for_word_more_than_twice(session: str) -> None:
    lines = instructions(timeline(session))
    # a release phrase sits in its release period: count those too
    lines += [
        e["text"]
        for e in timeline(session)["events"]
        if e["kind"] == "speech" and e["text"] not in lines and len(e["text"].split()) >= 6
    ]
    counts = {line: lines.count(line) for line in lines if len(line.split()) >= 6}
    assert max(counts.values()) <= 2, {line: n for line, n in counts.items() if n > 2}


@pytest.mark.parametrize("session", SESSIONS)
def test_a_breath_held_with_the_tension_is_let_out_within_ten_seconds(session: str) -> None:
    document = timeline(session)
    steps = expand_session(load_session(session))
    for step in steps:
        if not isinstance(step, TenseRelease) or "breath" not in step.text.lower():
            continue
        # asked for last, so it is held from the end of the line ...
        assert "breath" in split_sentences(step.text)[-1].lower(), step.text
        # ... and let out as the release begins
        assert "breathe out" in " ".join(split_sentences(step.release_text)[:2]).lower()
        (line,) = [
            e for e in document["events"] if e["step"] == step.index and e["text"] == step.text
        ]
        (release,) = [
            e
            for e in document["events"]
            if e["step"] == step.index and e["kind"] == "chime" and e["cue"] == "hold_end"
        ]
        assert release["start_s"] - line["end_s"] <= 8.0, step.name
