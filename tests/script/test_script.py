from pathlib import Path

import pytest

from loosen.errors import ScriptError
from loosen.script.loading import (
    Pacing,
    bundled_scripts,
    load_session,
    parse_session,
    resolve_script,
)

HERE = Path(__file__).parent.parent
SCRIPTS = HERE.parent / "scripts"

MINIMAL = b'title = "T"\n[[steps]]\nkind = "say"\ntext = "Hello."\n'


def test_a_minimal_script_loads_with_default_pacing() -> None:
    session = parse_session(MINIMAL)
    assert session.title == "T"
    assert session.pacing == Pacing()
    assert [s.kind for s in session.steps] == ["say"]


def test_pacing_durations_are_converted_to_seconds() -> None:
    session = parse_session(MINIMAL + b'[pacing]\nhold = "1m30s"\ngap = 0\nreps = "high"\n')
    assert session.pacing.hold_s == 90.0
    assert session.pacing.gap_s == 0.0
    assert session.pacing.reps == "high"


def test_a_bom_at_the_start_is_ignored() -> None:
    assert parse_session(b"\xef\xbb\xbf" + MINIMAL).title == "T"


def test_every_bundled_session_loads() -> None:
    names = set(bundled_scripts())
    assert {"back-loosening", "pmr-16", "pmr-7", "pmr-4", "stretch-quick"} <= names
    for name in names:
        assert load_session(name).steps


def test_a_bundled_session_is_found_by_name() -> None:
    assert (
        resolve_script("pmr-16") == (SCRIPTS / "pmr-16.toml").resolve()
        or resolve_script("pmr-16").name == "pmr-16.toml"
    )


def test_repeat_steps_hold_their_children() -> None:
    text = MINIMAL + b'[[steps]]\nkind = "repeat"\ntimes = 3\n[[steps.steps]]\nkind = "pause"\n'
    (_, repeat) = parse_session(text).steps
    assert repeat.values["times"] == 3
    assert [c.kind for c in repeat.children] == ["pause"]


def _error(data: bytes, path: Path | None = None) -> str:
    with pytest.raises(ScriptError) as caught:
        parse_session(data, path=path)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'title = "T"\nsteps = [\n', "line 3, end of file"),
        (b'title = "T"\nsteps = = 1\n', "line 2, column 9"),
        (b'title = "T"\n[[steps]]\nkind = "dance"\n', "step 1, key 'kind': unknown kind 'dance'"),
        (b'title = "T"\n[[steps]]\ntext = "x"\n', "step 1: missing 'kind'"),
        (b'title = "T"\n[[steps]]\nkind = "say"\n', "step 1: a say step needs 'text'"),
        (b'title = "T"\n[[steps]]\nkind = "say"\ntext = ""\n', "key 'text': text is empty"),
        (
            b'title = "T"\n[[steps]]\nkind = "say"\nname = "hi"\ntext = "{side.__class__}"\n',
            "step 1 'hi', key 'text': unknown variable {side.__class__}",
        ),
        (
            b'title = "T"\n[[steps]]\nkind = "hold"\ntext = "x"\nseconds = -3\n',
            "step 1, key 'seconds'",
        ),
        (b'title = "T"\n[[steps]]\nkind = "hold"\ntext = "x"\nseconds = 0\n', "at least"),
        (b'title = "T"\n[[steps]]\nkind = "say"\ntext = "x"\ncolour = 1\n', "unknown key 'colour'"),
        (b'title = "T"\n[[steps]]\nkind = "say"\ntext = "x"\nsides = ["left"]\n', "two sides"),
        (b'title = "T"\n[[steps]]\nkind = "reps"\ntext = "x"\ncount = "20-15"\n', "range"),
        (b'title = "T"\n[[steps]]\nkind = "repeat"\ntimes = 2\n', "non-empty list of steps"),
        (b'title = "T"\n[pacing]\nhold = "forever"\n[[steps]]\nkind = "pause"\n', "pacing.hold"),
        (b'title = "T"\n[pacing]\nspeed = 2\n[[steps]]\nkind = "pause"\n', "pacing.speed"),
        (b'title = "T"\n', "needs a list of [[steps]]"),
        (b'description = "no title"\n[[steps]]\nkind = "pause"\n', "missing 'title'"),
        (b'title = "T"\nauthor = "me"\n[[steps]]\nkind = "pause"\n', "unknown key 'author'"),
        (b'title = "T"\n[[steps]]\nkind = "say"\ntext = "\xff"\n', "not UTF-8"),
        (b'title = "T"\nrate_wpm = 5\n[[steps]]\nkind = "pause"\n', "rate_wpm"),
        (b'title = "T"\n[[steps]]\nkind = "say"\ntext = "a\\u0007b"\n', "control characters"),
    ],
)
def test_bad_scripts_get_one_line_naming_the_file_and_the_place(body: bytes, expected: str) -> None:
    message = _error(body, path=Path("bad.toml"))
    assert message.startswith("bad.toml: ")
    assert expected in message


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    text = b'title = "T"\n'
    prefix = "steps"
    for _ in range(10):
        text += f'[[{prefix}]]\nkind = "repeat"\ntimes = 1\n'.encode()
        prefix += ".steps"
    text += f'[[{prefix}]]\nkind = "pause"\n'.encode()
    assert "nest deeper" in _error(text)


def test_a_folder_or_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="is a folder"):
        load_session(tmp_path)
    with pytest.raises(ScriptError, match="no such file"):
        load_session(tmp_path / "missing.toml")
    with pytest.raises(ScriptError, match="no script file or session named 'nope'"):
        load_session("nope")


# ---------------------------------------------------------------- properties of the loader
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from loosen.plan.expand import expand_session  # noqa: E402
from loosen.script.loading import session_from_dict  # noqa: E402

KEYS = ["kind", "name", "text", "seconds", "sides", "count", "times", "steps", "cadence", "cue",
        "halfway", "countdown", "tense", "release", "release_text", "title", "pacing", "hold",
        "guide", "cycles", "inhale", "exhale", "x", "{side}"]  # fmt: skip
scalars = st.one_of(
    st.sampled_from(["say", "pause", "hold", "reps", "breathe", "tense_release", "repeat",
                     "30s", "1m", "15-20", "{side}", "{name}", "{x.y}", "right", "", "ticks"]),
    st.integers(-5, 50), st.floats(allow_nan=True), st.booleans(), st.text(max_size=12),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)
step_tables = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
documents = st.fixed_dictionaries(
    {"title": st.one_of(st.just("T"), values)},
    optional={"steps": st.lists(step_tables, max_size=4), "pacing": values,
              "templates": values, "cues": values},
)  # fmt: skip


@settings(max_examples=300)
@given(documents)
def test_any_document_either_loads_or_raises_a_script_error(document: dict) -> None:  # type: ignore[type-arg]
    message = ""
    try:
        expand_session(session_from_dict(document))
    except ScriptError as error:
        message = str(error)
    assert "\n" not in message


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_either_load_or_raise_a_script_error(data: bytes) -> None:
    message = ""
    try:
        parse_session(data)
    except ScriptError as error:
        message = str(error)
    assert "\n" not in message
