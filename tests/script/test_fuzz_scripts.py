"""Fuzzing the loader, the expander and the timeline: whatever a script holds, only the project's
own error (a `BadInputError`, in one printable line) ever escapes, or the session loads.

Three sources of input: TOML documents written from generated dicts (session-shaped, with valid
and random values of random types mixed), raw bytes (random, and edits of a valid script), and
``--set`` overrides. The session-length limit's estimate is checked too: it must never exceed
the length of the session laid out.

The default run is small (200 examples per test, a few seconds). For a long run, set
LOOSEN_FUZZ_EXAMPLES:

    LOOSEN_FUZZ_EXAMPLES=20000 PYTHONPATH=src:. python -m pytest -q -p no:cacheprovider \\
        tests/test_fuzz_scripts.py
"""

import datetime
import math
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loosen.errors import BadInputError, ScriptError
from loosen.plan.expand import expand_session
from loosen.plan.timeline import build_timeline
from loosen.script.limits import FASTEST_SPEECH_CHARS_PER_S, session_floor_s
from loosen.script.loading import STEP_KINDS, parse_session

HERE = Path(__file__).parent.parent
TINY = (HERE / "data" / "tiny.toml").read_bytes()

EXAMPLES = int(os.environ.get("LOOSEN_FUZZ_EXAMPLES", "200"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- a tiny TOML writer
def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """``value`` written as TOML, lists and tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(type(value))


def toml_document(document: dict[str, Any]) -> str:
    """A TOML document of one ``key = value`` line per key of ``document``."""
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in document.items())


def test_the_writer_writes_what_tomllib_reads_back() -> None:
    import tomllib

    document = {"a": ['\x1b\n"\\', 1.5, -3, True, float("inf")], "b": {"c d": {}}, "e": []}
    assert tomllib.loads(toml_document(document)) == document


# ---------------------------------------------------------------- session-shaped documents
scalars = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.times(),
    st.sampled_from(["{side}", "{x.y}", "{side!r}", "{side:>9}", "{}", "{0}", "{", "}", "{{}}",
                     "\x1b[31m", "\u202e", "1m70s", "99999h", "0s", "-5", "15-20", "20-15"]),
)  # fmt: skip
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)

DURATIONS = st.sampled_from([30, 2.5, "30s", "1m30s", "1m", 0.5, 1, "2s", 10])
TEXTS = st.sampled_from(["Hello.", "Good.", "Your {side} leg.", "Hold {seconds} s.",
                         "Rep {rep} of {count}.", "{name} now.", "{{calm}}"])  # fmt: skip
VALID = {  # a fitting value for each key a step may have
    **dict.fromkeys(["text", "release_text", "rep_text", "switch_text", "inhale_text",
                     "hold_text", "exhale_text"], TEXTS),
    **dict.fromkeys(["seconds", "cadence", "inhale", "hold", "exhale", "tense", "release"],
                    DURATIONS),
    "halfway": st.sampled_from(["chime", "Halfway.", "{seconds} s"]),
    "count": st.sampled_from([1, 3, "2-4", "15-20"]),
    "cycles": st.integers(1, 3),
    "times": st.integers(1, 3),
    "countdown": st.integers(0, 5),
    "countdown_style": st.sampled_from(["ticks", "spoken"]),
    "cue": st.sampled_from(["spoken", "ticks"]),
    "guide": st.sampled_from(["spoken", "tones"]),
    "name": st.sampled_from(["hands", "right arm"]),
    "sides": st.just(["right", "left"]),
}  # fmt: skip
# values at or past a limit, or malformed in the ways people get them wrong
TRICKY = st.sampled_from([
    0, "0s", -5, "6h", 21600, 21601, "1m70s", "99999h", 1000, 1001, "1-1000", "20-15", 10**30,
    ["left"], ["a", "a"], ["x", "y", "z"], "x" * 2000, "x" * 2001, "{name}" * 300, "{side}",
    "{x.y}", "{side!r}", "{side:>9}", "{}", "{0}", "{", "}", "\x1b[31m", "\u202e", "", "  ",
])  # fmt: skip
REQUIRED = {"say": ["text"], "hold": ["text"], "reps": ["text", "count"], "repeat": ["times"]}
STEP_KEYS = {
    "say": ["text"],
    "pause": ["seconds"],
    "hold": ["text", "seconds", "release_text", "halfway", "countdown", "countdown_style"],
    "reps": ["text", "count", "cadence", "cue", "rep_text", "release_text"],
    "breathe": ["text", "cycles", "inhale", "hold", "exhale", "guide", "inhale_text",
                "hold_text", "exhale_text"],
    "tense_release": ["text", "release_text", "tense", "release"],
    "repeat": ["times"],
}  # fmt: skip
PACING = {
    **dict.fromkeys(["hold", "rest", "tense", "release", "gap", "cadence", "transition",
                     "inhale", "breath_hold", "exhale"], DURATIONS),
    "reps": st.sampled_from(["low", "middle", "high"]),
}  # fmt: skip
HEADER = {
    "description": st.just("A session."),
    "rate_wpm": st.integers(80, 450),
    "language": st.sampled_from(["en", "de"]),
    "mix": st.fixed_dictionaries({}, optional={"voice_db": st.floats(-70, 20),
                                               "breath_tone": st.booleans()}),
    "templates": st.fixed_dictionaries({}, optional={"tense": TEXTS, "release": TEXTS}),
    "cues": st.fixed_dictionaries({}, optional={"hold_end": st.just("bell.wav")}),
}  # fmt: skip


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True once in ``one_in`` draws (a middle value: Hypothesis favours the ends of a range)."""
    return draw(st.integers(1, one_in)) == one_in // 2


def fitting_or_not(draw: st.DrawFn, fitting: st.SearchStrategy[Any]) -> Any:
    """A value from ``fitting`` nine times in ten, else a tricky value or anything at all:
    mostly valid input reaches expansion and the timeline, and the odd wrong value tests each
    check."""
    if rarely(draw, 10):
        return draw(st.one_of(anything, TRICKY))
    return draw(fitting)


def some_keys(draw: st.DrawFn, spec: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Some of the keys of ``spec`` with fitting (or not) values, and rarely a stray key."""
    chosen = draw(st.lists(st.sampled_from(sorted(spec)), unique=True, max_size=len(spec)))
    table = {key: fitting_or_not(draw, spec[key]) for key in chosen}
    if rarely(draw, 20):
        table[draw(st.text(max_size=8))] = draw(anything)
    return table


@st.composite
def script_steps(draw: st.DrawFn, depth: int = 0) -> list[Any]:
    """A list of steps of any kinds, repeats holding their own, up to 6 deep."""
    result: list[Any] = []
    for _ in range(draw(st.integers(0 if depth else 1, 4))):
        kind = draw(st.sampled_from(STEP_KINDS))
        keys = {key: VALID[key] for key in STEP_KEYS[kind] + ["name", "sides", "switch_text"]}
        step = {"kind": fitting_or_not(draw, st.just(kind)), **some_keys(draw, keys)}
        for key in REQUIRED.get(kind, ()):
            step.setdefault(key, fitting_or_not(draw, VALID[key]))
        if kind == "repeat" and depth < 6:
            step["steps"] = draw(script_steps(depth + 1))
        result.append(draw(anything) if rarely(draw, 30) else step)
    return result


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A session-shaped document: a title, some header keys, some pacing, steps."""
    document = {"title": fitting_or_not(draw, st.just("Fuzz")), **some_keys(draw, HEADER)}
    if draw(st.booleans()):
        document["pacing"] = fitting_or_not(draw, st.builds(dict)) or some_keys(draw, PACING)
    document["steps"] = fitting_or_not(draw, script_steps())
    return document


# ---------------------------------------------------------------- the property
def load_expand_and_lay_out(data: bytes, overrides: list[str] | None = None) -> None:
    """Load ``data`` as fuzz.toml, expand it and lay it out with made-up clip lengths; let only
    the project's own error out, and check its message."""
    try:
        session = parse_session(data, path=Path("fuzz.toml"), overrides=overrides or ())
        steps = expand_session(session)
        try:
            build_timeline(
                steps,
                sample_rate=8000,
                gap_s=session.pacing.gap_s,
                speech_frames=lambda text: 400 * len(text.split()),
                cue_frames=lambda cue: 800,
            )
        except ScriptError as error:  # the timeline knows steps, not files: render adds the file
            raise error if error.path else error.located("fuzz.toml") from None
    except BadInputError as error:
        message = str(error)
        assert "\n" not in message and message.isprintable(), repr(message)
        if isinstance(error, ScriptError) and not message.startswith("--set"):
            assert message.startswith("fuzz.toml: "), message


@fuzz
@given(documents())
def test_any_session_shaped_document_loads_or_is_refused_in_one_line(document: dict) -> None:  # type: ignore[type-arg]
    load_expand_and_lay_out(toml_document(document).encode())


@fuzz
@given(st.binary(max_size=400))
def test_any_bytes_load_or_are_refused_in_one_line(data: bytes) -> None:
    load_expand_and_lay_out(data)


TOML_PUNCTUATION = [bytes([c]) for c in b'"{}[]\n=0-.\\ ']


@st.composite
def edited_script(draw: st.DrawFn) -> bytes:
    """tiny.toml with a few bytes replaced, inserted or deleted."""
    data = bytearray(TINY)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        new = draw(st.binary(max_size=3) | st.sampled_from(TOML_PUNCTUATION))
        cut = draw(st.integers(0, 3))
        data[at : at + cut] = new
    return bytes(data)


@fuzz
@given(edited_script())
def test_any_edit_of_a_valid_script_loads_or_is_refused_in_one_line(data: bytes) -> None:
    load_expand_and_lay_out(data)


assignments = st.builds(
    "{}.{}={}".format,
    st.sampled_from(["reach", "taps", "breath", "hands", "pacing", "mix", "nope", "re", ""])
    | st.text(max_size=6),
    st.sampled_from(["seconds", "hold", "count", "reps", "cycles", "release", "gap", "voice_db"])
    | st.text(max_size=6),
    st.sampled_from(["20", "0", "-1", "1e999", "nan", "true", "99999h", "'x'", "15-20"])
    | st.text(max_size=8),
)


@fuzz
@given(st.lists(assignments | st.text(max_size=12), max_size=3))
def test_any_set_overrides_load_or_are_refused_in_one_line(overrides: list[str]) -> None:
    load_expand_and_lay_out(TINY, overrides)


@fuzz
@given(documents())
def test_the_length_limit_counts_no_more_than_a_session_lasts(document: dict) -> None:  # type: ignore[type-arg]
    """The limit's estimate is a lower bound: even with speech at the fastest rate it assumes,
    the laid-out session lasts at least as long."""
    rate = 8000
    try:
        session = parse_session(toml_document(document).encode())
        timeline = build_timeline(
            expand_session(session),
            sample_rate=rate,
            gap_s=session.pacing.gap_s,
            speech_frames=lambda text: math.ceil(len(text) * rate / FASTEST_SPEECH_CHARS_PER_S),
            cue_frames=lambda cue: 1,
        )
    except ScriptError:
        return
    assert session_floor_s(session.steps, session.pacing) <= timeline.duration_s + 1e-6
