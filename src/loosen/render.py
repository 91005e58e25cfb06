"""The one renderer: a session -> a measured timeline -> a stream of audio blocks.

The player and the exporter both consume `Rendering.blocks`, so what is played and what is
exported are the same samples. Memory stays flat with session length: blocks are mixed on demand
from the few clips that sound in them, and processed speech is kept in a bounded cache
(`loosen.voice`).
"""

from __future__ import annotations

import bisect
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.expand import Step, expand_session
from loosen.script import Pacing, Session
from loosen.sounds import CueSet, render_cue
from loosen.timeline import LEAD_IN_S, Event, StepSpan, Timeline, TimelineBuilder, build_timeline
from loosen.tts import Speech
from loosen.voice import SPEECH_PEAK_DBFS, SpeechClips, db_to_gain, prepare_speech

__all__ = [
    "PEAK_CEILING_DBFS",
    "SPEECH_PEAK_DBFS",
    "Rendering",
    "SpeechClips",
    "prepare_speech",
    "render_session",
]

Audio = npt.NDArray[np.float32]

PEAK_CEILING_DBFS = -1.0
DEFAULT_BLOCK_FRAMES = 4096


class Rendering:
    """A session ready to play or export: its steps, its timeline, and the sources of its sound.

    The timeline is laid out step by step as audio is asked for (`blocks`, `place_until`), so
    playback can begin while later steps are still being measured; `timeline` lays out the rest.
    Thread-safe: a player's producer thread can render while its interface reads positions.
    """

    def __init__(
        self,
        session: Session,
        steps: list[Step],
        *,
        clips: SpeechClips,
        cue_set: CueSet,
        gap_s: float,
        channels: int = 2,
    ):
        self.session = session
        self.steps = steps
        self.clips = clips
        self.cue_set = cue_set
        self.channels = channels
        self.sample_rate = clips.sample_rate
        self._lock = threading.RLock()
        self._builder = TimelineBuilder(
            sample_rate=self.sample_rate,
            gap_s=gap_s,
            speech_frames=clips.frames,
            cue_frames=lambda cue: int(self.cue_samples(cue).size),
        )
        self._next_step = 0
        self._timeline: Timeline | None = None

    @property
    def timeline(self) -> Timeline:
        """The whole timeline (lays out every step not placed yet)."""
        self.place_until(None)
        assert self._timeline is not None
        return self._timeline

    @property
    def finished(self) -> bool:
        """True once every step is placed and the total length is known."""
        return self._timeline is not None

    @property
    def spans(self) -> list[StepSpan]:
        """The steps placed so far, in order (a copy)."""
        with self._lock:
            return list(self._builder.spans)

    def step_start(self, index: int) -> int:
        """The first frame of expanded step ``index`` (1-based), laying steps out up to it."""
        if not 1 <= index <= len(self.steps):
            raise IndexError(index)
        while True:
            with self._lock:
                if len(self._builder.spans) >= index:
                    return self._builder.spans[index - 1].start
                frontier = self._builder.frontier
            self.place_until(frontier + 1)

    def events_between(self, start_frame: int, end_frame: int) -> list[Event]:
        """The events placed so far that start in ``[start_frame, end_frame)`` (a copy)."""
        with self._lock:
            events = self._builder.events
            lo = bisect.bisect_left(events, start_frame, key=lambda e: e.start)
            hi = bisect.bisect_left(events, end_frame, key=lambda e: e.start)
            return events[lo:hi]

    def place_until(self, frame: int | None) -> None:
        """Lay out steps until ``frame`` is final (``None``: all of them).

        Each step's speech is synthesized (or read from the cache) as it is placed.
        """
        with _located(self.session):
            while True:
                # one step per turn of the lock, so a renderer thread is never held up for long
                with self._lock:
                    if self._timeline is not None:
                        return
                    if frame is not None and self._builder.frontier >= frame:
                        return
                    upcoming = self._next_step
                if upcoming < len(self.steps):
                    # synthesize the step's speech outside the lock: a renderer thread that
                    # only needs what is already placed keeps going meanwhile
                    for text in _spoken_texts([self.steps[upcoming]], self, gap_s=0.0):
                        self.clips.frames(text)
                with self._lock:
                    if self._next_step != upcoming or self._timeline is not None:
                        continue  # another thread placed it first
                    if upcoming < len(self.steps):
                        self._builder.add(self.steps[upcoming])
                        self._next_step += 1
                    else:
                        self._timeline = self._builder.finish()

    def cue_samples(self, cue: str) -> Audio:
        """The sound of cue kind ``cue``: float32, shape (n,), mono, at the output rate."""
        return render_cue(cue, self.cue_set, self.sample_rate)

    def blocks(
        self,
        start_frame: int = 0,
        end_frame: int | None = None,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
    ) -> Iterator[Audio]:
        """Yield the session's audio from ``start_frame`` to ``end_frame`` (default: the end).

        Each block is float32 of shape (frames, channels), at most ``block_frames`` long, in
        [-1, 1], with the peak at most `PEAK_CEILING_DBFS`. Blocks are mixed on demand, so any
        start position costs nothing extra and memory does not depend on the session's length.
        The samples do not depend on ``start_frame`` or ``block_frames``.
        """
        ceiling = db_to_gain(PEAK_CEILING_DBFS)
        self.place_until(start_frame + 1)
        events = self._builder.events  # grows in place, always sorted by start
        # events that began before start_frame but still sound at it
        with self._lock:
            next_index = bisect.bisect_left(events, start_frame, key=lambda e: e.start)
            active = [e for e in events[:next_index] if e.end > start_frame and _sounds(e)]
        b0 = start_frame
        while True:
            self.place_until(b0 + block_frames)
            end = end_frame if end_frame is not None else sys.maxsize
            if self._timeline is not None:
                end = min(end, self._timeline.total_frames)
            if b0 >= end:
                return
            b1 = min(b0 + block_frames, end)
            with self._lock:
                while next_index < len(events) and events[next_index].start < b1:
                    if _sounds(events[next_index]):
                        active.append(events[next_index])
                    next_index += 1
            mono = np.zeros(b1 - b0, np.float32)
            for event in active:
                source = self._source(event)
                s0, s1 = max(b0, event.start), min(b1, event.end, event.start + source.size)
                if s1 > s0:
                    mono[s0 - b0 : s1 - b0] += source[s0 - event.start : s1 - event.start]
            active = [e for e in active if e.end > b1]
            self._apply_fades(mono, b0)
            np.clip(mono, -ceiling, ceiling, out=mono)
            yield np.repeat(mono[:, None], self.channels, axis=1)
            b0 = b1

    def _source(self, event: Event) -> Audio:
        if event.kind == "speech":
            assert event.text is not None
            return self.clips.samples(event.text)
        assert event.cue is not None
        return self.cue_samples(event.cue)

    def _apply_fades(self, mono: Audio, b0: int) -> None:
        fade_in = self._builder_fade_in_frames
        if fade_in and b0 < fade_in:
            positions = np.arange(b0, b0 + mono.size)
            head = positions < fade_in
            mono[head] *= (np.sin(0.5 * np.pi * positions[head] / fade_in) ** 2).astype(np.float32)
        timeline = self._timeline
        if timeline is not None:
            _apply_fade_out(mono, b0, timeline)

    @property
    def _builder_fade_in_frames(self) -> int:
        return round(min(LEAD_IN_S, 0.5) * self.sample_rate)


