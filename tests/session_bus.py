"""A private D-Bus session bus for the tests (`dbus-daemon --session`), and `playerctl` against
it: skipped without them on a developer's machine, failing where CI needs them
(LOOSEN_REQUIRE_TOOLS)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from tests.tools import require


@contextmanager
def private_session_bus() -> Iterator[str]:
    """Start a session bus of its own; yield its address; stop it."""
    daemon = subprocess.Popen(
        [require("dbus-daemon"), "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # as root it warns that it cannot raise its fd limit
        text=True,
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address, "dbus-daemon printed no address"
        yield address
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        if daemon.stdout is not None:
            daemon.stdout.close()


def playerctl(address: str, *arguments: str) -> str:
    """Run ``playerctl -p loosen ARGUMENTS`` on the bus at ``address``; its output."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    done = subprocess.run(
        [require("playerctl"), "-p", "loosen", *arguments],
        env=env, capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@contextmanager
def playing_on_bus(
    address: str, arguments: Sequence[str], env: Mapping[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """Run ``loosen play ARGUMENTS`` (stdin closed) with the session bus at ``address``; on
    leaving, a player still running is killed and reaped."""
    player = subprocess.Popen(
        [sys.executable, "-m", "loosen", "play", *arguments],
        env={**env, "DBUS_SESSION_BUS_ADDRESS": address},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield player
    finally:
        if player.poll() is None:
            player.kill()
            player.communicate()
