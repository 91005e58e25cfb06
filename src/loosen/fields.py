"""Checkers for the values of a session script: each returns the value in canonical form
(durations in seconds, counts as int or an inclusive range) or raises ``ValueError`` with a short
reason. The loader adds the file and the place."""

from __future__ import annotations

import re
from collections.abc import Callable

from loosen.durations import parse_duration_s
from loosen.text import check_template

__all__ = [
    "MAX_COUNT",
    "MAX_STEP_SECONDS",
    "MAX_TEXT_CHARS",
    "Checker",
    "boolean",
    "choice",
    "count",
    "decibels",
    "duration",
    "halfway",
    "integer",
    "label_text",
    "sides",
    "text",
    "type_name",
]

MAX_TEXT_CHARS = 2_000
MAX_STEP_SECONDS = 6 * 3600.0
MAX_COUNT = 1_000

Checker = Callable[[object], object]


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type_name(value)}")
    if not value.strip():
        raise ValueError("text is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"text is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValueError("text contains control characters")
    check_template(value)
    return value


def label_text(value: object) -> str:
    checked = text(value)
    if "{" in checked or "}" in checked:
        raise ValueError("braces are not allowed here")
    return " ".join(checked.split())


def duration(minimum_s: float, *, allow_zero: bool = False) -> Checker:
    def check(value: object) -> float:
        seconds = parse_duration_s(value)
        if seconds == 0 and allow_zero:
            return seconds
        if seconds < minimum_s or seconds == 0:
            raise ValueError(f"must be at least {minimum_s:g} s, got {value!r}")
        if seconds > MAX_STEP_SECONDS:
            raise ValueError(f"{value!r} is longer than the limit of {MAX_STEP_SECONDS / 3600:g} h")
        return seconds

    return check


def integer(low: int, high: int) -> Checker:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {type_name(value)}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    return check


RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def count(value: object) -> int | tuple[int, int]:
    if isinstance(value, str):
        match = RANGE.fullmatch(value)
        if match is None:
            raise ValueError(f"expected a number or a range such as '15-20', got {value!r}")
        low, high = int(match[1]), int(match[2])
        if not 1 <= low <= high <= MAX_COUNT:
            raise ValueError(f"range {value!r} must rise from 1 to at most {MAX_COUNT}")
        return (low, high)
    result: int = integer(1, MAX_COUNT)(value)  # type: ignore[assignment]
    return result


def choice(*choices: str) -> Checker:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}; got {value!r}")
        return str(value)

    return check


def halfway(value: object) -> str:
    if value == "chime":
        return "chime"
    return text(value)


def type_name(value: object) -> str:
    return {
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def decibels(value: object) -> float:
    """A level change in dB, from -60 to +12."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of dB, got {type_name(value)}")
    if not -60.0 <= float(value) <= 12.0:
        raise ValueError(f"must be from -60 to +12 dB, got {value}")
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
