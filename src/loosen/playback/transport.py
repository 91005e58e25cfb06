"""The player's transport: a producer thread renders blocks into a bounded ring, and `fill`,
called from the audio callback, copies them out, keeping the position, pause and seeks, and
mixing in spoken answers.

No lock is ever taken in the audio callback, so it never waits for the producer, the interface
or the renderer. The hand-over of blocks is `loosen.playback.ring` (lock-free queues; an empty
ring is an underrun: silence, counted); the state the callback keeps is
`loosen.playback.playhead`. The controls (`seek`, `set_paused`, `stop`, `announce`) post
commands that `fill` takes in at the start of each call, so only the callback changes the
playing state; what others read of it (`position`, `paused`) is a plain attribute, and
`finished` is a `Signal`, set without a lock. No sounddevice here: the player wires `fill` to a
real stream, tests drive it with a fake one.
"""

from __future__ import annotations

import numpy as np

from loosen.playback.playhead import Announce, Pause, PauseAt, Playhead, Seek, Sound, Stop
from loosen.playback.ring import Audio, BlockRing, BlockSource, Signal

__all__ = ["Transport"]


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
        self.finished = Signal()
        self._ring = BlockRing(
            source,
            self.finished,
            start_frame=start_frame,
            block_frames=block_frames,
            queue_s=queue_s,
        )
        self._playhead = Playhead(
            self._ring, self.finished, rate=self.rate, start_frame=start_frame
        )
        self._requested_generation = 0
        self._pause_at: tuple[int, int] | None = None  # (generation, frame) asked
        # what the controls asked for (read by the interface at once)
        self.paused = False
        self.gain = 1.0  # linear

    # ------------------------------------------------------------------ what the callback keeps
    @property
    def position(self) -> int:
        """Where playback is, in frames of the session (a seek's frame as soon as it is asked)."""
        return self._playhead.position

    @property
    def waiting_at(self) -> int | None:
        """The session frame where a step waits for the listener and playback has paused, until
        a seek (`seek`) goes on; None otherwise."""
        return self._playhead.waiting_at

    @property
    def underruns(self) -> int:
        """How many times the ring was empty when the callback wanted a block."""
        return self._playhead.underruns

    @underruns.setter
    def underruns(self, count: int) -> None:
        self._playhead.underruns = count

    @property
    def error(self) -> BaseException | None:
        """What stopped playback: the producer's failure, or the callback's (the player's)."""
        return self._ring.error

    @error.setter
    def error(self, error: BaseException | None) -> None:
        self._ring.error = error

    # ------------------------------------------------------------------ producer side
    def start(self) -> None:
        """Start rendering ahead from the start frame."""
        self._ring.start()

    def close(self) -> None:
        """Stop the producer thread and join it (at most 2 s: a block being rendered, speech
        being synthesized, is not waited for longer; the daemon thread dies with the process)."""
        self._ring.close()

    def wait_ready(self, timeout_s: float, ahead_s: float = 0.25) -> bool:
        """Wait until ``ahead_s`` of audio is queued (or the session is shorter, or the producer
        failed), so the device never starts on an empty queue. False on time-out."""
        return self._ring.wait_ready(timeout_s, ahead_s)

    # ------------------------------------------------------------------ controls
    def seek(self, frame: int, *, saying: Audio | None = None) -> None:
        """Continue from session frame ``frame``: drop what is queued and fade the new position
        in, after ``saying`` (float32, mono, shape (n,): the step's name) if given; words
        waiting to be said at the old place are dropped."""
        self._requested_generation += 1
        generation, frame = self._requested_generation, max(0, frame)
        first = None if saying is None else np.asarray(saying, np.float32)
        self._playhead.post(Seek(generation, frame, first))  # before the producer's new blocks
        self._playhead.position = frame
        self._playhead.waiting_at = None  # (as the callback will, taking the seek in)
        self._ring.want(generation, frame)

    def set_paused(self, paused: bool) -> None:
        """Pause (after a short fade-out) or resume (with a short fade-in)."""
        if paused != self.paused:
            self.paused = paused
            self._playhead.post(Pause(paused))

    def pause_at(self, frame: int) -> None:
        """Pause when playback reaches session frame ``frame``, for a step that waits for the
        listener (`waiting_at`); a seek, asked before or after, cancels it. Asking again for
        the same frame does nothing."""
        wanted = (self._requested_generation, frame)
        if wanted != self._pause_at:
            self._pause_at = wanted
            self._playhead.post(PauseAt(frame))

    def stop(self) -> None:
        """Fade out quickly and finish."""
        self._playhead.post(Stop())

    def announce(self, speech: Audio, at_frame: int, *, hold: bool = False) -> None:
        """Say ``speech`` (float32, shape (n,), mono) when playback reaches session frame
        ``at_frame``: mixed into the session, or (``hold``) with the session held there."""
        self._playhead.post(Announce(np.asarray(speech, np.float32), at_frame, hold))

    def sound(self, samples: Audio) -> None:
        """Play ``samples`` (float32, mono, shape (n,)) now, mixed into whatever plays (paused
        or not), at the volume: an answer to a control."""
        self._playhead.post(Sound(np.asarray(samples, np.float32)))

    # ------------------------------------------------------------------ audio callback side
    def fill(self, out: Audio) -> bool:
        """Fill ``out`` (frames, channels) with the next audio; False once playback is over."""
        return self._playhead.fill(out, self.gain)
