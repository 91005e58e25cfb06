"""`loosen play` driven in a pseudo-terminal: single keys, the status line, quitting and Ctrl+C.

Plays through the real audio server (PulseAudio with a null sink in CI).
"""

import os
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audio_server import require_audio_server

HERE = Path(__file__).parent
TINY = HERE / "data" / "tiny.toml"
# make the pty the child's controlling terminal, so Ctrl+C typed there signals it
LAUNCH = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.executable, [sys.executable, '-m', 'loosen', *sys.argv[1:]])"
)


class Terminal:
    """A child process on a pseudo-terminal: type keys, read what it draws."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.master, self.slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *args],
            stdin=self.slave, stdout=self.slave, stderr=self.slave,
            start_new_session=True, env=env,
        )  # fmt: skip
        self.screen = ""

    def read(self, seconds: float) -> str:
        """Collect output for ``seconds``; return what arrived."""
        got = ""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    got += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        self.screen += got
        return got

    def wait_for(self, pattern: str, timeout_s: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = re.search(pattern, self.screen)
            if match:
                return match
            self.read(0.1)
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{self.screen[-2000:]}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def status(self) -> str:
        """The latest status line drawn."""
        self.read(0.3)
        lines = [x for x in re.split(r"[\r\n]", self.screen) if x.strip()]
        return lines[-1].replace("\x1b[K", "") if lines else ""

    def finish(self, timeout_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def sane(self) -> bool:
        """Echo and line editing are back on, as the shell expects."""
        lflag = termios.tcgetattr(self.slave)[3]
        return bool(lflag & termios.ECHO) and bool(lflag & termios.ICANON)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)


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


def test_the_controls_are_shown_and_q_quits_with_exit_0(terminal: Terminal) -> None:
    terminal.wait_for(r"space pause/resume.*q: quit")
    terminal.wait_for(r"Playing +1/7 welcome")
    terminal.type("q")
    assert terminal.finish() == 0
    assert terminal.sane()


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
    began = time.monotonic()
    terminal.type("\x03")  # Ctrl+C, as the terminal sends it
    code = terminal.finish()
    assert code == 130, terminal.screen[-500:]
    assert time.monotonic() - began < 3.0  # the fade itself is 0.08 s; the rest is exiting
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
        second.wait_for(r"Resuming at step 3 reach")
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
    terminal.type("r")  # back to the start of the instruction of step 2
    terminal.read(0.5)
    assert elapsed_of(terminal.status()) <= before
    terminal.wait_for(r"/ \d+:\d\d \[")  # the total is known by now
    terminal.type("t")  # "About ... seconds left." over a held position
    terminal.read(3.0)
    assert step_of(terminal.status()) == 2
    terminal.type("q")
    assert terminal.finish() == 0
