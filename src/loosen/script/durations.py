"""Durations as people write them: ``30``, ``"30s"``, ``"1m30s"``, ``"1h"``; and clock display."""

from __future__ import annotations

import math
import re

from loosen.errors import shown

__all__ = ["format_clock", "format_length", "parse_clock_s", "parse_duration_s"]

_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$"
)


def parse_duration_s(value: object) -> float:
    """Return ``value`` as a number of seconds.

    Accepts a non-negative int or float (seconds), or a string such as ``"30"``, ``"30s"``,
    ``"2.5s"``, ``"1m30s"``, ``"1m"``, ``"1h5m"``. After hours, minutes must be under 60, and
    after minutes, seconds (``"1m70s"`` is refused: it is probably a typo). Raises
    ``ValueError`` with a short reason.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a duration such as 30 or '1m30s', got {shown(value)}")
    if isinstance(value, str):
        seconds = _parse_written_s(value)
    else:
        try:
            seconds = float(value)
        except OverflowError:  # an integer of hundreds of digits
            seconds = math.inf
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"a duration must be zero or more seconds, got {shown(value)}")
    if math.isinf(seconds):
        raise ValueError(f"a duration must be finite, zero or more seconds, got {shown(value)}")
    return seconds


def _parse_written_s(value: str) -> float:
    """A duration written as text, ``"1m30s"``, in seconds."""
    compact = "".join(value.split()).lower()
    match = _DURATION.fullmatch(compact)
    if not compact or match is None or not any(match.groupdict().values()):
        raise ValueError(f"expected a duration such as 30, '30s' or '1m30s', got {shown(value)}")
    hours, minutes, seconds = (float(match[unit] or 0) for unit in "hms")
    total = hours * 3600 + minutes * 60 + seconds
    if match["h"] and minutes >= 60:
        raise ValueError(f"{shown(value)} has 60 or more minutes; write {_written(total)}")
    if (match["h"] or match["m"]) and seconds >= 60:
        raise ValueError(f"{shown(value)} has 60 or more seconds; write {_written(total)}")
    return total


def _written(seconds: float) -> str:
    """``seconds`` as a duration is written, ``"2m10s"``, for a message's suggestion."""
    if not math.isfinite(seconds):
        return "a shorter duration"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    amounts = ((hours, "h"), (minutes, "m"), (secs, "s"))
    return repr("".join(f"{amount:g}{unit}" for amount, unit in amounts if amount) or "0s")


def format_length(seconds: float) -> str:
    """``seconds`` to the nearest whole second, as lengths and positions are shown everywhere
    (`list`, `show`, `play`, `export`, messages): ``M:SS``, or ``H:MM:SS`` from one hour on.

    One rule for every length a user reads, so a session is never 15:19 in one place and 15:18
    in another.
    """
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_clock(seconds: float) -> str:
    """Format ``seconds`` as ``M:SS.mmm`` (or ``H:MM:SS.mmm`` from one hour on)."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{ms:03d}"
    return f"{minutes}:{secs:02d}.{ms:03d}"


def parse_clock_s(value: str) -> float:
    """Return a position written ``"5:00"``, ``"1:02:30"`` or ``"90s"`` in seconds."""
    parts = value.strip().split(":")
    if len(parts) == 1:
        return parse_duration_s(value)
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected a time such as 5:00 or 1:02:30, got {value!r}") from None
    if (
        len(numbers) > 3
        or any(n < 0 or not math.isfinite(n) for n in numbers)
        or any(n >= 60 for n in numbers[1:])
    ):
        raise ValueError(f"expected a time such as 5:00 or 1:02:30, got {value!r}")
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds
