"""Pacing: scale every scripted silence by one factor within safe bounds, or find the factor
that fits a session to a length. Speech is never touched (`--rate` sets it).

Presets and bounds are data: src/loosen/data/pacing.toml.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from loosen.durations import format_length
from loosen.errors import BadInputError, ScriptError
from loosen.expand import Breathe, Hold, Pause, Reps, Step, Switch, TenseRelease

__all__ = [
    "Bounds",
    "Preset",
    "apply_pace",
    "fit_pace",
    "load_presets",
    "paced_gap",
    "resolve_pace",
]

_DATA = Path(__file__).parent / "data" / "pacing.toml"


@dataclass(frozen=True)
class Preset:
    """A named pace, with an optional speaking rate."""

    name: str
    description: str
    pace: float
    rate_wpm: int | None = None


@dataclass(frozen=True)
class Bounds:
    """Floors and ceilings, in seconds, that scaling respects (see data/pacing.toml)."""

    hold_min: float = 10.0
    tense_min: float = 4.0
    tense_max: float = 10.0
    release_min: float = 10.0
    pause_min: float = 1.0
    gap_min: float = 0.4
    cadence_min: float = 1.0
    breath_min: float = 2.0
    transition_min: float = 2.0
    factor_max: float = 4.0


def _read() -> dict[str, Any]:
    with _DATA.open("rb") as handle:
        return tomllib.load(handle)


def load_presets() -> dict[str, Preset]:
    """The named presets."""
    return {
        name: Preset(name, str(t.get("description", "")), float(t["pace"]), t.get("rate_wpm"))
        for name, t in _read()["presets"].items()
    }


def load_bounds() -> Bounds:
    return Bounds(**{key: float(value) for key, value in _read()["bounds"].items()})


def resolve_pace(value: str) -> Preset:
    """``--pace`` as given: a preset's name or a factor such as ``1.2``."""
    presets = load_presets()
    if value.lower() in presets:
        return presets[value.lower()]
    try:
        factor = float(value)
    except ValueError:
        names = ", ".join(presets)
        raise BadInputError(
            f"--pace {value!r}: give a factor such as 1.2, or a preset: {names}"
        ) from None
    bounds = load_bounds()
    if not 1 / bounds.factor_max <= factor <= bounds.factor_max:
        raise BadInputError(
            f"--pace {value}: the factor must be from {1 / bounds.factor_max:g} to "
            f"{bounds.factor_max:g}"
        )
    return Preset(value, "", factor)


def _scale(seconds: float, factor: float, floor: float, ceiling: float | None = None,
           factor_max: float = 4.0) -> float:  # fmt: skip
    """``seconds`` times ``factor``, kept between the floor (or the written value, if shorter)
    and the ceiling (or the written value, if longer), and at most ``factor_max`` times."""
    low = min(seconds, floor)
    high = min(
        seconds * factor_max, max(seconds, ceiling) if ceiling is not None else seconds * factor_max
    )
    return min(max(seconds * factor, low), high)


def apply_pace(steps: list[Step], factor: float, bounds: Bounds | None = None) -> list[Step]:
    """Return ``steps`` with every scripted silence scaled by ``factor`` within ``bounds``."""
    if factor == 1.0:
        return steps
    b = bounds or load_bounds()

    def s(seconds: float, floor: float, ceiling: float | None = None) -> float:
        return _scale(seconds, factor, floor, ceiling, b.factor_max)

    paced: list[Step] = []
    for step in steps:
        switch = step.switch
        if switch is not None:
            switch = Switch(transition_s=s(switch.transition_s, b.transition_min), text=switch.text)
        match step:
            case Hold():
                seconds = s(step.seconds_s, b.hold_min)
                countdown = min(step.countdown, max(0, int(seconds) - 1))
                new: Step = replace(step, seconds_s=seconds, countdown=countdown)
            case Pause():
                new = replace(step, seconds_s=s(step.seconds_s, b.pause_min))
            case TenseRelease():
                new = replace(
                    step,
                    tense_s=s(step.tense_s, b.tense_min, b.tense_max),
                    release_s=s(step.release_s, b.release_min),
                )
            case Reps():
                new = replace(step, cadence_s=s(step.cadence_s, b.cadence_min))
            case Breathe():
                new = replace(
                    step,
                    inhale_s=s(step.inhale_s, b.breath_min),
                    hold_s=s(step.hold_s, 0.0),
                    exhale_s=s(step.exhale_s, b.breath_min),
                )
            case _:
                new = step
        paced.append(replace(new, switch=switch))
    return paced


