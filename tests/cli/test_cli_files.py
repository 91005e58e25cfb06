"""Commands that take several files report on every one and go on; what one command writes
never breaks the next command's input."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from loosen.script.library import bundled_scripts

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
BROKEN = 'title = "Broken"\n[[steps]]\nkind = "hover"\n'

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def my_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scripts folder of the user's own, with `calm` (a copy of tiny) in it."""
    folder = tmp_path / "my scripts"
    folder.mkdir()
    (folder / "calm.toml").write_text(TINY.read_text())
    monkeypatch.setenv("LOOSEN_SCRIPTS_DIR", str(folder))
    return folder


def test_the_folder_a_split_export_leaves_does_not_hide_the_session_of_that_name(
    my_scripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = run("export", "calm", "--split", "--format", "flac")
    assert code == 0, err
    assert (work / "calm").is_dir()  # the default output: a folder named after the session
    code, out, err = run("show", "calm")
    assert code == 0, err
    assert out.startswith("Tiny: ")
    code, _, err = run("export", "calm", "--split", "--format", "flac")
    assert code == 0, err
    code, _, err = run("show", "./calm")  # named as a path, the folder is what is meant
    assert code == 2
    assert err.strip() == "Error: calm: is a folder, not a session script"


def test_a_broken_script_of_yours_is_reported_and_every_other_session_listed(
    my_scripts: Path,
) -> None:
    (my_scripts / "broken.toml").write_text(BROKEN)
    code, out, err = run("list")
    assert code == 2
    names = [line.split()[0] for line in out.splitlines() if not line.startswith("#")]
    assert names == [
        "back-loosening",
        "broken",
        "calm",
        "pmr-16",
        "pmr-4",
        "pmr-7",
        "stretch-quick",
    ]
    assert "(cannot be read)" in next(line for line in out.splitlines() if "broken" in line)
    assert err.strip().splitlines() == [
        f"Error: {my_scripts / 'broken.toml'}: step 1, key 'kind': unknown kind 'hover'; "
        "kinds: say, pause, hold, reps, breathe, tense_release, repeat"
    ]


def test_check_reports_on_every_script_and_exits_with_the_worst_code(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN)
    code, out, err = run("check", TINY, tmp_path / "missing.toml", broken, "stretch-quick")
    assert code == 2
    bundled = bundled_scripts()["stretch-quick"]
    assert [line.split(": ok,")[0] for line in out.splitlines()] == [str(TINY), str(bundled)]
    errors = err.strip().splitlines()
    assert errors[0] == f"Error: {tmp_path / 'missing.toml'}: no such file"
    assert errors[1].startswith(f"Error: {broken}: step 1, key 'kind'")
    assert len(errors) == 2


def test_a_batch_with_a_missing_name_exports_the_others_and_names_each_failure_once(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN)
    folder = tmp_path / "out"
    code, _, err = run("export", TINY, "no-such-session", broken, "-o", folder)
    assert code == 2
    assert [p.name for p in folder.iterdir()] == ["tiny.wav"]
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 2
    assert errors[0].startswith("Error: no script file or session named 'no-such-session'")
    assert errors[1].count(str(broken)) == 1  # not "bad.toml: bad.toml: ..."
    assert lines[-1] == "Exported 1 of 3 sessions"


def loosen_on_a_terminal(*args: str | Path) -> tuple[int, str]:
    """Run `loosen` with its stderr on a pseudo-terminal; the exit code and what it showed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "loosen", *map(str, args)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
        env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal is closed: the process has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=300), shown.decode()


def test_a_batch_shows_its_progress_on_a_terminal_and_nothing_but_lines_when_piped(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(TINY.read_text())
    code, shown = loosen_on_a_terminal("export", TINY, other, "-o", tmp_path / "tty", "-j", "2")
    assert code == 0, shown
    assert "Exporting: 0 of 2 sessions done" in shown
    assert "Exporting: 1 of 2 sessions done" in shown
    assert shown.count("Wrote ") == 2
    piped = subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(TINY), str(other), "-o",
         str(tmp_path / "piped"), "-j", "2"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    lines = piped.stderr.splitlines()
    assert sorted(line.split(" (")[0] for line in lines[:2]) == [
        f"Wrote {tmp_path / 'piped' / 'other.wav'}",
        f"Wrote {tmp_path / 'piped' / 'tiny.wav'}",
    ]
    assert lines[2:] == ["Exported 2 of 2 sessions"]
    assert "\r" not in piped.stderr and "\x1b" not in piped.stderr
