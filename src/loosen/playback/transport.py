"""The player's transport: a producer thread renders blocks into a bounded ring, and `fill`,
called from the audio callback, copies them out, keeping the position, pause and seeks, and
mixing in spoken answers.

No lock is ever taken in the audio callback, so it never waits for the producer, the interface
or the renderer. Everything it touches is lock-free: `queue.SimpleQueue`'s ``put`` and
``get_nowait`` (C, under the GIL alone; a waiting reader is woken without blocking the writer)
and plain attributes. The ring is two such queues: the blocks, and the slots handed back (the
callback returns one for each block it takes; the producer renders only while it holds a free
slot, and waits on that queue, never the callback on anything). An empty ring is an underrun:
silence, counted. The controls (`seek`, `set_paused`, `stop`, `announce`) post commands on a
queue that `fill` takes in at the start of each call, so only the callback changes the playing
state; what others read of it (`position`, `paused`) is a plain attribute, and `finished` is a
`Signal`, set without a lock. No sounddevice here: the player wires `fill` to a real stream,
tests drive it with a fake one. When nothing is touched, `fill` hands on the renderer's samples
unchanged, so what is played is what `export` writes.

A spoken answer (`announce`) is placed at a frame of the session: mixed in there while the
session goes on (``hold=False``: it never shifts the timeline), or played with the session
held at that frame (``hold=True``: a short fade out, the words, a fade back in).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["FADE_S", "STOP_FADE_S", "BlockSource", "Signal", "Transport"]

Audio = npt.NDArray[np.float32]
# pause, resume and seek fades: short enough to feel instant, long enough not to click
FADE_S = 0.02
STOP_FADE_S = 0.08


class BlockSource(Protocol):
    """What the transport plays: the renderer (`loosen.render.rendering.Rendering`) or a double."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    def blocks(
        self, start_frame: int = ..., end_frame: int | None = ..., block_frames: int = ...
    ) -> Iterator[Audio]: ...


