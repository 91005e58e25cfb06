"""`loosen show` as a reader meets it: a table with a header, fitted to the terminal, that lists
every pause and names each step and the repeat block it is in."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app

LONG_NAME = "slow forward fold with bent knees and a long exhale"
LONG_TEXT = (
    "Stand tall with your feet hip-width apart and let your arms hang loose. "
    "Breathe out slowly, fold forward from the hips, bend your knees as much as you need, "
    "and let your head and neck go heavy, until the chime."
)
SCRIPT = f"""title = "Folds"
[pacing]
gap = "0.5s"
[[steps]]
kind = "say"
name = "{LONG_NAME}"
text = "{LONG_TEXT}"
[[steps]]
kind = "repeat"
name = "cycle"
times = 2
  [[steps.steps]]
  kind = "hold"
  name = "reach"
  sides = ["right", "left"]
  text = "Reach {{side}}."
  seconds = 3
  [[steps.steps]]
  kind = "pause"
  seconds = 2
[[steps]]
kind = "tense_release"
name = "hands"
tense = 2
release = 6
[[steps]]
kind = "reps"
name = "taps"
text = "Tap."
count = 3
cadence = 1
cue = "ticks"
[[steps]]
kind = "breathe"
name = "breath"
text = "Breathe."
cycles = 2
inhale = 2
exhale = 3
"""
HEADER = ["start", "length", "step", "kind", "what"]


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("show") / "folds.toml"
    path.write_text(SCRIPT)
    return path


def show(script: Path, columns: int, *args: str) -> list[str]:
    result = CliRunner().invoke(app, ["show", str(script), *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_at_80_columns_every_line_fits_under_a_header_and_names_every_pause(
    script: Path,
) -> None:
    lines = show(script, 80)
    assert lines[0].startswith("Folds: ") and lines[0].endswith(" total")
    assert lines[1].split() == HEADER
    assert max(len(line) for line in lines) <= 80
    text = " ".join(" ".join(line.split()) for line in lines)
    assert LONG_TEXT in _column(lines, "what")  # wrapped within its column, not cut
    assert LONG_NAME in _column(lines, "step")
    for row in ("pause rest", "pause switch sides", "pause release", "chime hold start",
                "reps 3 repetitions of 1 s, a tick each", "breaths 2 breaths: in 2 s"):  # fmt: skip
        assert row in text, row
    assert "2 reach (right) in cycle 1/2" in _column(lines, "step")  # the repeat block, named
    assert "6 reach (left) in cycle 2/2" in _column(lines, "step")
    assert lines[-1].split()[1:] == ["end"]


def _column(lines: list[str], name: str) -> str:
    """What the table shows in its column ``name``, its wrapped lines joined by spaces."""
    header = lines[1]
    start = header.index(name)
    names = header.split()
    after = names.index(name) + 1
    end = header.index(names[after]) if after < len(names) else None
    cells = [line[start:end].strip() for line in lines[3:]]
    return " ".join(cell for cell in cells if cell)


def test_at_50_columns_each_step_has_a_row_of_its_own_and_nothing_is_wider(
    script: Path,
) -> None:
    lines = show(script, 50)
    assert lines[1].split() == ["start", "length", "kind", "what"]
    assert max(len(line) for line in lines) <= 50
    steps = [i for i, line in enumerate(lines) if line.split()[:1] == ["step"]]
    assert [lines[i].split(None, 1)[1] for i in steps[1:3]] == ["2 reach (right)", "3 reach (left)"]
    assert lines[steps[1] + 1].strip() == "in cycle 1/2"
    what = _column(lines, "what")
    assert LONG_NAME in what and LONG_TEXT in what


def test_piped_it_is_plain_text_80_columns_wide(script: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [sys.executable, "-m", "loosen", "show", str(script)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[1].split() == HEADER
    assert max(len(line) for line in lines) <= 80
    assert "\x1b" not in done.stdout
    assert all(line == line.rstrip() for line in lines)


def test_the_json_names_the_repeat_block_of_each_step(script: Path) -> None:
    document = json.loads("\n".join(show(script, 80, "--json")))
    assert set(document) == {"title", "duration_s", "sample_rate", "events", "steps"}
    blocks = [step["blocks"] for step in document["steps"]]
    assert blocks[0] == []
    assert blocks[1] == [{"name": "cycle", "round": 1, "rounds": 2}]
    assert blocks[6] == [{"name": "cycle", "round": 2, "rounds": 2}]  # step 7: the last rest
    assert blocks[7] == []
