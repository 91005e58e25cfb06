"""Pacing: scale every scripted silence by one factor within safe bounds, and find the factors
that fit a session to a length. Speech is never touched (`--rate` sets it).

`Pace` is the one place where silences are scaled: the expansion (`loosen.plan.expand`) asks it
for every hold, rest, pause, release, cadence, breath, transition and wait as it builds each
step, before the step's text is filled in, so a line that says how long a hold lasts ("Hold for
{seconds} seconds") says the paced length. Such announced holds are scaled to whole seconds, a
length a person can say. The gap after each spoken line is scaled here too (`Pace.gap_s`).

This module knows nothing of steps (no import of `loosen.plan.expand`), so the expansion can use it.
Presets and bounds are data: src/loosen/data/pacing.toml.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loosen.errors import BadInputError, BadValueError, ScriptError
from loosen.script.durations import format_length

__all__ = [
    "SILENCE_KINDS",
    "Bounds",
    "Pace",
    "Preset",
    "fit_factor",
    "load_bounds",
    "load_presets",
    "resolve_pace",
]

_DATA = Path(__file__).parent.parent / "data" / "pacing.toml"  # the package's data folder


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


# each kind of silence -> the names of its floor and ceiling in `Bounds` (None: none)
SILENCE_KINDS: dict[str, tuple[str | None, str | None]] = {
    "hold": ("hold_min", None),
    "tense": ("tense_min", "tense_max"),
    "release": ("release_min", None),
    "pause": ("pause_min", None),
    "gap": ("gap_min", None),
    "cadence": ("cadence_min", None),
    "breath": ("breath_min", None),
    "breath_hold": (None, None),
    "transition": ("transition_min", None),
    "wait": ("pause_min", None),
}


@functools.cache
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
    """The bounds of data/pacing.toml."""
    return Bounds(**{key: float(value) for key, value in _read()["bounds"].items()})


def resolve_pace(value: str) -> Preset:
    """A pace as a user writes it: a preset's name or a factor such as ``1.2``."""
    presets = load_presets()
    if value.strip().lower() in presets:
        return presets[value.strip().lower()]
    try:
        factor = float(value)
    except ValueError:
        names = ", ".join(presets)
        reason = f"give a factor such as 1.2, or a preset: {names}"
        raise BadValueError("pace", value, reason) from None
    bounds = load_bounds()
    if not 1 / bounds.factor_max <= factor <= bounds.factor_max:
        reason = f"the factor must be from {1 / bounds.factor_max:g} to {bounds.factor_max:g}"
        raise BadValueError("pace", value, reason)
    return Preset(value, "", factor)


@dataclass(frozen=True)
class Pace:
    """How a session's scripted silences are scaled.

    ``factor`` scales every silence (1: as written). ``announced_factor`` scales the holds
    that a line announces (its text says ``{seconds}``) instead, if given: `fit_factor` settles
    those to whole seconds first and then tunes the other silences around them. Whenever an
    announced hold is scaled at all, its length is rounded to whole seconds, so the voice says
    a number that a person would say and that is true.

    Every scaled silence stays between its floor (or the written value, if shorter) and its
    ceiling (or the written value, if longer), and within ``factor_max`` times the written value.
    """

    factor: float = 1.0
    announced_factor: float | None = None
    bounds: Bounds | None = None  # None: those of data/pacing.toml

    @property
    def is_identity(self) -> bool:
        """Whether every silence stays as written."""
        return self.factor == 1.0 and self.announced_factor in (None, 1.0)

    def scaled_s(self, seconds: float, kind: str, *, announced: bool = False) -> float:
        """``seconds`` of silence of ``kind`` (a key of `SILENCE_KINDS`), scaled.

        ``announced``: a line of the step says this length (``{seconds}``).
        """
        factor = self._factor(announced)
        if factor == 1.0:
            return seconds
        scaled, low, high = self._clamped(seconds, kind, factor)
        if not announced:
            return scaled
        # a length a person can say, still within the bounds
        whole_low, whole_high = math.ceil(max(low, 1.0)), math.floor(high)
        if whole_low > whole_high:
            return scaled
        return float(min(max(round(scaled), whole_low), whole_high))

    def gap_s(self, seconds: float) -> float:
        """The silence after each spoken line, scaled like the others."""
        return self.scaled_s(seconds, "gap")

    def floor_reached(self, seconds: float, kind: str, *, announced: bool = False) -> bool:
        """Whether a floor holds ``seconds`` of ``kind`` above what the factor alone gives."""
        factor = self._factor(announced)
        return self._clamped(seconds, kind, factor)[0] > seconds * factor + 1e-9

    def _factor(self, announced: bool) -> float:
        if announced and self.announced_factor is not None:
            return self.announced_factor
        return self.factor

    def _clamped(self, seconds: float, kind: str, factor: float) -> tuple[float, float, float]:
        """``seconds * factor`` kept within the bounds of ``kind``, and those bounds."""
        bounds = self.bounds or _default_bounds()
        floor_name, ceiling_name = SILENCE_KINDS[kind]
        floor = getattr(bounds, floor_name) if floor_name else 0.0
        ceiling = getattr(bounds, ceiling_name) if ceiling_name else None
        low = min(seconds, floor)
        high = seconds * bounds.factor_max
        if ceiling is not None:
            high = min(high, max(seconds, ceiling))
        return min(max(seconds * factor, low), high), low, high


@functools.cache
def _default_bounds() -> Bounds:
    return load_bounds()


def fit_factor(
    total_for: Callable[[float], float],
    target_s: float,
    *,
    tolerance_s: float = 0.25,
    explain: Callable[[float], str] | None = None,
) -> float:
    """The factor whose session length ``total_for(factor)`` is ``target_s`` within tolerance,
    or the nearest one where the length jumps past the target (a step function: lengths are
    rounded), a factor at which ``total_for`` is still below it.

    ``total_for`` must not decrease as the factor grows (scaling within bounds guarantees it).
    Raises `BadInputError` when the bounds keep the session from reaching the target, saying
    how close it can get.
    """
    b = _default_bounds()
    low, high = _shortest_factor(total_for, 1 / b.factor_max / 100), b.factor_max
    shortest, longest = total_for(low), total_for(high)
    if target_s < shortest - tolerance_s:
        why = explain(low) if explain is not None else ""
        if low > 1 / b.factor_max / 100:
            why = ", ".join(x for x in (why, "a spoken cue needs its slot") if x)
        raise BadInputError(
            f"the session cannot be shorter than {format_length(shortest)}: "
            f"{why or 'every silence is at its floor'}; speech is not shortened (try a faster "
            "speaking rate)"
        )
    if target_s > longest + tolerance_s:
        raise BadInputError(
            f"the session cannot be longer than {format_length(longest)}: no silence "
            f"grows beyond {b.factor_max:g} times what the script wrote, and PMR tension stays "
            f"at most {b.tense_max:g} s"
        )
    if abs(shortest - target_s) <= tolerance_s:
        return low
    if abs(longest - target_s) <= tolerance_s:
        return high
    for _ in range(60):
        middle = (low + high) / 2
        total = total_for(middle)
        if abs(total - target_s) <= tolerance_s:
            return middle
        if total < target_s:
            low = middle
        else:
            high = middle
    return low


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
