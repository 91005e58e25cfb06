"""The timeline: expanded steps + measured clip lengths -> timed events. Pure: no I/O, no numpy.

Every position is a whole number of frames at the output sample rate, so a hold lasts exactly
its seconds (to the nearest frame) from the onset of its start chime to the onset of its end chime.
Speech never overlaps a chime or other speech: each spoken line is measured first and placed
after what precedes it; a line that must fit a fixed slot (a count, a breath cue) and does not
is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loosen.errors import ScriptError, shown
from loosen.plan.expand import Breathe, Hold, Pause, Reps, Say, Step, TenseRelease

__all__ = [
    "EVENT_KINDS",
    "Event",
    "StepSpan",
    "Timeline",
    "TimelineBuilder",
    "build_timeline",
    "leading_speech",
]

EVENT_KINDS = ("speech", "chime", "hold", "pause", "rep", "breath", "wait")
LEAD_IN_S = 0.25  # short: the first words come quickly, and the fade-in fits in it
LEAD_OUT_S = 1.5


@dataclass(frozen=True)
class Event:
    """Something that happens from frame ``start`` (inclusive) to ``end`` (exclusive)."""

    start: int
    end: int
    kind: str
    step: int
    step_name: str | None
    side: str | None
    text: str | None = None
    cue: str | None = None
    phase: str | None = None  # breath: "inhale", "hold" or "exhale"

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class StepSpan:
    """Where one expanded step lies on the timeline, in frames."""

    index: int
    kind: str
    name: str | None
    side: str | None
    start: int
    end: int


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


FrameMeasure = Callable[[str], int]


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
        self._placer = _Placer(sample_rate, gap_s, speech_frames, cue_frames)
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
    what `_Placer.place` lays out first (nothing comes before it in the step)."""
    if step.switch is not None or isinstance(step, Pause):
        return None
    if isinstance(step, TenseRelease) and step.wait is not None:
        return None  # it waits first
    text: str | None = getattr(step, "text", None)
    return text or None


