"""The mixer: audio blocks mixed on demand from the sounds a `Layout` has placed.

The mix (`loosen.script.loading.Mix`) sets the level of the voice and of the cue sounds, adds the
breath guide's tones and an ambience bed (`loosen.sound.ambience`). Speech and cues sound in the
centre; only the ambience differs between channels. The session fades in and out, and a soft
limiter keeps every sample within `PEAK_CEILING_DBFS`.
"""

from __future__ import annotations

import bisect
import sys
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from loosen.plan.timeline import LEAD_IN_S, Event, Timeline
from loosen.render.layout import Layout, located
from loosen.script.loading import Mix
from loosen.sound.ambience import AmbienceTrack, load_ambience
from loosen.sound.cues import breath_tone
from loosen.tts.clips import db_to_gain

__all__ = ["DEFAULT_BLOCK_FRAMES", "LIMIT_KNEE_DBFS", "PEAK_CEILING_DBFS", "Mixer"]

Audio = npt.NDArray[np.float32]

PEAK_CEILING_DBFS = -1.0
LIMIT_KNEE_DBFS = -3.0  # above this, peaks bend smoothly towards the ceiling instead of clipping
DEFAULT_BLOCK_FRAMES = 4096
_BREATH_TONES_CACHED = 8


class Mixer:
    """The session's sound: blocks mixed from what ``layout`` has placed, at ``mix``'s levels.

    ``voice_db`` sets the speech, ``chime_db`` the cue sounds and the breath guide's tones, both
    relative to the default levels (0 dB changes nothing), and ``ambience_db`` the ambience
    relative to its recipe's own level. Its caches are guarded by the layout's lock.

    Raises
    ------
    ScriptError
        If the mix names an ambience that does not exist or whose recipe is malformed.
    """

    def __init__(self, layout: Layout, mix: Mix, channels: int):
        self.layout = layout
        self.mix = mix
        self.channels = channels
        self.sample_rate = layout.sample_rate
        self.gains = {
            "speech": db_to_gain(mix.voice_db),
            "chime": db_to_gain(mix.chime_db),
            "breath": db_to_gain(mix.chime_db),
        }
        self.ambience = self._ambience_track()
        self._breath_tones: OrderedDict[tuple[str, int], Audio] = OrderedDict()
        self._speech_spans: list[tuple[int, int]] = []
        self._events_scanned = 0

    def _ambience_track(self) -> AmbienceTrack | None:
        name = self.mix.ambience
        if name is None:
            return None
        session = self.layout.session
        if name == session.mix.ambience:  # the script's choice: name the script in errors
            with located(session):
                recipe = load_ambience(name, where="mix.ambience")
        else:
            recipe = load_ambience(name)
        return AmbienceTrack(recipe, self.sample_rate, self.channels, self.mix.ambience_db)

    @property
    def dual_mono(self) -> bool:
        """Whether every channel plays the same samples (no ambience)."""
        return self.ambience is None

    @property
    def fade_in_frames(self) -> int:
        """The length of the session's fade-in, in frames."""
        return round(min(LEAD_IN_S, 0.5) * self.sample_rate)

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
        layout, lock = self.layout, self.layout.lock
        layout.place_until(start_frame + 1)
        events = layout.events  # grows in place, always sorted by start
        # events that began before start_frame but still sound at it
        with lock:
            next_index = bisect.bisect_left(events, start_frame, key=lambda e: e.start)
            active = [e for e in events[:next_index] if e.end > start_frame and self.sounds(e)]
        # ducking looks ahead at the speech to come: it must be placed before the block is mixed
        lookahead = self.ambience.lookahead_frames if self.ambience is not None else 0
        b0 = start_frame
        upcoming = 0  # the index of the next speech event, at or after next_index
        while True:
            # (an ambience ducks ahead of a whole line)
            lead = layout.reach(
                b0 + block_frames + lookahead, whole_lines=self.ambience is not None
            )
            end = end_frame if end_frame is not None else sys.maxsize
            timeline = layout.final
            if timeline is not None:
                end = min(end, timeline.total_frames)
            if b0 >= end:
                return
            b1 = min(b0 + block_frames, end)
            with lock:
                while next_index < len(events) and events[next_index].start < b1:
                    if self.sounds(events[next_index]):
                        active.append(events[next_index])
                    next_index += 1
                upcoming = max(upcoming, next_index)
                while upcoming < len(events) and events[upcoming].kind != "speech":
                    upcoming += 1
                coming = events[upcoming].text if upcoming < len(events) else None
            if coming is not None:  # the next line, made ready while this block is mixed
                layout.clips.prefetch(coming)
            mix = np.zeros(b1 - b0, np.float32)
            if lead is not None and not any(
                e.kind == "speech" and e.start == lead[0] and e.text == lead[1] for e in active
            ):  # (once its step is placed, the line is an event like any other)
                start, _, spoken = lead
                s0, s1 = max(b0, start), min(b1, start + spoken.size)
                if s1 > s0:
                    mix[s0 - b0 : s1 - b0] += self.gains["speech"] * spoken[s0 - start : s1 - start]
            for event in active:
                source = self.source(event)
                gain = self.gains[event.kind]
                s0, s1 = max(b0, event.start), min(b1, event.end, event.start + source.size)
                if s1 > s0:
                    part = source[s0 - event.start : s1 - event.start]
                    mix[s0 - b0 : s1 - b0] += part if gain == 1.0 else gain * part
            active = [e for e in active if e.end > b1]
            block = mix[:, None] if mono else np.repeat(mix[:, None], self.channels, axis=1)
            if self.ambience is not None:
                block += self._ambience_block(b0, b1)
            self._apply_fades(block, b0)
            limit(block)
            yield block
            b0 = b1

    def sounds(self, event: Event) -> bool:
        """Whether ``event`` makes a sound of its own (speech, a chime, a breath tone)."""
        if event.kind == "breath":
            return self.mix.breath_tone and event.phase in ("inhale", "exhale")
        return event.kind in ("speech", "chime")

    def source(self, event: Event) -> Audio:
        """The samples ``event`` plays from its start, at unit level: float32, shape (n,)."""
        if event.kind == "speech":
            assert event.text is not None
            return self.layout.clips.samples(event.text)
        if event.kind == "breath":
            assert event.phase is not None
            return self._breath_tone(event.phase, event.frames)
        assert event.cue is not None
        return self.layout.cue_samples(event.cue)

    def _breath_tone(self, phase: str, frames: int) -> Audio:
        """The breath guide's tone for one breath, cached: a session's breaths repeat."""
        key = (phase, frames)
        with self.layout.lock:
            tone = self._breath_tones.get(key)
        if tone is None:
            tone = breath_tone(phase, frames, self.sample_rate)
            with self.layout.lock:
                self._breath_tones[key] = tone
                while len(self._breath_tones) > _BREATH_TONES_CACHED:
                    self._breath_tones.popitem(last=False)
        return tone

    def _ambience_block(self, b0: int, b1: int) -> Audio:
        """The ambience over ``[b0, b1)``: float32, shape (b1 - b0, channels)."""
        track = self.ambience
        assert track is not None
        lo, hi = b0 - track.lookbehind_frames, b1 + track.lookahead_frames
        with self.layout.lock:
            events = self.layout.events
            for event in events[self._events_scanned :]:
                if event.kind == "speech":
                    self._speech_spans.append((event.start, event.end))
            self._events_scanned = len(events)
            spans = self._speech_spans  # sorted and disjoint: speech never overlaps speech
            first = bisect.bisect_right(spans, lo, key=lambda span: span[1])
            speech = spans[first : bisect.bisect_left(spans, hi, key=lambda span: span[0])]
            timeline = self.layout.final
        fade_out = None
        if timeline is not None:
            steps_end = timeline.steps[-1].end if timeline.steps else 0
            fade_out = track.fade_out_span(timeline.total_frames, steps_end)
        return track.block(b0, b1 - b0, speech, fade_out)

    def _apply_fades(self, block: Audio, b0: int) -> None:
        """The session's fades, in place on ``block`` of shape (frames, channels)."""
        fade_in = self.fade_in_frames
        if fade_in and b0 < fade_in:
            positions = np.arange(b0, b0 + len(block))
            head = positions < fade_in
            ramp = np.sin(0.5 * np.pi * positions[head] / fade_in) ** 2
            block[head] *= ramp.astype(np.float32)[:, None]
        timeline = self.layout.final
        if timeline is not None:
            _apply_fade_out(block, b0, timeline)


def _apply_fade_out(block: Audio, b0: int, timeline: Timeline) -> None:
    """Raised-cosine fade-out over the session's last ``fade_out_frames``, in place."""
    out_start = timeline.total_frames - timeline.fade_out_frames
    if timeline.fade_out_frames and b0 + len(block) > out_start:
        positions = np.arange(b0, b0 + len(block))
        tail = positions >= out_start
        left = (timeline.total_frames - positions[tail]) / timeline.fade_out_frames
        block[tail] *= (np.sin(0.5 * np.pi * left) ** 2).astype(np.float32)[:, None]


def limit(block: Audio) -> None:
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
