"""The keys of a session script and the checker of each value (`loosen.script.fields`): the
one table that loading a script and changing its values from outside (`loosen.script.overrides`)
share."""

from __future__ import annotations

from collections.abc import Iterable

from loosen.errors import shown
from loosen.script import fields
from loosen.script.fields import Checker
from loosen.script.limits import MAX_REPEAT_TIMES

__all__ = [
    "HEADER_KEYS",
    "KEY_ALIASES",
    "MIX_KEYS",
    "PACING_KEYS",
    "REQUIRED_KEYS",
    "STEP_KEYS",
    "STEP_KINDS",
    "TEMPLATE_KEYS",
    "unknown_key",
]

STEP_KINDS = ("say", "pause", "hold", "reps", "breathe", "tense_release", "repeat")

_POSITIVE = fields.duration(0.05)
STEP_KEYS: dict[str, dict[str, Checker]] = {
    "say": {"text": fields.text},
    "pause": {"seconds": _POSITIVE},
    "hold": {
        "text": fields.text,
        "seconds": _POSITIVE,
        "release_text": fields.text,
        "halfway": fields.halfway,
        "countdown": fields.integer(0, 60),
        "countdown_style": fields.choice("ticks", "spoken"),
    },
    "reps": {
        "text": fields.text,
        "count": fields.count,
        "cadence": fields.duration(0.2),
        "cue": fields.choice("spoken", "ticks"),
        "rep_text": fields.text,
        "release_text": fields.text,
    },
    "breathe": {
        "text": fields.text,
        "cycles": fields.integer(1, fields.MAX_COUNT),
        "inhale": fields.duration(0.5),
        "hold": fields.duration(0.0, allow_zero=True),
        "exhale": fields.duration(0.5),
        "guide": fields.choice("spoken", "tones"),
        "inhale_text": fields.text,
        "hold_text": fields.text,
        "exhale_text": fields.text,
    },
    "tense_release": {
        "text": fields.text,
        "release_text": fields.text,
        "tense": _POSITIVE,
        "release": _POSITIVE,
    },
    "repeat": {"times": fields.integer(1, MAX_REPEAT_TIMES)},
}
for _kind, _keys in STEP_KEYS.items():
    if _kind != "repeat":  # a repeat says nothing to wait after: its first step may wait
        _keys["wait"] = fields.wait
REQUIRED_KEYS = {
    "say": ("text",),
    "hold": ("text",),
    "reps": ("text", "count"),
    "repeat": ("times",),
}

PACING_KEYS: dict[str, tuple[str, Checker]] = {
    "hold": ("hold_s", _POSITIVE),
    "rest": ("rest_s", _POSITIVE),
    "tense": ("tense_s", _POSITIVE),
    "release": ("release_s", _POSITIVE),
    "gap": ("gap_s", fields.duration(0.0, allow_zero=True)),
    "cadence": ("cadence_s", fields.duration(0.2)),
    "transition": ("transition_s", _POSITIVE),
    "reps": ("reps", fields.choice("low", "middle", "high")),
    "inhale": ("inhale_s", fields.duration(0.5)),
    "breath_hold": ("breath_hold_s", fields.duration(0.0, allow_zero=True)),
    "exhale": ("exhale_s", fields.duration(0.5)),
    "wait": ("wait_s", fields.duration(0.0, allow_zero=True)),
}
TEMPLATE_KEYS = ("tense", "release")
HEADER_KEYS = (
    "title",
    "description",
    "language",
    "voice",
    "rate_wpm",
    "pacing",
    "mix",
    "templates",
    "cues",
    "steps",
)


MIX_KEYS: dict[str, Checker] = {
    "voice_db": fields.decibels,
    "chime_db": fields.decibels,
    "ambience_db": fields.decibels,
    "ambience": fields.label_text,
    "breath_tone": fields.boolean,
}


# what people call a value -> the key a step of that kind uses for it
KEY_ALIASES: dict[str, dict[str, str]] = {
    "hold": {"hold": "seconds", "time": "seconds", "duration": "seconds"},
    "pause": {"rest": "seconds", "pause": "seconds", "time": "seconds", "duration": "seconds"},
    "reps": {"reps": "count", "repetitions": "count"},
    "tense_release": {"hold": "tense", "tension": "tense"},
    "breathe": {"breaths": "cycles"},
}


def unknown_key(key: str, allowed: Iterable[str]) -> str:
    """The message for a ``key`` not among the ``allowed`` ones of its table."""
    return f"unknown key {shown(key)}; allowed: {', '.join(sorted(allowed))}"
