"""The one renderer: a session -> a measured timeline -> a stream of audio blocks.

The player and the exporter both consume `Rendering.blocks`, so what is played and what is
exported are the same samples. Memory stays flat with session length: blocks are mixed on demand
from the few clips that sound in them, and processed speech is kept in a bounded cache.

`Rendering` owns the two halves: the layout (`loosen.render.layout`), which places the steps on
the timeline as their speech is measured, and the mixer (`loosen.render.mixer`), which mixes the
blocks from what is placed, at the mix's levels (`loosen.script.loading.Mix`: the voice, the cue
sounds, the breath guide's tones and an ambience bed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from loosen.plan.expand import Step, expand_session
from loosen.plan.pace import Pace
from loosen.plan.timeline import Event, StepSpan, Timeline, build_timeline
from loosen.render import measuring
from loosen.render.layout import Layout, located
from loosen.render.mixer import (
    DEFAULT_BLOCK_FRAMES,
    LIMIT_KNEE_DBFS,
    PEAK_CEILING_DBFS,
    Mixer,
)
from loosen.render.mixer import limit as _limit  # noqa: F401  (the tests call the limiter)
from loosen.script.limits import session_limit_once_spoken_s, speech_floor_s
from loosen.script.loading import Mix, Pacing, Session
from loosen.sound.cues import CueSet
from loosen.tts import Speech
from loosen.tts.clips import SPEECH_PEAK_DBFS, SpeechClips, prepare_speech

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


class Rendering:
    """A session ready to play or export: its steps, its timeline, and the sources of its sound.

    The timeline is laid out step by step as audio is asked for (`blocks`, `place_until`), so
    playback can begin while later steps are still being measured; `timeline` lays out the rest.
    Thread-safe: a player's producer thread can render while its interface reads positions.
    ``layout`` (`Layout`) places the steps, ``mixer`` (`Mixer`) mixes the blocks.

    ``mix`` (default: the session's) sets the levels: ``voice_db`` for speech, ``chime_db`` for
    the cue sounds and the breath guide's tones, both relative to the default levels (0 dB
    changes nothing), and ``ambience_db`` relative to the ambience recipe's own level.

    `close` (or leaving a ``with`` block) stops the helper threads the rendering owns.

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
        self.layout = Layout(
            session, steps, clips=clips, cue_set=cue_set, gap_s=gap_s, max_length_s=max_length_s
        )
        self.mixer = Mixer(self.layout, self.mix, channels)
        self.ambience = self.mixer.ambience

    def close(self) -> None:
        """Stop the helper threads the rendering owns (the speech clips' prefetching)."""
        self.clips.close()

    def __enter__(self) -> Rendering:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # the layout

    @property
    def timeline(self) -> Timeline:
        """The whole timeline (lays out every step not placed yet)."""
        return self.layout.timeline

    @property
    def finished(self) -> bool:
        """True once every step is placed and the total length is known."""
        return self.layout.finished

    @property
    def spans(self) -> list[StepSpan]:
        """The steps placed so far, in order (a copy)."""
        return self.layout.spans

    def frames_at_most(self, chars_per_s: float = 4.0) -> int:
        """An upper bound of the session's length in frames (`Layout.frames_at_most`)."""
        return self.layout.frames_at_most(chars_per_s)

    def step_start(self, index: int) -> int:
        """The first frame of expanded step ``index`` (1-based), laying steps out up to it."""
        return self.layout.step_start(index)

    def events_between(self, start_frame: int, end_frame: int) -> list[Event]:
        """The events placed so far that start in ``[start_frame, end_frame)`` (a copy)."""
        return self.layout.events_between(start_frame, end_frame)

    def place_until(self, frame: int | None) -> None:
        """Lay out steps until ``frame`` is final (``None``: all of them), synthesizing (or
        reading from the cache) each step's speech as it is placed."""
        self.layout.place_until(frame)

    def cue_samples(self, cue: str) -> Audio:
        """The sound of cue kind ``cue``: float32, shape (n,), mono, at the output rate."""
        return self.layout.cue_samples(cue)

    # the mixer

    def blocks(
        self,
        start_frame: int = 0,
        end_frame: int | None = None,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        *,
        mono: bool = False,
    ) -> Iterator[Audio]:
        """Yield the session's audio from ``start_frame`` to ``end_frame`` (default: the end).

        Float32 blocks of shape (frames, channels), or (frames, 1) with ``mono=True`` (only if
        `dual_mono`), at most ``block_frames`` long, peaks at most `PEAK_CEILING_DBFS`; the
        samples do not depend on ``start_frame`` or ``block_frames`` (see `Mixer.blocks`).
        """
        return self.mixer.blocks(start_frame, end_frame, block_frames, mono=mono)

    @property
    def dual_mono(self) -> bool:
        """Whether every channel plays the same samples (no ambience)."""
        return self.mixer.dual_mono

    @property
    def voice_gain(self) -> float:
        """The voice's level as a linear gain (the mix's ``voice_db``)."""
        return self.mixer.gains["speech"]

    def audible(self, event: Event) -> bool:
        """Whether ``event`` makes a sound of its own (speech, a chime, a breath tone)."""
        return self.mixer.sounds(event)

    # both: the loudness of the sounds placed

    def placed_sounds(self) -> Iterator[Placed]:
        """Every sound of the session in order of its start, laid out as they are taken: the
        mono mix (before the session's fades and the soft limiter) is their sum."""
        return measuring.placed_sounds(self.layout, self.mixer)

    def measure_loudness(self, progress: Callable[[int], None] | None = None) -> SourceLoudness:
        """The session's integrated loudness, measured from its sounds without mixing it all
        (`loosen.loudness.sources`): as the blocks would measure, on every channel. Needs
        `dual_mono`; lays out the whole session, metering each step as it is placed."""
        return measuring.measure_loudness(self.layout, self.mixer, progress)


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
    with located(session):
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
            speech.stop()  # first: the prefetching may be waiting on the engine
            rendering.close()
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

    with located(rendering.session):
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
