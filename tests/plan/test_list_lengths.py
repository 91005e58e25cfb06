"""`loosen list` shows every session's length at once: estimated from the text with a cold speech
cache (nothing is synthesized), exact once the session's speech is cached."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from loosen.script.library import bundled_scripts

#: how far an estimate may be from the real length (the README says how close it comes)
TOLERANCE = 0.03

runner = CliRunner()


def listed(cache: Path | None = None) -> dict[str, str]:
    """`loosen list`'s length of each session, by name."""
    env = {"LOOSEN_CACHE_DIR": str(cache)} if cache is not None else {}
    result = runner.invoke(app, ["list"], env=env)
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if not line.startswith("#")]
    return {row[0]: row[1] for row in rows}


def seconds(length: str) -> int:
    minutes, secs = length.lstrip("~").split(":")
    return int(minutes) * 60 + int(secs)


def test_a_cold_list_synthesizes_nothing_and_marks_its_lengths_as_estimates(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    lengths = listed(cache)
    assert set(lengths) >= set(bundled_scripts())
    assert all(lengths[name].startswith("~") for name in bundled_scripts())
    assert not cache.exists() or not any(cache.rglob("*"))


def test_the_estimates_come_within_3_percent_of_the_real_lengths_which_list_then_shows(
    tmp_path: Path,
) -> None:
    estimates = listed(tmp_path / "cold")
    names = list(bundled_scripts())
    checked = runner.invoke(app, ["check", *names])  # synthesizes into the shared cache
    assert checked.exit_code == 0, checked.stderr
    real = {
        name: line.rsplit(", ", 1)[1]
        for name, line in zip(names, checked.stdout.splitlines(), strict=True)
    }
    for name in names:
        assert seconds(estimates[name]) == pytest.approx(seconds(real[name]), rel=TOLERANCE), name
    exact = listed()
    assert {name: exact[name] for name in names} == real
