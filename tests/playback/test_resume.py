"""Saved places for `play --resume`: found again per script, and a damaged file (nested deep,
a step of 1e400, a FIFO or /dev/zero in its place, too large, unreadable) never crashes or
hangs the player: `--resume` says in one line that the places could not be read and starts
from the beginning. Writing never leaves a temporary file behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import loosen.playback.resume
from loosen.playback.resume import (
    SavedPosition,
    clear_position,
    load_position,
    positions_file,
    save_position,
)
from loosen.session.playing import where_to_start
from tests.bounded import HERE, run_bounded

KEY = "/home/me/evening.toml"


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOSEN_STATE_DIR", str(tmp_path))


@dataclass(frozen=True)
class _Step:
    index: int
    name: str | None
    address: str


class _Rendering:
    """What `where_to_start` asks of a rendering: its steps, and the frame each starts at."""

    steps = (_Step(1, "welcome", "welcome"), _Step(2, "reach", "reach (left)"))

    def step_start(self, index: int) -> int:
        return 48_000 * 10 * index


def resumed(key: str = KEY) -> tuple[int, str | None]:
    """Where `loosen play --resume` starts for ``key``, and what it says."""
    return where_to_start(_Rendering(), key, resume=True)  # type: ignore[arg-type]


def could_not_read(reason: str) -> tuple[int, str]:
    return 0, f"The saved places could not be read ({reason}); starting from the beginning."


def test_a_saved_position_is_found_again_per_script() -> None:
    save_position("/a.toml", SavedPosition(5, "hamstring stretch", 123.5))
    save_position("/b.toml", SavedPosition(2, None, 10.0))
    assert load_position("/a.toml") == SavedPosition(5, "hamstring stretch", 123.5)
    clear_position("/a.toml")
    assert load_position("/a.toml") is None
    assert load_position("/b.toml") == SavedPosition(2, None, 10.0)


def test_resume_starts_at_the_saved_step_and_says_so() -> None:
    save_position(KEY, SavedPosition(2, "reach", 25.0, "reach (left)"))
    assert resumed() == (960_000, "Resuming at step 2, reach (left).")
    assert resumed("/other.toml") == (
        0,
        "Nothing saved to resume for this session; starting from the beginning.",
    )


# ---------------------------------------------------------------- damaged files
def place(step: str, time_s: str = "1") -> bytes:
    return f'{{"{KEY}": {{"step": {step}, "time_s": {time_s}}}}}'.encode()


NOT_A_PLACE = "the place saved for this session is not one"
DAMAGED = {  # what the file holds -> why it cannot be read
    b"[" * 100_000: "arrays or objects nested too deep",
    b"{ not json": "not JSON (line 1, column 3)",
    b"[1, 2]": "not a JSON object of places",
    place("1e400"): f"{NOT_A_PLACE} (step inf)",
    place("1" + "0" * 400): f"{NOT_A_PLACE} (step a number of about 400 digits)",
    place("1" + "0" * 5000): "a number has too many digits",
    place("2", "NaN"): f"{NOT_A_PLACE} (time nan)",
    place("2", "-1"): f"{NOT_A_PLACE} (time -1)",
    place("true"): f"{NOT_A_PLACE} (step true)",
    place("0"): f"{NOT_A_PLACE} (step 0)",
    f'{{"{KEY}": "step 2"}}'.encode(): f"{NOT_A_PLACE} (it is text)",
    b'{"\xff": 1}': "not UTF-8 text",
}


@pytest.mark.parametrize("damage", DAMAGED, ids=range(len(DAMAGED)))
def test_a_damaged_file_is_said_in_one_line_and_playback_starts_at_the_beginning(
    damage: bytes,
) -> None:
    positions_file().write_bytes(damage)
    assert resumed() == could_not_read(f"{positions_file()}: {DAMAGED[damage]}")


def test_a_file_past_the_size_limit_is_not_read() -> None:
    positions_file().write_text("{}" + " " * 2_000_000)
    assert resumed() == could_not_read(
        f"{positions_file()}: the file is 2,000,002 bytes; the limit for the saved places is "
        "1,000,000 bytes"
    )


def test_a_folder_in_its_place_is_said_and_saving_leaves_nothing_behind() -> None:
    positions_file().mkdir()
    (positions_file() / "x").write_text("")  # a folder with something in it: no rename over it
    assert resumed() == could_not_read(f"{positions_file()}: is a folder, not a regular file")
    save_position(KEY, SavedPosition(1, "welcome", 0.0))  # passed over, quietly
    assert sorted(p.name for p in positions_file().parent.iterdir()) == ["positions.json"]


def test_a_damaged_file_is_replaced_by_the_next_save() -> None:
    positions_file().write_text('{"/keep.toml": {"step": 1e400}, "/b.toml": [')
    save_position(KEY, SavedPosition(2, "reach", 25.0, "reach (left)"))
    assert resumed() == (960_000, "Resuming at step 2, reach (left).")
    assert [p.name for p in positions_file().parent.iterdir()] == ["positions.json"]


def test_only_the_most_recent_places_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loosen.playback.resume, "MAX_SAVED_PLACES", 3)
    for n in range(5):
        save_position(f"/{n}.toml", SavedPosition(1, None, float(n)))
    save_position("/2.toml", SavedPosition(2, None, 9.0))  # heard again: the newest
    assert [load_position(f"/{n}.toml") is not None for n in range(5)] == [
        False, False, True, True, True,
    ]  # fmt: skip


# ---------------------------------------------------------------- what blocks, what is endless
NOTICE = "from tests.playback.test_resume import resumed; print(resumed()[1])"


def test_a_fifo_in_its_place_is_said_at_once_and_never_waited_on(tmp_path: Path) -> None:
    os.mkfifo(positions_file())  # reading it would wait for a writer forever
    done = run_bounded([NOTICE], memory_mb=250, cpu_s=5, module="", hang_s=60,
                       env={"LOOSEN_STATE_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.explained()
    assert (
        done.stdout
        == could_not_read(f"{positions_file()}: is a device, pipe or socket, not a regular file")[1]
        + "\n"
    )
    save_position(KEY, SavedPosition(1, "welcome", 0.0))  # the FIFO is replaced by a file
    assert load_position(KEY) == SavedPosition(1, "welcome", 0.0)


def test_a_symlink_to_dev_zero_is_said_and_never_read(tmp_path: Path) -> None:
    positions_file().symlink_to("/dev/zero")  # endless
    done = run_bounded([NOTICE], memory_mb=250, cpu_s=5, module="", hang_s=60,
                       env={"LOOSEN_STATE_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.explained()
    assert (
        done.stdout
        == could_not_read(f"{positions_file()}: is a device, pipe or socket, not a regular file")[1]
        + "\n"
    )


@pytest.fixture
def shared_state() -> Iterator[Path]:
    """A state folder that a normal user (nobody) can reach: pytest's own are root's alone."""
    folder = Path(tempfile.mkdtemp(prefix="loosen-state-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def as_nobody(code: str, state: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in Python as the user nobody, with ``state`` as the state folder."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    env = {
        **os.environ,
        "LOOSEN_STATE_DIR": str(state),
        "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), str(HERE.parent)]),
    }
    return subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        env=env, cwd=state, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_an_unreadable_file_is_said_for_a_normal_user(shared_state: Path) -> None:
    (shared_state / "positions.json").write_text("{}")
    (shared_state / "positions.json").chmod(0o000)
    done = as_nobody(NOTICE, shared_state)
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == could_not_read(f"{shared_state / 'positions.json'}: cannot read: Permission denied")[1]
        + "\n"
    )


def test_a_folder_a_normal_user_cannot_write_keeps_its_file_and_gains_nothing(
    shared_state: Path,
) -> None:
    saved = '{"/a.toml": {"step": 1, "time_s": 0}}'
    (shared_state / "positions.json").write_text(saved)
    code = (
        "from loosen.playback.resume import SavedPosition, save_position\n"
        "save_position('/b.toml', SavedPosition(1, None, 0.0))\nprint('passed over')"
    )
    done = as_nobody(code, shared_state)
    assert (done.returncode, done.stdout) == (0, "passed over\n"), done.stderr
    assert [p.name for p in shared_state.iterdir()] == ["positions.json"]
    assert (shared_state / "positions.json").read_text() == saved


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary_one(
    tmp_path: Path,
) -> None:
    save_position("/a.toml", SavedPosition(1, None, 0.0))
    before = positions_file().read_bytes()
    code = (
        "import resource, signal\n"
        "from loosen.playback.resume import SavedPosition, save_position\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 20}, {len(before) + 20}))\n"
        "save_position('/b.toml', SavedPosition(1, 'x' * 2000, 0.0))\nprint('passed over')"
    )
    done = run_bounded([code], memory_mb=250, cpu_s=5, module="",
                       env={"LOOSEN_STATE_DIR": str(tmp_path)})  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "passed over\n"), done.explained()
    assert [p.name for p in tmp_path.iterdir()] == ["positions.json"]
    assert positions_file().read_bytes() == before


def test_an_interrupt_while_saving_leaves_the_old_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_position("/a.toml", SavedPosition(1, None, 0.0))
    before = positions_file().read_bytes()

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)  # Ctrl+C as the new file goes to the disk
    with pytest.raises(KeyboardInterrupt):
        save_position("/b.toml", SavedPosition(2, None, 5.0))
    assert [p.name for p in tmp_path.iterdir()] == ["positions.json"]
    assert positions_file().read_bytes() == before


def test_a_folder_that_refuses_the_temporary_file_is_passed_over_and_gains_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_position("/a.toml", SavedPosition(1, None, 0.0))
    before = positions_file().read_bytes()

    def no_descriptors(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(tempfile, "mkstemp", no_descriptors)
    save_position("/b.toml", SavedPosition(2, None, 5.0))  # passed over, quietly
    assert [p.name for p in tmp_path.iterdir()] == ["positions.json"]
    assert positions_file().read_bytes() == before
