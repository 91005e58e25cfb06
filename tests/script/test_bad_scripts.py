"""A corpus of malformed scripts (tests/data/bad/, one file per fault, named by the fault): each
is refused, while loading or expanding, with the project's own error, in one printable line
that names the file and the place."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loosen.errors import BadInputError, ScriptError
from loosen.plan.expand import expand_session
from loosen.script.limits import MAX_SCRIPT_BYTES
from loosen.script.loading import load_session, parse_session

HERE = Path(__file__).parent.parent
BAD = HERE / "data" / "bad"
SRC = HERE.parent / "src"

# file -> what its message says after "<path>: ", place included
EXPECTED = {
    # TOML syntax
    "syntax-unclosed-string.toml": "line 1, column 13: TOML syntax: Illegal character",
    "syntax-unclosed-array.toml": "line 3, end of file: TOML syntax: Invalid value",
    "syntax-double-equals.toml": "line 2, column 9: TOML syntax: Invalid value",
    "syntax-duplicate-key.toml": "line 2, column 16: TOML syntax: Cannot overwrite a value",
    "syntax-missing-value.toml": "line 1, column 8: TOML syntax: Invalid value",
    "syntax-unclosed-table-header.toml": "line 3, column 8: TOML syntax: Expected ']]'",
    "syntax-bare-word-value.toml": "line 4, column 8: TOML syntax: Invalid value",
    "syntax-table-defined-twice.toml": "line 4, column 8: TOML syntax: Cannot declare ('pacing',)",
    "syntax-bad-escape.toml": "line 5, column 13: TOML syntax: Unescaped '\\' in a string",
    "syntax-dotted-key-too-long.toml": "line 2, column 1: a dotted key has more than 24 parts",
    "syntax-number-too-long.toml": "line 5, column 11: TOML syntax: a number has too many digits",
    "syntax-arrays-nested-too-deep.toml": "line 2, column 29: TOML syntax: arrays or tables nest "
    "more than 24 deep",
    # wrong types
    "seconds-is-a-word.toml": "step 1 'reach', key 'seconds': expected a duration such as 30, "
    "'30s' or '1m30s', got 'long'",
    "seconds-is-a-date.toml": "step 1, key 'seconds': expected a duration such as 30 or '1m30s', "
    "got a date",
    "seconds-is-true.toml": "step 1, key 'seconds': expected a duration such as 30 or '1m30s', "
    "got true",
    "text-is-a-list.toml": "step 1, key 'text': expected text, got a list",
    "text-is-a-number.toml": "step 1, key 'text': expected text, got a number",
    "steps-is-a-table.toml": "key 'steps': expected a non-empty list of steps ([[steps]] tables)",
    "step-is-a-number.toml": "step 1: expected a table, got a number",
    "pacing-is-a-list.toml": "key 'pacing': expected a table [pacing], got a list",
    "title-is-a-number.toml": "key 'title': expected text, got a number",
    "count-is-a-fraction.toml": "step 1 'squats', key 'count': expected a whole number, got 2.5",
    "sides-is-text.toml": 'step 1, key \'sides\': expected two sides, such as ["right", "left"]',
    "times-is-text.toml": "step 1, key 'times': expected a whole number, got text",
    "kind-is-a-list.toml": "step 1, key 'kind': kind is a list; kinds: say, pause, hold",
    "cue-is-a-number.toml": "cues.hold_end: expected a recipe name or a WAV file path, got 3",
    "mix-level-is-text.toml": "mix.voice_db: expected a number of dB, got text",
    # zero, negative and absurd durations
    "zero-hold.toml": "step 1 'reach', key 'seconds': must be at least 0.05 s, got 0",
    "negative-hold.toml": "step 1 'reach', key 'seconds': a duration must be zero or more seconds, "
    "got -5",
    "zero-pause-as-text.toml": "step 1, key 'seconds': must be at least 0.05 s, got '0s'",
    "absurd-hours.toml": "step 1, key 'seconds': '99999h' is longer than the limit of 6 h",
    "seventy-seconds-after-minutes.toml": "step 1, key 'seconds': '1m70s' has 60 or more "
    "seconds; write '2m10s'",
    "nan-seconds.toml": "step 1, key 'seconds': a duration must be zero or more seconds, got nan",
    "inf-seconds.toml": "step 1, key 'seconds': a duration must be finite, zero or more seconds, "
    "got inf",
    "minus-inf-release.toml": "step 1 'hands', key 'release': a duration must be zero or more "
    "seconds, got -inf",
    "huge-integer-seconds.toml": "step 1, key 'seconds': a duration must be finite, zero or more "
    "seconds, got a number of about 400 digits",
    "negative-gap.toml": "pacing.gap: a duration must be zero or more seconds, got -1",
    "cadence-too-short.toml": "step 1 'taps', key 'cadence': must be at least 0.2 s, got 0.01",
    # unknown kinds and keys
    "unknown-kind.toml": "step 1, key 'kind': unknown kind 'dance'; kinds: say, pause, hold",
    "missing-kind.toml": "step 1: missing 'kind' (one of say, pause",
    "unknown-top-level-key.toml": "key 'author': unknown key 'author'; allowed: cues, description",
    "unknown-pacing-key.toml": "pacing.speed: unknown key 'speed'; allowed: breath_hold, cadence",
    "unknown-step-key.toml": "step 1 'hello', key 'colour': unknown key 'colour'; allowed: name, "
    "per_side, sides, switch_text, text, wait for a say step",
    "wait-number.toml": "step 1 'lie down', key 'wait': expected true, false or a line to say, "
    "got a number",
    "wait-on-repeat.toml": "step 1 'rounds', key 'wait': a repeat step does not wait; give "
    "wait to the first step it repeats",
    "wait-empty.toml": "step 1 'lie down', key 'wait': text is empty",
    "unknown-template-key.toml": "templates.stretch: unknown key 'stretch'; allowed: release, "
    "tense",
    "key-of-another-kind.toml": "step 1, key 'seconds': unknown key 'seconds'",
    # variables
    "variable-attribute.toml": "step 1 'hi', key 'text': unknown variable {side.__class__} in text",
    "variable-index.toml": "step 1 'hi', key 'text': unknown variable {side[0]} in text",
    "variable-positional.toml": "step 1, key 'text': unknown variable {0} in text",
    "variable-empty.toml": "step 1, key 'text': unknown variable {} in text",
    "variable-format-spec.toml": "step 1, key 'text': unknown variable {side:>99999999} in text",
    "variable-conversion.toml": "step 1, key 'text': unknown variable {side!r} in text",
    "variable-unknown.toml": "step 1, key 'text': unknown variable {colour} in text; known: "
    "{count}, {name}, {other_side}, {rep}, {seconds}, {side}",
    "brace-unclosed.toml": "step 1, key 'text': unbalanced braces in text",
    "brace-stray-closing.toml": "step 1, key 'text': unbalanced braces in text",
    "variable-without-value.toml": "step 1 'intro', key 'text': {side} has no value here (only "
    "steps with `sides` have a side)",
    "variable-in-name.toml": "step 1 '{side} arm', key 'name': braces are not allowed here",
    "variable-in-template.toml": "templates.tense: unknown variable {muscle} in text",
    "filled-line-too-long.toml": "key 'text': the line is 3002 characters once its variables are "
    "filled in; the limit is 2000",
    # text
    "empty-text.toml": "step 1, key 'text': text is empty",
    "whitespace-only-text.toml": "step 1, key 'text': text is empty",
    "text-too-long.toml": "step 1, key 'text': text is 2001 characters; the limit is 2000",
    "bell-in-text.toml": "step 1, key 'text': text contains control characters: '\\x07' at "
    "character 6",
    "escape-sequence-in-name.toml": "step 1 '\\x1b[31mred', key 'name': text contains control "
    "characters: '\\x1b' at character 1",
    "escape-sequence-in-unknown-key.toml": "key '\\x1b]0;pwned\\x07': unknown key",
    "c1-control-in-text.toml": "step 1, key 'text': text contains control characters: '\\x9b'",
    "bidi-override-in-name.toml": "step 1 '\\u202eevil', key 'name': text contains control "
    "characters: '\\u202e'",
    "nul-in-cue-path.toml": "cues.hold_end: 'bell\\x00.wav' is not a usable recipe name or file",
    # sides
    "sides-list-of-one.toml": "step 1, key 'sides': expected two sides, such as [\"right\", ",
    "duplicate-sides.toml": "step 1, key 'sides': the two sides must differ",
    "three-sides.toml": "step 1, key 'sides': expected two sides",
    "switch-text-without-sides.toml": "step 1, key 'switch_text': switch_text needs sides",
    # counts, nesting and the size of the session
    "repeat-times-huge.toml": "step 1, key 'times': must be from 1 to 1000, got 100000",
    "repeat-times-zero.toml": "step 1, key 'times': must be from 1 to 1000, got 0",
    "repeat-nested-too-deep.toml": "step 1 ([[steps]] table 1.1.1.1.1): repeat blocks nest "
    "deeper than the limit of 4",
    "repeat-without-steps.toml": "step 1: expected a non-empty list of steps",
    "reps-count-huge.toml": "step 1 'squats', key 'count': must be from 1 to 1000, got 1000000",
    "reps-range-reversed.toml": "step 1 'squats', key 'count': range '20-15' must rise from 1 to "
    "at most 1000",
    "reps-range-huge.toml": "step 1 'squats', key 'count': range '1-99999999999999' must rise",
    "breathe-cycles-zero.toml": "step 1 'calm', key 'cycles': must be from 1 to 1000, got 0",
    "too-many-expanded-steps.toml": "step 1 'forever': the session expands to at least 10000 "
    "steps; the limit is 5000",
    "session-too-long.toml": "step 2 'long': the session would last at least 2778 h; the limit "
    "is 6 h",
    "session-too-long-in-reps.toml": "step 1 'slow squats': the session would last at least 17 h; "
    "the limit is 6 h",
    # encodings and empty files
    "not-utf8.toml": "line 5: not UTF-8 text (byte 46)",
    "latin-1.toml": "line 5: not UTF-8 text (byte 49)",
    "utf-16.toml": "line 1: the file is UTF-16 text; save it as UTF-8",
    "empty-file.toml": "the script is empty; it needs a title and a list of [[steps]]",
    "comments-only.toml": "the script is empty",
    "title-only.toml": "key 'steps': a script needs a list of [[steps]]",
    "steps-empty-list.toml": "key 'steps': expected a non-empty list of steps",
    "missing-title.toml": "header: missing 'title'",
}


def refusal(path: Path) -> str:
    """The message that loading and expanding ``path`` is refused with."""
    with pytest.raises(BadInputError) as caught:
        expand_session(load_session(path))
    return str(caught.value)


def assert_one_harmless_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message
    assert message.isprintable(), repr(
        message
    )  # no escape, bell or bidi control reaches a terminal


def test_the_corpus_and_its_table_list_the_same_files() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 45


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_script_is_refused_in_one_line_naming_the_file_and_the_place(name: str) -> None:
    path = BAD / name
    message = refusal(path)
    assert_one_harmless_line(message)
    assert message.startswith(f"{path}: "), message
    assert EXPECTED[name] in message, message


def test_a_ten_megabyte_text_is_refused_by_the_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge-text.toml"
    path.write_text('title = "Huge"\n[[steps]]\nkind = "say"\ntext = "' + "a" * 10_000_000 + '"\n')
    message = refusal(path)
    assert message == (
        f"{path}: the file is {path.stat().st_size:,} bytes; the limit for a script is "
        f"{MAX_SCRIPT_BYTES:,} bytes"
    )


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    assert refusal(path) == f"{path}: no such file"


def test_a_folder_given_as_a_script_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "scripts.toml"
    folder.mkdir()
    assert refusal(folder) == f"{folder}: is a folder, not a session script"


def test_a_file_name_too_long_for_the_file_system_is_refused_as_unreadable(tmp_path: Path) -> None:
    message = refusal(tmp_path / ("x" * 5000 + ".toml"))
    assert "cannot read" in message
    assert_one_harmless_line(message)


def test_a_terminal_escape_in_the_file_name_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "\x1b[2Jbad.toml"
    path.write_text('title = "T"\n[[steps]]\nkind = "dance"\n')
    message = refusal(path)
    assert_one_harmless_line(message)
    assert "\\x1b[2Jbad.toml: step 1, key 'kind': unknown kind 'dance'" in message


# ---------------------------------------------------------------- what is accepted
MINIMAL = 'title = "T"\n[[steps]]\nkind = "say"\ntext = "Hello."\n'


def test_a_utf8_bom_from_a_windows_editor_is_accepted() -> None:
    session = parse_session(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert session.title == "T"
    assert expand_session(session)[0].text == "Hello."  # type: ignore[attr-defined]


def test_windows_line_endings_are_accepted_with_a_bom_or_without() -> None:
    crlf = MINIMAL.replace("\n", "\r\n").encode()
    assert parse_session(crlf).title == "T"
    assert parse_session(b"\xef\xbb\xbf" + crlf).title == "T"


def test_a_multiline_text_with_tabs_and_accents_is_accepted() -> None:
    text = MINIMAL.replace('"Hello."', '"""Breathe\tin,\r\nlet the café go."""')
    (step,) = expand_session(parse_session(text.encode()))
    assert step.text == "Breathe in, let the café go."  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the command line
CLI_CASES = {
    "syntax-unclosed-string.toml": "line 1, column 13: TOML syntax",
    "escape-sequence-in-name.toml": "step 1 '\\x1b[31mred', key 'name': text contains control",
    "session-too-long.toml": "the session would last at least 2778 h; the limit is 6 h",
    "not-utf8.toml": "line 5: not UTF-8 text",
    "variable-without-value.toml": "step 1 'intro', key 'text': {side} has no value here",
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_check_refuses_a_bad_script_with_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, name: str
) -> None:
    script = tmp_path / name
    shutil.copyfile(BAD / name, script)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "loosen", "check", name],
        cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"Error: {name}: "), err
    assert CLI_CASES[name] in err
    assert "\x1b" not in err and "Traceback" not in err
    assert done.stdout == b""
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_the_corpus_errors_are_script_errors() -> None:
    """A script's faults are ScriptErrors (exit code 2), not some other bad input."""
    for name in ("zero-hold.toml", "session-too-long.toml", "not-utf8.toml"):
        with pytest.raises(ScriptError) as caught:
            expand_session(load_session(BAD / name))
        assert caught.value.exit_code == 2


