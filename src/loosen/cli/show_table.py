"""`loosen show`'s table: one row per thing a listener meets, fitted to the terminal's width.

Speech, chimes, holds, rests, and the release and side-switch pauses have a row each; a step's
repetitions are one row, and so are its breaths (the counts and cues spoken or ticked in their
slots belong to that row). A step (its number, name, side, and the repeat blocks it is in) is
named on its first row; long texts wrap within their column.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loosen.plan.expand import Breathe, Reps, Step
from loosen.script.durations import format_clock

if TYPE_CHECKING:
    from rich.table import Table

    from loosen.plan.timeline import Event, Timeline

__all__ = ["Row", "timeline_rows", "timeline_table"]

_SLOTS = ("rep", "breath")
_SLOT_CUES = ("rep", "inhale", "exhale")
_PHASES = {"inhale": "in", "hold": "hold", "exhale": "out"}


@dataclass(frozen=True)
class Row:
    """One row: where it starts and how long it lasts (s), the step it opens (``""`` if it
    does not), the kind of event, and what is heard."""

    start_s: float
    length_s: float
    step: str
    kind: str
    what: str


def timeline_rows(timeline: Timeline, steps: Sequence[Step]) -> Iterator[Row]:
    """The rows of ``timeline`` (laid out from the expanded ``steps``) in order, then the end."""
    starts = {span.index: span.start for span in timeline.steps}
    absorbed = _in_slots(timeline.events)
    named: set[int] = set()
    group: list[Event] = []

    def label(event: Event) -> str:
        if event.step in named:
            return ""
        named.add(event.step)
        return _step_label(event, _step(steps, event))

    def grouped() -> Iterator[Row]:
        if group:
            first, last = group[0], group[-1]
            what = _repetitions(timeline, group, _step(steps, first))
            kind = "reps"
            if first.kind == "breath":
                what, kind = _breaths(timeline, group, _step(steps, first)), "breaths"
            yield _row(timeline, first.start, last.end, label(first), kind, what)
            group.clear()

    for number, event in enumerate(timeline.events):
        if number in absorbed:
            continue
        if event.kind in _SLOTS:
            if group and (group[0].step, group[0].kind) != (event.step, event.kind):
                yield from grouped()
            group.append(event)
            continue
        yield from grouped()
        step = _step(steps, event)
        what = _what(event, step, starts.get(event.step))
        yield _row(timeline, event.start, event.end, label(event), event.kind, what)
    yield from grouped()
    yield Row(timeline.duration_s, 0.0, "", "end", "")


#: narrower than this, a step is named on a row of its own instead of in a column
NARROW_COLUMNS = 72


def timeline_table(rows: Sequence[Row], width: int) -> Table:
    """``rows`` as a rich table for a terminal ``width`` columns wide: a header row, texts
    wrapped within their column. Narrow, each step is named on a row of its own (kind
    ``step``), so that the texts keep most of the width."""
    from rich import box
    from rich.table import Table

    narrow = width < NARROW_COLUMNS
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="")
    table.add_column("start", no_wrap=True)
    table.add_column("length", justify="right", no_wrap=True)
    if not narrow:
        table.add_column("step", overflow="fold", max_width=max(12, width // 4))
    table.add_column("kind", no_wrap=True)
    table.add_column("what", overflow="fold")
    for row in rows:
        length = f"{row.length_s:.2f} s" if row.kind != "end" else ""
        cells = [format_clock(row.start_s), length, row.step, row.kind, row.what]
        if narrow:
            if row.step:
                table.add_row("", "", "step", row.step)
            del cells[2]
        table.add_row(*cells)
    return table


def _in_slots(events: Sequence[Event]) -> set[int]:
    """The positions of the events that sound inside a rep's or a breath's slot: the counts and
    cues, spoken or as chimes, that the slot's row stands for."""
    slots: dict[int, tuple[list[int], list[int]]] = {}
    for event in events:
        if event.kind in _SLOTS:
            begins, ends = slots.setdefault(event.step, ([], []))
            begins.append(event.start)
            ends.append(event.end)
    inside = set()
    for number, event in enumerate(events):
        spoken_or_cue = event.kind == "speech" or (
            event.kind == "chime" and event.cue in _SLOT_CUES
        )
        if not spoken_or_cue or event.step not in slots:
            continue
        begins, ends = slots[event.step]
        at = bisect.bisect_right(begins, event.start) - 1
        if at >= 0 and event.start < ends[at]:
            inside.add(number)
    return inside


def _step(steps: Sequence[Step], event: Event) -> Step | None:
    return steps[event.step - 1] if 1 <= event.step <= len(steps) else None


def _row(timeline: Timeline, start: int, end: int, step: str, kind: str, what: str) -> Row:
    return Row(timeline.seconds(start), timeline.seconds(end - start), step, kind, what)


def _step_label(event: Event, step: Step | None) -> str:
    """``"12 hamstring stretch (right)"``, and a line per repeat block: ``"in cycle 2/3"``."""
    label = f"{event.step} {event.step_name or ''}".rstrip()
    if event.side:
        label += f" ({event.side})"
    if step is not None:
        label += "".join(f"\nin {block}" for block in step.blocks)
    return label


def _what(event: Event, step: Step | None, step_start: int | None) -> str:
    if event.kind == "speech":
        return event.text or ""
    if event.kind == "chime":
        return (event.cue or "").replace("_", " ")
    if event.kind == "pause" and step is not None:
        if step.kind == "pause":
            return "rest"
        if step.switch is not None and event.start == step_start:
            return "switch sides"
        return "release"
    if event.kind == "wait":
        said = f", saying '{event.text}'" if event.text else ""
        return f"waits for you in play{said} (this long in an export)"
    return ""


def _seconds(timeline: Timeline, event: Event) -> str:
    return f"{timeline.seconds(event.frames):g} s"


def _repetitions(timeline: Timeline, group: list[Event], step: Step | None) -> str:
    how = "a tick each" if isinstance(step, Reps) and step.cue == "ticks" else "counted aloud"
    return f"{len(group)} repetitions of {_seconds(timeline, group[0])}, {how}"


def _breaths(timeline: Timeline, group: list[Event], step: Step | None) -> str:
    """``"4 breaths: in 4 s 'Breathe in', out 6 s 'Breathe out'"`` (tones: without words)."""
    spoken = not isinstance(step, Breathe) or step.guide == "spoken"
    first: dict[str, Event] = {}
    for event in group:
        first.setdefault(event.phase or "", event)
    parts = []
    for phase, word in _PHASES.items():
        if phase in first:
            said = f" '{first[phase].text}'" if spoken and first[phase].text else ""
            parts.append(f"{word} {_seconds(timeline, first[phase])}{said}")
    cycles = sum(1 for e in group if e.phase == "inhale") or 1
    tones = "" if spoken else " (tones)"
    return f"{cycles} breath{'s' if cycles > 1 else ''}{tones}: {', '.join(parts)}"
