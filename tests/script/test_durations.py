import pytest
from hypothesis import given
from hypothesis import strategies as st

from loosen.script.durations import format_clock, parse_duration_s


@pytest.mark.parametrize(
    ("written", "seconds"),
    [(30, 30.0), (2.5, 2.5), ("30", 30.0), ("30s", 30.0), ("1m30s", 90.0), ("1m", 60.0),
     ("1h5m", 3900.0), (" 1m 30s ", 90.0), ("0.5s", 0.5), (0, 0.0)],
)  # fmt: skip
def test_durations_are_read_as_people_write_them(written: object, seconds: float) -> None:
    assert parse_duration_s(written) == seconds


@pytest.mark.parametrize(
    "written", ["", "s", "abc", "1x", "-5", -5, True, None, [], "5 min", "1h1h"]
)
def test_nonsense_durations_are_refused_with_a_reason(written: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_s(written)


def test_infinite_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        parse_duration_s(float("inf"))


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=59))
def test_minutes_and_seconds_add_up(minutes: int, seconds: int) -> None:
    assert parse_duration_s(f"{minutes}m{seconds}s") == minutes * 60 + seconds


def test_clock_format_shows_milliseconds_and_hours_when_needed() -> None:
    assert format_clock(61.5) == "1:01.500"
    assert format_clock(3725.25) == "1:02:05.250"
