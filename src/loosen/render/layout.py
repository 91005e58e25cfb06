"""The layout: a session's steps placed on its timeline as their speech and cues are measured.

The timeline grows step by step as audio is asked for (`Layout.place_until`), so playback can
begin while later steps are still being measured; `Layout.timeline` lays out the rest. What is
placed is read by the mixer (`loosen.render.mixer`) under `Layout.lock`.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.plan.expand import Step
from loosen.plan.timeline import (
    Event,
    StepSpan,
    Timeline,
    TimelineBuilder,
    build_timeline,
    leading_speech,
)
from loosen.script.limits import session_limit_once_spoken_s, too_long_once_spoken
from loosen.script.loading import Session
from loosen.sound.cues import CueSet, render_cue
from loosen.tts.clips import SpeechClips

__all__ = ["Layout", "located"]

Audio = npt.NDArray[np.float32]


class Layout:
    """A session's steps, placed on its timeline one at a time as their sounds are measured.

    Thread-safe: a player's producer thread can place steps while its interface reads
    positions. ``lock`` (reentrant) guards what is placed; `events` grows in place under it.
    ``max_length_s`` (default: the length limit of a session) bounds the steps' length, checked
    on the real layout as each step is placed.
    """

    def __init__(
        self,
        session: Session,
        steps: list[Step],
        *,
        clips: SpeechClips,
        cue_set: CueSet,
        gap_s: float,
        max_length_s: float | None = None,
    ):
        self.session = session
        self.steps = steps
        self.clips = clips
        self.cue_set = cue_set
        self.sample_rate = clips.sample_rate
        self.lock = threading.RLock()
        self._gap_s = gap_s
        self._builder = self._new_builder()
        self._next_step = 0
        self._timeline: Timeline | None = None
        # the session's length limit, checked on the real layout as each step is placed; the
        # steps are what it bounds, from the end of the lead-in
        self._limit_s = session_limit_once_spoken_s() if max_length_s is None else max_length_s
        self._steps_start = self._builder.frontier

    def _new_builder(self) -> TimelineBuilder:
        return TimelineBuilder(
            sample_rate=self.sample_rate,
            gap_s=self._gap_s,
            speech_frames=self.clips.frames,
            cue_frames=lambda cue: int(self.cue_samples(cue).size),
        )

    @property
    def timeline(self) -> Timeline:
        """The whole timeline (lays out every step not placed yet)."""
        self.place_until(None)
        assert self._timeline is not None
        return self._timeline

    @property
    def final(self) -> Timeline | None:
        """The whole timeline once every step is placed, else ``None`` (lays out nothing)."""
        return self._timeline

    @property
    def finished(self) -> bool:
        """True once every step is placed and the total length is known."""
        return self._timeline is not None

    @property
    def frontier(self) -> int:
        """The frame up to which the timeline is final so far."""
        return self._builder.frontier

    @property
    def events(self) -> list[Event]:
        """The events placed so far, sorted by start: the list itself, which grows in place
        (read it under `lock`)."""
        return self._builder.events

    @property
    def spans(self) -> list[StepSpan]:
        """The steps placed so far, in order (a copy)."""
        with self.lock:
            return list(self._builder.spans)

    def cue_samples(self, cue: str) -> Audio:
        """The sound of cue kind ``cue``: float32, shape (n,), mono, at the output rate."""
        return render_cue(cue, self.cue_set, self.sample_rate)

    def frames_at_most(self, chars_per_s: float = 4.0) -> int:
        """An upper bound of the session's length in frames, known before any speech exists.

        Every line is taken as spoken at ``chars_per_s`` characters a second (espeak-ng at its
        slowest speaks about 7), plus a second, and every cue at its full length: laid out with
        one-frame sounds, the session grows by at most each sound's length. For a WAV export
        written while the session is laid out, which must know up front whether it fits.
        """
        if self._timeline is not None:
            return self._timeline.total_frames
        extra = 0

        def speech(text: str) -> int:
            nonlocal extra
            extra += math.ceil((len(text) / chars_per_s + 1.0) * self.sample_rate)
            return 1

        def cue(kind: str) -> int:
            nonlocal extra
            extra += int(self.cue_samples(kind).size)
            return 1

        with located(self.session):
            laid_out = build_timeline(
                self.steps, sample_rate=self.sample_rate, gap_s=self._gap_s,
                speech_frames=speech, cue_frames=cue,
            )  # fmt: skip
        return laid_out.total_frames + extra

    def step_start(self, index: int) -> int:
        """The first frame of expanded step ``index`` (1-based), laying steps out up to it."""
        if not 1 <= index <= len(self.steps):
            raise IndexError(index)
        while True:
            with self.lock:
                if len(self._builder.spans) >= index:
                    return self._builder.spans[index - 1].start
                frontier = self._builder.frontier
            self.place_until(frontier + 1)

    def events_between(self, start_frame: int, end_frame: int) -> list[Event]:
        """The events placed so far that start in ``[start_frame, end_frame)`` (a copy)."""
        with self.lock:
            events = self._builder.events
            lo = bisect.bisect_left(events, start_frame, key=lambda e: e.start)
            hi = bisect.bisect_left(events, end_frame, key=lambda e: e.start)
            return events[lo:hi]

    def place_until(self, frame: int | None) -> None:
        """Lay out steps until ``frame`` is final (``None``: all of them).

        Each step's speech is synthesized (or read from the cache) as it is placed.
        """
        with located(self.session):
            while True:
                # one step per turn of the lock, so a renderer thread is never held up for long
                with self.lock:
                    if self._timeline is not None:
                        return
                    if frame is not None and self._builder.frontier >= frame:
                        return
                    upcoming = self._next_step
                if upcoming < len(self.steps):
                    # synthesize the step's speech outside the lock (a renderer thread that only
                    # needs what is already placed keeps going meanwhile), in order, laying the
                    # step out alone as it goes, as it will be placed: the first line that does
                    # not fit its slot ends it, before the step's other lines are spoken
                    self._new_builder().add(self.steps[upcoming])
                with self.lock:
                    if self._next_step != upcoming or self._timeline is not None:
                        continue  # another thread placed it first
                    if upcoming < len(self.steps):
                        step = self.steps[upcoming]
                        self._builder.add(step)
                        length_s = (self._builder.frontier - self._steps_start) / self.sample_rate
                        if length_s > self._limit_s:
                            raise too_long_once_spoken(length_s, self._limit_s, step.where)
                        self._next_step += 1
                    else:
                        self._timeline = self._builder.finish()

    def reach(self, frame: int, *, whole_lines: bool) -> tuple[int, str, Audio] | None:
        """Make the session final up to ``frame`` for mixing: lay steps out until it is, or,
        while the next step's opening line is still being spoken sentence by sentence, until
        enough of that line is (then return its start, text and samples so far).

        The line's first sentences are final before the rest exist (`SpeechClips.prefix`), and
        nothing else in its step sounds before the line ends, so playback can start on them.
        ``whole_lines``: place every line whole first (a mix that looks ahead at it: ducking).
        """
        while True:
            with self.lock:
                if self._timeline is not None or self._builder.frontier >= frame:
                    return None
                upcoming, frontier = self._next_step, self._builder.frontier
            text = leading_speech(self.steps[upcoming]) if upcoming < len(self.steps) else None
            if (
                text is None
                or whole_lines
                or len(self.clips.units(text)) < 2
                or self.clips.ready(text)
            ):
                self.place_until(frontier + 1)
                continue
            spoken, complete = self.clips.prefix(text)
            if complete:
                self.place_until(frontier + 1)
            elif frontier + spoken.size >= frame:
                return frontier, text, spoken
            else:
                self.clips.next_unit(text)


@contextmanager
def located(session: Session) -> Iterator[None]:
    """Name the script's file in script errors raised without one."""
    try:
        yield
    except ScriptError as error:
        if error.path is None and session.path is not None:
            raise error.located(session.path) from None
        raise
