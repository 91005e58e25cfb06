"""The in-memory espeak engine speaks like the pyttsx3 one, one clip per text, much faster."""

from __future__ import annotations

import numpy as np
import pytest

from loosen.errors import BadInputError
from loosen.tts import SpeechEngine, open_engine
from loosen.tts.pyttsx3_engine import Pyttsx3Engine

SHORT = "Rest."
LONG = "Slowly let the air flow out, and feel your shoulders sink a little lower."


def test_the_espeak_engine_follows_the_protocol_and_says_what_it_is() -> None:
    with open_engine("espeak") as engine:
        assert isinstance(engine, SpeechEngine)
        assert engine.voice == "en-us"
        assert engine.describe().startswith("espeak (espeak-ng 1.52")
        assert engine.describe().endswith("in memory), voice en-us, 150 wpm")
        assert any(voice.id == "en-us" for voice in engine.voices())


def test_each_text_gets_its_own_clip_in_order() -> None:
    texts = [LONG, SHORT, LONG, "", SHORT]
    with open_engine("espeak") as engine:
        results = list(engine.synthesize(texts))
    assert [text for text, _ in results] == texts
    frames = [clip.n_frames for _, clip in results]
    assert frames[1] < frames[0]
    assert frames[0] == pytest.approx(frames[2], rel=0.02)
    assert frames[3] == 0
    assert all(clip.sample_rate == 22050 for _, clip in results)
    assert all(clip.samples.dtype == np.float32 for _, clip in results)


def test_it_sounds_like_pyttsx3_with_the_same_voice_and_rate(real_engine: Pyttsx3Engine) -> None:
    with open_engine("espeak") as engine:
        [(_, direct)] = engine.synthesize([LONG])
    [(_, through_pyttsx3)] = real_engine.synthesize([LONG])
    assert direct.n_frames == pytest.approx(through_pyttsx3.n_frames, rel=0.02)


def test_rate_and_variant_are_applied_per_engine() -> None:
    with (
        open_engine("espeak", rate_wpm=100) as slow,
        open_engine("espeak", rate_wpm=300, voice="en-us+f3") as fast,
    ):
        [(_, slow_clip)] = slow.synthesize([LONG])
        [(_, fast_clip)] = fast.synthesize([LONG])
        [(_, slow_again)] = slow.synthesize([LONG])
    assert slow_clip.n_frames > 2 * fast_clip.n_frames
    assert slow_again.n_frames == pytest.approx(slow_clip.n_frames, rel=0.02)


def test_an_unknown_voice_is_refused_with_choices() -> None:
    with pytest.raises(BadInputError, match=r"unknown voice 'xx-yy' for engine espeak; available"):
        open_engine("espeak", voice="xx-yy")