class _Placer:
    def __init__(
        self, rate: int, gap_s: float, speech_frames: FrameMeasure, cue_frames: FrameMeasure
    ):
        self.rate = rate
        self.gap = self.frames(gap_s)
        self.speech_frames = speech_frames
        self.cue_frames = cue_frames
        self.events: list[Event] = []
        self.t = 0
        self.at_least = False  # speech_frames are lower bounds (the fastest voice)

    def frames(self, seconds: float) -> int:
        return round(seconds * self.rate)

    def add(self, step: Step | None, start: int, end: int, kind: str, **extra: Any) -> Event:
        event = Event(
            start,
            end,
            kind,
            step.index if step else 0,
            step.name if step else None,
            step.side if step else None,
            **extra,
        )
        self.events.append(event)
        return event

    def speech(self, step: Step, text: str, start: int) -> Event:
        return self.add(step, start, start + self.speech_frames(text), "speech", text=text)

    def chime(self, cue: str, start: int, step: Step | None) -> Event:
        return self.add(step, start, start + self.cue_frames(cue), "chime", cue=cue)

    def say(self, step: Step, text: str | None) -> None:
        """Speak a free-standing line at the cursor, then leave the gap."""
        if text:
            self.t = self.speech(step, text, self.t).end + self.gap

    def slot_speech(self, step: Step, text: str, start: int, end: int, what: str) -> None:
        """Speak a line that must fit in ``[start, end)``."""
        event = self.speech(step, text, start)
        if event.end > end:
            need_s = event.frames / self.rate
            have_s = (end - start) / self.rate
            takes = "takes at least" if self.at_least else "takes"
            raise ScriptError(
                f"the spoken {what} {shown(text)} {takes} {need_s:.2f} s but its slot is "
                f"{have_s:.2f} s; lengthen the slot or speak faster",
                where=step.where,
            )

    def place(self, step: Step) -> None:
        if step.switch is not None:
            chime = self.chime("switch_sides", self.t, step)
            end = self.t + self.frames(step.switch.transition_s)
            if step.switch.text:
                end = max(end, self.speech(step, step.switch.text, chime.end).end + self.gap)
            self.add(step, self.t, max(end, chime.end), "pause")
            self.t = max(end, chime.end)
        match step:
            case Say():
                self.say(step, step.text)
                self.wait(step)
            case Pause():
                self.wait(step)
                end = self.t + self.frames(step.seconds_s)
                self.add(step, self.t, end, "pause")
                self.t = end
            case Hold():
                self.say(step, step.text)
                self.wait(step)
                self.hold(step, step.seconds_s)
                self.say(step, step.release_text)
            case TenseRelease():
                self.wait(step)  # before its instruction: the words begin the tension
                self.say(step, step.text)
                release_start = self.hold(step, step.tense_s)
                release_end = release_start + self.frames(step.release_s)
                after_chime = self.t
                if step.release_grows:
                    words = self.speech(step, step.release_text, after_chime)
                    release_end = max(release_end, words.end + self.gap)
                else:
                    self.slot_speech(step, step.release_text, after_chime, release_end, "release")
                self.add(step, release_start, release_end, "pause")
                self.t = release_end
            case Reps():
                self.say(step, step.text)
                self.wait(step)
                cadence = self.frames(step.cadence_s)
                for rep_text in step.rep_texts:
                    self.add(step, self.t, self.t + cadence, "rep", text=rep_text)
                    if step.cue == "ticks":
                        self.chime("rep", self.t, step)
                    else:
                        self.slot_speech(step, rep_text, self.t, self.t + cadence, "count")
                    self.t += cadence
                self.say(step, step.release_text)
            case Breathe():
                self.say(step, step.text)
                self.wait(step)
                for _ in range(step.cycles):
                    self.breath(step, "inhale", step.inhale_s, step.inhale_text)
                    self.breath(step, "hold", step.hold_s, step.hold_text)
                    self.breath(step, "exhale", step.exhale_s, step.exhale_text)

    def wait(self, step: Step) -> None:
        """Where ``step`` waits for the listener, if it does: a silence of the export's length,
        at which the player pauses instead."""
        if step.wait is not None:
            end = self.t + self.frames(step.wait.seconds_s)
            self.add(step, self.t, end, "wait", text=step.wait.text)
            self.t = end

    def hold(self, step: Hold | TenseRelease, seconds: float) -> int:
        """Place a hold at the cursor: start chime, exactly ``seconds``, end chime.

        Returns the frame of the end chime's onset; the cursor moves past the end chime.
        """
        start = self.t
        length = self.frames(seconds)
        end = start + length
        start_chime = self.chime("hold_start", start, step)
        self.add(step, start, end, "hold", text=step.name)
        # cues inside the hold, latest first so each spoken cue knows where the next one starts
        next_onset = end
        if isinstance(step, Hold) and step.countdown:
            if step.countdown >= seconds:
                raise ScriptError(
                    f"a countdown of {step.countdown} s does not fit in a hold of {seconds:g} s",
                    where=step.where,
                )
            for k in range(1, step.countdown + 1):
                onset = end - self.frames(k)
                if step.countdown_style == "spoken":
                    if onset < start_chime.end:
                        raise ScriptError(
                            "the spoken countdown would overlap the hold-start chime; "
                            "lengthen the hold or shorten the countdown",
                            where=step.where,
                        )
                    self.slot_speech(step, str(k), onset, next_onset, "countdown")
                else:
                    self.chime("countdown", onset, step)
                next_onset = onset
        if isinstance(step, Hold) and step.halfway:
            onset = start + length // 2
            if step.halfway == "chime":
                self.chime("halfway", onset, step)
            else:
                if onset < start_chime.end:
                    raise ScriptError(
                        "the halfway cue would overlap the hold-start chime; lengthen the hold",
                        where=step.where,
                    )
                self.slot_speech(step, step.halfway, onset, next_onset, "halfway cue")
        end_chime = self.chime("hold_end", end, step)
        self.t = end_chime.end
        return end

    def breath(self, step: Breathe, phase: str, seconds: float, text: str) -> None:
        if seconds <= 0:
            return
        end = self.t + self.frames(seconds)
        self.add(step, self.t, end, "breath", text=text, phase=phase)
        if step.guide == "spoken":
            self.slot_speech(step, text, self.t, end, f"{phase} cue")
        elif phase != "hold":
            self.chime(phase, self.t, step)
        self.t = end
