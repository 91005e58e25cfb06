"""`loosen new`: a copy of a session to edit, that hides no bundled session unless asked, and
a hint that a shell takes as it is."""

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app

runner = CliRunner()


@pytest.fixture
def my_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "my scripts"  # a space in the path, as on many desktops
    monkeypatch.setenv("LOOSEN_SCRIPTS_DIR", str(folder))
    return folder


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_bundled_sessions_name_is_refused_unless_hiding_it_is_asked_for(
    my_scripts: Path,
) -> None:
    code, out, err = run("new", "pmr-16")
    assert code == 2
    assert err.strip() == (
        "Error: 'pmr-16' is a bundled session, which a script of yours by that name would "
        "hide; choose another name, or pass --hide-bundled"
    )
    assert not my_scripts.exists()
    code, _, err = run("new", "pmr-16", "--from", "pmr-16", "--hide-bundled")
    assert code == 0, err
    code, out, _ = run("list")
    (line,) = [line for line in out.splitlines() if line.startswith("pmr-16 ")]
    assert line.split()[2] == "yours"


def test_the_hint_can_be_pasted_into_a_shell_as_it_is(my_scripts: Path) -> None:
    code, out, err = run("new", "my evening", "--from", "pmr-4")
    assert code == 0, err
    wrote, hint = out.strip().split("; edit it, then: ")
    path = my_scripts / "my evening.toml"
    assert shlex.split(wrote) == ["Wrote", str(path)]
    assert shlex.split(hint) == ["loosen", "play", "my evening"]
    assert path.is_file()
