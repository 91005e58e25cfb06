"""The player's answers: sounds unlike every cue and each other, and the step's name as said."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loosen.plan.timeline import StepSpan
from loosen.playback.answers import ANSWER_SOUNDS, answer_sound, step_words
from loosen.sound.cues import AmbienceRecipe, list_recipes, load_recipe, synthesize

RATE = 48_000
ALIKE = 0.5  # normalised cross-correlation at the best lag: 1.0 is the same sound


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    n = len(a) + len(b)
    correlation = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    return float(np.abs(correlation).max() / np.sqrt((a**2).sum() * (b**2).sum()))


def cue_sounds() -> dict[str, np.ndarray]:
    found = {}
    for name, path in list_recipes().items():
        recipe = load_recipe(path)
        if not name.startswith("answer-") and not isinstance(recipe, AmbienceRecipe):
            found[name] = synthesize(recipe, RATE)
    return found


@pytest.mark.parametrize("answer", ANSWER_SOUNDS)
def test_each_answer_sounds_unlike_every_cue_and_every_other_answer(answer: str) -> None:
    sound = answer_sound(answer, RATE)
    others = {**cue_sounds(), **{a: answer_sound(a, RATE) for a in ANSWER_SOUNDS if a != answer}}
    assert others
    for name, other in others.items():
        assert likeness(sound, other) < ALIKE, name


@pytest.mark.parametrize("answer", ANSWER_SOUNDS)
def test_an_answer_is_short_soft_and_ends_on_zero(answer: str) -> None:
    sound = answer_sound(answer, RATE)
    assert sound.dtype == np.float32 and sound.ndim == 1
    assert len(sound) <= RATE  # at most a second
    assert np.abs(sound).max() <= 10 ** (-18 / 20)  # under every cue's level
    assert sound[-1] == 0.0


def test_the_step_is_named_with_its_side_as_a_sentence() -> None:
    span = StepSpan(index=3, kind="stretch", name="hip flexor stretch", side="left", start=0, end=1)
    assert step_words(span) == "Hip flexor stretch, left side."
    assert step_words(StepSpan(1, "hold", None, None, 0, 1)) == "Hold."


def played_after(key: str, *, announce: bool) -> np.ndarray:
    """What the device gets in the 0.5 s after ``key``, a second into tiny.toml (its hold)."""
    from loosen.playback.actions import KeyActions
    from loosen.playback.transport import Transport
    from loosen.render.rendering import render_session
    from loosen.script.loading import load_session
    from loosen.sound.cues import load_cue_set
    from loosen.tts import Speech
    from tests.fakes import FakeEngine

    session = load_session(Path(__file__).parent.parent / "data" / "tiny.toml")
    with render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues)
    ) as rendering:
        hold = next(e for e in rendering.timeline.events if e.kind == "hold")
        transport = Transport(rendering, start_frame=hold.start + RATE)
        transport.start()
        try:
            assert transport.wait_ready(timeout_s=30.0)
            out = np.zeros((RATE // 10, rendering.channels), np.float32)
            transport.fill(out)
            KeyActions(rendering, transport, announce=announce).handle(key)
            heard = []
            for _ in range(5):
                transport.fill(out)
                heard.append(out.copy())
            return np.concatenate(heard)[:, 0]
        finally:
            transport.close()


def test_a_pause_is_answered_by_its_sound_and_with_no_announce_by_silence() -> None:
    answered = played_after("space", announce=True)
    assert likeness(answered, answer_sound("pause", RATE)) > 0.9
    silent = played_after("space", announce=False)
    assert np.abs(silent[RATE // 20 :]).max() == 0.0  # after the 20 ms fade, nothing
