"""Cue sounds: bells, bowls, ticks and tones synthesized from recipes in ``audio_templates/``.

A recipe is a small TOML file (format in ``audio_templates/README.md``; model, checks and loading
in ``loosen.sound.recipes``); ``cues.toml`` there maps each cue kind to a recipe, and a script's
``[cues]`` table may swap in another recipe or a sound file. Synthesis is pure numpy and
deterministic (noise is seeded). Every cue sounds from sample 0 and ends on an exact zero.
The breath guide's tones (`breath_tone`) are tone recipes stretched over a breath; ambience
recipes live in the same folder but are rendered by ``loosen.sound.ambience``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import platformdirs

from loosen.errors import ScriptError, shown
from loosen.resources import bundled_dir
from loosen.sound.cue_files import SoundFile, render_sound_file, sound_file
from loosen.sound.recipes import (
    AmbienceRecipe,
    AnyRecipe,
    BellRecipe,
    Partial,
    Recipe,
    TickRecipe,
    ToneRecipe,
    load_recipe,
    parse_recipe,
    read_toml,
    toml_type,
)

__all__ = [
    "BREATH_TONE_PEAK_DBFS",
    "CUE_KINDS",
    "DEFAULT_SAMPLE_RATE",
    "AmbienceRecipe",
    "AnyRecipe",
    "Audio",
    "BellRecipe",
    "CueSet",
    "CueSource",
    "Partial",
    "Recipe",
    "SoundFile",
    "TickRecipe",
    "ToneRecipe",
    "breath_tone",
    "default_cue_recipes",
    "list_recipes",
    "load_cue_set",
    "load_recipe",
    "parse_recipe",
    "render_cue",
    "synthesize",
    "user_sounds_dir",
]

Audio: TypeAlias = npt.NDArray[np.float32]
"""Mono audio: float32 samples in [-1, 1], shape ``(n,)``."""
_Samples: TypeAlias = npt.NDArray[np.float64]  # working precision during synthesis

CUE_KINDS: tuple[str, ...] = (
    "hold_start",
    "hold_end",
    "switch_sides",
    "halfway",
    "countdown",
    "rep",
    "session_end",
    "inhale",
    "exhale",
)
DEFAULT_SAMPLE_RATE = 48000
SOUNDS_DIR_ENV = "LOOSEN_SOUNDS_DIR"
_RATE_RANGE = (8000, 384000)
# A partial this close to Nyquist would alias into a harsh low tone, so it is left out.
_NYQUIST_FRACTION = 0.45
_LN_1000 = math.log(1000.0)  # exp(-t * ln(1000) / decay_s) is 60 dB down at t = decay_s
_BLOCK = 512  # frames per block of a damped sine (see `_damped_sine`)
_AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3")

BREATH_TONE_PEAK_DBFS = -24.0  # a soft bed, well under the voice (speech peaks at -3 dBFS)
# The breath guide glides a fifth, A3 up to E4 breathing in, and back down breathing out: low
# and narrow enough to sit under a spoken cue without competing with it.
_BREATH_LOW_HZ, _BREATH_HIGH_HZ = 220.0, 329.63
_BREATH_TONES = {  # durations, attack and fade are the breath's: see breath_tone
    phase: ToneRecipe(
        name=f"breath-{phase}",
        path=None,
        description=f"Soft tone through the {phase}.",
        start_hz=start_hz,
        end_hz=end_hz,
        harmonics_db=(-20.0, -32.0),
        duration_s=1.0,
        gain_db=BREATH_TONE_PEAK_DBFS,
        attack_ms=300.0,
        fade_ms=400.0,
    )
    for phase, start_hz, end_hz in (
        ("inhale", _BREATH_LOW_HZ, _BREATH_HIGH_HZ),
        ("exhale", _BREATH_HIGH_HZ, _BREATH_LOW_HZ),
    )
}
_BREATH_ATTACK_FRACTION, _BREATH_FADE_FRACTION = 0.3, 0.4
_BREATH_ATTACK_MAX_S, _BREATH_FADE_MAX_S = 1.2, 2.0


CueSource: TypeAlias = Recipe | SoundFile


@dataclass(frozen=True)
class CueSet:
    """The sound of every cue kind; rendered cues are cached per ``(cue, sample_rate)``."""

    sources: Mapping[str, CueSource]
    _cache: dict[tuple[str, int], Audio] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rendered_cues(self) -> set[str]:
        """The cue kinds rendered so far, at any rate: a cue is rendered when it is first due."""
        return {cue for cue, _ in list(self._cache)}


def user_sounds_dir() -> Path:
    """Return the folder of the user's own recipes: ``$LOOSEN_SOUNDS_DIR`` or the config folder."""
    override = os.environ.get(SOUNDS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("loosen")) / "audio_templates"