class Signal:
    """A flag that is set once, from any thread, without taking a lock (the audio callback sets
    it), and that threads can wait for, with a time-out (the API of `threading.Event`, less
    ``clear``)."""

    def __init__(self) -> None:
        self._set = False
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()

    def set(self) -> None:
        """Set the flag and wake the waiters."""
        if not self._set:
            self._set = True
            self._wakeups.put(None)  # never blocks: a waiting thread is released, not waited for

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set, at most ``timeout`` seconds; whether it is set."""
        if self._set:
            return True
        try:
            self._wakeups.get(timeout=None if timeout is None else max(0.0, timeout))
        except queue.Empty:
            return self._set
        self._wakeups.put(None)  # for the next waiter
        return True


_SLOT = "slot"  # a block was taken from the ring: its slot is free
_WAKE = "wake"  # the producer should look at what is wanted now (a seek, closing)


@dataclass
class _Block:
    generation: int
    start: int
    samples: Audio | None  # None marks the end of the session


@dataclass(frozen=True)
class _Seek:
    generation: int
    frame: int


@dataclass(frozen=True)
class _Pause:
    paused: bool


@dataclass(frozen=True)
class _Stop:
    pass


@dataclass(frozen=True)
class _Announce:
    speech: Audio  # mono, shape (n,)
    frame: int
    hold: bool


_Command = _Seek | _Pause | _Stop | _Announce


@dataclass
class _Overlay:
    """Words mixed into the session from session frame ``start``."""

    start: int
    speech: Audio


class Transport:
    """Position bookkeeping, a block ring and a producer thread for one playback.

    The transport owns its producer thread: `start` starts it and `close` stops and joins it.

    Parameters
    ----------
    source
        Yields float32 blocks of shape (frames, channels) from any start frame.
    start_frame
        Where playback begins, in frames of the session.
    block_frames
        Frames per rendered block.
    queue_s
        How much audio, in seconds, the producer renders ahead at most.
    """

    def __init__(
        self,
        source: BlockSource,
        *,
        start_frame: int = 0,
        block_frames: int = 1024,
        queue_s: float = 2.0,
    ):
        self.source = source
        self.rate = source.sample_rate
        self.channels = source.channels
        self.block_frames = block_frames
        self._capacity = max(2, round(queue_s * self.rate / block_frames))
        self._blocks: queue.SimpleQueue[_Block] = queue.SimpleQueue()
        self._returns: queue.SimpleQueue[str] = queue.SimpleQueue()  # _SLOT or _WAKE
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._wanted = (0, start_frame)  # (generation, frame) the producer should render from
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # the producer's progress: the generation whose blocks alone are queued (older ones
        # dropped), and the last generation rendered to the end of the session
        self._ready_generation: int | None = None
        self._complete_generation: int | None = None
        self._requested_generation = 0
        # what the controls asked for (read by the interface at once)
        self.paused = False
        self.gain = 1.0
        # state owned by the audio callback
        self.position = start_frame
        self.underruns = 0
        self.error: BaseException | None = None
        self.finished = Signal()
        self.first_sound_at: float | None = None  # time.time() of the first non-silent output
        self._generation = 0
        self._paused = False
        self._ended = False
        self._current: _Block | None = None
        self._offset = 0
        self._fade_frames = round(FADE_S * self.rate)
        self._ramp: tuple[str, int] | None = None  # ("in" | "out", frames done)
        self._stop_after_ramp = False
        self._overlays: list[_Overlay] = []
        self._held: _Announce | None = None  # words to play with the session held
        self._holding = False  # the session is faded out and the held words are playing
        self._held_offset = 0
        self._gain_now = 1.0

    # ------------------------------------------------------------------ producer side
    def start(self) -> None:
        """Start rendering ahead from the start frame."""
        self._thread = threading.Thread(target=self._produce, name="loosen-render", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the producer thread and join it (at most 2 s: a block being rendered, speech
        being synthesized, is not waited for longer; the daemon thread dies with the process)."""
        self._stopping.set()
        self._returns.put(_WAKE)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def wait_ready(self, timeout_s: float, ahead_s: float = 0.25) -> bool:
        """Wait until ``ahead_s`` of audio is queued (or the session is shorter, or the producer
        failed), so the device never starts on an empty queue. False on time-out."""
        wanted = min(self._capacity, max(1, round(ahead_s * self.rate / self.block_frames)))
        deadline = time.monotonic() + timeout_s
        while self.error is None:
            generation = self._wanted[0]
            if self._ready_generation == generation and (
                self._blocks.qsize() >= wanted or self._complete_generation == generation
            ):
                break
            if time.monotonic() > deadline:
                return False
            self._stopping.wait(0.002)
        return self.error is None

    def _produce(self) -> None:
        free = self._capacity  # slots of the ring the producer may fill
        generation: int | None = None
        blocks: Iterator[Audio] | None = None
        frame, done = 0, False
        try:
            while not self._stopping.is_set():
                wanted, start = self._wanted
                if wanted != generation:  # the start, or a seek: what is queued is useless
                    _close(blocks)
                    free += self._drop_queued()
                    generation, frame, done = wanted, start, False
                    blocks = iter(self.source.blocks(start, block_frames=self.block_frames))
                    self._ready_generation = generation
                if done or free == 0:  # wait for a slot, a seek or the end of playback
                    try:
                        if self._returns.get(timeout=0.1) == _SLOT:
                            free += 1
                    except queue.Empty:
                        pass
                    continue
                assert blocks is not None
                samples = next(blocks, None)
                if self._wanted[0] != generation:
                    continue  # a seek came while it was rendered: it belongs to the old place
                self._blocks.put(_Block(generation, frame, samples))
                free -= 1
                if samples is None:
                    done, self._complete_generation = True, generation
                else:
                    frame += len(samples)
        except BaseException as error:  # reported by the player, never lost in a thread
            self.error = error
            self.finished.set()
        finally:
            _close(blocks)

    def _drop_queued(self) -> int:
        """Take every queued block out of the ring; how many slots that freed."""
        dropped = 0
        while True:
            try:
                self._blocks.get_nowait()
            except queue.Empty:
                return dropped
            dropped += 1

    # ------------------------------------------------------------------ controls
    def seek(self, frame: int) -> None:
        """Continue from ``frame``: drop what is queued and fade the new position in; words
        waiting to be said at the old place are dropped."""
        self._requested_generation += 1
        generation, frame = self._requested_generation, max(0, frame)
        self._commands.put(_Seek(generation, frame))  # before the producer makes new blocks
        self.position = frame
        self._wanted = (generation, frame)
        self._returns.put(_WAKE)  # the producer drops what is queued and renders from there

    def set_paused(self, paused: bool) -> None:
        """Pause (after a short fade-out) or resume (with a short fade-in)."""
        if paused != self.paused:
            self.paused = paused
            self._commands.put(_Pause(paused))

    def stop(self) -> None:
        """Fade out quickly and finish."""
        self._commands.put(_Stop())

    def announce(self, speech: Audio, at_frame: int, *, hold: bool = False) -> None:
        """Say ``speech`` (float32, shape (n,), mono) when playback reaches session frame
        ``at_frame``: mixed into the session, or (``hold``) with the session held there."""
        self._commands.put(_Announce(np.asarray(speech, np.float32), at_frame, hold))

    # ------------------------------------------------------------------ audio callback side
    def fill(self, out: npt.NDArray[np.float32]) -> bool:
        """Fill ``out`` (frames, channels) with the next audio; False once playback is over."""
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
        self._apply_gain(out)
        if self.first_sound_at is None and out.any():
            self.first_sound_at = time.time()
        if self._ended and self._current is None and self._blocks.empty() and not self._holding:
            self.finished.set()
        return True

    def _take_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            match command:
                case _Seek(generation, frame):
                    self._generation, self.position = generation, frame
                    self._current, self._ended = None, False
                    self._overlays.clear()
                    self._held, self._holding = None, False
                    self._ramp = ("in", 0)
                case _Pause(paused) if paused != self._paused:
                    self._paused = paused
                    if not self._holding:
                        self._ramp = ("out", 0) if paused else ("in", 0)
                case _Stop():
                    self._fade_frames = min(self._fade_frames, round(STOP_FADE_S * self.rate))
                    if self._paused and self._ramp is None and not self._holding:
                        self.finished.set()
                    else:
                        self._paused, self._holding, self._held = True, False, None
                        self._ramp, self._stop_after_ramp = ("out", 0), True
                case _Announce(speech, frame, hold):
                    if hold:
                        self._held, self._held_offset = command, 0
                    else:
                        self._overlays.append(_Overlay(max(frame, self.position), speech))

    def _fill_part(self, out: npt.NDArray[np.float32]) -> int:
        """Fill the start of ``out``; return how many frames were filled (0: the rest stays
        silent this time: paused, an underrun, or the end)."""
        if self._holding:
            return self._play_held(out)
        if self._paused and self._ramp is None:
            return 0
        limit = len(out)
        if self._ramp is not None and self._ramp[0] == "out":
            limit = min(limit, self._fade_frames - self._ramp[1])
        elif self._held is not None:
            if self.position >= self._held.frame:  # the words are due: fade the session out
                self._ramp = ("out", 0)
                limit = min(limit, self._fade_frames)
            else:
                limit = min(limit, self._held.frame - self.position)
        start = self.position
        written = self._copy(out[:limit])
        self._mix_overlays(out[:written], start)
        if self._ramp is not None:
            self._apply_ramp(out[:written])
        return written

    def _copy(self, out: npt.NDArray[np.float32]) -> int:
        written = 0
        while written < len(out):
            if self._current is None:
                try:
                    block = self._blocks.get_nowait()
                except queue.Empty:
                    if not self._ended:
                        self.underruns += 1
                    break
                self._returns.put(_SLOT)
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

    def _mix_overlays(self, out: npt.NDArray[np.float32], start: int) -> None:
        """Add the words due in session frames ``[start, start + len(out))``."""
        end = start + len(out)
        for overlay in self._overlays:
            s0, s1 = max(start, overlay.start), min(end, overlay.start + overlay.speech.size)
            if s1 > s0:
                part = overlay.speech[s0 - overlay.start : s1 - overlay.start]
                out[s0 - start : s1 - start] += part[:, None]
        self._overlays = [o for o in self._overlays if o.start + o.speech.size > end]

    def _apply_ramp(self, out: npt.NDArray[np.float32]) -> None:
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
            self._holding = True

    def _play_held(self, out: npt.NDArray[np.float32]) -> int:
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

    def _apply_gain(self, out: npt.NDArray[np.float32]) -> None:
        """The volume, moved smoothly over the block to a new setting (no click)."""
        target = self.gain
        if target == self._gain_now == 1.0:
            return
        if target == self._gain_now:
            out *= target
        else:
            ramp = np.linspace(self._gain_now, target, len(out), dtype=np.float32)
            out *= ramp[:, None]
            self._gain_now = target
        np.clip(out, -1.0, 1.0, out=out)


def _close(blocks: Iterator[Audio] | None) -> None:
    """End a source's generator that will not be read on (its ``finally`` blocks run now)."""
    close = getattr(blocks, "close", None)
    if close is not None:
        close()
