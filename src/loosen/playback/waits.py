"""The steps that wait for the listener (``wait = true`` in a script), in one playback.

The timeline has a ``wait`` event where such a step waits: in an export, a fixed pause. Live,
`Waits` has the transport pause at its start (`Transport.pause_at`), says the step's line there
(its ``wait = "..."`` text, or the pause sound), sounds a faint reminder every ``reminder_s``
seconds while the listener takes their time, and goes on from the wait's end when they resume
(space, a headset button, PlayPause). Called from the player's loop, never from the callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loosen.plan.timeline import Event
from loosen.playback.answers import answer_samples, spoken
from loosen.playback.controls import current_step
from loosen.playback.transport import Transport
from loosen.render.rendering import Rendering

__all__ = ["ARM_AHEAD_S", "WAIT_REMINDER_S", "Waits"]

WAIT_REMINDER_S = 30.0  # the default time between reminders while a step waits
ARM_AHEAD_S = 5.0  # a wait this close ahead is armed, its line made ready to say


class Waits:
    """Where the session waits for the listener, armed ahead and answered.

    Parameters
    ----------
    reminder_s
        Seconds between reminder sounds while waiting; None: no reminders.
    announce
        Sound the pause answer where a wait has no line of its own.
    clock
        Seconds, monotonic (the reminders' clock).
    """

    def __init__(
        self,
        rendering: Rendering,
        transport: Transport,
        *,
        reminder_s: float | None = WAIT_REMINDER_S,
        announce: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rendering = rendering
        self.transport = transport
        self.reminder_s = reminder_s
        self.announce = announce
        self._clock = clock
        self._answered_at: int | None = None  # the wait whose start was answered
        self._reminded_s = 0.0  # when the last reminder (or the start) sounded

    @property
    def waiting(self) -> bool:
        """Whether playback has stopped at a wait."""
        return self.transport.waiting_at is not None

    def follow(self) -> None:
        """Keep up with playback: arm the next wait, answer one just reached, remind."""
        at = self.transport.waiting_at
        if at is None:
            self._answered_at = None
            upcoming = self._next_wait()
            if upcoming is not None:
                if upcoming.text:
                    self.rendering.clips.prefetch(upcoming.text)
                self.transport.pause_at(upcoming.start)
            return
        now = self._clock()
        if self._answered_at != at:
            self._answered_at, self._reminded_s = at, now
            event = self._wait_at(at)
            if event is not None and event.text:
                self.transport.sound(spoken(self.rendering, event.text))
            elif self.announce:
                self.transport.sound(answer_samples(self.rendering, "pause"))
        elif self.reminder_s is not None and now - self._reminded_s >= self.reminder_s:
            self._reminded_s = now
            self.transport.sound(answer_samples(self.rendering, "reminder"))

    def resume(self) -> bool:
        """Go on past the wait playback has stopped at: from its end. False if not waiting."""
        at = self.transport.waiting_at
        if at is None:
            return False
        event = self._wait_at(at)
        self.transport.seek(event.end if event is not None else at)
        return True

    def _next_wait(self) -> Event | None:
        """The first wait not yet over, from the current step's start to `ARM_AHEAD_S` ahead
        (one playback has already entered, after a seek to a step that waits first, is still
        armed: the session pauses at once)."""
        position = self.transport.position
        span = current_step(self.rendering.spans, position)
        horizon = position + round(ARM_AHEAD_S * self.rendering.sample_rate)
        for event in self.rendering.events_between(span.start if span else 0, horizon):
            if event.kind == "wait" and event.end > position:
                return event
        return None

    def _wait_at(self, frame: int) -> Event | None:
        for event in self.rendering.events_between(0, frame + 1):
            if event.kind == "wait" and event.start <= frame < max(event.end, event.start + 1):
                return event
        return None