def list_recipes() -> dict[str, Path]:
    """Return every recipe file by name, bundled and the user's; a user's shadows a bundled one."""
    found: dict[str, Path] = {}
    for folder in (bundled_dir("audio_templates"), user_sounds_dir()):
        if folder.is_dir():
            for path in folder.glob("*.toml"):
                if path.stem != "cues" and path.is_file():
                    found[path.stem] = path
    return dict(sorted(found.items()))


def _cue_recipe(path: Path, script_path: Path | None, where: str) -> Recipe:
    """Load the recipe file ``path`` for a cue: an ambience recipe is refused."""
    recipe = load_recipe(path)
    if isinstance(recipe, AmbienceRecipe):
        message = f"recipe {recipe.name!r} is an ambience, not a cue sound"
        raise ScriptError(message, path=script_path, where=where)
    return recipe


def default_cue_recipes(recipes: Mapping[str, Path] | None = None) -> dict[str, str]:
    """The recipe's name that sounds each cue kind by default (``audio_templates/cues.toml``),
    in the order of `CUE_KINDS`; each is one of ``recipes`` (default: `list_recipes`)."""
    recipes = list_recipes() if recipes is None else recipes
    path = bundled_dir("audio_templates") / "cues.toml"
    table = read_toml(path)
    for kind, name in table.items():
        if kind not in CUE_KINDS or not isinstance(name, str) or name not in recipes:
            raise ScriptError(
                f"unknown cue kind or recipe {shown(name)}", path=path, where=f"key {shown(kind)}"
            )
    missing = [kind for kind in CUE_KINDS if kind not in table]
    if missing:
        raise ScriptError(f"no recipe for cue kinds {', '.join(missing)}", path=path)
    return {kind: table[kind] for kind in CUE_KINDS}


def _default_sources(recipes: Mapping[str, Path]) -> dict[str, CueSource]:
    path = bundled_dir("audio_templates") / "cues.toml"
    names = default_cue_recipes(recipes)
    return {kind: _cue_recipe(recipes[names[kind]], path, f"key {kind!r}") for kind in CUE_KINDS}


def load_cue_set(
    overrides: Mapping[str, str] | None = None,
    *,
    base_dir: Path | None = None,
    script_path: Path | None = None,
) -> CueSet:
    """Return the default cue set (``audio_templates/cues.toml``) with a script's overrides.

    Parameters
    ----------
    overrides
        A script's ``[cues]`` table: cue kind -> recipe name, or path of a sound file (``.wav``,
        ``.flac``, ...), relative to ``base_dir``. A sound file plays at the level of the cue's
        default recipe.
    base_dir
        Folder that relative sound paths start from; default: the script's folder, else the cwd.
    script_path
        The script the overrides come from, named in errors.

    Raises
    ------
    ScriptError
        For an unknown cue kind or recipe (``where="cues.<kind>"``, listing what exists), an
        ambience recipe, an unusable sound file, or a malformed recipe file (naming that file
        and key).
    """
    recipes = list_recipes()
    sources = _default_sources(recipes)
    if base_dir is None:
        base_dir = script_path.parent if script_path is not None else Path.cwd()
    for kind, value in (overrides or {}).items():
        where = f"cues.{kind}"
        if kind not in CUE_KINDS:
            message = f"unknown cue kind {kind!r} (cue kinds: {', '.join(CUE_KINDS)})"
            raise ScriptError(message, path=script_path, where=where)
        if not isinstance(value, str) or not value.strip():
            message = f"must be a recipe name or a sound file path, not {toml_type(value)}"
            raise ScriptError(message, path=script_path, where=where)
        if "/" in value or "\\" in value or value.lower().endswith(_AUDIO_SUFFIXES):
            sources[kind] = sound_file(base_dir / value, sources[kind].gain_db, script_path, where)
        elif value in recipes:
            sources[kind] = _cue_recipe(recipes[value], script_path, where)
        else:
            message = f"unknown recipe {value!r} (recipes: {', '.join(recipes)}; or a .wav path)"
            raise ScriptError(message, path=script_path, where=where)
    return CueSet(sources=sources)


