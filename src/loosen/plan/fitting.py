"""Fitting a session to a length: the `Pace` whose timeline lasts the target, and the words for
why a target is out of reach.

A session's length is a step function of the pace factor: the holds that a line announces are
scaled to whole seconds (`loosen.plan.pace.Pace`), so the length jumps by a second or more (several
at once, for sided holds) as the factor grows. The fit first finds the factor for all silences;
where the target falls inside a jump, it keeps the announced holds where they are and tunes the
other silences (rests, releases, breaths, transitions, the gap after speech) to close the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from loosen.errors import BadInputError
from loosen.plan.expand import Breathe, Hold, Pause, Reps, TenseRelease, expand_session
from loosen.plan.pace import Pace, fit_factor, load_bounds
from loosen.plan.placer import FrameMeasure
from loosen.plan.timeline import build_timeline
from loosen.script.loading import Pacing, Session

__all__ = ["FIT_TOLERANCE_S", "Measures", "fit_pace", "floors_reached", "paced_length_s"]

FIT_TOLERANCE_S = 0.5  # a fitted session lasts its target to within half a second


@dataclass(frozen=True)
class Measures:
    """What laying a session out needs besides its steps: the output rate (Hz) and the length
    in frames at that rate of each spoken text and of each cue kind's sound."""

    sample_rate: int
    speech_frames: FrameMeasure
    cue_frames: FrameMeasure


def paced_length_s(session: Session, pacing: Pacing, pace: Pace, measures: Measures) -> float:
    """How long ``session`` lasts with ``pacing`` scaled by ``pace``, in seconds."""
    timeline = build_timeline(
        expand_session(session, pacing, pace),
        sample_rate=measures.sample_rate,
        gap_s=pace.gap_s(pacing.gap_s),
        speech_frames=measures.speech_frames,
        cue_frames=measures.cue_frames,
    )
    return timeline.duration_s


def fit_pace(
    session: Session,
    pacing: Pacing,
    target_s: float,
    measures: Measures,
    *,
    tolerance_s: float = FIT_TOLERANCE_S,
) -> Pace:
    """The pace at which ``session`` lasts ``target_s`` seconds, within ``tolerance_s``.

    Raises `BadInputError` when the bounds of pacing keep the session from the target, saying
    how short or long it can be and which floors stop it.
    """

    def length_s(pace: Pace) -> float:
        return paced_length_s(session, pacing, pace, measures)

    def explain(factor: float) -> str:
        return floors_reached(session, pacing, factor)

    factor = fit_factor(
        lambda f: length_s(Pace(f)), target_s, tolerance_s=tolerance_s, explain=explain
    )
    fitted = Pace(factor)
    if abs(length_s(fitted) - target_s) <= tolerance_s:
        return fitted
    # the target lies inside a jump of the announced holds: keep them, tune the rest
    try:
        others = fit_factor(
            lambda g: length_s(Pace(g, announced_factor=factor)), target_s, tolerance_s=tolerance_s
        )
    except BadInputError:
        return fitted  # nothing else can move: the nearest length below the target
    return Pace(others, announced_factor=factor)


def floors_reached(session: Session, pacing: Pacing, factor: float) -> str:
    """Which floors hold ``session`` up when scaled by ``factor``, as words:
    ``"holds stop at 10 s (6 of them), releases at 10 s (4 of them)"``; empty if none does."""
    b = load_bounds()
    written = expand_session(session, pacing)
    paced = expand_session(session, pacing, Pace(factor))
    reached: dict[str, int] = {}

    def check(label: str, before: float, after: float) -> None:
        if after > before * factor + 0.5:  # (announced holds are rounded to whole seconds)
            reached[label] = reached.get(label, 0) + 1

    for was, now in zip(written, paced, strict=True):
        match was, now:
            case Hold(), Hold():
                check(f"holds stop at {b.hold_min:g} s", was.seconds_s, now.seconds_s)
            case TenseRelease(), TenseRelease():
                check(f"tension at {b.tense_min:g} s", was.tense_s, now.tense_s)
                check(f"releases at {b.release_min:g} s", was.release_s, now.release_s)
            case Pause(), Pause():
                check(f"pauses at {b.pause_min:g} s", was.seconds_s, now.seconds_s)
            case Reps(), Reps():
                check(f"rep cadence at {b.cadence_min:g} s", was.cadence_s, now.cadence_s)
            case Breathe(), Breathe():
                check(f"breaths at {b.breath_min:g} s", was.inhale_s, now.inhale_s)
    return ", ".join(f"{label} ({count} of them)" for label, count in reached.items())
