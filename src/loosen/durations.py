"""Durations as people write them: ``30``, ``"30s"``, ``"1m30s"``, ``"1h"``; and clock display."""

from __future__ import annotations

import math
import re

__all__ = ["format_clock", "parse_clock_s", "parse_duration_s"]

_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$"
)


def parse_duration_s(value: object) -> float:
    """Return ``value`` as a number of seconds.

    Accepts a non-negative int or float (seconds), or a string such as ``"30"``, ``"30s"``,
    ``"2.5s"``, ``"1m30s"``, ``"1m"``, ``"1h5m"``. Raises ``ValueError`` with a short reason.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30 or '1m30s', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        compact = "".join(value.split()).lower()
        match = _DURATION.fullmatch(compact)
        if not compact or match is None or not any(match.groupdict().values()):
            raise ValueError(f"expected a duration such as 30, '30s' or '1m30s', got {value!r}")
        parts = match.groupdict()
        seconds = (
            float(parts["h"] or 0) * 3600 + float(parts["m"] or 0) * 60 + float(parts["s"] or 0)
        )
    else:
        raise ValueError(f"expected a duration such as 30 or '1m30s', got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be zero or more seconds, got {value!r}")
    return seconds


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
