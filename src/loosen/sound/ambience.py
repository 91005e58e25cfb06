"""Ambience: a noise bed under the session, ducked under speech and faded with the session.

An ambience recipe (``kind = "ambience"`` in ``audio_templates/``, model in
``loosen.sound.recipes``) names a noise colour, a level and, for a moving texture such as surf, a
slow swell; the noise itself comes from `loosen.sound.noise.NoiseBed`. `AmbienceTrack` is the bed as
it sounds in a session: at the mix's level, dipped under speech (`duck_gain`) and faded in and out
(`ambience_fade_gain`). Both gains are closed-form functions of the frame, computed from the
timeline's speech events, which are known before their audio is needed; so, like the noise, the
ambience at a frame does not depend on where rendering started or on the block size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.sound.cues import list_recipes
from loosen.sound.noise import Frames, NoiseBed
from loosen.sound.recipes import AmbienceRecipe, load_recipe, read_toml

__all__ = [
    "DUCK_ATTACK_S",
    "DUCK_BRIDGE_S",
    "DUCK_RELEASE_S",
    "FADE_IN_S",
    "FADE_OUT_S",
    "AmbienceTrack",
    "ambience_fade_gain",
    "duck_gain",
    "list_ambiences",
    "load_ambience",
]

Gain: TypeAlias = npt.NDArray[np.float32]
"""A gain curve, linear: float32, shape ``(frames,)``."""
Span: TypeAlias = tuple[int, int]
"""Frames ``[start, end)`` of a speech event."""

DUCK_ATTACK_S = 0.15  # the dip is complete when the voice starts
DUCK_RELEASE_S = 0.6
DUCK_BRIDGE_S = 2.0  # stay ducked across shorter silences between lines: no pumping
FADE_IN_S = 3.0
FADE_OUT_S = 4.0


def list_ambiences() -> dict[str, Path]:
    """Return the ambience recipes by name (bundled and the user's), in name order.

    A recipe file that cannot be read is left out here; `load_ambience` reports it by name.
    """
    found = {}
    for name, path in list_recipes().items():
        try:
            kind = read_toml(path).get("kind")
        except ScriptError:
            continue
        if kind == "ambience":
            found[name] = path
    return found


def load_ambience(name: str, *, where: str | None = None) -> AmbienceRecipe:
    """Load the ambience recipe called ``name``.

    Parameters
    ----------
    name
        A recipe name from ``audio_templates`` (bundled or the user's), e.g. ``"surf"``.
    where
        Where the name was given (e.g. ``"mix.ambience"``), named in errors.

    Raises
    ------
    ScriptError
        For an unknown name or a cue recipe (listing the ambiences), or a malformed recipe file
        (naming that file and key).
    """
    recipes = list_recipes()
    if name in recipes:
        recipe = load_recipe(recipes[name])
        if isinstance(recipe, AmbienceRecipe):
            return recipe
        problem = f"recipe {name!r} is a cue sound, not an ambience"
    else:
        problem = f"unknown ambience {name!r}"
    available = ", ".join(list_ambiences()) or "none"
    raise ScriptError(f"{problem} (ambiences: {available})", where=where)


def duck_gain(
    start_frame: int,
    frames: int,
    speech: Sequence[Span],
    sample_rate: int,
    depth_db: float,
) -> Gain:
    """Return the ducking gain over ``[start_frame, start_frame + frames)``.

    The gain falls by ``depth_db`` over `DUCK_ATTACK_S` before each speech span (so the dip is
    complete when the voice starts), stays down through the span and through silences shorter
    than `DUCK_BRIDGE_S` to the next one, and comes back over `DUCK_RELEASE_S`; the ramps are
    raised cosines in dB.

    Parameters
    ----------
    speech
        Speech spans ``(start, end)`` in frames, sorted, not overlapping. For the result not to
        depend on the block, it must hold every span within `DUCK_BRIDGE_S` plus the ramps of
        the block (see `AmbienceTrack.lookahead_frames`).

    Returns
    -------
    Gain
        float32, shape ``(frames,)``, from ``10 ** (-depth_db / 20)`` to 1.
    """
    attack = max(1, round(DUCK_ATTACK_S * sample_rate))
    release = max(1, round(DUCK_RELEASE_S * sample_rate))
    bridge = round(DUCK_BRIDGE_S * sample_rate)
    merged: list[list[int]] = []
    for start, end in speech:
        if merged and start - merged[-1][1] < bridge:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    end_frame = start_frame + frames
    merged = [m for m in merged if m[0] - attack < end_frame and m[1] + release > start_frame]
    if not merged:
        return np.ones(frames, np.float32)
    depth = np.zeros(frames)
    for start, end in merged:
        lo, hi = max(start_frame, start - attack), min(end_frame, end + release)
        held_lo, held_hi = max(lo, start), min(hi, end)
        if held_hi > held_lo:
            depth[held_lo - start_frame : held_hi - start_frame] = 1.0
        for r0, r1 in ((lo, min(hi, start)), (max(lo, end), hi)):  # the ramps, if in the block
            if r1 > r0:
                f = np.arange(r0, r1, dtype=np.float64)
                rise, fall = (f - (start - attack)) / attack, (end + release - f) / release
                x = np.clip(np.minimum(rise, fall), 0.0, 1.0)
                part = depth[r0 - start_frame : r1 - start_frame]
                np.maximum(part, 0.5 - 0.5 * np.cos(np.pi * x), out=part)
    return np.exp(depth * (-depth_db * math.log(10.0) / 20.0)).astype(np.float32)


def ambience_fade_gain(
    start_frame: int, frames: int, sample_rate: int, fade_out: Span | None
) -> Gain | None:
    """The ambience's own fades: in over the first `FADE_IN_S`, out over ``fade_out``.

    Returns None where neither fade reaches ``[start_frame, start_frame + frames)``, else a
    float32 gain of shape ``(frames,)``; the ramps are raised cosines.
    """
    fade_in = round(FADE_IN_S * sample_rate)
    touches_out = fade_out is not None and start_frame + frames > fade_out[0]
    if start_frame >= fade_in and not touches_out:
        return None
    f = np.arange(start_frame, start_frame + frames, dtype=np.float64)
    gain = 0.5 - 0.5 * np.cos(np.pi * np.clip(f / fade_in, 0.0, 1.0))
    if fade_out is not None and touches_out:
        out_start, total = fade_out
        x = np.clip((f - out_start) / max(1, total - out_start), 0.0, 1.0)
        gain *= 0.5 + 0.5 * np.cos(np.pi * x)
    return gain.astype(np.float32)


class AmbienceTrack:
    """The ambience as it sounds in a session: the bed at its level, ducked and faded.

    Parameters
    ----------
    recipe
        The ambience.
    sample_rate
        Output rate in Hz.
    channels
        Channels of the output; a mono output gets the two channels of a stereo bed summed
        at equal power, ``(left + right) / sqrt(2)``, which keeps the level.
    level_db
        Gain in dB relative to the recipe's ``gain_db`` (the mix's ``ambience_db``).
    """

    def __init__(self, recipe: AmbienceRecipe, sample_rate: int, channels: int, level_db: float):
        self.recipe = recipe
        self.sample_rate = sample_rate
        self.channels = channels
        self.bed = NoiseBed(recipe, sample_rate, max(2, channels))
        self._gain = float(10.0 ** (level_db / 20.0))
        if channels == 1:
            self._gain /= math.sqrt(2.0)

    @property
    def lookahead_frames(self) -> int:
        """How far past a block the speech must be known to duck the block."""
        return round((DUCK_ATTACK_S + DUCK_BRIDGE_S) * self.sample_rate) + 1

    @property
    def lookbehind_frames(self) -> int:
        """How far before a block a speech span can end and still duck the block."""
        return round((DUCK_RELEASE_S + DUCK_BRIDGE_S) * self.sample_rate) + 1

    def fade_out_span(self, total_frames: int, steps_end: int) -> Span:
        """The fade-out: the last `FADE_OUT_S` of the session, but never before ``steps_end``
        (the end of the last step), which is only known once the whole timeline is."""
        return (max(total_frames - round(FADE_OUT_S * self.sample_rate), steps_end), total_frames)

    def block(
        self, start_frame: int, frames: int, speech: Sequence[Span], fade_out: Span | None
    ) -> Frames:
        """Return the ambience over ``[start_frame, start_frame + frames)``.

        Parameters
        ----------
        speech
            The speech spans from `lookbehind_frames` before to `lookahead_frames` after the
            block (sorted, not overlapping).
        fade_out
            `fade_out_span`, or None while the session's end is not known yet.

        Returns
        -------
        Frames
            float32, shape ``(frames, channels)``.
        """
        bed = self.bed.render(start_frame, frames)
        gain = duck_gain(start_frame, frames, speech, self.sample_rate, self.recipe.duck_db)
        fades = ambience_fade_gain(start_frame, frames, self.sample_rate, fade_out)
        if fades is not None:
            gain *= fades
        gain *= self._gain
        if self.channels == 1:
            bed = bed.sum(axis=1, keepdims=True, dtype=np.float32)
        out: Frames = bed[:, : self.channels] * gain[:, None]
        return out
