"""The events of a timeline and the steps' spans: frames at the output rate. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EVENT_KINDS", "Event", "StepSpan"]

EVENT_KINDS = ("speech", "chime", "hold", "pause", "rep", "breath", "wait")


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
