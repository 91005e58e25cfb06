"""The one renderer: a session -> a measured timeline -> a stream of audio blocks.

The player and the exporter both consume `Rendering.blocks`, so what is played and what is
exported are the same samples. Memory stays flat with session length: blocks are mixed on demand
from the few clips that sound in them, and processed speech is kept in a bounded cache.

The mix (`loosen.script.loading.Mix`) sets the level of the voice and of the cue sounds, adds the
breath guide's tones and an ambience bed (`loosen.sound.ambience`). Speech and cues sound in the
centre; only the ambience differs between channels.
"""

from __future__ import annotations

import bisect
import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.plan.expand import Step, expand_session
from loosen.plan.pace import Pace
from loosen.plan.timeline import (
    LEAD_IN_S,
    Event,
    StepSpan,
    Timeline,
    TimelineBuilder,
    build_timeline,
    leading_speech,
)
from loosen.script.limits import session_limit_once_spoken_s, speech_floor_s, too_long_once_spoken
from loosen.script.loading import Mix, Pacing, Session
from loosen.sound.ambience import AmbienceTrack, load_ambience
from loosen.sound.cues import CueSet, breath_tone, render_cue
from loosen.tts import Speech
from loosen.tts.clips import SPEECH_PEAK_DBFS, SpeechClips, db_to_gain, prepare_speech

if TYPE_CHECKING:  # the loudness modules load only for an export that levels loudness
    from loosen.loudness.sources import Placed, SourceLoudness

__all__ = [
    "LIMIT_KNEE_DBFS",
    "PEAK_CEILING_DBFS",
    "SPEECH_PEAK_DBFS",
    "Rendering",
    "SpeechClips",
    "prepare_speech",
    "render_session",
]

Audio = npt.NDArray[np.float32]

PEAK_CEILING_DBFS = -1.0
LIMIT_KNEE_DBFS = -3.0  # above this, peaks bend smoothly towards the ceiling instead of clipping
DEFAULT_BLOCK_FRAMES = 4096
_BREATH_TONES_CACHED = 8


