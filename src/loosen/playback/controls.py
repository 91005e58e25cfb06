"""What the player's controls do, worked out on the timeline: pure functions of events and
frames (no audio, no threads), so each rule is tested on its own.

- previous: the current step's start once more than 2 s into it, else the step before;
- repeat (`r`): the last instruction, said again with the session held after the line that is
  sounding (the hold, if one is running, waits for it);
- time left (`t`): said in the first quiet moment, mixed in while the session goes on, so a
  hold is never lengthened; only where no quiet moment comes soon is the session held, and
  then never inside a hold, a rep or a breath;
- the status line, fitted to the terminal's width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loosen.plan.timeline import Event, StepSpan
from loosen.script.durations import format_length

__all__ = [
    "QUIET_HORIZON_S",
    "RESTART_WITHIN_S",
    "Announcement",
    "announcement_frame",
    "current_step",
    "held_frame",
    "last_instruction",
    "previous_step_frame",
    "quiet_frame",
    "remaining_words",
    "status_line",
]

RESTART_WITHIN_S = 2.0  # "previous" restarts the current step once this far into it
QUIET_HORIZON_S = 15.0  # how far ahead an answer may wait for a quiet moment
_SLOTS = ("hold", "rep", "breath")  # spans whose time must not stretch
_MARGIN_S = 0.1  # kept clear before the next sound


@dataclass(frozen=True)
class Announcement:
    """Where an answer goes: session frame ``frame``, mixed in or (``hold``) with the session
    held there while it is said."""

    frame: int
    hold: bool


def current_step(spans: Sequence[StepSpan], frame: int) -> StepSpan | None:
    """The step playing at ``frame`` (the last one that started at or before it)."""
    found = None
    for span in spans:
        if span.start <= frame:
            found = span
        else:
            break
    return found


def previous_step_frame(spans: Sequence[StepSpan], frame: int, rate: int) -> int:
    """Where "previous" goes: the current step's start once more than 2 s into it, else the
    previous step's start."""
    span = current_step(spans, frame)
    if span is None:
        return 0
    if frame - span.start > RESTART_WITHIN_S * rate or span.index == 1:
        return span.start
    return spans[span.index - 2].start


def _in_slot(event: Event, events: Sequence[Event]) -> bool:
    return any(
        s.kind in _SLOTS and s.start <= event.start < s.end and s is not event for s in events
    )


def last_instruction(events: Sequence[Event], frame: int) -> Event | None:
    """The last instruction spoken at or before ``frame``: a line on its own, not a count, a
    countdown number or a breath cue inside its slot (the line that introduced those)."""
    for event in reversed(events):
        if event.kind == "speech" and event.start <= frame and not _in_slot(event, events):
            return event
    return None


def held_frame(events: Sequence[Event], frame: int) -> int:
    """The first frame from ``frame`` on where the session may be held: not inside a line
    (it is never cut off) nor inside a hold, rep or breath slot (those never stretch)."""
    at = frame
    moved = True
    while moved:
        moved = False
        for event in events:
            if (event.kind == "speech" or event.kind in _SLOTS) and event.start < at < event.end:
                at, moved = event.end, True
    return at


def quiet_frame(
    events: Sequence[Event],
    frame: int,
    length: int,
    horizon: int,
    audible: Callable[[Event], bool],
    margin: int = 0,
) -> int | None:
    """The first frame from ``frame`` on after which ``length`` frames pass with nothing
    ``audible`` sounding (and ``margin`` frames more before the next sound), not later than
    ``horizon`` frames from ``frame``; None if there is none. ``events`` must cover the span
    searched (placed up to ``frame + horizon + length``)."""
    at = frame
    for event in sorted((e for e in events if audible(e) and e.end > frame), key=_start):
        if event.start >= at + length + margin:
            break
        at = max(at, event.end)
        if at > frame + horizon:
            return None
    return at if at <= frame + horizon else None


def _start(event: Event) -> int:
    return event.start


def announcement_frame(
    events: Sequence[Event],
    frame: int,
    length: int,
    rate: int,
    audible: Callable[[Event], bool],
) -> Announcement:
    """Where an answer of ``length`` frames goes when asked for at ``frame``: the first quiet
    moment within `QUIET_HORIZON_S`, mixed in; else held where holding stretches nothing."""
    quiet = quiet_frame(
        events, frame, length, round(QUIET_HORIZON_S * rate), audible, round(_MARGIN_S * rate)
    )
    if quiet is not None:
        return Announcement(quiet, hold=False)
    return Announcement(held_frame(events, frame), hold=True)


def remaining_words(seconds: float) -> str:
    """A spoken answer to "how long is left?", rounded as a person would say it."""
    if seconds < 55:
        return f"About {max(5, round(seconds / 5) * 5)} seconds left."
    minutes = max(1, round(seconds / 60))
    return "About one minute left." if minutes == 1 else f"About {minutes} minutes left."


def status_line(
    *,
    paused: bool,
    waiting: bool = False,
    step: str,
    elapsed_s: float,
    total_s: float | None,
    volume_db: float,
    width: int,
) -> str:
    """The player's status line, at most ``width - 1`` characters (the last column is left
    free, so the line never wraps): state, step, time, and a progress bar where there is room.
    ``waiting``: a step waits for the listener to resume.
    """
    state = "Waiting" if waiting else "Paused " if paused else "Playing"
    clock = f"{format_length(elapsed_s)} / {format_length(total_s) if total_s else '--:--'}"
    level = f" vol {volume_db:+.0f} dB" if abs(volume_db) > 0.1 else ""
    room = max(0, width - 1)
    fixed = len(state) + 1 + 2 + len(clock) + len(level)  # "state step  clock level"
    name_room = room - fixed
    bar = ""
    bar_width = min(20, name_room - len(step) - 3)
    if bar_width >= 6:
        done = round(bar_width * min(1.0, elapsed_s / total_s)) if total_s else 0
        bar = " [" + "#" * done + "-" * (bar_width - done) + "]"
        name_room -= len(bar)
    name = step if len(step) <= name_room else step[: max(0, name_room - 1)] + "…"
    line = f"{state} {name:<{max(0, name_room)}}  {clock}{bar}{level}"
    return line[:room]
