"""The MPRIS 2 player on a real (private) session bus, driven by the real `playerctl`: each call
becomes the player's command, and what the player shows is what playerctl reads."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from loosen.playback.remote import Action, Command, Inbox, NowPlaying, Status
from tests.session_bus import playerctl, private_session_bus
from tests.tools import require, require_module

require_module("dbus_fast")

from loosen.media.mpris import MprisControls, track_id  # noqa: E402 - after the check above

WAIT_S = 10.0
STRETCH = NowPlaying(
    session_title="Back loosening",
    step=3,
    steps=12,
    title="Hip flexor stretch, left side",
    length_s=45.0,
    position_s=12.5,
    volume=0.5,
)


@pytest.fixture
def served() -> Iterator[tuple[str, Inbox, MprisControls]]:
    with private_session_bus() as address:
        inbox = Inbox()
        controls = MprisControls(inbox, STRETCH, bus_address=address)
        controls.start(WAIT_S)
        try:
            yield address, inbox, controls
        finally:
            controls.close()


def next_command(inbox: Inbox) -> Command:
    assert inbox.arrived.wait(WAIT_S), "no command came"
    (command,) = inbox.take()
    return command


@pytest.mark.parametrize(
    ("verb", "action"),
    [
        ("play-pause", Action.PLAY_PAUSE),
        ("play", Action.PLAY),
        ("pause", Action.PAUSE),
        ("stop", Action.STOP),
        ("next", Action.NEXT),
        ("previous", Action.PREVIOUS),
    ],
)
def test_each_playerctl_verb_becomes_the_players_command(
    served: tuple[str, Inbox, MprisControls], verb: str, action: Action
) -> None:
    address, inbox, _ = served
    playerctl(address, verb)
    assert next_command(inbox) == Command(action)


def test_seeking_forward_extends_the_hold_and_back_is_previous(
    served: tuple[str, Inbox, MprisControls],
) -> None:
    address, inbox, _ = served
    playerctl(address, "position", "10+")
    assert next_command(inbox) == Command(Action.EXTEND)
    playerctl(address, "position", "10-")
    assert next_command(inbox) == Command(Action.PREVIOUS)


def test_setting_the_volume_asks_for_that_level(served: tuple[str, Inbox, MprisControls]) -> None:
    address, inbox, _ = served
    playerctl(address, "volume", "0.25")
    assert next_command(inbox) == Command(Action.VOLUME, volume=0.25)


def test_metadata_shows_the_step_its_length_and_the_session(
    served: tuple[str, Inbox, MprisControls],
) -> None:
    address, _, _ = served
    shown = playerctl(address, "metadata", "--format",
                      "{{mpris:trackid}}|{{xesam:title}}|{{xesam:album}}|{{xesam:artist}}|"
                      "{{mpris:length}}|{{status}}|{{volume}}|{{position}}")  # fmt: skip
    *fields, position_us = [field.strip("'") for field in shown.split("|")]  # quoted: a path
    assert fields == [
        track_id(3), "Hip flexor stretch, left side", "Back loosening", "loosen",
        "45000000", "Playing", "0.5",
    ]  # fmt: skip
    # while playing, playerctl moves the position on by the time since it read it
    assert 12.5e6 <= int(position_us) <= 13.5e6


def test_what_the_player_shows_next_is_what_playerctl_reads(
    served: tuple[str, Inbox, MprisControls],
) -> None:
    address, _, controls = served
    paused = NowPlaying(
        session_title="Back loosening", status=Status.PAUSED, step=4, steps=12,
        title="Hip flexor stretch, right side", length_s=45.0, volume=0.5,
    )  # fmt: skip
    controls.show(paused)
    # playerctl --follow would print it as it changes; a fresh read after the signal is enough
    # once the change has gone out, which the next call's round trip to the bus ensures
    playerctl(address, "status")
    assert playerctl(address, "status") == "Paused"
    assert playerctl(address, "metadata", "xesam:title") == "Hip flexor stretch, right side"


def test_closing_leaves_the_bus(served: tuple[str, Inbox, MprisControls]) -> None:
    address, _, controls = served
    controls.close()
    assert not any(name.startswith("loosen") for name in playerctl_players(address))


def playerctl_players(address: str) -> list[str]:
    done = subprocess.run(
        [require("playerctl"), "-l"], capture_output=True, text=True, timeout=20,
        env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address),
    )  # fmt: skip
    return done.stdout.split()
