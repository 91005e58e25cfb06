"""What the player says and sounds in answer to a control, for a listener who cannot see the
screen: short, calm, at the voice's level, mixed into the stream without shifting the timeline.

- pause and resume: a soft glide of their own, down and up a fourth (``answer-pause``,
  ``answer-resume`` in ``audio_templates/``), unlike every cue;
- volume: a short tone, heard at the new volume (``answer-volume``);
- next and previous: the step's name, spoken before it starts (`step_words`);
- a step that waits for the listener: a faint reminder now and then (``answer-reminder``).
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from loosen.plan.chapters import step_name
from loosen.plan.timeline import StepSpan
from loosen.render.rendering import Rendering
from loosen.resources import bundled_dir
from loosen.sound.cues import AmbienceRecipe, load_recipe, synthesize

__all__ = ["ANSWER_SOUNDS", "answer_samples", "answer_sound", "spoken", "step_words"]

Audio = npt.NDArray[np.float32]

ANSWER_SOUNDS = ("pause", "resume", "volume", "reminder")


@functools.lru_cache(maxsize=16)
def answer_sound(name: str, sample_rate: int) -> Audio:
    """The sound that answers ``name`` (one of `ANSWER_SOUNDS`): float32, mono, shape (n,), at
    its recipe's level (full scale 1.0), ``sample_rate`` Hz. Not to be written to."""
    if name not in ANSWER_SOUNDS:
        raise ValueError(f"no answer sound {name!r}")
    recipe = load_recipe(bundled_dir("audio_templates") / f"answer-{name}.toml")
    if isinstance(recipe, AmbienceRecipe):
        raise TypeError(f"answer-{name} must be a sound, not an ambience")
    samples = synthesize(recipe, sample_rate)
    samples.setflags(write=False)
    return samples


def answer_samples(rendering: Rendering, name: str) -> Audio:
    """`answer_sound` ``name`` for ``rendering``: at its rate and its voice's level."""
    return answer_sound(name, rendering.sample_rate) * np.float32(rendering.voice_gain)


def spoken(rendering: Rendering, text: str) -> Audio:
    """``text`` as ``rendering``'s voice says it, at the voice's level (float32, mono)."""
    return rendering.clips.samples(text) * np.float32(rendering.voice_gain)


def step_words(span: StepSpan) -> str:
    """The step's name as the voice says it when a control moves there: "Hip flexor stretch,
    left side." (a step without a name: its kind's title, as chapters show it, "Tense and
    release.")."""
    name = step_name(span).strip().rstrip(".")
    name = name[:1].upper() + name[1:]
    return f"{name}, {span.side} side." if span.side else f"{name}."
