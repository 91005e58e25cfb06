"""`loosen.processes.process_alive` on this (POSIX) machine."""

import os
import subprocess
import sys

import pytest

from loosen.processes import process_alive


def test_this_process_is_alive() -> None:
    assert process_alive(os.getpid())


def test_a_reaped_child_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert child.wait(timeout=30) == 0
    assert not process_alive(child.pid)


def test_another_users_process_is_alive() -> None:
    assert process_alive(1)  # init: root's, whoever runs this


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_process_not_allowed_to_signal_pid_1_still_sees_it_alive() -> None:
    # as root every process may be signalled: ask from a child that gives up root first (after
    # its imports: the interpreter's own files may be root's only)
    code = (
        "import os\nfrom loosen.processes import process_alive\n"
        "os.setgid(65534)\nos.setuid(65534)\n"
        "try:\n    os.kill(1, 0)\nexcept PermissionError:\n    print('denied')\n"
        "print(process_alive(1), process_alive(os.getpid()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot run loosen as nobody: {done.stderr.strip()[-200:]}")
    assert done.stdout.split() == ["denied", "True", "True"]


@pytest.mark.parametrize("pid", [0, -1, 2**80])
def test_numbers_that_name_no_single_process_are_not_alive(pid: int) -> None:
    assert not process_alive(pid)
