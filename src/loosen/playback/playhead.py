"""The playing state the audio callback owns: the position, pause, seeks and spoken answers, and
`Playhead.fill`, which copies blocks out of the ring into the device's buffer.

Only the callback changes this state: the controls post commands (`Seek`, `Pause`, `Stop`,
`Announce`) that `fill` takes in at the start of each call, and what others read of it
(``position``, ``underruns``) is a plain attribute. No lock is taken here. When nothing is
touched, `fill` hands on the renderer's samples unchanged, so what is played is what `export`
writes.

A spoken answer is placed at a frame of the session: mixed in there while the session goes on
(``hold=False``: it never shifts the timeline), or played with the session held at that frame
(``hold=True``: a short fade out, the words, a fade back in).

A step that waits for the listener is a `PauseAt` its frame: the session fades out there and
stays paused (``waiting_at``) until a seek goes on, to the wait's end or elsewhere.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass

import numpy as np

from loosen.playback.ring import Audio, Block, BlockRing, Signal

__all__ = [
    "FADE_S", "STOP_FADE_S", "Announce", "Command", "Pause", "PauseAt", "Playhead", "Seek", "Sound",
    "Stop",
]  # fmt: skip

# pause, resume and seek fades, in seconds: short enough to feel instant, long enough not to click
FADE_S = 0.02
STOP_FADE_S = 0.08


@dataclass(frozen=True)
class Seek:
    """Go on from session frame ``frame``, with the blocks of seek generation ``generation``;
    ``first``: words (float32, mono, shape (n,)) said before the session goes on there."""

    generation: int
    frame: int
    first: Audio | None = None


@dataclass(frozen=True)
class Sound:
    """Mix ``samples`` (float32, mono, shape (n,)) into the output from now on, whatever the
    session does (paused, held): an answer to a control."""

    samples: Audio


@dataclass(frozen=True)
class Pause:
    """Pause (fade out) or resume (fade in)."""

    paused: bool


@dataclass(frozen=True)
class PauseAt:
    """Pause when playback reaches session frame ``frame`` (at once if it is past it): a step
    that waits for the listener. A seek cancels it, and ends the wait."""

    frame: int


@dataclass(frozen=True)
class Stop:
    """Fade out quickly and finish."""


@dataclass(frozen=True)
class Announce:
    """Say ``speech`` (float32, mono, shape (n,)) at session frame ``frame``."""

    speech: Audio
    frame: int
    hold: bool


Command = Seek | Pause | PauseAt | Stop | Announce | Sound


class _Volume:
    """The volume as played: moved smoothly to each new gain over one block (no click)."""

    def __init__(self) -> None:
        self._gain_now = 1.0  # linear

    def apply(self, out: Audio, target: float) -> None:
        """Scale ``out`` (frames, channels) to the linear gain ``target``, gliding from the
        gain of the last block, and clip it to full scale."""
        if target == self._gain_now == 1.0:
            return
        if target == self._gain_now:
            out *= target
        else:
            ramp = np.linspace(self._gain_now, target, len(out), dtype=np.float32)
            out *= ramp[:, None]
            self._gain_now = target
        np.clip(out, -1.0, 1.0, out=out)


class _Sounds:
    """The answers' sounds that are playing, each from where it has got to."""

    def __init__(self) -> None:
        self._playing: list[tuple[Audio, int]] = []  # samples, frames played

    def add(self, samples: Audio) -> None:
        self._playing.append((samples, 0))

    def mix_into(self, out: Audio) -> None:
        still = []
        for samples, done in self._playing:
            take = min(len(out), samples.size - done)
            out[:take] += samples[done : done + take, None]
            if done + take < samples.size:
                still.append((samples, done + take))
        self._playing = still


@dataclass
class _Overlay:
    """Words mixed into the session from session frame ``start``."""

    start: int
    speech: Audio


