"""What users of command-line tools expect: --version, shell completion, usage errors in one
line, and the commands listed in the order they are used."""

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"

runner = CliRunner()


def loosen(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loosen", *args],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **env},
    )  # fmt: skip


def test_version_comes_from_the_package_metadata() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"loosen {version('loosen')}\n"


def test_help_lists_the_commands_in_the_order_they_are_used() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^  (\w+) ", result.stdout.split("Commands:")[1], re.M)
    assert listed == [
        "play", "export", "serve", "show", "check", "list", "new", "voices", "sounds",
        "devices", "config",
    ]  # fmt: skip


def test_help_gives_each_command_its_first_sentence_whole_in_a_narrow_terminal() -> None:
    done = loosen("--help", COLUMNS="50")
    assert done.returncode == 0, done.stderr
    assert "..." not in done.stdout.split("Commands:")[1]
    assert max(len(line) for line in done.stdout.splitlines()) <= 50
    commands = " ".join(done.stdout.split("Commands:")[1].split())
    assert "Play a session now, with single-key controls (space, arrows, r, +/-, t, e, q)." in (
        commands
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", TINY, "--colour"], "no such option: --colour"),
        (["export"], "missing argument 'scripts'"),
        (["show", TINY, "--rate", "fast"], "invalid value for '--rate': 'fast' is not a valid int"),
        (["dance"], "no such command 'dance'"),
    ],
)
def test_a_usage_error_is_one_line_with_exit_2_pointing_at_help(
    args: list[str | Path], message: str
) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: {message}")
    assert line.endswith(" --help`")


def test_the_shell_completion_script_completes_commands_and_options() -> None:
    # typer finds the user's shell from the processes above it; here, ask for bash by name
    script = loosen("--show-completion", "bash", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert script.returncode == 0, script.stderr
    assert "_LOOSEN_COMPLETE=complete_bash" in script.stdout
    commands = loosen(_LOOSEN_COMPLETE="complete_bash", COMP_WORDS="loosen ex", COMP_CWORD="1")
    assert commands.stdout.split() == ["export"]
    options = loosen(
        _LOOSEN_COMPLETE="complete_bash", COMP_WORDS="loosen export --fo", COMP_CWORD="2"
    )
    assert options.stdout.split() == ["--format"]


def test_help_loads_neither_the_renderer_nor_the_config_nor_audio() -> None:
    code = (
        "import sys\n"
        "from loosen.cli import main\n"
        "sys.argv = ['loosen', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'sounddevice', 'pyttsx3', 'loosen.render.rendering', 'loosen.config',"
        " 'loosen.script.loading', 'platformdirs')\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"
