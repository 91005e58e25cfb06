"""Limits on what a session script may ask for, all in one place.

They are checked while a script loads and again before it is expanded, never during synthesis,
so a script asking for ``seconds = 9999999`` or a ``repeat`` of 100000 rounds is refused in a
moment, with the limit named in the message, instead of synthesizing speech for hours or filling
memory.

The session length is the one limit a user may change: it is 6 h unless the environment
variable ``LOOSEN_MAX_SESSION_H`` gives another number of hours (at most 24), e.g.
``LOOSEN_MAX_SESSION_H=9 loosen export night.toml``. It bounds every single duration too. It is
checked against a lower bound of the length, computed from the script without expanding it:
every silence (holds, pauses, rests, tension and release, rep cadence, breaths, the transition
between sides, the gap after each line) plus each spoken line at `FASTEST_SPEECH_CHARS_PER_S`,
faster than any voice speaks. A ``--pace`` factor below 1 shortens that bound; one above 1 may
lengthen the session past the limit, by at most the pacing's own ceiling (4 times).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from loosen.errors import BadInputError, ScriptError

if TYPE_CHECKING:
    from loosen.script.loading import Pacing
    from loosen.script.steps import ScriptStep

__all__ = [
    "DEFAULT_MAX_SESSION_H",
    "FASTEST_SPEECH_CHARS_PER_S",
    "MAX_COUNT",
    "MAX_EXPANDED_STEPS",
    "MAX_RECIPE_BYTES",
    "MAX_REPEAT_DEPTH",
    "MAX_REPEAT_TIMES",
    "MAX_SCRIPT_BYTES",
    "MAX_SESSION_H_CEILING",
    "MAX_SESSION_H_ENV",
    "MAX_SOUND_FILE_BYTES",
    "MAX_SOUND_FILE_CHANNELS",
    "MAX_SOUND_FILE_S",
    "MAX_TEXT_CHARS",
    "MAX_TOML_DEPTH",
    "SOUND_FILE_RATES_HZ",
    "check_session_size",
    "count_expanded",
    "max_session_s",
    "session_floor_s",
    "session_limit_once_spoken_s",
    "speech_floor_s",
    "too_long_once_spoken",
]

MAX_SCRIPT_BYTES = 1_000_000  # a long session script is a few kB
MAX_TOML_DEPTH = 24  # arrays and tables inside each other (and a dotted key's parts); a valid
# script needs about 12
MAX_RECIPE_BYTES = 64 * 1024  # a sound recipe is about 1 kB
# A cue's own sound file, as its header describes it before anything is decoded: at most 8 x
# 192 kHz x 60 s is 92 M samples to decode (about a second), read block by block.
MAX_SOUND_FILE_BYTES = 10 * 1024 * 1024
MAX_SOUND_FILE_S = 60.0
MAX_SOUND_FILE_CHANNELS = 8  # 7.1 surround
SOUND_FILE_RATES_HZ = (8_000, 192_000)  # the output rates; a cue is resampled to the session's
MAX_REPEAT_DEPTH = 4  # a repeat inside a repeat inside ... : four deep at most
MAX_REPEAT_TIMES = 1_000  # rounds of one repeat step
MAX_COUNT = 1_000  # repetitions of a reps step, cycles of a breathe step
MAX_TEXT_CHARS = 2_000  # one line of text, as written and once its variables are filled in
MAX_EXPANDED_STEPS = 5_000  # steps once repeats are unrolled and sides copied
DEFAULT_MAX_SESSION_H = 6.0
MAX_SESSION_H_ENV = "LOOSEN_MAX_SESSION_H"
MAX_SESSION_H_CEILING = 24.0  # what the environment variable may raise the limit to
FASTEST_SPEECH_CHARS_PER_S = 100.0  # the fastest rate, 450 wpm, is about 45 characters a second


def max_session_s() -> float:
    """The longest session allowed, in seconds: `LOOSEN_MAX_SESSION_H` hours, else 6 h.

    Read at each call, so a test or a long-running process sees a change at once.
    """
    written = os.environ.get(MAX_SESSION_H_ENV, "").strip()
    if not written:
        return DEFAULT_MAX_SESSION_H * 3600
    try:
        hours = float(written)
    except ValueError:
        hours = math.nan
    if not 0 < hours <= MAX_SESSION_H_CEILING:
        raise BadInputError(
            f"{MAX_SESSION_H_ENV}={written[:20]!r}: give a number of hours from more than 0 "
            f"to {MAX_SESSION_H_CEILING:g}"
        )
    return hours * 3600


_SOUNDED = re.compile(r"[^\W_]")  # letters and digits: what every voice takes time to say


def speech_floor_s(text: str) -> float:
    """A lower bound of the seconds any voice takes to say ``text``: its letters and digits at
    `FASTEST_SPEECH_CHARS_PER_S` (spaces and punctuation may take no time at all)."""
    return len(_SOUNDED.findall(text)) / FASTEST_SPEECH_CHARS_PER_S


def session_limit_once_spoken_s(silence_factor: float = 1.0) -> float:
    """The longest a session may last once its speech is measured, in seconds: `max_session_s`,
    or more by a pace that lengthens the silences (``silence_factor`` above 1)."""
    return max_session_s() * max(1.0, silence_factor)


def too_long_once_spoken(length_s: float, limit_s: float, where: str) -> ScriptError:
    """The error for a session found to last ``length_s`` once spoken, past ``limit_s``;
    ``where`` names the step that crosses the limit."""
    return ScriptError(
        f"the session lasts more than {_hours(limit_s)} once its speech is measured (this step "
        f"ends at {_hours(length_s)}); the limit is {_hours(max_session_s())} "
        f"({MAX_SESSION_H_ENV} sets it, up to {MAX_SESSION_H_CEILING:g} h)",
        where=where,
    )


def count_expanded(steps: Sequence[ScriptStep], stop_above: int = MAX_EXPANDED_STEPS) -> int:
    """How many steps ``steps`` expand to; counting stops early once past ``stop_above``."""
    total = 0
    for step in steps:
        for side in step.sides or (None,):
            if step.kind == "repeat":
                rounds = int(step.values_for(side)["times"])
                total += rounds * count_expanded(step.children, stop_above)
            else:
                total += 1
        if total > stop_above:
            return total
    return total


def session_floor_s(
    steps: Sequence[ScriptStep], pacing: Pacing, silence_factor: float = 1.0
) -> float:
    """A lower bound of how long ``steps`` last, in seconds, without expanding them, when every
    silence is scaled by ``silence_factor`` (`loosen.plan.pace.Pace.factor`)."""
    # scaling by a pace factor never takes a silence below its written length times the factor
    silence = min(silence_factor, 1.0)
    return sum(_step_floor_s(step, pacing, silence) for step in steps)


def check_session_size(
    steps: Sequence[ScriptStep], pacing: Pacing, silence_factor: float = 1.0
) -> None:
    """Refuse a session that expands to more than `MAX_EXPANDED_STEPS` steps or would last
    longer than `max_session_s` with its silences scaled by ``silence_factor``; the
    `ScriptError` names the step that weighs most."""
    total = count_expanded(steps)
    if total > MAX_EXPANDED_STEPS:
        heaviest = max(steps, key=lambda step: count_expanded([step]))
        raise ScriptError(
            f"the session expands to at least {total} steps; the limit is {MAX_EXPANDED_STEPS}",
            where=heaviest.label,
        )
    limit_s = max_session_s()
    silence = min(silence_factor, 1.0)
    floors = [_step_floor_s(step, pacing, silence) for step in steps]
    if sum(floors) > limit_s:
        longest = steps[floors.index(max(floors))]
        raise ScriptError(
            f"the session would last at least {_hours(sum(floors))}; the limit is "
            f"{_hours(limit_s)} ({MAX_SESSION_H_ENV} sets it, up to {MAX_SESSION_H_CEILING:g} h)",
            where=longest.label,
        )


def _hours(seconds: float) -> str:
    """``seconds`` as a message shows a session's length: ``"2778 h"``, ``"6 h 0 min 1 s"``."""
    if seconds >= 10 * 3600:
        return f"{seconds / 3600:.0f} h"
    hours, rest = divmod(math.ceil(seconds), 3600)  # up: a length just past the limit shows so
    minutes, secs = divmod(rest, 60)
    if secs:
        return f"{hours} h {minutes} min {secs} s"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _spoken_s(text: object, pacing: Pacing, silence: float) -> float:
    """The least time one free-standing line takes: its words at the fastest speech, and the gap."""
    if not isinstance(text, str):
        return 0.0
    return len(text) / FASTEST_SPEECH_CHARS_PER_S + pacing.gap_s * silence


