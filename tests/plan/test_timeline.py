"""Properties of the timeline over generated sessions: no overlaps, exact holds, parts add up."""

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loosen.errors import ScriptError
from loosen.plan.expand import expand_session
from loosen.plan.timeline import LEAD_IN_S, Timeline, build_timeline
from loosen.script.loading import session_from_dict

RATE = 48_000
CUE_FRAMES = {"hold_start": 72_000, "hold_end": 96_000, "countdown": 4_800, "halfway": 48_000}


def speech_frames(text: str) -> int:
    return 1_000 + 997 * len(text)  # an odd per-character length, so nothing lines up by luck


def cue_frames(cue: str) -> int:
    return CUE_FRAMES.get(cue, 24_000)


words = st.text(alphabet="abcdefgh ", min_size=1, max_size=30).filter(str.strip)
seconds = st.integers(min_value=1, max_value=120).map(lambda n: n / 4)


@st.composite
def steps(draw: Any, depth: int = 0) -> dict[str, Any]:
    kinds = ["say", "pause", "hold", "reps", "breathe", "tense_release"]
    if depth < 2:
        kinds.append("repeat")
    kind = draw(st.sampled_from(kinds))
    step: dict[str, Any] = {"kind": kind, "name": draw(words)}
    if draw(st.booleans()):
        step["sides"] = ["right", "left"]
    if kind == "say":
        step["text"] = draw(words)
    elif kind == "pause":
        step["seconds"] = draw(seconds)
    elif kind == "hold":
        step |= {"text": draw(words), "seconds": draw(seconds) + 10}
        step["halfway"] = draw(st.sampled_from(["chime", "ab"]))
        step["countdown"] = draw(st.integers(0, 3))
        step["countdown_style"] = draw(st.sampled_from(["ticks", "spoken"]))
    elif kind == "reps":
        step |= {"text": draw(words), "count": draw(st.integers(1, 5)), "cadence": 2}
        step["cue"] = draw(st.sampled_from(["ticks", "spoken"]))
    elif kind == "breathe":
        step |= {
            "cycles": draw(st.integers(1, 3)),
            "guide": draw(st.sampled_from(["tones", "spoken"])),
        }
        step |= {"inhale": 4, "exhale": 4, "hold": draw(st.sampled_from([0, 2]))}
    elif kind == "tense_release":
        step |= {"tense": draw(seconds), "release": 30}
    else:
        step |= {
            "times": draw(st.integers(1, 3)),
            "steps": draw(st.lists(steps(depth + 1), min_size=1, max_size=3)),
        }
    if kind != "repeat":
        wait = draw(st.sampled_from([None, None, True, False, "ab"]))
        if wait is not None:
            step["wait"] = wait
    return step


WAIT_S = 2.5
sessions = st.lists(steps(), min_size=1, max_size=6).map(
    lambda s: {
        "title": "generated",
        "pacing": {"gap": 0.75, "transition": 4, "wait": WAIT_S},
        "steps": s,
    }
)