class Rendering:
    """A session ready to play or export: its steps, its timeline, and the sources of its sound.

    The timeline is laid out step by step as audio is asked for (`blocks`, `place_until`), so
    playback can begin while later steps are still being measured; `timeline` lays out the rest.
    Thread-safe: a player's producer thread can render while its interface reads positions.

    ``mix`` (default: the session's) sets the levels: ``voice_db`` for speech, ``chime_db`` for
    the cue sounds and the breath guide's tones, both relative to the default levels (0 dB
    changes nothing), and ``ambience_db`` relative to the ambience recipe's own level.

    Raises
    ------
    ScriptError
        If the mix names an ambience that does not exist or whose recipe is malformed.
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
        mix: Mix | None = None,
        max_length_s: float | None = None,
    ):
        self.session = session
        self.steps = steps
        self.clips = clips
        self.cue_set = cue_set
        self.channels = channels
        self.sample_rate = clips.sample_rate
        self.mix = session.mix if mix is None else mix
        self._gains = {
            "speech": db_to_gain(self.mix.voice_db),
            "chime": db_to_gain(self.mix.chime_db),
            "breath": db_to_gain(self.mix.chime_db),
        }
        self.ambience = self._ambience_track()
        self._breath_tones: OrderedDict[tuple[str, int], Audio] = OrderedDict()
        self._speech_spans: list[tuple[int, int]] = []
        self._events_scanned = 0
        self._lock = threading.RLock()
        self._gap_s = gap_s
        self._builder = TimelineBuilder(
            sample_rate=self.sample_rate,
            gap_s=gap_s,
            speech_frames=clips.frames,
            cue_frames=lambda cue: int(self.cue_samples(cue).size),
        )
        self._next_step = 0
        self._timeline: Timeline | None = None
        # the session's length limit, checked on the real layout as each step is placed; the
        # steps are what it bounds, from the end of the lead-in
        self._limit_s = session_limit_once_spoken_s() if max_length_s is None else max_length_s
        self._steps_start = self._builder.frontier

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

        with _located(self.session):
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
                    # synthesize the step's speech outside the lock (a renderer thread that only
                    # needs what is already placed keeps going meanwhile), in order, laying the
                    # step out alone as it goes, as it will be placed: the first line that does
                    # not fit its slot ends it, before the step's other lines are spoken
                    TimelineBuilder(
                        sample_rate=self.sample_rate, gap_s=self._gap_s,
                        speech_frames=self.clips.frames,
                        cue_frames=lambda cue: int(self.cue_samples(cue).size),
                    ).add(self.steps[upcoming])  # fmt: skip
                with self._lock:
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

    def _reach(self, frame: int) -> tuple[int, str, Audio] | None:
        """Make the session final up to ``frame`` for mixing: lay steps out until it is, or,
        while the next step's opening line is still being spoken sentence by sentence, until
        enough of that line is (then return its start, text and samples so far).

        The line's first sentences are final before the rest exist (`SpeechClips.prefix`), and
        nothing else in its step sounds before the line ends, so playback can start on them.
        """
        while True:
            with self._lock:
                if self._timeline is not None or self._builder.frontier >= frame:
                    return None
                upcoming, frontier = self._next_step, self._builder.frontier
            text = leading_speech(self.steps[upcoming]) if upcoming < len(self.steps) else None
            if (
                text is None
                or self.ambience is not None  # it ducks ahead of the whole line
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

    def _ambience_track(self) -> AmbienceTrack | None:
        name = self.mix.ambience
        if name is None:
            return None
        if name == self.session.mix.ambience:  # the script's choice: name the script in errors
            with _located(self.session):
                recipe = load_ambience(name, where="mix.ambience")
        else:
            recipe = load_ambience(name)
        return AmbienceTrack(recipe, self.sample_rate, self.channels, self.mix.ambience_db)

    def cue_samples(self, cue: str) -> Audio:
        """The sound of cue kind ``cue``: float32, shape (n,), mono, at the output rate."""
        return render_cue(cue, self.cue_set, self.sample_rate)

    def blocks(
        self,
        start_frame: int = 0,
        end_frame: int | None = None,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        *,
        mono: bool = False,
    ) -> Iterator[Audio]:
        """Yield the session's audio from ``start_frame`` to ``end_frame`` (default: the end).

        Each block is float32 of shape (frames, channels), at most ``block_frames`` long, in
        [-1, 1], with the peak at most `PEAK_CEILING_DBFS`. Blocks are mixed on demand, so any
        start position costs nothing extra and memory does not depend on the session's length.
        The samples do not depend on ``start_frame`` or ``block_frames``. Speech and cue sounds
        are the same in every channel; an ambience differs between them. ``mono=True`` yields
        blocks of shape (frames, 1), the one channel that every channel repeats (`dual_mono`).
        """
        if mono and not self.dual_mono:
            raise ValueError("an ambience makes the channels differ: no mono rendering")
        self.place_until(start_frame + 1)
        events = self._builder.events  # grows in place, always sorted by start
        # events that began before start_frame but still sound at it
        with self._lock:
            next_index = bisect.bisect_left(events, start_frame, key=lambda e: e.start)
            active = [e for e in events[:next_index] if e.end > start_frame and self._sounds(e)]
        # ducking looks ahead at the speech to come: it must be placed before the block is mixed
        lookahead = self.ambience.lookahead_frames if self.ambience is not None else 0
        b0 = start_frame
        upcoming = 0  # the index of the next speech event, at or after next_index
        while True:
            lead = self._reach(b0 + block_frames + lookahead)
            end = end_frame if end_frame is not None else sys.maxsize
            if self._timeline is not None:
                end = min(end, self._timeline.total_frames)
            if b0 >= end:
                return
            b1 = min(b0 + block_frames, end)
            with self._lock:
                while next_index < len(events) and events[next_index].start < b1:
                    if self._sounds(events[next_index]):
                        active.append(events[next_index])
                    next_index += 1
                upcoming = max(upcoming, next_index)
                while upcoming < len(events) and events[upcoming].kind != "speech":
                    upcoming += 1
                coming = events[upcoming].text if upcoming < len(events) else None
            if coming is not None:  # the next line, made ready while this block is mixed
                self.clips.prefetch(coming)
            mix = np.zeros(b1 - b0, np.float32)
            if lead is not None and not any(
                e.kind == "speech" and e.start == lead[0] and e.text == lead[1] for e in active
            ):  # (once its step is placed, the line is an event like any other)
                start, _, spoken = lead
                s0, s1 = max(b0, start), min(b1, start + spoken.size)
                if s1 > s0:
                    mix[s0 - b0 : s1 - b0] += (
                        self._gains["speech"] * spoken[s0 - start : s1 - start]
                    )
            for event in active:
                source = self._source(event)
                gain = self._gains[event.kind]
                s0, s1 = max(b0, event.start), min(b1, event.end, event.start + source.size)
                if s1 > s0:
                    part = source[s0 - event.start : s1 - event.start]
                    mix[s0 - b0 : s1 - b0] += part if gain == 1.0 else gain * part
            active = [e for e in active if e.end > b1]
            block = mix[:, None] if mono else np.repeat(mix[:, None], self.channels, axis=1)
            if self.ambience is not None:
                block += self._ambience_block(b0, b1)
            self._apply_fades(block, b0)
            _limit(block)
            yield block
            b0 = b1

    @property
    def dual_mono(self) -> bool:
        """Whether every channel plays the same samples (no ambience)."""
        return self.ambience is None

    def placed_sounds(self) -> Iterator[Placed]:
        """Every sound of the session in order of its start, laid out as they are taken: the
        mono mix (before the session's fades and the soft limiter) is their sum."""
        index = 0
        while True:
            with self._lock:
                new = self._builder.events[index:]
                finished = self._timeline is not None
                frontier = self._builder.frontier
            index += len(new)
            for event in new:
                if self._sounds(event):
                    yield self._placed(event)
            if finished:
                return
            self.place_until(frontier + 1)

    def _placed(self, event: Event) -> Placed:
        """``event``'s sound for `placed_sounds`; a line's samples only if the meter needs them
        (a warm cache holds its profile)."""
        from loosen.loudness.sources import Placed

        key = (event.kind, event.text, event.cue, event.phase, event.frames)
        gain = self._gains[event.kind]
        if event.kind == "speech":
            assert event.text is not None
            text = event.text
            spoken = self.clips.frames(text)
            frames = min(event.frames, spoken)

            def load() -> Audio:
                return self.clips.samples(text)[:frames]

            stored = self.clips.derived_key(text) if frames == spoken else None
            return Placed(event.start, None, gain, key, frames=frames, load=load, stored=stored)
        source = self._source(event)
        return Placed(event.start, source[: min(event.frames, source.size)], gain, key)

    def measure_loudness(self, progress: Callable[[int], None] | None = None) -> SourceLoudness:
        """The session's integrated loudness, measured from its sounds without mixing it all
        (`loosen.loudness.sources`): as the blocks would measure, on every channel. Needs
        `dual_mono`; lays out the whole session, metering each step as it is placed."""
        if not self.dual_mono:
            raise ValueError("an ambience makes the channels differ: meter the blocks")
        from loosen.loudness.sources import measure_placed

        fade_in = self._builder_fade_in_frames

        def render(start: int, end: int) -> Audio:
            blocks = self.blocks(start, end, block_frames=self.sample_rate, mono=True)
            return np.concatenate([block[:, 0] for block in blocks])

        def linear_span() -> tuple[int, int]:
            with self._lock:
                timeline, frontier = self._timeline, self._builder.frontier
            if timeline is None:
                # the fade-out starts after the end chime does, which comes after every sound
                # placed so far: what has ended by the frontier is before it
                return fade_in, frontier
            return fade_in, timeline.total_frames - timeline.fade_out_frames

        return measure_placed(
            self.placed_sounds(),
            sample_rate=self.sample_rate,
            channels=self.channels,
            linear_span=linear_span,
            total_frames=lambda: self.timeline.total_frames,
            knee=db_to_gain(LIMIT_KNEE_DBFS),
            render=render,
            progress=progress,
            store=self.clips.speech.cache,
        )

    @property
    def voice_gain(self) -> float:
        """The voice's level as a linear gain (the mix's ``voice_db``)."""
        return self._gains["speech"]

    def audible(self, event: Event) -> bool:
        """Whether ``event`` makes a sound of its own (speech, a chime, a breath tone)."""
        return self._sounds(event)

    def _sounds(self, event: Event) -> bool:
        if event.kind == "breath":
            return self.mix.breath_tone and event.phase in ("inhale", "exhale")
        return event.kind in ("speech", "chime")

    def _source(self, event: Event) -> Audio:
        if event.kind == "speech":
            assert event.text is not None
            return self.clips.samples(event.text)
        if event.kind == "breath":
            assert event.phase is not None
            return self._breath_tone(event.phase, event.frames)
        assert event.cue is not None
        return self.cue_samples(event.cue)

    def _breath_tone(self, phase: str, frames: int) -> Audio:
        """The breath guide's tone for one breath, cached: a session's breaths repeat."""
        key = (phase, frames)
        with self._lock:
            tone = self._breath_tones.get(key)
        if tone is None:
            tone = breath_tone(phase, frames, self.sample_rate)
            with self._lock:
                self._breath_tones[key] = tone
                while len(self._breath_tones) > _BREATH_TONES_CACHED:
                    self._breath_tones.popitem(last=False)
        return tone

    def _ambience_block(self, b0: int, b1: int) -> Audio:
        """The ambience over ``[b0, b1)``: float32, shape (b1 - b0, channels)."""
        track = self.ambience
        assert track is not None
        lo, hi = b0 - track.lookbehind_frames, b1 + track.lookahead_frames
        with self._lock:
            events = self._builder.events
            for event in events[self._events_scanned :]:
                if event.kind == "speech":
                    self._speech_spans.append((event.start, event.end))
            self._events_scanned = len(events)
            spans = self._speech_spans  # sorted and disjoint: speech never overlaps speech
            first = bisect.bisect_right(spans, lo, key=lambda span: span[1])
            speech = spans[first : bisect.bisect_left(spans, hi, key=lambda span: span[0])]
            timeline = self._timeline
        fade_out = None
        if timeline is not None:
            steps_end = timeline.steps[-1].end if timeline.steps else 0
            fade_out = track.fade_out_span(timeline.total_frames, steps_end)
        return track.block(b0, b1 - b0, speech, fade_out)

    def _apply_fades(self, block: Audio, b0: int) -> None:
        """The session's fades, in place on ``block`` of shape (frames, channels)."""
        fade_in = self._builder_fade_in_frames
        if fade_in and b0 < fade_in:
            positions = np.arange(b0, b0 + len(block))
            head = positions < fade_in
            ramp = np.sin(0.5 * np.pi * positions[head] / fade_in) ** 2
            block[head] *= ramp.astype(np.float32)[:, None]
        timeline = self._timeline
        if timeline is not None:
            _apply_fade_out(block, b0, timeline)

    @property
    def _builder_fade_in_frames(self) -> int:
        return round(min(LEAD_IN_S, 0.5) * self.sample_rate)


def _apply_fade_out(block: Audio, b0: int, timeline: Timeline) -> None:
    """Raised-cosine fade-out over the session's last ``fade_out_frames``, in place."""
    out_start = timeline.total_frames - timeline.fade_out_frames
    if timeline.fade_out_frames and b0 + len(block) > out_start:
        positions = np.arange(b0, b0 + len(block))
        tail = positions >= out_start
        left = (timeline.total_frames - positions[tail]) / timeline.fade_out_frames
        block[tail] *= (np.sin(0.5 * np.pi * left) ** 2).astype(np.float32)[:, None]


def _limit(block: Audio) -> None:
    """Keep every sample within `PEAK_CEILING_DBFS`, in place.

    Samples up to `LIMIT_KNEE_DBFS` pass untouched; above it the magnitude bends smoothly
    (tanh, slope 1 at the knee) towards the ceiling, so a loud mix saturates gently instead of
    clipping. Memoryless, so a sample does not depend on where rendering started.
    """
    knee, ceiling = db_to_gain(LIMIT_KNEE_DBFS), db_to_gain(PEAK_CEILING_DBFS)
    if block.size == 0 or (block.max() <= knee and block.min() >= -knee):
        return  # two reductions instead of a mask of the whole block: the usual case
    over = np.abs(block) > knee
    if over.any():
        loud = block[over]
        bent = knee + (ceiling - knee) * np.tanh((np.abs(loud) - knee) / (ceiling - knee))
        block[over] = np.copysign(bent, loud)
        np.clip(block, -ceiling, ceiling, out=block)


def render_session(
    session: Session,
    *,
    speech: Speech,
    cue_set: CueSet,
    sample_rate: int = 48_000,
    channels: int = 2,
    pacing: Pacing | None = None,
    pace: Pace | None = None,
    progress: Callable[[int, int], None] | None = None,
    progressive: bool = False,
    mix: Mix | None = None,
    synthesize_ahead: bool = False,
) -> Rendering:
    """Expand ``session`` and prepare it for rendering.

    ``pacing`` replaces the script's pacing; ``pace`` scales its every silence, the gap after
    speech included (`loosen.plan.pace.Pace`).

    By default every spoken line is synthesized (or read from the cache) first, in order,
    reporting ``progress(done, total)``, and the whole timeline is laid out, so errors such as a
    cue that does not fit its slot surface here. With ``progressive=True`` nothing is synthesized
    yet: steps are measured and placed as their audio is first asked for (for playback that
    starts at once); the samples are the same either way. ``synthesize_ahead=True`` (with
    ``progressive``) also starts synthesizing every line in the background, in order, reporting
    ``progress``, so that speech is synthesized while the first steps are mixed and written;
    call ``speech.stop()`` when done.

    ``mix`` (default: ``session.mix``) sets the voice, chime and ambience levels, the ambience
    and the breath guide's tones (see `Rendering`). An unknown ambience is a ScriptError, raised
    here.
    """
    pacing = pacing or session.pacing
    pace = pace or Pace()
    with _located(session):
        steps = expand_session(session, pacing, pace)
    gap_s = pace.gap_s(pacing.gap_s)
    clips = SpeechClips(speech, sample_rate)
    rendering = Rendering(
        session,
        steps,
        clips=clips,
        cue_set=cue_set,
        gap_s=gap_s,
        channels=channels,
        mix=mix,
        max_length_s=session_limit_once_spoken_s(max(pace.factor, pace.announced_factor or 1)),
    )
    if not progressive:
        # spoken in the background while the steps are laid out in order, so that the first
        # line that does not fit, or the step that passes the length limit, stops the speaking
        speech.prepare_ahead(_spoken_texts(steps, rendering, gap_s), progress)
        try:
            rendering.place_until(None)
        except BaseException:
            speech.stop()
            raise
    elif synthesize_ahead:
        speech.prepare_ahead(_spoken_texts(steps, rendering, gap_s), progress)
    return rendering


def _spoken_texts(steps: list[Step], rendering: Rendering, gap_s: float) -> list[str]:
    """Every line the session speaks, in order of first appearance.

    Laid out with each line as short as the fastest voice could say it (`speech_floor_s`): a
    line that cannot fit its slot even so is refused here, before anything is spoken.
    """
    texts: dict[str, None] = {}
    floors: dict[str, int] = {}

    def collect(text: str) -> int:
        for unit in rendering.clips.units(text):  # what the engine is given: maybe sentences
            texts[unit] = None
        if text not in floors:
            floors[text] = int(speech_floor_s(text) * rendering.sample_rate)
        return floors[text]

    with _located(rendering.session):
        build_timeline(
            steps,
            sample_rate=rendering.sample_rate,
            gap_s=gap_s,
            speech_frames=collect,
            # only the texts matter here: rendering a chime (tens of ms for a bell) just to
            # measure it would delay the first block of `loosen play`
            cue_frames=lambda cue: 1,
            speech_at_least=True,
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
