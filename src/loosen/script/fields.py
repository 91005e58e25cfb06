"""Checkers for the values of a session script: each returns the value in canonical form
(durations in seconds, counts as int or an inclusive range) or raises ``ValueError`` with a short
reason. The loader adds the file and the place."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from loosen.errors import shown, type_name
from loosen.script.durations import parse_duration_s
from loosen.script.limits import MAX_COUNT, MAX_TEXT_CHARS, max_session_s
from loosen.script.templates import check_template

__all__ = [
    "MAX_COUNT",
    "MAX_TEXT_CHARS",
    "Checker",
    "boolean",
    "choice",
    "count",
    "cue_source",
    "decibels",
    "duration",
    "halfway",
    "integer",
    "label_text",
    "language_tag",
    "sides",
    "text",
    "type_name",
    "wordings",
]

Checker = Callable[[object], object]

# Bidirectional embeddings, overrides and isolates reorder how a line is shown on a terminal
# (the "Trojan source" trick); text to be spoken never needs them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type_name(value)}")
    if not value.strip():
        raise ValueError("text is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"text is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
    control = _control_character(value)
    if control is not None:
        at = value.index(control) + 1
        raise ValueError(f"text contains control characters: {control!r} at character {at}")
    check_template(value)
    return value


def _control_character(value: str, allowed: str = "\n\t") -> str | None:
    """The first character of ``value`` that a terminal would act on rather than show: C0 and
    C1 controls (ESC, BEL, CSI...) but those ``allowed``, DEL, and bidi controls; else None."""
    if value.isprintable():
        return None
    for c in value:
        if (unicodedata.category(c) == "Cc" and c not in allowed) or c in _BIDI_CONTROLS:
            return c
    return None


MAX_WORDINGS = 100


def wordings(value: object) -> tuple[str, ...]:
    """A text, or a list of texts to be said in turn (a template's wordings)."""
    if not isinstance(value, list):
        return (text(value),)
    if not value:
        raise ValueError("expected text, or a list of texts to say in turn; the list is empty")
    if len(value) > MAX_WORDINGS:
        raise ValueError(f"{len(value)} wordings; the limit is {MAX_WORDINGS}")
    checked = []
    for number, item in enumerate(value, start=1):
        try:
            checked.append(text(item))
        except ValueError as error:
            raise ValueError(f"wording {number}: {error}") from None
    return tuple(checked)


def label_text(value: object) -> str:
    checked = text(value)
    if "{" in checked or "}" in checked:
        raise ValueError("braces are not allowed here")
    return " ".join(checked.split())


# a language tag as espeak-ng and Piper name their voices' languages: "en", "en-gb", "pt_BR"
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


def language_tag(value: object) -> str:
    checked = label_text(value).strip()
    if not _LANGUAGE_TAG.fullmatch(checked):
        raise ValueError(
            f"{shown(value)} is not a language tag; write one such as 'en', 'en-gb' or 'de'"
        )
    return checked


def duration(minimum_s: float, *, allow_zero: bool = False) -> Checker:
    def check(value: object) -> float:
        seconds = parse_duration_s(value)
        if seconds == 0 and allow_zero:
            return seconds
        if seconds < minimum_s or seconds == 0:
            raise ValueError(f"must be at least {minimum_s:g} s, got {shown(value)}")
        limit_s = max_session_s()
        if seconds > limit_s:
            raise ValueError(f"{shown(value)} is longer than the limit of {limit_s / 3600:g} h")
        return seconds

    return check


def integer(low: int, high: int) -> Checker:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            what = shown(value) if isinstance(value, float) else type_name(value)
            raise ValueError(f"expected a whole number, got {what}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {shown(value)}")
        return value

    return check


RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def _bounded_int(digits: str) -> int:
    """``digits`` as an int, any number past the counts' limit as ``MAX_COUNT + 1``: Python
    refuses to convert more than 4300 digits, and no count needs ten."""
    return int(digits) if len(digits) < 10 else MAX_COUNT + 1


def count(value: object) -> int | tuple[int, int]:
    if isinstance(value, str):
        match = RANGE.fullmatch(value)
        if match is None:
            raise ValueError(f"expected a number or a range such as '15-20', got {shown(value)}")
        low, high = _bounded_int(match[1]), _bounded_int(match[2])
        if not 1 <= low <= high <= MAX_COUNT:
            raise ValueError(f"range {shown(value)} must rise from 1 to at most {MAX_COUNT}")
        return (low, high)
    result: int = integer(1, MAX_COUNT)(value)  # type: ignore[assignment]
    return result


def cue_source(value: object) -> str:
    """A ``[cues]`` value: a recipe name or a sound file's path (checked when cues load)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a recipe name or a WAV file path, got {shown(value)}")
    if len(value) > MAX_TEXT_CHARS or _control_character(value, allowed="") is not None:
        raise ValueError(f"{shown(value)} is not a usable recipe name or file path")
    return value


def choice(*choices: str) -> Checker:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}; got {shown(value)}")
        return str(value)

    return check


def halfway(value: object) -> str:
    if value == "chime":
        return "chime"
    return text(value)


def wait(value: object) -> bool | str:
    """A step's ``wait``: true, false, or the line the player says when it waits."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected true, false or a line to say, got {type_name(value)}")
    return text(value)


def decibels(value: object) -> float:
    """A level change in dB, from -60 to +12."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of dB, got {type_name(value)}")
    if not -60.0 <= value <= 12.0:  # compared as written: float() overflows on a huge integer
        raise ValueError(f"must be from -60 to +12 dB, got {shown(value)}")
    return float(value)


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {type_name(value)}")
    return value


def sides(value: object) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError('expected two sides, such as ["right", "left"]')
    first, second = (label_text(v) for v in value)
    if first == second:
        raise ValueError("the two sides must differ")
    return (first, second)
