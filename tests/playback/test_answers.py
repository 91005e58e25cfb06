"""The player's answers: sounds unlike every cue and each other, and the step's name as said."""

from __future__ import annotations

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
