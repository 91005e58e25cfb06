"""The limits of loosen.script.limits: each is checked before any synthesis, at its value
exactly, and named in the message."""

from dataclasses import replace
from pathlib import Path

import pytest

from loosen.errors import BadInputError, ScriptError
from loosen.plan.expand import expand_session
from loosen.plan.pace import Pace
from loosen.script.limits import (
    MAX_EXPANDED_STEPS,
    MAX_REPEAT_DEPTH,
    MAX_SCRIPT_BYTES,
    MAX_SESSION_H_ENV,
    MAX_TEXT_CHARS,
    MAX_TOML_DEPTH,
    max_session_s,
    session_floor_s,
)
from loosen.script.loading import load_session, parse_session

HEADER = 'title = "T"\n'


def load(body: str) -> list:  # type: ignore[type-arg]
    return expand_session(parse_session((HEADER + body).encode(), path=Path("long.toml")))


def refusal(body: str) -> str:
    with pytest.raises(ScriptError) as caught:
        load(body)
    return str(caught.value)


def holds(count: int, seconds: float) -> str:
    """A repeat of ``count`` silent holds of ``seconds`` each."""
    return (
        f'[pacing]\ngap = 0\n[[steps]]\nkind = "repeat"\nname = "holds"\ntimes = {count}\n'
        f'[[steps.steps]]\nkind = "pause"\nseconds = {seconds}\n'
    )


# ---------------------------------------------------------------- session length
def test_the_session_length_limit_is_six_hours_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_SESSION_H_ENV, raising=False)
    assert max_session_s() == 6 * 3600


def test_a_session_of_exactly_six_hours_of_silence_is_accepted() -> None:
    assert len(load(holds(6, 3600))) == 6


def test_a_session_one_second_over_six_hours_is_refused_naming_the_limit() -> None:
    message = refusal(holds(6, 3600) + '[[steps]]\nkind = "pause"\nseconds = 1\n')
    assert message == (
        "long.toml: step 1 'holds': the session would last at least 6 h 0 min 1 s; the limit "
        f"is 6 h ({MAX_SESSION_H_ENV} sets it, up to 24 h)"
    )


def test_a_script_asking_for_a_hundred_thousand_hours_is_refused_naming_the_limit() -> None:
    # how cheaply: tests/test_limits_costs.py
    message = refusal(
        '[[steps]]\nkind = "repeat"\ntimes = 1000\n[[steps.steps]]\nkind = "repeat"\n'
        'times = 5\n[[steps.steps.steps]]\nkind = "hold"\ntext = "Hold."\nseconds = "5h"\n'
    )
    assert "the session would last at least 25001 h; the limit is 6 h" in message


def test_the_environment_variable_raises_the_session_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_SESSION_H_ENV, "8")
    assert len(load(holds(7, 3600))) == 7
    assert "the limit is 8 h" in refusal(holds(9, 3600))


@pytest.mark.parametrize("value", ["abc", "0", "-1", "25", "nan", "inf"])
def test_an_unusable_session_limit_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(MAX_SESSION_H_ENV, value)
    with pytest.raises(BadInputError, match=f"{MAX_SESSION_H_ENV}=.*give a number of hours"):
        load(holds(1, 60))


def test_one_duration_longer_than_the_session_limit_is_refused_where_it_is_written() -> None:
    message = refusal('[[steps]]\nkind = "pause"\nseconds = "7h"\n')
    assert message == "long.toml: step 1, key 'seconds': '7h' is longer than the limit of 6 h"


def test_the_length_estimate_counts_silences_and_speech_but_never_more_than_they_last() -> None:
    session = parse_session(
        (
            HEADER + '[pacing]\ngap = "1s"\ntransition = "5s"\n'
            '[[steps]]\nkind = "hold"\ntext = "Hold."\nseconds = 20\nsides = ["right", "left"]\n'
            '[[steps]]\nkind = "reps"\ntext = "Go."\ncount = "10-20"\ncadence = 2\n'
            '[[steps]]\nkind = "breathe"\ncycles = 2\ninhale = 4\nexhale = 6\n'
            '[[steps]]\nkind = "tense_release"\nname = "hands"\ntense = 5\nrelease = 20\n'
        ).encode()
    )
    hold = 2 * (20 + 0.05 + 1) + 5  # both sides, their words and gaps, the transition
    reps = 10 * 2 + 0.03 + 1  # the low end of the range
    assert session_floor_s(session.steps, session.pacing) == pytest.approx(hold + reps + 20 + 25)


