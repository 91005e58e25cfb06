"""A session's length without synthesizing its speech: exact when every line is in the speech
cache, else estimated from the text (`loosen list`).

The estimate lays the session out like the renderer, each free-standing line taking
`estimate_speech_s` of its text: a model of espeak-ng's speech fitted to the bundled sessions'
lines (`tests/benchmarks/calibrate_estimate.py`; how close it comes is in the README). Lines
that must fit a slot of their own (counts, breath cues, a tense_release step's release words)
do not move what follows, so they count as nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loosen.plan.expand import Breathe, Hold, Reps, Step, TenseRelease
from loosen.plan.pace import Pace

if TYPE_CHECKING:
    from loosen.script.loading import Session
    from loosen.sound.cues import CueSet
    from loosen.tts import Speech

__all__ = ["ESTIMATE_SAMPLE_RATE", "Length", "estimate_speech_s", "session_length"]

#: espeak-ng at 150 wpm (pyttsx3 and espeak engines), seconds of trimmed speech: a start, per
#: letter or digit, per pause for a comma (, ; :) and per sentence break inside the line
_BASE_S, _PER_CHAR_S, _PER_CLAUSE_S, _PER_SENTENCE_S = 0.119, 0.0738, 0.326, 0.377
_MODEL_RATE_WPM = 150
_CLOSING = re.compile(r"[\s.!?,;:\"'\u201d\u2019)\]]+$")
_CLAUSE = re.compile(r"[,;:]")
_SENTENCE = re.compile(r"[.!?\u2026]+(?=\s)")
#: the rate an estimate lays the session out at: lengths, not samples, so a low one will do
ESTIMATE_SAMPLE_RATE = 8_000


@dataclass(frozen=True)
class Length:
    """A session's length in seconds, and whether it is exact (measured speech) or estimated."""

    seconds: float
    exact: bool


def estimate_speech_s(text: str, rate_wpm: int = _MODEL_RATE_WPM) -> float:
    """How long espeak-ng takes to say ``text`` at ``rate_wpm``, in seconds (an estimate)."""
    if not text.strip():
        return 0.0
    inside = _CLOSING.sub("", text.strip())  # a line's closing pause is trimmed away
    seconds = (
        _BASE_S
        + _PER_CHAR_S * sum(c.isalnum() for c in text)
        + _PER_CLAUSE_S * len(_CLAUSE.findall(inside))
        + _PER_SENTENCE_S * len(_SENTENCE.findall(inside))
    )
    return seconds * _MODEL_RATE_WPM / rate_wpm


def session_length(
    session: Session,
    *,
    speech: Speech,
    cue_set: CueSet,
    pace: Pace | None = None,
    sample_rate: int = 48_000,
) -> Length:
    """The length of ``session`` as ``speech`` would speak it: exact if every line it speaks
    is in ``speech``'s cache already (read, never synthesized), else estimated. Either way
    nothing is synthesized.

    Raises
    ------
    ScriptError
        If the script cannot be laid out (a cue sound file that cannot be read, for one).
    """
    from loosen.plan.timeline import build_timeline
    from loosen.render.rendering import render_session
    from loosen.sound.cues import render_cue

    rendering = render_session(
        session, speech=speech, cue_set=cue_set, sample_rate=sample_rate, pace=pace,
        progressive=True,
    )  # fmt: skip
    slotted = _slot_texts(rendering.steps)
    rate_wpm = speech.engine.rate_wpm
    spoken: dict[str, None] = {}

    def estimated_frames(text: str) -> int:
        spoken[text] = None
        if text in slotted:
            return 1  # one frame fits every slot
        return max(1, round(estimate_speech_s(text, rate_wpm) * ESTIMATE_SAMPLE_RATE))

    def cue_frames(cue: str) -> int:
        return int(render_cue(cue, cue_set, ESTIMATE_SAMPLE_RATE).size)

    gap_s = (pace or Pace()).gap_s(session.pacing.gap_s)
    estimate = build_timeline(
        rendering.steps, sample_rate=ESTIMATE_SAMPLE_RATE, gap_s=gap_s,
        speech_frames=estimated_frames, cue_frames=cue_frames,
    )  # fmt: skip
    with rendering:  # its clips' prefetching stops here
        if all(rendering.clips.ready(text) for text in spoken):
            return Length(rendering.timeline.duration_s, exact=True)
    return Length(estimate.duration_s, exact=False)


def _slot_texts(steps: list[Step]) -> set[str]:
    """The lines spoken in a slot of their own, which do not move what comes after them."""
    texts: set[str] = set()
    for step in steps:
        if isinstance(step, Reps):
            texts.update(step.rep_texts)
        elif isinstance(step, Breathe):
            texts.update((step.inhale_text, step.hold_text, step.exhale_text))
        elif isinstance(step, TenseRelease):
            texts.add(step.release_text)
        elif isinstance(step, Hold):
            if step.halfway and step.halfway != "chime":
                texts.add(step.halfway)
            if step.countdown_style == "spoken":
                texts.update(str(k) for k in range(1, step.countdown + 1))
    return texts
