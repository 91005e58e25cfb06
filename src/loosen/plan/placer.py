"""Placing one expanded step after another on the timeline (`loosen.plan.timeline`): every
event at a whole frame, holds exact between their chimes, speech measured first and never
overlapping, and a line that must fit a slot (a count, a breath cue) refused when it does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loosen.errors import ScriptError, shown
from loosen.plan.events import Event
from loosen.plan.expand import Breathe, Hold, Pause, Reps, Say, Step, TenseRelease

__all__ = ["FrameMeasure", "Placer"]

FrameMeasure = Callable[[str], int]


class Placer:
    """Lays steps out from the cursor ``t`` (a frame), appending to ``events``."""

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
