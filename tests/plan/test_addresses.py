"""Messages name a step the way `loosen show` and the player number it, and as a user would
address it (`--from`, `--set`)."""

import json

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from loosen.errors import ScriptError
from loosen.script.loading import parse_session

runner = CliRunner()

OPENING = """
title = "T"
[[steps]]
kind = "repeat"
name = "settle"
times = 2
  [[steps.steps]]
  kind = "say"
  text = "Breathe."
[[steps]]
kind = "hold"
name = "reach"
sides = ["right", "left"]
text = "Reach."
seconds = 12
"""


def test_a_layout_error_names_the_step_by_the_number_show_gives_it(tmp_path) -> None:
    script = tmp_path / "s.toml"
    script.write_text(
        OPENING + '[[steps]]\nkind = "hold"\nname = "tight"\ntext = "Go."\nseconds = 2\n'
        'halfway = "You are halfway there, keep breathing slowly and stay with it."\n'
    )
    result = runner.invoke(app, ["show", str(script)])
    assert result.exit_code == 2
    # settle's two rounds are steps 1 and 2, reach's sides 3 and 4: tight is step 5
    assert "step 5 'tight': the halfway cue would overlap the hold-start chime" in result.stderr


def test_a_sided_step_is_named_with_its_side(tmp_path) -> None:
    script = tmp_path / "s.toml"
    script.write_text(OPENING.replace("seconds = 12", "seconds = 12\ncountdown = 12"))
    result = runner.invoke(app, ["show", str(script)])
    assert result.exit_code == 2
    assert "step 3 'reach (right)': a countdown of 12 s does not fit" in result.stderr


def test_a_file_error_says_where_the_table_is_when_show_would_number_it_otherwise() -> None:
    with pytest.raises(ScriptError) as caught:
        parse_session(OPENING + '[[steps]]\nkind = "say"\nname = "end"\ncolour = "red"\n')
    assert "step 5 'end' ([[steps]] table 3), key 'colour'" in str(caught.value)


def test_the_numbers_in_messages_are_the_numbers_show_prints(tmp_path) -> None:
    script = tmp_path / "s.toml"
    script.write_text(OPENING + '[[steps]]\nkind = "say"\nname = "end"\ntext = "Done."\n')
    shown = json.loads(runner.invoke(app, ["show", str(script), "--json"]).stdout)
    numbers = {(s["name"], s["side"]): s["step"] for s in shown["steps"]}
    assert numbers[("reach", "left")] == 4 and numbers[("end", None)] == 5
    result = runner.invoke(app, ["show", str(script), "--set", "4.hold=abc"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --set 4.hold=abc: expected a duration")
    left = runner.invoke(app, ["show", str(script), "--set", "4.hold=20", "--json"])
    holds = [e for e in json.loads(left.stdout)["events"] if e["kind"] == "hold"]
    assert [round(e["end_s"] - e["start_s"]) for e in holds] == [12, 20]