class Playhead:
    """Where playback is and how it sounds there, kept by the audio callback alone.

    Parameters
    ----------
    ring
        Where the rendered blocks come from.
    finished
        Set once playback is over (the session's end, or a stop).
    rate
        Frames per second.
    start_frame
        Where playback begins, in frames of the session.
    """

    def __init__(self, ring: BlockRing, finished: Signal, *, rate: int, start_frame: int = 0):
        self.ring = ring
        self.finished = finished
        self.rate = rate
        self.position = start_frame  # in frames of the session
        self.underruns = 0
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._generation = 0
        self._paused = False
        self._ended = False
        self._current: Block | None = None
        self._offset = 0  # frames of the current block played
        self._fade_frames = round(FADE_S * rate)
        self._ramp: tuple[str, int] | None = None  # ("in" | "out", frames done)
        self._stop_after_ramp = False
        self._overlays: list[_Overlay] = []
        self._held: Announce | None = None  # words to play with the session held
        self._holding = False  # the session is faded out and the held words are playing
        self._held_offset = 0  # frames of the held words played
        self._volume = _Volume()
        self._sounds = _Sounds()
        self._pause_at: int | None = None
        self.waiting_at: int | None = None  # the `PauseAt` frame it waits at, until a seek

    def post(self, command: Command) -> None:
        """Have the next `fill` take ``command`` in (from any thread, without waiting)."""
        self._commands.put(command)

    def fill(self, out: Audio, gain: float = 1.0) -> bool:
        """Fill ``out`` (frames, channels) with the next audio at linear gain ``gain``; False
        once playback is over."""
        self._take_commands()
        out.fill(0.0)
        if self.finished.is_set():
            return False
        written = 0
        while written < len(out):
            done = self._fill_part(out[written:])
            if done == 0:
                break
            written += done
        self._sounds.mix_into(out)
        self._volume.apply(out, gain)
        if self._ended and self._current is None and self.ring.empty() and not self._holding:
            self.finished.set()
        return True

    def _take_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            match command:
                case Seek(generation, frame, first):
                    self._generation, self.position = generation, frame
                    self._current, self._ended = None, False
                    self._overlays.clear()
                    self._held, self._holding = None, False
                    self._pause_at = self.waiting_at = None
                    self._ramp = ("in", 0)
                    if first is not None:  # said first, then the session fades in there
                        self._held, self._held_offset = Announce(first, frame, True), 0
                        self._holding, self._ramp = True, None
                case Sound(samples):
                    self._sounds.add(samples)
                case Pause(paused) if paused != self._paused:
                    self._paused = paused
                    if not self._holding:
                        self._ramp = ("out", 0) if paused else ("in", 0)
                case PauseAt(frame):
                    self._pause_at = frame
                case Stop():
                    self._fade_frames = min(self._fade_frames, round(STOP_FADE_S * self.rate))
                    if self._paused and self._ramp is None and not self._holding:
                        self.finished.set()
                    else:
                        self._paused, self._holding, self._held = True, False, None
                        self._ramp, self._stop_after_ramp = ("out", 0), True
                case Announce(speech, frame, hold):
                    if hold:
                        self._held, self._held_offset = command, 0
                    else:
                        self._overlays.append(_Overlay(max(frame, self.position), speech))

    def _fill_part(self, out: Audio) -> int:
        """Fill the start of ``out``; return how many frames were filled (0: the rest stays
        silent this time: paused, an underrun, or the end)."""
        if self._holding:
            return self._play_held(out)
        if (self._paused or self.waiting_at is not None) and self._ramp is None:
            return 0
        limit = len(out)
        if self._ramp is not None and self._ramp[0] == "out":
            limit = min(limit, self._fade_frames - self._ramp[1])
        elif self._pause_at is not None and self.position >= self._pause_at:
            self.waiting_at, self._pause_at = self._pause_at, None  # a step waits: fade out
            self._ramp = ("out", 0)
            limit = min(limit, self._fade_frames)
        elif self._held is not None:
            if self.position >= self._held.frame:  # the words are due: fade the session out
                self._ramp = ("out", 0)
                limit = min(limit, self._fade_frames)
            else:
                limit = min(limit, self._held.frame - self.position)
        if self._pause_at is not None and self._pause_at > self.position:
            limit = min(limit, self._pause_at - self.position)
        start = self.position
        written = self._copy(out[:limit])
        self._mix_overlays(out[:written], start)
        if self._ramp is not None:
            self._apply_ramp(out[:written])
        return written

    def _copy(self, out: Audio) -> int:
        written = 0
        while written < len(out):
            if self._current is None:
                block = self.ring.take()
                if block is None:
                    if not self._ended:
                        self.underruns += 1
                    break
                if block.generation > self._generation:  # a seek not taken in yet
                    self._take_commands()
                if block.generation != self._generation:
                    continue
                if block.samples is None:
                    self._ended = True
                    break
                self._current, self._offset = block, 0
            samples = self._current.samples
            assert samples is not None
            take = min(len(out) - written, len(samples) - self._offset)
            out[written : written + take] = samples[self._offset : self._offset + take]
            written += take
            self._offset += take
            self.position = self._current.start + self._offset
            if self._offset == len(samples):
                self._current = None
        return written

    def _mix_overlays(self, out: Audio, start: int) -> None:
        """Add the words due in session frames ``[start, start + len(out))``."""
        end = start + len(out)
        for overlay in self._overlays:
            s0, s1 = max(start, overlay.start), min(end, overlay.start + overlay.speech.size)
            if s1 > s0:
                part = overlay.speech[s0 - overlay.start : s1 - overlay.start]
                out[s0 - start : s1 - start] += part[:, None]
        self._overlays = [o for o in self._overlays if o.start + o.speech.size > end]

    def _apply_ramp(self, out: Audio) -> None:
        assert self._ramp is not None
        direction, done = self._ramp
        n = min(len(out), self._fade_frames - done)
        steps = (np.arange(done, done + n, dtype=np.float32) + 1) / self._fade_frames
        ramp = np.sin(0.5 * np.pi * (steps if direction == "in" else 1.0 - steps)) ** 2
        out[:n] *= ramp[:, None]
        if direction == "out":
            out[n:] = 0.0
        done += n
        if done < self._fade_frames:
            self._ramp = (direction, done)
            return
        self._ramp = None
        if self._stop_after_ramp:
            self.finished.set()
        elif direction == "out" and self._held is not None and not self._paused:
            self._holding = self.waiting_at is None

    def _play_held(self, out: Audio) -> int:
        """Play the held words; once they are said, fade the session back in."""
        assert self._held is not None
        if self._paused:
            return 0
        speech = self._held.speech
        take = min(len(out), speech.size - self._held_offset)
        out[:take] = speech[self._held_offset : self._held_offset + take, None]
        self._held_offset += take
        if self._held_offset >= speech.size:
            self._held, self._holding = None, False
            self._ramp = ("in", 0)
        return take