def paced_gap(gap_s: float, factor: float, bounds: Bounds | None = None) -> float:
    """The silence after each spoken line, scaled like the others."""
    b = bounds or load_bounds()
    return _scale(gap_s, factor, b.gap_min, None, b.factor_max)


def floors_reached(steps: list[Step], factor: float, bounds: Bounds | None = None) -> str:
    """Which floors hold ``steps`` (as written) up when scaled by ``factor``, as words:
    ``"holds stop at 10 s (6 of them), releases at 10 s (4)"``; empty if none does."""
    b = bounds or load_bounds()
    paced = apply_pace(steps, factor, b)
    reached: dict[str, int] = {}

    def check(label: str, written: float, scaled: float) -> None:
        if scaled > written * factor + 1e-9:
            reached[label] = reached.get(label, 0) + 1

    for before, after in zip(steps, paced, strict=True):
        match before, after:
            case Hold(), Hold():
                check(f"holds stop at {b.hold_min:g} s", before.seconds_s, after.seconds_s)
            case TenseRelease(), TenseRelease():
                check(f"tension at {b.tense_min:g} s", before.tense_s, after.tense_s)
                check(f"releases at {b.release_min:g} s", before.release_s, after.release_s)
            case Pause(), Pause():
                check(f"pauses at {b.pause_min:g} s", before.seconds_s, after.seconds_s)
            case Reps(), Reps():
                check(f"rep cadence at {b.cadence_min:g} s", before.cadence_s, after.cadence_s)
            case Breathe(), Breathe():
                check(f"breaths at {b.breath_min:g} s", before.inhale_s, after.inhale_s)
    parts = [f"{label} ({count} of them)" for label, count in reached.items()]
    return ", ".join(parts)


def fit_pace(
    total_for: Callable[[float], float],
    target_s: float,
    *,
    tolerance_s: float = 0.25,
    explain: Callable[[float], str] | None = None,
) -> float:
    """The factor whose session length ``total_for(factor)`` is ``target_s`` within tolerance.

    ``total_for`` must not decrease as the factor grows (scaling within bounds guarantees it).
    Raises `BadInputError` when the bounds keep the session from reaching the target, saying
    how close it can get.
    """
    b = load_bounds()
    low, high = _shortest_factor(total_for, 1 / b.factor_max / 100), b.factor_max
    shortest, longest = total_for(low), total_for(high)
    if target_s < shortest - tolerance_s:
        why = explain(low) if explain is not None else ""
        if low > 1 / b.factor_max / 100:
            why = ", ".join(x for x in (why, "a spoken cue needs its slot") if x)
        raise BadInputError(
            f"--fit: the session cannot be shorter than {format_length(shortest)}: "
            f"{why or 'every silence is at its floor'}; speech is not shortened (try --rate)"
        )
    if target_s > longest + tolerance_s:
        raise BadInputError(
            f"--fit: the session cannot be longer than {format_length(longest)}: no silence "
            f"grows beyond {b.factor_max:g} times what the script wrote, and PMR tension stays "
            f"at most {b.tense_max:g} s"
        )
    for _ in range(60):
        middle = (low + high) / 2
        total = total_for(middle)
        if abs(total - target_s) <= tolerance_s:
            return middle
        if total < target_s:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _shortest_factor(total_for: Callable[[float], float], low: float) -> float:
    """The smallest factor from ``low`` up at which the session still lays out: shrinking can
    leave a spoken cue without room (a halfway line in a short hold), which bounds it too."""
    try:
        total_for(low)
        return low
    except ScriptError:
        pass
    high = 1.0  # the script as written lays out (the caller measured it)
    for _ in range(30):
        middle = (low + high) / 2
        try:
            total_for(middle)
            high = middle
        except ScriptError:
            low = middle
    return high
