"""The lock-free hand-over of rendered blocks to the audio callback: a bounded ring filled by a
producer thread, and `Signal`, a flag the callback can set.

Everything the callback touches here is lock-free: `queue.SimpleQueue`'s ``put`` and
``get_nowait`` (C, under the GIL alone; a waiting reader is woken without blocking the writer)
and plain attributes. The ring is two such queues: the blocks, and the slots handed back (the
callback returns one for each block it takes; the producer renders only while it holds a free
slot, and waits on that queue, never the callback on anything). A seek is a new generation:
the producer drops what is queued and renders from the new frame, and every block carries the
generation it was rendered for.
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

__all__ = ["Audio", "Block", "BlockRing", "BlockSource", "Signal"]

Audio = npt.NDArray[np.float32]

_SLOT = "slot"  # a block was taken from the ring: its slot is free
_WAKE = "wake"  # the producer should look at what is wanted now (a seek, closing)


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


@dataclass
class Block:
    """Rendered samples of session frames from ``start``, for seek generation ``generation``."""

    generation: int
    start: int  # in frames of the session
    samples: Audio | None  # float32, shape (frames, channels); None marks the end of the session


class BlockRing:
    """A bounded ring of rendered blocks and the producer thread that fills it.

    The ring owns its producer thread: `start` starts it and `close` stops and joins it. A
    failure of the producer is kept in ``error`` and sets ``finished``.

    Parameters
    ----------
    source
        Yields float32 blocks of shape (frames, channels) from any start frame.
    finished
        Set when the producer fails (shared with the transport, which sets it at the end).
    start_frame
        Where rendering begins, in frames of the session.
    block_frames
        Frames per rendered block.
    queue_s
        How much audio, in seconds, the producer renders ahead at most.
    """

    def __init__(
        self,
        source: BlockSource,
        finished: Signal,
        *,
        start_frame: int = 0,
        block_frames: int = 1024,
        queue_s: float = 2.0,
    ):
        self.source = source
        self.finished = finished
        self.block_frames = block_frames
        self.rate = source.sample_rate
        self.capacity = max(2, round(queue_s * self.rate / block_frames))  # in blocks
        self.error: BaseException | None = None
        self._blocks: queue.SimpleQueue[Block] = queue.SimpleQueue()
        self._returns: queue.SimpleQueue[str] = queue.SimpleQueue()  # _SLOT or _WAKE
        self._wanted = (0, start_frame)  # (generation, frame) the producer should render from
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # the producer's progress: the generation whose blocks alone are queued (older ones
        # dropped), and the last generation rendered to the end of the session
        self._ready_generation: int | None = None
        self._complete_generation: int | None = None

    # ------------------------------------------------------------------ any thread
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

    def want(self, generation: int, frame: int) -> None:
        """Render from session frame ``frame`` for seek generation ``generation`` on: what is
        queued is dropped."""
        self._wanted = (generation, frame)
        self._returns.put(_WAKE)  # the producer drops what is queued and renders from there

    def wait_ready(self, timeout_s: float, ahead_s: float = 0.25) -> bool:
        """Wait until ``ahead_s`` of audio is queued (or the session is shorter, or the producer
        failed), so the device never starts on an empty queue. False on time-out."""
        wanted = min(self.capacity, max(1, round(ahead_s * self.rate / self.block_frames)))
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

    # ------------------------------------------------------------------ audio callback side
    def take(self) -> Block | None:
        """The next queued block, its slot handed back to the producer; None if none is queued.
        Never waits."""
        try:
            block = self._blocks.get_nowait()
        except queue.Empty:
            return None
        self._returns.put(_SLOT)
        return block

    def empty(self) -> bool:
        """Whether no block is queued."""
        return self._blocks.empty()

    # ------------------------------------------------------------------ producer thread
    def _produce(self) -> None:
        free = self.capacity  # slots of the ring the producer may fill
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
                self._blocks.put(Block(generation, frame, samples))
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


def _close(blocks: Iterator[Audio] | None) -> None:
    """End a source's generator that will not be read on (its ``finally`` blocks run now)."""
    close = getattr(blocks, "close", None)
    if close is not None:
        close()
