"""What the listener's keys do to one playback: a key to a control of the transport, the spoken
answers (the last instruction again, the time left), and the status line's text.

Called from the player's loop, never from the audio callback; the rules (which step is next,
where an answer fits) are the pure functions of `loosen.playback.controls`.
"""

from __future__ import annotations

import math

import numpy as np

from loosen.playback.answers import answer_samples, spoken, step_words
from loosen.playback.controls import (
    announcement_frame,
    current_step,
    last_instruction,
    previous_step_frame,
    remaining_words,
    status_line,
)
from loosen.playback.remote import Action, Command, NowPlaying, Status, now_playing
from loosen.playback.ring import Audio
from loosen.playback.transport import Transport
from loosen.playback.waits import WAIT_REMINDER_S, Waits
from loosen.render.rendering import Rendering

__all__ = ["EXTEND_S", "VOLUME_STEP_DB", "KeyActions"]

VOLUME_STEP_DB = 3.0
EXTEND_S = 10.0  # what `e` adds to the hold that is running
EXTENDED_WORDS = "Ten more seconds."


class KeyActions:
    """The keys' actions on ``transport``, which plays ``rendering``; each answered by ear
    (`loosen.playback.answers`) unless ``announce`` is False. ``waits``: the steps that wait
    for the listener (`loosen.playback.waits`), a reminder every ``wait_reminder_s`` seconds
    (None: none); space resumes from one."""

    def __init__(
        self,
        rendering: Rendering,
        transport: Transport,
        *,
        announce: bool = True,
        wait_reminder_s: float | None = WAIT_REMINDER_S,
    ):
        self.rendering = rendering
        self.transport = transport
        self.rate = rendering.sample_rate  # frames per second
        self.announce = announce
        self.waits = Waits(rendering, transport, reminder_s=wait_reminder_s, announce=announce)

    def handle(self, key: str) -> bool:
        """Act on one key; False means quit."""
        t, rendering = self.transport, self.rendering
        if key == "q":
            return False
        if key == "space":
            if self.waits.resume():
                self._answer("resume")
                return True
            t.set_paused(not t.paused)
            self._answer("pause" if t.paused else "resume")
        elif key in ("right", "n"):
            span = current_step(rendering.spans, t.position)
            index = span.index + 1 if span else 1
            if index <= len(rendering.steps):
                self._go_to(rendering.step_start(index))
            elif rendering.finished:
                t.seek(rendering.timeline.steps[-1].end)  # the closing chime
        elif key in ("left", "p"):
            self._go_to(previous_step_frame(rendering.spans, t.position, self.rate))
        elif key == "r":
            self.repeat_instruction()
        elif key in ("+", "up", "-", "down"):
            step = 10 ** (VOLUME_STEP_DB / 20)
            self._set_volume(t.gain * step if key in ("+", "up") else t.gain / step)
        elif key == "t" and rendering.finished:
            self.say_time_left()
        elif key == "e":
            self.extend_hold()
        return True

    def _go_to(self, frame: int) -> None:
        """Go to the step that starts at ``frame``, its name said first."""
        span = current_step(self.rendering.spans, frame)
        if not self.announce or span is None or span.start != frame:
            self.transport.seek(frame)
            return
        self.transport.seek(frame, saying=self._spoken(step_words(span)))

    def _set_volume(self, gain: float) -> None:
        self.transport.gain = min(max(gain, 0.01), 2.0)
        self._answer("volume")

    def _answer(self, sound: str) -> None:
        if self.announce:
            self.transport.sound(answer_samples(self.rendering, sound))

    def obey(self, command: Command) -> bool:
        """Act on a remote's ``command`` (the desktop's media controls) as on its key; False
        means quit."""
        t, action = self.transport, command.action
        if action is Action.PLAY_PAUSE:
            return self.handle("space")
        paused = t.paused or self.waits.waiting
        if (action is Action.PLAY and paused) or (action is Action.PAUSE and not paused):
            return self.handle("space")
        if action is Action.NEXT:
            return self.handle("right")
        if action is Action.EXTEND:
            return self.handle("e")
        if action is Action.PREVIOUS:
            return self.handle("left")
        if action is Action.GO_TO_STEP and command.step is not None:
            if 1 <= command.step <= len(self.rendering.steps):
                self._go_to(self.rendering.step_start(command.step))
        elif action is Action.VOLUME and command.volume is not None:
            self._set_volume(command.volume)
        return action is not Action.STOP

    def now_playing(self) -> NowPlaying:
        """What a remote shows now."""
        t = self.transport
        status = Status.PAUSED if t.paused or self.waits.waiting else Status.PLAYING
        return now_playing(self.rendering, t.position, status=status, volume=t.gain)

    def extend_hold(self) -> None:
        """Make the hold that is running `EXTEND_S` longer, live only: the session waits that
        long (the words "Ten more seconds." in it, unless answers are off) at the first moment
        no sound is sounding, so the hold-end chime and all that follows come that much later.
        Outside a hold it does nothing."""
        position, rendering = self.transport.position, self.rendering
        extra = round(EXTEND_S * self.rate)
        events = rendering.events_between(0, position + extra)
        hold = next((e for e in events if e.kind == "hold" and e.start <= position < e.end), None)
        if hold is None:
            return
        sounding = [e.end for e in events if rendering.audible(e) and e.start <= position < e.end]
        at = min(max([position, *sounding]), hold.end)
        waited = np.zeros(extra, np.float32)
        if self.announce:
            words = self._spoken(EXTENDED_WORDS)[:extra]
            waited[: words.size] = words
        self.transport.announce(waited, at, hold=True)

    def repeat_instruction(self) -> None:
        """Say the last instruction again, once the line now sounding has ended, with the
        session held meanwhile (a hold that is running waits too)."""
        position, rendering = self.transport.position, self.rendering
        events = rendering.events_between(0, position + 1)
        instruction = last_instruction(events, position)
        if instruction is None or instruction.text is None:
            return
        speaking = [e for e in events if e.kind == "speech" and e.start <= position < e.end]
        at = max([position, *(e.end for e in speaking)])
        self.transport.announce(self._spoken(instruction.text), at, hold=True)

    def say_time_left(self) -> None:
        """Say how long is left in the first quiet moment, without shifting the timeline."""
        position, rendering = self.transport.position, self.rendering
        total = rendering.timeline.total_frames
        horizon = position + round(30 * self.rate)
        events = rendering.events_between(0, horizon)
        words = remaining_words((total - position) / self.rate)
        for _ in range(2):  # the words are for the moment they are said
            speech = self._spoken(words)
            where = announcement_frame(events, position, speech.size, self.rate, rendering.audible)
            again = remaining_words((total - where.frame) / self.rate)
            if again == words:
                break
            words = again
        self.transport.announce(speech, where.frame, hold=where.hold)

    def _spoken(self, text: str) -> Audio:
        """``text`` as the session's voice says it, at the voice's level (float32, mono)."""
        return spoken(self.rendering, text)

    def status_text(self, width: int = 80) -> str:
        """The status line, fitted to ``width`` columns: playing or paused, the step, the time."""
        t, rendering = self.transport, self.rendering
        span = current_step(rendering.spans, t.position)
        step = "starting"
        if span is not None:
            step = f"{span.index}/{len(rendering.steps)} {span.name or span.kind}"
            if span.side:
                step += f" ({span.side})"
        total_s = rendering.timeline.duration_s if rendering.finished else None
        return status_line(
            paused=t.paused,
            waiting=self.waits.waiting,
            step=step,
            elapsed_s=t.position / self.rate,
            total_s=total_s,
            volume_db=20 * math.log10(t.gain),
            width=width,
        )
