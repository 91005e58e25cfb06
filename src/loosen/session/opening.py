"""Opening a session's rendering: the options and the user's config file settled, the script
loaded with its settings, the speech engine chosen and opened, the pace fitted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from loosen.errors import BadValueError
from loosen.session.choices import check_audio_settings, chosen_pace, fit_target_s
from loosen.session.options import QUIET, Listener, SessionOptions

if TYPE_CHECKING:
    from loosen.plan.estimate import Length
    from loosen.plan.pace import Pace
    from loosen.render.rendering import Rendering
    from loosen.script.loading import Session

__all__ = ["describe_pace", "length_without_speaking", "open_rendering", "opened_rendering"]


@contextmanager
def open_rendering(
    script: str | Path,
    options: SessionOptions | None = None,
    *,
    listener: Listener = QUIET,
    progressive: bool = False,
    ahead: bool = False,
    mono_if_same: bool = False,
) -> Iterator[Rendering]:
    """Load, expand and measure ``script`` (a file, or a bundled session's name); the speech
    engine stays open inside the block.

    By default every line is synthesized first and the whole timeline laid out.
    ``progressive``: steps are laid out as they are first played. ``ahead``: every line is
    synthesized in the background meanwhile (an export: speech overlaps mixing).
    ``mono_if_same``: when neither
    the options nor the config file ask for a channel count, a session whose channels would all
    be the same (no ambience) renders as one channel. ``listener.detail`` hears the script, the
    engine and voice, any fitted pace, and at the end how many lines were synthesized.
    """

    def synthesized(count: int) -> None:
        listener.tell(synthesized_detail(count))

    with opened_rendering(
        script, options, listener=listener, progressive=progressive, ahead=ahead,
        mono_if_same=mono_if_same, on_synthesized=synthesized,
    ) as rendering:  # fmt: skip
        yield rendering


@contextmanager
def opened_rendering(
    script: str | Path,
    options: SessionOptions | None,
    *,
    listener: Listener,
    progressive: bool,
    ahead: bool,
    mono_if_same: bool,
    on_synthesized: Callable[[int], None],
) -> Iterator[Rendering]:
    """`open_rendering`, the number of lines synthesized told to ``on_synthesized`` once the
    block has ended (an export tells it after what it wrote)."""
    from loosen.config import load_defaults
    from loosen.render.rendering import render_session
    from loosen.session.choices import choose_speech, load_for, open_chosen
    from loosen.sound.cues import load_cue_set
    from loosen.tts import Speech, SpeechCache
    from loosen.tts.clips import MixReady

    options = options or SessionOptions()
    defaults = load_defaults()
    sample_rate = _first(options.sample_rate, defaults.sample_rate, 48_000)
    asked_channels = _first(options.channels, defaults.channels, 0)  # 0: not asked for
    channels = asked_channels or 2
    check_audio_settings(sample_rate, channels)
    engine, voice = options.engine, options.voice
    if options.voice_model is not None:
        if voice is not None:
            raise BadValueError("voice", voice, "give a voice or a voice model, not both")
        if engine not in (None, "pyttsx3", "piper"):  # pyttsx3: the default, not asked for
            raise BadValueError("engine", engine, "a voice model is a Piper voice")
        engine, voice = "piper", str(options.voice_model)
    target_s = fit_target_s(options.fit)
    if target_s is not None and options.pace is not None:
        raise BadValueError("pace", str(options.pace), "give a pace or a length to fit, not both")
    pacing = chosen_pace(options.pace, defaults.pace if options.fit is None else None)
    session = load_for(str(script), options, defaults)
    if mono_if_same and not asked_channels and session.mix.ambience is None:
        channels = 1  # what `Rendering.dual_mono` says of it
    cue_set = load_cue_set(session.cues, script_path=session.path)
    choice = choose_speech(
        session, defaults, engine=engine, voice=voice, rate=options.rate_wpm,
        preset=pacing.asked, configured_preset=pacing.configured,
    )  # fmt: skip
    speech_engine = open_chosen(choice, session, defaults)
    with speech_engine:
        listener.tell(f"script: {session.path or script}")
        listener.tell(f"speech: {speech_engine.describe()}")
        speech = Speech(
            speech_engine, SpeechCache() if options.cache else None,
            condition=MixReady(speech_engine.level_db),
        )  # fmt: skip
        speaking = None if progressive else listener.stage("Speaking")
        session_pace = pacing.pace
        if target_s is not None:
            measured = render_session(
                session, speech=speech, cue_set=cue_set, sample_rate=sample_rate,
                progress=speaking,
            )  # fmt: skip
            with measured:
                session_pace = _fitted(session, measured, target_s, options.fit)
            listener.tell(f"fit: {describe_pace(session_pace)}")
        ahead = ahead and target_s is None
        rendering = render_session(
            session,
            speech=speech,
            cue_set=cue_set,
            sample_rate=sample_rate,
            channels=channels,
            pace=session_pace,
            progress=speaking,
            progressive=(progressive or ahead) and target_s is None,
            synthesize_ahead=ahead,
        )
        try:
            yield rendering
        finally:
            speech.stop()  # first: the clips' prefetching may be waiting on the engine
            rendering.close()
        on_synthesized(speech.synthesized_count)


def _first(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def _fitted(
    session: Session, measured: Rendering, target_s: float, fit: str | float | None
) -> Pace:
    """The pace at which ``session`` lasts ``target_s``, from the speech that ``measured`` (a
    rendering of it as written) has measured."""
    from loosen.errors import BadInputError
    from loosen.plan.fitting import Measures, fit_pace

    measures = Measures(
        sample_rate=measured.sample_rate,
        speech_frames=measured.clips.frames,
        cue_frames=lambda cue: int(measured.cue_samples(cue).size),
    )
    try:
        return fit_pace(session, session.pacing, target_s, measures)
    except BadValueError:
        raise
    except BadInputError as error:
        raise BadValueError("fit", str(fit), str(error)) from None


def synthesized_detail(count: int) -> str:
    """The detail line that says how many lines a rendering synthesized."""
    return f"speech: {count} line{'' if count == 1 else 's'} synthesized"


def describe_pace(pace: Pace) -> str:
    """How ``pace`` scales the silences, in words."""
    words = f"every silence scaled by {pace.factor:.3f}"
    if pace.announced_factor is not None:
        words += f", the holds a line announces by {pace.announced_factor:.3f}"
    return words + " (announced holds in whole seconds)"


def length_without_speaking(script: str | Path, engine: str | None = None) -> tuple[str, Length]:
    """A session's title and length (seconds), exact if all its speech is in the speech
    cache, else estimated from its text: nothing is synthesized. ``engine``: as in
    `SessionOptions`; the other settings are the config file's, else the script's."""
    from loosen.config import load_defaults
    from loosen.plan.estimate import session_length
    from loosen.plan.pace import Pace, resolve_pace
    from loosen.script.loading import load_session
    from loosen.session.choices import choose_speech, open_chosen
    from loosen.sound.cues import load_cue_set
    from loosen.tts import Speech, SpeechCache
    from loosen.tts.clips import MixReady

    defaults = load_defaults()
    session = load_session(str(script))
    preset = resolve_pace(defaults.pace) if defaults.pace is not None else None
    pace = Pace(preset.pace) if preset is not None else None
    choice = choose_speech(
        session, defaults, engine=engine, voice=None, rate=None, configured_preset=preset
    )
    cue_set = load_cue_set(session.cues, script_path=session.path)
    with open_chosen(choice, session, defaults) as speech_engine:
        speech = Speech(speech_engine, SpeechCache(), condition=MixReady(speech_engine.level_db))
        return session.title, session_length(session, speech=speech, cue_set=cue_set, pace=pace)
