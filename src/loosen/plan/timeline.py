"""The timeline: expanded steps + measured clip lengths -> timed events. Pure: no I/O, no numpy.

Every position is a whole number of frames at the output sample rate, so a hold lasts exactly
its seconds (to the nearest frame) from the onset of its start chime to the onset of its end chime.
Speech never overlaps a chime or other speech: each spoken line is measured first and placed
after what precedes it; a line that must fit a fixed slot (a count, a breath cue) and does not
is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loosen.plan.events import EVENT_KINDS, Event, StepSpan
from loosen.plan.expand import Pause, Step, TenseRelease
from loosen.plan.placer import FrameMeasure, Placer

__all__ = [
    "EVENT_KINDS",
    "Event",
    "StepSpan",
    "Timeline",
    "TimelineBuilder",
    "build_timeline",
    "leading_speech",
]

LEAD_IN_S = 0.25  # short: the first words come quickly, and the fade-in fits in it
LEAD_OUT_S = 1.5


@dataclass(frozen=True)
class Timeline:
    """The whole session: events sorted by start, step spans, and the total length in frames."""

    sample_rate: int
    events: tuple[Event, ...]
    steps: tuple[StepSpan, ...]
    total_frames: int
    fade_in_frames: int
    fade_out_frames: int

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.sample_rate

    def seconds(self, frame: int) -> float:
        """Return ``frame`` as seconds, rounded to the microsecond for display and JSON."""
        return round(frame / self.sample_rate, 6)

    def to_json(self, title: str) -> dict[str, Any]:
        """Return the timeline as the JSON document of ``loosen show --json``."""
        events = []
        for e in self.events:
            item: dict[str, Any] = {
                "start_s": self.seconds(e.start),
                "end_s": self.seconds(e.end),
                "kind": e.kind,
                "step": e.step,
                "step_name": e.step_name,
                "side": e.side,
                "text": e.text,
                "cue": e.cue,
            }
            if e.phase is not None:
                item["phase"] = e.phase
            events.append(item)
        steps = [
            {
                "step": s.index,
                "kind": s.kind,
                "name": s.name,
                "side": s.side,
                "start_s": self.seconds(s.start),
                "end_s": self.seconds(s.end),
            }
            for s in self.steps
        ]
        return {
            "title": title,
            "duration_s": self.seconds(self.total_frames),
            "sample_rate": self.sample_rate,
            "events": events,
            "steps": steps,
        }


def build_timeline(
    steps: Sequence[Step],
    *,
    sample_rate: int,
    gap_s: float,
    speech_frames: FrameMeasure,
    cue_frames: FrameMeasure,
    lead_in_s: float = LEAD_IN_S,
    lead_out_s: float = LEAD_OUT_S,
    speech_at_least: bool = False,
) -> Timeline:
    """Place every step on the timeline.

    Parameters
    ----------
    steps
        The expanded session.
    sample_rate
        Output rate in Hz; every position is in frames at this rate.
    gap_s
        Silence after each free-standing spoken line, in seconds.
    speech_frames, cue_frames
        The length in frames at ``sample_rate`` of a spoken text / of a cue kind's sound.
    lead_in_s, lead_out_s
        Silence before the first step and after the session-end chime (the fades live there).
    speech_at_least
        ``speech_frames`` gives a lower bound of each line's length (the fastest voice), which
        a line that does not fit its slot is said to take at least.
    """
    builder = TimelineBuilder(
        sample_rate=sample_rate,
        gap_s=gap_s,
        speech_frames=speech_frames,
        cue_frames=cue_frames,
        lead_in_s=lead_in_s,
        lead_out_s=lead_out_s,
        speech_at_least=speech_at_least,
    )
    for step in steps:
        builder.add(step)
    return builder.finish()


def _event_order(event: Event) -> tuple[int, int]:
    return (event.start, EVENT_KINDS.index(event.kind))


class TimelineBuilder:
    """Lays a session out one step at a time, so playback can begin before the whole session is
    measured. Nothing placed later starts before `frontier`, so audio up to it is final.

    ``events`` stays sorted by start as it grows; `finish` adds the session-end chime and returns
    the same `Timeline` that `build_timeline` returns for the same steps.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        gap_s: float,
        speech_frames: FrameMeasure,
        cue_frames: FrameMeasure,
        lead_in_s: float = LEAD_IN_S,
        lead_out_s: float = LEAD_OUT_S,
        speech_at_least: bool = False,
    ):
        self.sample_rate = sample_rate
        self._placer = Placer(sample_rate, gap_s, speech_frames, cue_frames)
        self._placer.at_least = speech_at_least
        self._placer.t = self._placer.frames(lead_in_s)
        self._lead_in_s = lead_in_s
        self._lead_out_s = lead_out_s
        self._last: Step | None = None
        self.events: list[Event] = []
        self.spans: list[StepSpan] = []

    @property
    def frontier(self) -> int:
        """The frame from which later steps will be placed."""
        return self._placer.t

    def add(self, step: Step) -> StepSpan:
        """Place ``step`` after the steps placed so far and return where it lies."""
        placer = self._placer
        start, first_new = placer.t, len(placer.events)
        placer.place(step)
        # every earlier event starts before `start`, so sorting the new ones keeps all sorted
        self.events.extend(sorted(placer.events[first_new:], key=_event_order))
        span = StepSpan(step.index, step.kind, step.name, step.side, start, placer.t)
        self.spans.append(span)
        self._last = step
        return span

    def finish(self) -> Timeline:
        """Close the session with its end chime and lead-out, and return the whole timeline."""
        placer = self._placer
        end_chime = placer.chime("session_end", placer.t, self._last)
        self.events.append(end_chime)
        total = end_chime.end + placer.frames(self._lead_out_s)
        return Timeline(
            sample_rate=self.sample_rate,
            events=tuple(self.events),
            steps=tuple(self.spans),
            total_frames=total,
            fade_in_frames=placer.frames(min(self._lead_in_s, 0.5)),
            fade_out_frames=min(total, placer.frames(self._lead_out_s) + end_chime.frames // 2),
        )


def leading_speech(step: Step) -> str | None:
    """The line ``step`` speaks first, from the frame where it starts, if it opens with one:
    what `Placer.place` lays out first (nothing comes before it in the step)."""
    if step.switch is not None or isinstance(step, Pause):
        return None
    if isinstance(step, TenseRelease) and step.wait is not None:
        return None  # it waits first
    text: str | None = getattr(step, "text", None)
    return text or None
