"""The README documents every command, and its test command is the one CI runs."""

import re
from pathlib import Path

from typer.main import get_command

from loosen.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_every_command_has_help_and_a_section_in_the_readme() -> None:
    command = get_command(app)
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        assert sub.help, name
        assert f"loosen {name}" in README, name


def test_the_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```(?:sh|bash|console)\n(.*?)\n```", section, re.S)
    assert len(commands) == 2
    assert "loosen export back-loosening" in commands[0]
    test_command = commands[1].strip()
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci


def test_the_readme_example_script_is_valid() -> None:
    from loosen.plan.expand import expand_session
    from loosen.script.loading import parse_session

    example = README.split("## Script format", 1)[1]
    toml = re.search(r"```toml\n(.*?)\n```", example, re.S)
    assert toml is not None
    body = toml[1].replace(
        'session_end = "sounds/gong.wav"   # a path, relative to this script\n', ""
    )
    session = parse_session(body)
    steps = expand_session(session)
    switches = [s for s in steps if s.switch is not None and s.switch.text is not None]
    assert switches  # and each names the side that comes next
    for step in switches:
        assert step.switch is not None and step.switch.text == f"Now the {step.side} side."


def test_the_readme_python_example_runs_and_writes_what_it_says(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    section = README.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)\n```", section, re.S)
    assert code is not None
    done = subprocess.run(
        [sys.executable, "-c", code[1]],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "LOOSEN_CONFIG_DIR": str(tmp_path / "config")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    title, wrote = done.stdout.splitlines()[:2]
    assert title.startswith("Quick stretch")
    assert wrote == "wrote stretch.flac stretch.vtt"
    assert (tmp_path / "stretch.flac").stat().st_size > 0
    assert "WEBVTT" in (tmp_path / "stretch.vtt").read_text()