_SPOKEN_KEYS = {  # the free-standing lines of each kind (the release words of a
    # tense_release lie inside its release period, cues inside their slots)
    "say": ("text",),
    "hold": ("text", "release_text"),
    "reps": ("text", "release_text"),
    "breathe": ("text",),
    "tense_release": ("text",),
}


def _step_floor_s(step: ScriptStep, pacing: Pacing, silence: float) -> float:
    def once(side: str | None) -> float:
        values = step.values_for(side)
        if step.kind == "repeat":
            rounds = int(values["times"])
            return rounds * sum(_step_floor_s(child, pacing, silence) for child in step.children)
        keys = _SPOKEN_KEYS.get(step.kind, ())
        spoken = sum(_spoken_s(values.get(key), pacing, silence) for key in keys)
        return spoken + _silence_s(step.kind, values, pacing) * silence

    if step.sides is None:
        return once(None)
    # the switch text is spoken during the transition, which lasts at least as long as it
    switch_s = max(pacing.transition_s * silence, _spoken_s(step.switch_text, pacing, 0.0))
    return sum(once(side) for side in step.sides) + switch_s


def _silence_s(kind: str, v: Mapping[str, Any], p: Pacing) -> float:
    """The silences a step of any kind but repeat holds as written, in seconds (a wait for
    the listener counted as an export's fixed pause)."""
    return _kind_silence_s(kind, v, p) + (p.wait_s if v.get("wait", False) else 0.0)


def _kind_silence_s(kind: str, v: Mapping[str, Any], p: Pacing) -> float:
    if kind == "pause":
        return float(v.get("seconds", p.rest_s))
    if kind == "hold":
        return float(v.get("seconds", p.hold_s))
    if kind == "reps":
        count = v["count"]
        low = count[0] if isinstance(count, tuple) else count
        return int(low) * float(v.get("cadence", p.cadence_s))
    if kind == "breathe":
        cycle_s = (
            float(v.get("inhale", p.inhale_s))
            + float(v.get("hold", p.breath_hold_s))
            + float(v.get("exhale", p.exhale_s))
        )
        return int(v.get("cycles", 1)) * cycle_s  # at least one cycle, whatever the default
    if kind == "tense_release":
        return float(v.get("tense", p.tense_s)) + float(v.get("release", p.release_s))
    return 0.0
