"""`loosen new`: a copy of a session to edit, that hides no bundled session unless asked, and
a hint that a shell takes as it is."""

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from tests.bounded import run_bounded

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


BAD = Path(__file__).parent.parent / "data" / "bad"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("syntax-unclosed-string.toml", "line 1, column 13: TOML syntax: Illegal character"),
        ("variable-without-value.toml", "step 1 'intro', key 'text': {side} has no value here"),
        ("session-too-long.toml", "step 2 'long': the session would last at least 2778 h"),
    ],
)
def test_a_script_to_copy_that_is_not_valid_is_refused_and_nothing_is_written(
    my_scripts: Path, name: str, message: str
) -> None:
    code, out, err = run("new", "mine", "--from", str(BAD / name))
    assert code == 2
    assert err.startswith(f"Error: {BAD / name}: {message}"), err
    assert err.count("\n") == 1
    assert out == ""
    assert not my_scripts.exists()


def test_a_script_that_would_cost_the_parser_a_minute_is_refused_at_once(tmp_path: Path) -> None:
    source = tmp_path / "dotted.toml"
    source.write_text('title = "T"\n' + ".".join(["a"] * 30_000) + " = 1\n")
    mine = tmp_path / "mine"
    done = run_bounded(["new", "mine", "--from", str(source)], memory_mb=250, cpu_s=5,
                       env={"LOOSEN_SCRIPTS_DIR": str(mine)})  # fmt: skip
    assert done.returncode == 2, done.explained()
    assert done.stderr == (
        f"Error: {source}: line 2, column 1: a dotted key has more than 24 parts; tables nest "
        "at most 24 deep\n"
    )
    assert not mine.exists()


def test_a_valid_script_is_copied_as_it_is(my_scripts: Path, tmp_path: Path) -> None:
    source = tmp_path / "mine.toml"
    source.write_bytes(
        b'\xef\xbb\xbftitle = "Mine"\r\n[[steps]]\r\nkind = "say"\r\ntext = "Hi."\r\n'
    )
    code, _, err = run("new", "my copy", "--from", str(source))
    assert code == 0, err
    assert (my_scripts / "my copy.toml").read_bytes() == source.read_bytes()
    assert [p.name for p in my_scripts.iterdir()] == ["my copy.toml"]
