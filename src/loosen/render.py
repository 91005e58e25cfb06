"""The one renderer: a session -> a measured timeline -> a stream of audio blocks.

The player and the exporter both consume `Rendering.blocks`, so what is played and what is
exported are the same samples. Memory stays flat with session length: blocks are mixed on demand
from the few clips that sound in them, and processed speech is kept in a bounded cache.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.expand import Step, expand_session
from loosen.script import Pacing, Session
from loosen.sounds import CueSet, render_cue
from loosen.timeline import Event, Timeline, build_timeline
from loosen.tts import Clip, Speech

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
SPEECH_PEAK_DBFS = -3.0
SILENCE_DBFS = -50.0  # below this, the engine's leading and trailing samples count as silence
EDGE_PAD_S = 0.015
EDGE_FADE_S = 0.008
DEFAULT_BLOCK_FRAMES = 4096


def _db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def prepare_speech(clip: Clip, sample_rate: int) -> Audio:
    """Turn an engine clip into speech ready to mix.

    Trims the engine's own leading and trailing silence (timing is the timeline's job), resamples
    to ``sample_rate`` with soxr, fades the edges over a few milliseconds so nothing clicks, and
    scales the peak to `SPEECH_PEAK_DBFS`.

    Returns float32 of shape (n,), mono, at ``sample_rate``; at least one frame.
    """
    import soxr  # imported here: only rendering needs it, `loosen --help` should not pay for it

    x = np.asarray(clip.samples, dtype=np.float32)
    loud = np.flatnonzero(np.abs(x) > _db_to_gain(SILENCE_DBFS))
    if loud.size:
        pad = round(EDGE_PAD_S * clip.sample_rate)
        x = x[max(0, loud[0] - pad) : loud[-1] + pad + 1]
    else:
        x = x[:1] * 0
    if clip.sample_rate != sample_rate and x.size > 1:
        x = np.asarray(soxr.resample(x, clip.sample_rate, sample_rate, quality="HQ"), np.float32)
    if x.size == 0:
        x = np.zeros(1, np.float32)
    fade = min(round(EDGE_FADE_S * sample_rate), x.size // 2)
    if fade:
        ramp = np.sin(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    peak = float(np.max(np.abs(x)))
    if peak > 0:
        x *= _db_to_gain(SPEECH_PEAK_DBFS) / peak
    return x.astype(np.float32, copy=False)


class SpeechClips:
    """Processed speech at the output rate: lengths remembered, samples in a bounded LRU cache."""

    def __init__(self, speech: Speech, sample_rate: int, budget_bytes: int = 48 * 2**20):
        self.speech = speech
        self.sample_rate = sample_rate
        self.budget_bytes = budget_bytes
        self._frames: dict[str, int] = {}
        self._cache: OrderedDict[str, Audio] = OrderedDict()
        self._bytes = 0

    def frames(self, text: str) -> int:
        """Length of ``text`` spoken, in frames at the output rate."""
        if text not in self._frames:
            self.samples(text)
        return self._frames[text]

    def samples(self, text: str) -> Audio:
        """``text`` spoken: float32, shape (n,), mono, at the output rate."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        audio = prepare_speech(self.speech.clip(text), self.sample_rate)
        self._frames[text] = audio.size
        self._cache[text] = audio
        self._bytes += audio.nbytes
        while self._bytes > self.budget_bytes and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= dropped.nbytes
        return audio


@dataclass
class Rendering:
    """A session ready to play or export: its steps, its timeline, and the sources of its sound."""

    session: Session
    steps: list[Step]
    timeline: Timeline
    clips: SpeechClips
    cue_set: CueSet
    channels: int = 2

    @property
    def sample_rate(self) -> int:
        return self.timeline.sample_rate

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
        """
        timeline = self.timeline
        end = timeline.total_frames if end_frame is None else min(end_frame, timeline.total_frames)
        sounding = [e for e in timeline.events if e.kind in ("speech", "chime")]
        starts = [e.start for e in sounding]
        ends_sorted = sorted(sounding, key=lambda e: e.end)
        ends = [e.end for e in ends_sorted]
        # events that began before start_frame but still sound at it
        active: list[Event] = [
            e
            for e in ends_sorted[bisect.bisect_right(ends, start_frame) :]
            if e.start < start_frame
        ]
        next_index = bisect.bisect_left(starts, start_frame)
        ceiling = _db_to_gain(PEAK_CEILING_DBFS)
        for b0 in range(start_frame, end, block_frames):
            b1 = min(b0 + block_frames, end)
            while next_index < len(sounding) and sounding[next_index].start < b1:
                active.append(sounding[next_index])
                next_index += 1
            mono = np.zeros(b1 - b0, np.float32)
            for event in active:
                source = self._source(event)
                s0, s1 = max(b0, event.start), min(b1, event.end, event.start + source.size)
                if s1 > s0:
                    mono[s0 - b0 : s1 - b0] += source[s0 - event.start : s1 - event.start]
            active = [e for e in active if e.end > b1]
            _apply_session_fades(mono, b0, timeline)
            np.clip(mono, -ceiling, ceiling, out=mono)
            yield np.repeat(mono[:, None], self.channels, axis=1)

    def _source(self, event: Event) -> Audio:
        if event.kind == "speech":
            assert event.text is not None
            return self.clips.samples(event.text)
        assert event.cue is not None
        return self.cue_samples(event.cue)


def _apply_session_fades(mono: Audio, b0: int, timeline: Timeline) -> None:
    """Raised-cosine fade-in at the session's start and fade-out at its end, in place."""
    n = mono.size
    positions = np.arange(b0, b0 + n)
    fade_in, fade_out = timeline.fade_in_frames, timeline.fade_out_frames
    if fade_in and b0 < fade_in:
        head = positions < fade_in
        mono[head] *= (np.sin(0.5 * np.pi * positions[head] / fade_in) ** 2).astype(np.float32)
    out_start = timeline.total_frames - fade_out
    if fade_out and b0 + n > out_start:
        tail = positions >= out_start
        left = (timeline.total_frames - positions[tail]) / fade_out
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
) -> Rendering:
    """Expand ``session``, synthesize and measure its speech, and lay out its timeline.

    Speech is synthesized (or read from the cache) before anything is placed, so every
    line's real length is known. ``progress(done, total)`` reports synthesis.
    """
    try:
        return _render(session, speech, cue_set, sample_rate, channels, pacing, progress)
    except ScriptError as error:
        if error.path is None and session.path is not None:
            raise error.located(session.path) from None
        raise


def _render(
    session: Session,
    speech: Speech,
    cue_set: CueSet,
    sample_rate: int,
    channels: int,
    pacing: Pacing | None,
    progress: Callable[[int, int], None] | None,
) -> Rendering:
    pacing = pacing or session.pacing
    steps = expand_session(session, pacing)
    texts: list[str] = []

    def collect(text: str) -> int:
        texts.append(text)
        return 1

    def cue_frames(cue: str) -> int:
        return int(render_cue(cue, cue_set, sample_rate).size)

    # a first layout with one-frame speech collects every spoken line in order of appearance
    build_timeline(
        steps, sample_rate=sample_rate, gap_s=pacing.gap_s, speech_frames=collect,
        cue_frames=cue_frames,
    )  # fmt: skip
    speech.prepare(dict.fromkeys(texts), progress)
    clips = SpeechClips(speech, sample_rate)
    timeline = build_timeline(
        steps,
        sample_rate=sample_rate,
        gap_s=pacing.gap_s,
        speech_frames=clips.frames,
        cue_frames=cue_frames,
    )
    return Rendering(session, steps, timeline, clips, cue_set, channels)