def _envelope(n: int, attack_n: int, fade_n: int) -> _Samples:
    """Quarter-sine attack from 0 (steep at first, so the sound starts at once, yet no click)
    and raised-cosine fade to exactly 0."""
    envelope = np.ones(n)
    attack_n = max(1, min(attack_n, n // 2))
    envelope[:attack_n] = np.sin(0.5 * np.pi * np.arange(attack_n) / attack_n)
    fade_n = max(2, min(fade_n, n))
    envelope[n - fade_n :] *= 0.5 * (1.0 + np.cos(np.pi * np.arange(fade_n) / (fade_n - 1)))
    envelope[-1] = 0.0
    return envelope


def _normalise(samples: _Samples, gain_db: float) -> Audio:
    scale = 10.0 ** (gain_db / 20.0) / float(np.max(np.abs(samples)))
    audio = np.asarray(samples * scale, dtype=np.float32)
    audio[-1] = 0.0  # the envelope ends on 0; this also turns -0.0 into 0.0
    return audio


def _bell(recipe: BellRecipe, n: int, sample_rate: int, limit_hz: float) -> _Samples:
    samples = np.zeros(n)
    for p in recipe.partials:
        freq_hz = recipe.fundamental_hz * p.ratio
        if freq_hz + p.detune_hz >= limit_hz:
            continue
        gain = 10.0 ** (p.gain_db / 20.0)
        if p.detune_hz > 0:  # a split mode: two close sines beat at detune_hz, as in a bowl
            samples += _damped_sine(0.5 * gain, freq_hz + p.detune_hz, p.decay_s, n, sample_rate)
            gain *= 0.5
        samples += _damped_sine(gain, freq_hz, p.decay_s, n, sample_rate)
    return samples


def _damped_sine(gain: float, freq_hz: float, decay_s: float, n: int, sample_rate: int) -> _Samples:
    """``gain * exp(-ln(1000) t / decay_s) * sin(2 pi freq_hz t)`` at ``t = arange(n) / rate``.

    The imaginary part of exp(s t), s = -ln(1000) / decay_s + 2 pi i freq_hz, worked out as the
    products of exp(s t) over one block of `_BLOCK` frames and at the blocks' starts: two short
    runs of exp instead of a sine and an exponential over every frame, 5 times quicker.
    """
    rate = complex(-_LN_1000 / decay_s, 2.0 * np.pi * freq_hz) / sample_rate  # per frame
    within = np.exp(rate * np.arange(_BLOCK))
    starts = np.exp(rate * _BLOCK * np.arange(-(-n // _BLOCK)))
    return np.asarray(gain * (starts[:, None] * within[None, :]).imag.ravel()[:n], np.float64)


def _tick(recipe: TickRecipe, n: int, sample_rate: int) -> _Samples:
    rng = np.random.default_rng(recipe.seed)
    burst_n = max(1, round(recipe.noise_ms * sample_rate / 1000.0))
    burst = rng.standard_normal(burst_n) * np.linspace(1.0, 0.0, burst_n, endpoint=False)
    k = np.arange(n)
    # Impulse response of a two-pole resonator: a sine decaying as fast as its bandwidth says.
    ring = np.exp(-np.pi * (recipe.centre_hz / recipe.q) * k / sample_rate)
    ring *= np.sin(2 * np.pi * recipe.centre_hz * k / sample_rate)
    return np.asarray(np.convolve(burst, ring)[:n], dtype=np.float64)


def _tone(recipe: ToneRecipe, t_s: _Samples, sample_rate: int) -> _Samples:
    freq_hz = recipe.start_hz * (recipe.end_hz / recipe.start_hz) ** (t_s / recipe.duration_s)
    phase = 2 * np.pi * (np.cumsum(freq_hz) - freq_hz[0]) / sample_rate
    samples = np.sin(phase)
    top_hz = max(recipe.start_hz, recipe.end_hz)
    for harmonic, gain_db in enumerate(recipe.harmonics_db, start=2):
        if harmonic * top_hz < _NYQUIST_FRACTION * sample_rate:
            samples += 10.0 ** (gain_db / 20.0) * np.sin(harmonic * phase)
    return np.asarray(samples, dtype=np.float64)


def synthesize(recipe: Recipe, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Audio:
    """Render ``recipe`` as float32 mono samples, shape ``(round(duration_s * sample_rate),)``.

    The sound starts at sample 0, peaks at ``gain_db`` dBFS and ends on an exact zero.

    Raises
    ------
    ScriptError
        If nothing of the recipe lies far enough below Nyquist to play at ``sample_rate``.
    """
    n = round(recipe.duration_s * sample_rate)
    t_s = np.arange(n) / sample_rate
    limit_hz = _NYQUIST_FRACTION * sample_rate
    if isinstance(recipe, BellRecipe):
        raw = _bell(recipe, n, sample_rate, limit_hz)
    elif isinstance(recipe, ToneRecipe):
        raw = _tone(recipe, t_s, sample_rate)
    elif isinstance(recipe, TickRecipe) and recipe.centre_hz < limit_hz:
        raw = _tick(recipe, n, sample_rate)
    else:
        raw = np.zeros(n)
    attack_n = round(recipe.attack_ms * sample_rate / 1000.0)
    samples = raw * _envelope(n, attack_n, round(recipe.fade_ms * sample_rate / 1000.0))
    if not np.any(samples):
        message = f"has nothing below {limit_hz:g} Hz to play at {sample_rate} Hz"
        raise ScriptError(message, path=recipe.path or recipe.name)
    return _normalise(samples, recipe.gain_db)


def render_cue(cue: str, cue_set: CueSet, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Audio:
    """Return the sound of cue kind ``cue`` at ``sample_rate`` Hz.

    Returns
    -------
    Audio
        float32 mono samples, shape ``(n,)``, read-only (cached in ``cue_set``): sounding from
        sample 0, peak at the source's ``gain_db`` dBFS, last sample exactly 0.

    Raises
    ------
    ValueError
        For a cue kind not in the set or a sample rate outside 8000-384000 Hz.
    ScriptError
        If a user's sound file cannot be read any more, or is silent.
    """
    if cue not in cue_set.sources:
        raise ValueError(f"unknown cue kind {cue!r} (cue kinds: {', '.join(cue_set.sources)})")
    low, high = _RATE_RANGE
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool):
        raise ValueError(f"sample_rate must be an integer, not {sample_rate!r}")
    if not low <= sample_rate <= high:
        raise ValueError(f"sample_rate must be {low}-{high} Hz, not {sample_rate}")
    audio = cue_set._cache.get((cue, sample_rate))
    if audio is None:
        source = cue_set.sources[cue]
        if isinstance(source, SoundFile):
            audio = render_sound_file(source, sample_rate)
        else:
            audio = synthesize(source, sample_rate)
        audio.setflags(write=False)
        cue_set._cache[(cue, sample_rate)] = audio
    return audio


def breath_tone(phase: str, frames: int, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Audio:
    """Return the breath guide's tone for one breath: rising for ``"inhale"``, falling for
    ``"exhale"``, lasting exactly ``frames``.

    A tone recipe (`synthesize`) stretched over the breath, with a slow attack and release
    (30 % and 40 % of the breath, at most 1.2 s and 2 s), peaking at `BREATH_TONE_PEAK_DBFS`.

    Returns
    -------
    Audio
        float32 mono samples, shape ``(frames,)``, last sample exactly 0; silence for a breath
        shorter than 10 ms.

    Raises
    ------
    ValueError
        For a phase other than ``"inhale"`` or ``"exhale"``.
    """
    if phase not in _BREATH_TONES:
        raise ValueError(f"no breath tone for phase {phase!r} (phases: inhale, exhale)")
    if frames < sample_rate // 100:
        return np.zeros(max(frames, 0), np.float32)
    duration_s = frames / sample_rate
    recipe = replace(
        _BREATH_TONES[phase],
        duration_s=duration_s,
        attack_ms=1000.0 * min(_BREATH_ATTACK_MAX_S, _BREATH_ATTACK_FRACTION * duration_s),
        fade_ms=1000.0 * min(_BREATH_FADE_MAX_S, _BREATH_FADE_FRACTION * duration_s),
    )
    return synthesize(recipe, sample_rate)