def _sounds(event: Event) -> bool:
    return event.kind in ("speech", "chime")


def _apply_fade_out(mono: Audio, b0: int, timeline: Timeline) -> None:
    """Raised-cosine fade-out over the session's last ``fade_out_frames``, in place."""
    out_start = timeline.total_frames - timeline.fade_out_frames
    if timeline.fade_out_frames and b0 + mono.size > out_start:
        positions = np.arange(b0, b0 + mono.size)
        tail = positions >= out_start
        left = (timeline.total_frames - positions[tail]) / timeline.fade_out_frames
        mono[tail] *= (np.sin(0.5 * np.pi * left) ** 2).astype(np.float32)


def render_session(
    session: Session,
    *,
    speech: Speech,
    cue_set: CueSet,
    sample_rate: int = 48_000,
    channels: int = 2,
    pacing: Pacing | None = None,
    progress: Callable[[int, int], None] | None = None,
    progressive: bool = False,
) -> Rendering:
    """Expand ``session`` and prepare it for rendering.

    By default every spoken line is synthesized (or read from the cache) first, in order,
    reporting ``progress(done, total)``, and the whole timeline is laid out, so errors such as a
    cue that does not fit its slot surface here. With ``progressive=True`` nothing is synthesized
    yet: steps are measured and placed as their audio is first asked for (for playback that
    starts at once); the samples are the same either way.
    """
    pacing = pacing or session.pacing
    with _located(session):
        steps = expand_session(session, pacing)
    clips = SpeechClips(speech, sample_rate)
    rendering = Rendering(
        session, steps, clips=clips, cue_set=cue_set, gap_s=pacing.gap_s, channels=channels
    )
    if not progressive:
        speech.prepare(_spoken_texts(steps, rendering, pacing.gap_s), progress)
        rendering.place_until(None)
    return rendering


def _spoken_texts(steps: list[Step], rendering: Rendering, gap_s: float) -> list[str]:
    """Every line the session speaks, in order of first appearance."""
    texts: dict[str, None] = {}

    def collect(text: str) -> int:
        texts[text] = None
        return 1  # one frame fits every slot, so this layout never refuses a step

    with _located(rendering.session):
        build_timeline(
            steps,
            sample_rate=rendering.sample_rate,
            gap_s=gap_s,
            speech_frames=collect,
            cue_frames=lambda cue: int(rendering.cue_samples(cue).size),
        )
    return list(texts)


@contextmanager
def _located(session: Session) -> Iterator[None]:
    """Name the script's file in script errors raised without one."""
    try:
        yield
    except ScriptError as error:
        if error.path is None and session.path is not None:
            raise error.located(session.path) from None
        raise
