"""The player's transport: a producer thread renders blocks into a bounded queue, and `fill`,
called from the audio callback, copies them out, keeping the position, pause and seeks.

No sounddevice here: the player wires `fill` to a real stream, tests drive it with a fake one.
When nothing is touched, `fill` hands on the renderer's samples unchanged, so what is played is
what `export` writes.
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

__all__ = ["BlockSource", "Transport"]

Audio = npt.NDArray[np.float32]
FADE_S = (
    0.02  # pause, resume and seek fades: short enough to feel instant, long enough not to click
)
STOP_FADE_S = 0.08


class BlockSource(Protocol):
    """What the transport plays: the renderer (`loosen.render.Rendering`) or a test double."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    def blocks(
        self, start_frame: int = ..., end_frame: int | None = ..., block_frames: int = ...
    ) -> Iterator[Audio]: ...


@dataclass
class _Block:
    generation: int
    start: int
    samples: Audio | None  # None marks the end of the session


class Transport:
    """Position bookkeeping, a block queue and a producer thread for one playback.

    Parameters
    ----------
    source
        Yields float32 blocks of shape (frames, channels) from any start frame.
    start_frame
        Where playback begins, in frames of the session.
    block_frames
        Frames per rendered block.
    queue_s
        How much audio (seconds) the producer keeps ready ahead of the device.
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
        self._queue: queue.Queue[_Block] = queue.Queue(
            maxsize=max(2, round(queue_s * self.rate / block_frames))
        )
        self._fade_frames = round(FADE_S * self.rate)
        self._lock = threading.Lock()
        self._wanted = (0, start_frame)  # (generation, frame) the producer should render from
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._produced_all = False
        # state owned by the audio callback (and changed under the lock by commands)
        self.generation = 0
        self.position = start_frame
        self.gain = 1.0
        self.paused = False
        self.ended = False
        self.underruns = 0
        self.error: BaseException | None = None
        self._current: _Block | None = None
        self._offset = 0
        self._ramp: tuple[str, int] | None = None  # ("in" | "out", frames done)
        self._stop_after_ramp = False
        self._insert: Audio | None = None
        self._insert_offset = 0
        self.finished = threading.Event()
        self.first_sound_at: float | None = None  # time.time() of the first non-silent output

    # ------------------------------------------------------------------ producer side
    def start(self) -> None:
        """Start rendering ahead from the start frame."""
        self._thread = threading.Thread(target=self._produce, name="loosen-render", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the producer thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def wait_ready(self, timeout_s: float, ahead_s: float = 0.25) -> bool:
        """Wait until ``ahead_s`` of audio is queued (or the session is shorter, or the producer
        failed), so the device never starts on an empty queue. False on time-out."""
        wanted = min(self._queue.maxsize, max(1, round(ahead_s * self.rate / self.block_frames)))
        deadline = time.monotonic() + timeout_s
        while self._queue.qsize() < wanted and self.error is None and not self._produced_all:
            if time.monotonic() > deadline:
                return False
            self._stopping.wait(0.002)
        return self.error is None

    def _produce(self) -> None:
        try:
            while not self._stopping.is_set():
                generation, frame = self._wanted
                for block in self.source.blocks(frame, block_frames=self.block_frames):
                    if not self._offer(_Block(generation, frame, block), generation):
                        break
                    frame += len(block)
                else:
                    self._offer(_Block(generation, frame, None), generation)
                    self._produced_all = True
                    # wait for a seek (or the end of playback)
                    while self._wanted[0] == generation and not self._stopping.is_set():
                        self._wake.wait(0.1)
                        self._wake.clear()
        except BaseException as error:  # reported by the player, never lost in a thread
            self.error = error
            self.finished.set()

    def _offer(self, block: _Block, generation: int) -> bool:
        """Queue ``block``; False when a seek or stop made it useless."""
        while not self._stopping.is_set() and self._wanted[0] == generation:
            try:
                self._queue.put(block, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    # ------------------------------------------------------------------ commands
    def seek(self, frame: int) -> None:
        """Continue from ``frame``: drop what is queued, fade in the new position."""
        with self._lock:
            self.generation += 1
            self._wanted = (self.generation, max(0, frame))
            self.position = max(0, frame)
            self._current = None
            self.ended = False
            self._ramp = ("in", 0)
        self._drain()
        self._wake.set()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def set_paused(self, paused: bool) -> None:
        """Pause (after a short fade-out) or resume (with a short fade-in)."""
        with self._lock:
            if paused == self.paused:
                return
            self.paused = paused
            self._ramp = ("out", 0) if paused else ("in", 0)

    def stop(self) -> None:
        """Fade out quickly and finish."""
        with self._lock:
            self._fade_frames = min(self._fade_frames, round(STOP_FADE_S * self.rate))
            if self.paused and self._ramp is None:
                self.finished.set()
                return
            self.paused = True
            self._ramp = ("out", 0)
            self._stop_after_ramp = True

    def say(self, speech: Audio) -> None:
        """Play ``speech`` (float32, shape (n,), mono) now, holding the session's position.

        The session fades out first and fades back in after the words (unless paused).
        """
        with self._lock:
            self._insert = np.repeat(speech[:, None], self.channels, axis=1)
            self._insert_offset = 0
            if not (self.paused and self._ramp is None):
                self._ramp = ("out", 0)

    # ------------------------------------------------------------------ audio callback side
    def fill(self, out: npt.NDArray[np.float32]) -> bool:
        """Fill ``out`` (frames, channels) with the next audio; False once playback is over."""
        with self._lock:
            out.fill(0.0)
            if self.finished.is_set():
                return False
            if self._insert is not None and self._ramp is None:
                self._play_insert(out)
                return True
            if self.paused and self._ramp is None:
                return True  # silence, position held
            frames = len(out)
            if self._ramp is not None and self._ramp[0] == "out":
                frames = min(frames, self._fade_frames - self._ramp[1])
            elif self.paused:
                return True
            written = self._copy(out[:frames])
            if self._ramp is not None:
                self._apply_ramp(out[:written])
            if self.gain != 1.0:
                np.multiply(out, self.gain, out=out)
                np.clip(out, -1.0, 1.0, out=out)
            if self.first_sound_at is None and written and out[:written].any():
                self.first_sound_at = time.time()
            if self.ended and self._current is None and self._queue.empty():
                self.finished.set()
            return True

    def _copy(self, out: npt.NDArray[np.float32]) -> int:
        written = 0
        while written < len(out):
            if self._current is None:
                try:
                    block = self._queue.get_nowait()
                except queue.Empty:
                    if not self.ended:
                        self.underruns += 1
                    break
                if block.generation != self.generation:
                    continue
                if block.samples is None:
                    self.ended = True
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
        if done >= self._fade_frames:
            self._ramp = None
            if self._stop_after_ramp:
                self.finished.set()
        else:
            self._ramp = (direction, done)

    def _play_insert(self, out: npt.NDArray[np.float32]) -> None:
        assert self._insert is not None
        take = min(len(out), len(self._insert) - self._insert_offset)
        out[:take] = self._insert[self._insert_offset : self._insert_offset + take]
        self._insert_offset += take
        if self._insert_offset >= len(self._insert):
            self._insert = None
            if not self.paused:
                self._ramp = ("in", 0)
