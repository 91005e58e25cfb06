"""`loosen play` driven in a pseudo-terminal: single keys, the status line, quitting and Ctrl+C.

Plays through the real audio server (PulseAudio with a null sink in CI).
"""

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audio_server import require_audio_server
from tests.terminal import JOB_SHELL, Terminal, drawn_lines

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    started = Terminal("play", str(TINY), env=env)
    yield started
    started.close()


def step_of(status: str) -> int:
    match = re.search(r"(Playing|Paused) +(\d+)/\d+", status)
    assert match, status
    return int(match[2])


def elapsed_of(status: str) -> str:
    match = re.search(r"(\d+:\d\d) / ", status)
    assert match, status
    return match[1]


def test_the_controls_are_shown_and_q_quits_with_exit_0_saying_where_it_stopped(
    terminal: Terminal,
) -> None:
    terminal.wait_for(r"space: pause/resume")
    terminal.wait_for(r"q: quit")
    terminal.wait_for(r"Playing +1/7 welcome")
    terminal.type("q")
    assert terminal.finish() == 0
    assert terminal.sane()
    terminal.wait_for(rf"Stopped at 0:\d\d, in step 1 of 7, welcome\. To go on from there: "
                      rf"loosen play {re.escape(str(TINY))} --resume")  # fmt: skip


def test_in_a_narrow_terminal_nothing_drawn_is_wider_than_it(tmp_path: Path) -> None:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    narrow = Terminal("play", str(TINY), env=env, columns=50)
    try:
        narrow.wait_for(r"Playing +1/7 welcome")
        narrow.type("n")
        narrow.wait_for(r"Playing +2/7 reach \(right\)")
        narrow.type("q")
        assert narrow.finish() == 0
        # the status line, redrawn in place, and the controls: never wider than the terminal
        # (the closing message is a line of text like any other: the terminal wraps it)
        lines = [line for line in drawn_lines(narrow.screen) if "Stopped at" not in line]
        assert max(len(line) for line in lines) <= 49, max(lines, key=len)
        assert sum(line.startswith("Playing") for line in lines) > 3
    finally:
        narrow.close()


def test_space_pauses_and_holds_the_position(terminal: Terminal) -> None:
    terminal.wait_for(r"Playing +\d/7")
    terminal.type(" ")
    terminal.wait_for(r"Paused ")
    held = elapsed_of(terminal.status())
    terminal.read(1.5)
    assert elapsed_of(terminal.status()) == held
    terminal.type(" ")
    terminal.wait_for(r"Playing ")
    terminal.type("q")
    assert terminal.finish() == 0


def test_next_and_previous_move_between_steps(terminal: Terminal) -> None:
    terminal.wait_for(r"Playing +1/7")
    terminal.type("n")
    terminal.wait_for(r"Playing +2/7 reach \(right\)")
    terminal.type("\x1b[C")  # right arrow
    terminal.wait_for(r"Playing +3/7 reach \(left\)")
    terminal.type("p")  # just started: back to the previous step
    terminal.wait_for(r"Playing +2/7 reach \(right\)")
    assert step_of(terminal.status()) == 2
    terminal.type("q")
    assert terminal.finish() == 0


def test_ctrl_c_stops_at_once_with_exit_130_and_leaves_the_terminal_sane(
    terminal: Terminal,
) -> None:
    terminal.wait_for(r"Playing +1/7")
    terminal.type("n")
    terminal.wait_for(r"Playing +2/7")
    terminal.type("\x03")  # Ctrl+C, as the terminal sends it
    code = terminal.finish()  # within its 10 s wait, in a session of minutes: at once
    assert code == 130, terminal.screen[-500:]
    assert "Interrupted." in terminal.screen
    assert "Traceback" not in terminal.screen
    assert terminal.sane()


def test_quitting_records_the_step_and_resume_continues_there(tmp_path: Path) -> None:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    first = Terminal("play", str(TINY), env=env)
    try:
        first.wait_for(r"Playing +1/7")
        first.type("nn")
        first.wait_for(r"Playing +3/7")
        first.type("q")
        assert first.finish() == 0
    finally:
        first.close()
    second = Terminal("play", str(TINY), "--resume", env=env)
    try:
        second.wait_for(r"Resuming at step 3, reach \(left\)")
        second.wait_for(r"Playing +3/7 reach \(left\)")
        second.type("q")
        assert second.finish() == 0
    finally:
        second.close()


def test_volume_time_left_and_repeat_keys_act_without_stopping_playback(terminal: Terminal) -> None:
    terminal.wait_for(r"Playing +1/7")
    terminal.type("n")
    terminal.wait_for(r"Playing +2/7")
    terminal.type("+")
    terminal.wait_for(r"vol \+3 dB")
    terminal.type("--")
    terminal.wait_for(r"vol -3 dB")
    terminal.read(2.0)
    before = elapsed_of(terminal.status())
    terminal.type("r")  # the instruction of step 2 again, with the session held meanwhile
    terminal.read(0.5)
    assert elapsed_of(terminal.status()) <= before
    terminal.wait_for(r"/ \d+:\d\d \[")  # the total is known by now
    terminal.type("t")  # "About ... seconds left." over a held position
    terminal.read(3.0)
    assert step_of(terminal.status()) == 2
    terminal.type("q")
    assert terminal.finish() == 0


def test_resume_with_nothing_saved_says_so_and_starts_at_the_beginning(tmp_path: Path) -> None:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    fresh = Terminal("play", str(TINY), "--resume", env=env)
    try:
        fresh.wait_for(r"Nothing saved to resume for this session; starting from the beginning\.")
        fresh.wait_for(r"Playing +1/7 welcome")
        fresh.type("q")
        assert fresh.finish() == 0
    finally:
        fresh.close()


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(15, 143, "Terminated."), (1, 129, "Hung up.")]
)
def test_sigterm_or_a_closed_terminal_stops_like_ctrl_c_keeping_the_place(
    tmp_path: Path, signum: int, code: int, said: str
) -> None:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    player = Terminal("play", str(TINY), env=env)
    try:
        player.wait_for(r"Playing +1/7")
        player.type("n")
        player.wait_for(r"Playing +2/7")
        os.kill(player.process.pid, signum)
        assert player.finish() == code
        assert player.sane()
        player.wait_for(rf"Stopped at .*step 2 of 7, reach \(right\).*\n?.*{re.escape(said)}")
        assert "Traceback" not in player.screen
    finally:
        player.close()
    assert (tmp_path / "positions.json").is_file()


def test_ctrl_z_gives_the_shell_its_terminal_and_fg_brings_the_keys_back(tmp_path: Path) -> None:
    require_audio_server()
    env = {**os.environ, "LOOSEN_STATE_DIR": str(tmp_path), "TERM": "xterm"}
    player = Terminal("play", str(TINY), env=env, launcher=JOB_SHELL)
    try:
        player.wait_for(r"Playing +1/7")
        player.type("\x1a")  # Ctrl+Z, as the terminal sends it
        player.wait_for(r"\[stopped\]")
        assert player.sane()  # echo and line editing for the shell meanwhile
        os.kill(player.process.pid, signal.SIGUSR1)  # the shell's `fg`
        player.type("n")
        player.wait_for(r"Playing +2/7")  # single keys again, and the playback goes on
        player.type("q")
        assert player.finish() == 0
    finally:
        player.close()