def layout(document: dict[str, Any]) -> tuple[list[Any], Timeline] | None:
    session = session_from_dict(document)
    expanded = expand_session(session)
    try:
        timeline = build_timeline(
            expanded,
            sample_rate=RATE,
            gap_s=0.75,
            speech_frames=speech_frames,
            cue_frames=cue_frames,
        )
    except ScriptError:
        return None  # a cue that does not fit its slot is refused: also a correct outcome
    return expanded, timeline


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_speech_never_overlaps_speech_or_a_chime(document: dict[str, Any]) -> None:
    result = layout(document)
    if result is None:
        return
    _, timeline = result
    sounding = sorted(
        (e for e in timeline.events if e.kind in ("speech", "chime")), key=lambda e: e.start
    )
    speech = [e for e in sounding if e.kind == "speech"]
    for line in speech:
        for other in sounding:
            if other is line:
                continue
            assert other.end <= line.start or other.start >= line.end, (line, other)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_every_hold_lasts_exactly_its_seconds_between_its_chimes(document: dict[str, Any]) -> None:
    result = layout(document)
    if result is None:
        return
    expanded, timeline = result
    by_step = {s.index: s for s in expanded}
    chimes = {(e.step, e.cue, e.start) for e in timeline.events if e.kind == "chime"}
    holds = [e for e in timeline.events if e.kind == "hold"]
    for hold in holds:
        step = by_step[hold.step]
        scripted_s = step.seconds_s if step.kind == "hold" else step.tense_s
        assert hold.frames == round(scripted_s * RATE)
        assert (hold.step, "hold_start", hold.start) in chimes
        assert (hold.step, "hold_end", hold.end) in chimes
    assert len(holds) == sum(1 for s in expanded if s.kind in ("hold", "tense_release"))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_the_total_is_the_sum_of_its_parts(document: dict[str, Any]) -> None:
    result = layout(document)
    if result is None:
        return
    _, timeline = result
    spans = timeline.steps
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
    lead_in = round(LEAD_IN_S * RATE)
    lead_out = round(1.5 * RATE)
    assert spans[0].start == lead_in
    step_frames = sum(s.end - s.start for s in spans)
    assert timeline.total_frames == lead_in + step_frames + cue_frames("session_end") + lead_out
    assert all(0 <= e.start <= e.end <= timeline.total_frames for e in timeline.events)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_a_step_that_waits_has_one_silent_wait_of_the_pacing_s_length_in_its_span(
    document: dict[str, Any],
) -> None:
    result = layout(document)
    if result is None:
        return
    expanded, timeline = result
    waits = [e for e in timeline.events if e.kind == "wait"]
    assert [e.step for e in waits] == [s.index for s in expanded if s.wait is not None]
    sounds = [e for e in timeline.events if e.kind in ("speech", "chime")]
    for wait in waits:
        span = timeline.steps[wait.step - 1]
        assert span.start <= wait.start and wait.end <= span.end
        assert wait.frames == round(WAIT_S * RATE)
        assert not any(s.start < wait.end and wait.start < s.end for s in sounds)
        step = expanded[wait.step - 1]
        assert wait.text == (step.wait.text if step.wait else None)
        before = [s for s in sounds if s.step == wait.step and s.start < wait.start]
        if step.kind in ("pause", "tense_release"):  # they wait first (a switch aside)
            assert all(s.cue == "switch_sides" or s.text == getattr(step.switch, "text", "")
                       for s in before)  # fmt: skip
        elif getattr(step, "text", None):
            assert [s.text for s in before if s.kind == "speech"][-1] == step.text


def test_a_spoken_count_that_does_not_fit_its_cadence_is_an_error_naming_the_step() -> None:
    document = {
        "title": "T",
        "steps": [{"kind": "reps", "name": "dead bug", "text": "go", "count": 2, "cadence": 0.5,
                   "rep_text": "and this is a very long count number {rep}"}],
    }  # fmt: skip
    session = session_from_dict(document)
    with pytest.raises(ScriptError, match=r"step 1 'dead bug'.*slot is 0\.50 s"):
        build_timeline(
            expand_session(session), sample_rate=RATE, gap_s=1, speech_frames=speech_frames,
            cue_frames=cue_frames,
        )  # fmt: skip


def test_a_tense_release_step_takes_exactly_tension_plus_release() -> None:
    document = {
        "title": "T",
        "steps": [{"kind": "tense_release", "name": "jaw", "tense": 6, "release": 30}],
    }
    expanded = expand_session(session_from_dict(document))
    timeline = build_timeline(
        expanded, sample_rate=RATE, gap_s=1, speech_frames=speech_frames, cue_frames=cue_frames
    )
    (span,) = timeline.steps
    tense_text = expanded[0].text
    assert span.end - span.start == speech_frames(tense_text) + RATE + 36 * RATE


def test_the_json_lists_events_with_seconds_and_names() -> None:
    document = {"title": "T", "steps": [{"kind": "say", "name": "hello", "text": "hi"}]}
    expanded = expand_session(session_from_dict(document))
    timeline = build_timeline(
        expanded, sample_rate=RATE, gap_s=1, speech_frames=speech_frames, cue_frames=cue_frames
    )
    doc = timeline.to_json("T")
    assert doc["title"] == "T" and doc["sample_rate"] == RATE
    first = doc["events"][0]
    assert first == {
        "start_s": LEAD_IN_S, "end_s": round(LEAD_IN_S + speech_frames("hi") / RATE, 6),
        "kind": "speech", "step": 1, "step_name": "hello", "side": None, "text": "hi", "cue": None,
    }  # fmt: skip
    assert doc["events"][-1]["cue"] == "session_end"