# ---------------------------------------------------------------- how messages show values
@pytest.mark.parametrize(
    ("written", "suggestion"),
    [("1m70s", "'2m10s'"), ("1h70m", "'2h10m'"), ("1h5m70s", "'1h6m10s'"), ("1m60.5s", "'2m0.5s'")],
)
def test_sixty_or_more_after_a_larger_unit_is_refused_with_the_right_spelling(
    written: str, suggestion: str
) -> None:
    from loosen.script.durations import parse_duration_s

    with pytest.raises(ValueError, match=f"; write {suggestion}$"):
        parse_duration_s(written)


def test_a_value_in_a_message_is_cut_short_and_a_python_repr_never_shows() -> None:
    import datetime

    from loosen.errors import shown

    assert shown("x" * 10_000_000) == "'" + "x" * 35 + "...'"
    assert shown(10**400) == "a number of about 400 digits"
    assert shown(float("nan")) == "nan"
    assert shown(datetime.date(1979, 5, 27)) == "a date"
    assert shown(["a"]) == "a list"


def test_a_message_escapes_what_a_terminal_would_act_on() -> None:
    error = ScriptError("unknown kind '\x1b[2J\x07\u202e'", path="a\x9bb.toml", where="step 1")
    assert str(error) == "a\\x9bb.toml: step 1: unknown kind '\\x1b[2J\\x07\\u202e'"
