"""Ordinary machines refuse to write: a read-only folder, a file or a folder where the other is
wanted, a home folder missing or read-only, a speech cache that cannot be written or on a full
disk. Each ends in one line (exit 1, or 2 for the user's own input) before anything is
rendered, and an unusable cache only means going on without one. Permission cases run for
real without the powers that let root write anywhere: `setpriv` drops every capability
(CAP_DAC_OVERRIDE among them), so the file modes bind as they bind a normal user (who may not
even reach this Python: it may live in root's home). Skipped where that cannot be done."""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
POWERLESS = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder a normal user can reach and write in (pytest's own are private to root)."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop the powers of root")
    probe = subprocess.run([*POWERLESS, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode().strip()}")
    folder = Path(tempfile.mkdtemp(prefix="loosen-powerless-"))
    yield folder
    for path in folder.rglob("*"):  # let the clean-up into what the test locked
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def without_powers(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    home = cwd / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [*POWERLESS, sys.executable, "-m", "loosen", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd, stdin=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
             "LOOSEN_CACHE_DIR": str(cwd / "cache"), **env},
    )  # fmt: skip


def read_only(folder: Path) -> Path:
    folder.mkdir()
    folder.chmod(0o555)  # no one may write in it, root without its powers neither
    return folder


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    "where",
    [["-o", "locked/t.wav"], ["--split", "-o", "locked/parts"], ["--split", "-o", "locked"]],
)
def test_a_read_only_output_folder_is_one_line_before_any_rendering(
    place: Path, where: list[str]
) -> None:
    read_only(place / "locked")
    done = without_powers("export", TINY, *where, cwd=place)
    assert done.returncode == 1
    assert "cannot write in" in one_line(done) and "Permission denied" in done.stderr
    assert not (place / "cache").exists()  # refused before a word was spoken


def test_a_batch_into_a_read_only_folder_is_one_line(place: Path) -> None:
    read_only(place / "locked")
    done = without_powers("export", TINY, "pmr-4", "-o", "locked/tracks", cwd=place)
    assert done.returncode == 1
    assert "cannot write in" in one_line(done)


def test_a_timeline_or_sidecar_that_cannot_be_written_is_found_before_the_audio(
    place: Path,
) -> None:
    read_only(place / "locked")
    done = without_powers("export", TINY, "-o", "t.wav", "--timeline", "locked/t.json", cwd=place)
    assert done.returncode == 1
    assert one_line(done).startswith("Error: locked/t.json: cannot write in locked")
    assert not (place / "t.wav").exists()
    (place / "t.cue").mkdir()
    done = without_powers("export", TINY, "-o", "t.wav", "--chapters", "cue", cwd=place)
    assert done.returncode == 2
    assert one_line(done).startswith("Error: t.cue: is a folder")
    assert not (place / "t.wav").exists()


@pytest.mark.parametrize("cache", ["locked", "a-file", "/dev/null"])
def test_a_cache_that_cannot_be_written_only_means_going_on_without_one(
    place: Path, cache: str
) -> None:
    read_only(place / "locked")
    (place / "a-file").write_text("not a folder")
    done = without_powers("export", TINY, "-o", "t.wav", cwd=place, LOOSEN_CACHE_DIR=cache)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("Note:")]
    assert len(notes) == 1 and "cannot be written" in notes[0]
    assert (place / "t.wav").stat().st_size > 0


@pytest.mark.parametrize("home", ["missing", "a-file", "locked"])
def test_a_home_folder_missing_or_read_only_breaks_nothing(place: Path, home: str) -> None:
    read_only(place / "locked")
    (place / "a-file").write_text("not a folder")
    env = {"HOME": str(place / home), "LOOSEN_CACHE_DIR": ""}
    listed = without_powers("list", cwd=place, **env)
    assert listed.returncode == 0, listed.stderr
    assert "back-loosening" in listed.stdout
    done = without_powers("export", TINY, "-o", "t.wav", cwd=place, **env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_a_cache_on_a_full_disk_only_means_going_on_without_one(tmp_path: Path) -> None:
    disk = tmp_path / "tiny-disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mount.stderr.strip()}")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "loosen", "export", str(TINY), "-o", str(tmp_path / "t.wav")],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "LOOSEN_CACHE_DIR": str(disk)},
        )  # fmt: skip
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    assert done.returncode == 0, done.stderr
    assert "No space left on device" in done.stderr and "Note:" in done.stderr
    assert (tmp_path / "t.wav").stat().st_size > 0
