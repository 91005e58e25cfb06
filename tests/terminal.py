"""A child process on a pseudo-terminal, for tests of what a terminal program shows and does
when keys are typed: `loosen play` in tests/test_play_keys.py and tests/test_play_heard.py."""

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

# make the pty the child's controlling terminal, so Ctrl+C typed there signals it
LAUNCH = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.executable, [sys.executable, '-m', 'loosen', *sys.argv[1:]])"
)


# a shell's job control, for Ctrl+Z: `loosen` runs as a job in the foreground of the terminal;
# when it stops, the shell takes the terminal back and says "[stopped]"; SIGUSR1 to the shell
# is `fg`. (A session leader alone cannot be stopped by Ctrl+Z: its group is orphaned.)
JOB_SHELL = r"""
import fcntl, os, signal, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
child = os.fork()
if child == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execvp(sys.executable, [sys.executable, "-m", "loosen", *sys.argv[1:]])
os.setpgid(child, child)
os.tcsetpgrp(0, child)
def fg(signum, frame):
    os.tcsetpgrp(0, child)
    os.kill(child, signal.SIGCONT)
signal.signal(signal.SIGUSR1, fg)
while True:
    try:
        pid, status = os.waitpid(child, os.WUNTRACED)
    except InterruptedError:
        continue
    if os.WIFSTOPPED(status):
        os.tcsetpgrp(0, os.getpgrp())
        os.write(1, b"\r\n[stopped]\r\n")
        continue
    sys.exit(os.waitstatus_to_exitcode(status))
"""


class Terminal:
    """A child process on a pseudo-terminal of ``columns`` x 24: type keys, read what it draws.
    ``launcher`` is `LAUNCH` (loosen leads its own session) or `JOB_SHELL` (loosen is a job of
    a shell, which can stop and continue it)."""

    def __init__(self, *args: str, env: dict[str, str], columns: int = 80, launcher: str = LAUNCH):
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, *args],
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


def drawn_lines(screen: str) -> list[str]:
    """What a terminal shows, line by line: each carriage return or line feed starts a line
    again, and the erase-line sequence draws nothing."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    return [line for line in re.split(r"[\r\n]", plain) if line]