def test_expanding_with_a_longer_pacing_checks_the_length_again() -> None:
    session = parse_session((HEADER + holds(5, 3600).replace("seconds = 3600", "")).encode())
    longer = replace(session.pacing, rest_s=3 * 3600)
    with pytest.raises(ScriptError, match="the session would last at least 15 h"):
        expand_session(session, longer)


def test_a_faster_pace_shortens_the_estimate_and_a_slower_one_never_refuses_it() -> None:
    session = parse_session((HEADER + holds(5, 3600)).encode())
    assert session_floor_s(session.steps, session.pacing, silence_factor=0.5) == 2.5 * 3600
    assert session_floor_s(session.steps, session.pacing, silence_factor=4.0) == 5 * 3600
    assert len(expand_session(session, pace=Pace(4.0))) == 5


# ---------------------------------------------------------------- expanded steps
def says(times: int, per_round: int) -> str:
    body = f'[[steps]]\nkind = "repeat"\nname = "many"\ntimes = {times}\n'
    return body + '[[steps.steps]]\nkind = "say"\ntext = "Again."\n' * per_round


def test_a_session_of_exactly_the_step_limit_expands() -> None:
    assert len(load(says(MAX_EXPANDED_STEPS // 5, 5))) == MAX_EXPANDED_STEPS == 5000


def test_one_step_past_the_step_limit_is_refused_naming_the_limit() -> None:
    body = says(MAX_EXPANDED_STEPS // 5, 5) + '[[steps]]\nkind = "say"\ntext = "One more."\n'
    assert refusal(body) == (
        "long.toml: step 1 'many': the session expands to at least 5001 steps; the limit is 5000"
    )


# ---------------------------------------------------------------- text length
def say(text: str) -> str:
    return f'[[steps]]\nkind = "say"\nname = "n"\ntext = "{text}"\n'


def test_a_line_of_exactly_the_text_limit_is_accepted() -> None:
    assert len(load(say("a" * MAX_TEXT_CHARS))[0].text) == MAX_TEXT_CHARS == 2000


def test_a_line_one_character_past_the_text_limit_is_refused_naming_the_limit() -> None:
    assert refusal(say("a" * 2001)) == (
        "long.toml: step 1 'n', key 'text': text is 2001 characters; the limit is 2000"
    )


def test_a_line_that_passes_the_text_limit_once_filled_in_is_refused() -> None:
    body = say("{name}" * 300).replace('name = "n"', f'name = "{"x" * 10}"')
    assert "the line is 3000 characters once its variables are filled in; the limit is 2000" in (
        refusal(body)
    )


# ---------------------------------------------------------------- repeat nesting
def nested_repeats(depth: int) -> str:
    body, table = "", "steps"
    for _ in range(depth):
        body += f'[[{table}]]\nkind = "repeat"\ntimes = 2\n'
        table += ".steps"
    return body + f'[[{table}]]\nkind = "pause"\nseconds = 1\n'


def test_repeats_nested_to_the_limit_are_accepted() -> None:
    assert len(load(nested_repeats(MAX_REPEAT_DEPTH))) == 2**MAX_REPEAT_DEPTH == 16


def test_repeats_nested_past_the_limit_are_refused_naming_the_limit() -> None:
    assert refusal(nested_repeats(5)) == (
        "long.toml: step 1 ([[steps]] table 1.1.1.1.1): repeat blocks nest deeper than the "
        "limit of 4"
    )


def test_toml_nested_past_its_limit_is_refused_before_the_overrides_walk_it() -> None:
    deep = "[" * MAX_TOML_DEPTH + "]" * MAX_TOML_DEPTH
    with pytest.raises(ScriptError) as caught:
        parse_session(f"{HEADER}title2 = {deep}\n", overrides=["x.seconds=1"])
    assert str(caught.value) == "<script>: key 'title2': arrays and tables nest more than 24 deep"


# ---------------------------------------------------------------- file size
def test_a_script_of_exactly_the_size_limit_loads(tmp_path: Path) -> None:
    script = (HEADER + say("Hello.")).encode()
    path = tmp_path / "padded.toml"
    path.write_bytes(script + b"#" * (MAX_SCRIPT_BYTES - len(script) - 1) + b"\n")
    assert path.stat().st_size == MAX_SCRIPT_BYTES == 1_000_000
    assert load_session(path).title == "T"


def test_a_script_one_byte_past_the_size_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "padded.toml"
    path.write_bytes((HEADER + say("Hello.")).encode().ljust(MAX_SCRIPT_BYTES + 1, b"\n"))
    with pytest.raises(ScriptError) as caught:
        load_session(path)
    assert str(caught.value) == (
        f"{path}: the file is 1,000,001 bytes; the limit for a script is 1,000,000 bytes"
    )
