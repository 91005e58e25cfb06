"""The player's remote: what the desktop's media controls (headset buttons, media keys, the lock
screen, a phone) may ask the player, and what the player tells them is playing.

A backend (`loosen.media`: MPRIS 2 on Linux) turns the desktop's calls into `Command`s put in an
`Inbox`, which the player's loop takes as it takes keys; the player gives the backend a
`NowPlaying` whenever what it shows changes. Nothing here touches a bus or a thread of its own.
"""

from __future__ import annotations

import enum
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from loosen.playback.answers import step_words
from loosen.playback.controls import current_step

if TYPE_CHECKING:
    from loosen.render.rendering import Rendering

__all__ = [
    "Action", "Command", "Inbox", "MediaControls", "NowPlaying", "Remote", "Status", "now_playing",
]  # fmt: skip


class Action(enum.Enum):
    """What a remote asks: as the terminal's keys do (space, right, left, q, e, up/down)."""

    PLAY_PAUSE = "play-pause"
    PLAY = "play"
    PAUSE = "pause"
    STOP = "stop"
    NEXT = "next"
    PREVIOUS = "previous"  # the left key's rule: the step's start, or the one before
    GO_TO_STEP = "go-to-step"  # the start of step ``Command.step``
    EXTEND = "extend"  # the hold that is running lasts 10 s longer
    VOLUME = "volume"  # to ``Command.volume``


@dataclass(frozen=True)
class Command:
    """One request from a remote. ``step``: a step's number (from 1) for `Action.GO_TO_STEP`;
    ``volume``: the linear gain for `Action.VOLUME` (1.0: as rendered)."""

    action: Action
    step: int | None = None
    volume: float | None = None


class Inbox:
    """Commands from a remote's thread to the player's loop, in order; ``arrived`` is set when
    one comes, so a loop (or a test) can wait for it instead of polling."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.arrived = threading.Event()

    def put(self, command: Command) -> None:
        self._queue.put(command)
        self.arrived.set()

    def take(self) -> list[Command]:
        """Every command that came since the last call, oldest first."""
        self.arrived.clear()
        taken: list[Command] = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                return taken


class Status(enum.Enum):
    PLAYING = "Playing"
    PAUSED = "Paused"
    STOPPED = "Stopped"


@dataclass(frozen=True)
class NowPlaying:
    """What the player shows a remote. Times in seconds; ``position_s`` within the current step;
    ``step``: the current step's number (from 1; 0 before the first), of ``steps``; ``title``:
    the step's name and side ("Hip flexor stretch, left side"); ``volume``: linear gain."""

    session_title: str
    status: Status = Status.PLAYING
    step: int = 0
    steps: int = 0
    title: str = ""
    length_s: float = 0.0
    position_s: float = 0.0
    volume: float = 1.0
    can_go_next: bool = True
    can_go_previous: bool = True


def now_playing(
    rendering: Rendering, position: int, *, status: Status, volume: float
) -> NowPlaying:
    """What a remote shows of ``rendering`` at session frame ``position``: the step there (its
    words as `step_words` says them, without the full stop), its length and how far into it."""
    rate = rendering.sample_rate
    span = current_step(rendering.spans, position)
    steps = len(rendering.steps)
    if span is None:
        return NowPlaying(rendering.session.title, status, 0, steps, volume=volume)
    return NowPlaying(
        session_title=rendering.session.title,
        status=status,
        step=span.index,
        steps=steps,
        title=step_words(span).removesuffix("."),
        length_s=(span.end - span.start) / rate,
        position_s=max(0, position - span.start) / rate,
        volume=volume,
        can_go_next=span.index < steps or rendering.finished,
        can_go_previous=True,
    )


class MediaControls(Protocol):
    """A backend that shows what is playing to the desktop and takes its commands (into the
    `Inbox` it was opened with). `show` is called from the player's loop and must not block;
    `close` stops the backend's thread and unregisters it."""

    name: str

    def show(self, now: NowPlaying) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Remote:
    """A remote as the player takes it: the inbox its commands come in, and the backend that
    shows what is playing."""

    inbox: Inbox
    controls: MediaControls
