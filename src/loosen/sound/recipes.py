"""Sound recipes: what a recipe is, and how its TOML file is checked and loaded.

A recipe is a small TOML file, bundled in ``audio_templates/`` or in the user's sounds folder
(format in ``audio_templates/README.md``), that describes a cue sound (a bell or bowl, a tick
or a tone) or an ambience (a noise bed under the whole session). ``parse_recipe`` checks every
key (type, range, presence) and fills in the defaults, so any cue recipe that loads can be
synthesized by ``loosen.sound.cues`` and any ambience by ``loosen.sound.ambience``. Errors are
ScriptErrors naming the file and the key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeAlias

from loosen.errors import ScriptError, shown
from loosen.script.limits import MAX_RECIPE_BYTES
from loosen.script.toml_input import read_toml_file

__all__ = [
    "NOISE_COLOURS",
    "AmbienceRecipe",
    "AnyRecipe",
    "BellRecipe",
    "Partial",
    "Recipe",
    "TickRecipe",
    "ToneRecipe",
    "load_recipe",
    "parse_recipe",
    "read_toml",
    "toml_type",
]

_PARTIAL_HZ_RANGE = (20.0, 18000.0)
_DEFAULT_ATTACK_MS = {"bell": 3.0, "tick": 0.5, "tone": 30.0}
_REQUIRED: Any = object()


def _key(low: float, high: float, default: Any = _REQUIRED, type_: str = "float") -> Any:
    """Declare a recipe key: its TOML type, inclusive range and default (None: computed later).

    For ``type_="floats"`` the range bounds each entry; for ``"tables"`` the number of tables.
    """
    return field(metadata={"spec": (type_, low, high, default)})


@dataclass(frozen=True)
class Partial:
    """A sine at ``fundamental_hz * ratio``, ``gain_db`` relative, 60 dB down after ``decay_s``;
    ``detune_hz`` adds a second sine that far above, so the pair beats slowly (a bowl)."""

    ratio: float = _key(0.25, 20.0)
    gain_db: float = _key(-60.0, 0.0, 0.0)
    decay_s: float = _key(0.01, 60.0)
    detune_hz: float = _key(0.0, 20.0, 0.0)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """Keys of every recipe. ``gain_db`` is the peak level in dBFS after normalisation,
    ``attack_ms`` the rise from silence, ``fade_ms`` the fade of the tail to exact zero."""

    name: str
    path: Path | None
    description: str = _key(0, 0, "", "str")
    duration_s: float = _key(0.02, 30.0)
    gain_db: float = _key(-40.0, -1.0)
    attack_ms: float = _key(0.1, 50.0, None)
    fade_ms: float = _key(1.0, 30000.0, None)


@dataclass(frozen=True, kw_only=True)
class BellRecipe(Recipe):
    """``kind = "bell"``: additive bell or singing bowl of inharmonic, decaying partials."""

    fundamental_hz: float = _key(40.0, 4000.0)
    partials: tuple[Partial, ...] = _key(1, 16, _REQUIRED, "tables")


@dataclass(frozen=True, kw_only=True)
class TickRecipe(Recipe):
    """``kind = "tick"``: a seeded noise burst of ``noise_ms`` ringing in a resonator."""

    centre_hz: float = _key(100.0, 8000.0)
    q: float = _key(0.5, 50.0)
    noise_ms: float = _key(0.1, 20.0, 3.0)
    seed: int = _key(0, 2**32 - 1, 0, "int")


@dataclass(frozen=True, kw_only=True)
class ToneRecipe(Recipe):
    """``kind = "tone"``: a soft tone gliding from ``start_hz`` to ``end_hz``;
    ``harmonics_db`` gives the levels of harmonics 2, 3, ... (at most 8)."""

    start_hz: float = _key(40.0, 4000.0)
    end_hz: float = _key(40.0, 4000.0)
    harmonics_db: tuple[float, ...] = _key(-60.0, 0.0, (), "floats")


NOISE_COLOURS = ("brown", "pink")


@dataclass(frozen=True, kw_only=True)
class AmbienceRecipe:
    """``kind = "ambience"``: an endless, seeded noise bed under the session.

    ``noise`` is the colour (power falling 6 dB per octave for ``"brown"``, 3 dB for
    ``"pink"``) between a ``highpass_hz`` and a ``lowpass_hz`` corner; ``gain_db`` is its RMS
    level in dBFS (at the crest of a swell, for a swelling texture), and ``duck_db`` how far it
    dips under speech. With ``swell_s`` the bed rises and falls in slow, uneven waves of about
    that period, ``swell_db`` deep, its lowpass opening up to ``bright_hz`` at each crest (surf).
    """

    name: str
    path: Path | None
    description: str = _key(0, 0, "", "str")
    noise: str = _key(0, 0, _REQUIRED, "str")
    gain_db: float = _key(-60.0, -12.0)
    seed: int = _key(0, 2**32 - 1, 0, "int")
    highpass_hz: float = _key(10.0, 1000.0, 30.0)
    lowpass_hz: float = _key(200.0, 20000.0, 16000.0)
    duck_db: float = _key(0.0, 30.0, 10.0)
    swell_s: float | None = _key(2.0, 120.0, None)
    swell_db: float = _key(0.0, 30.0, 0.0)
    bright_hz: float | None = _key(200.0, 20000.0, None)


AnyRecipe: TypeAlias = Recipe | AmbienceRecipe
"""What a recipe file holds: a cue sound or an ambience."""

_RECIPE_KINDS: dict[str, type[Recipe]] = {
    "bell": BellRecipe,
    "tick": TickRecipe,
    "tone": ToneRecipe,
}
_KIND_NAMES = (*_RECIPE_KINDS, "ambience")


def toml_type(value: object) -> str:
    """Name the TOML type of ``value`` for a message, e.g. ``"an integer"``."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    return (names | {list: "an array", dict: "a table"}).get(type(value), "a date or time")


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    # an integer of 400 digits is a number (that no range holds); math.isfinite cannot take it
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


_TYPE_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", _is_number),
    "floats": ("an array of numbers", lambda v: isinstance(v, list) and all(map(_is_number, v))),
    "tables": (
        "an array of tables",
        lambda v: isinstance(v, list) and all(type(t) is dict for t in v),
    ),
}


def _check(table: Mapping[str, Any], cls: type, path: Path | None, where: str) -> dict[str, Any]:
    """Return the keys of ``cls`` read from ``table``, defaults filled in (None: not given).

    Raises ScriptError naming ``path`` and the key for an unknown, missing, mistyped or
    out-of-range key.
    """
    specs = {f.name: f.metadata["spec"] for f in fields(cls) if "spec" in f.metadata}

    def fail(key: str, message: str) -> ScriptError:
        return ScriptError(message, path=path, where=f"{where}key {shown(key)}")

    for key in table:
        if key not in specs:
            raise fail(key, f"unknown key (known keys: {', '.join(specs)})")
    values: dict[str, Any] = {}
    for key, (type_, low, high, default) in specs.items():
        value = table.get(key, default)
        if key not in table:
            if value is _REQUIRED:
                raise fail(key, "missing required key")
        elif not _TYPE_CHECKS[type_][1](value):
            raise fail(key, f"must be {_TYPE_CHECKS[type_][0]}, not {toml_type(value)}")
        elif type_ == "tables" and not low <= len(value) <= high:
            raise fail(key, f"must have {low:g} to {high:g} entries, not {len(value)}")
        elif type_ == "floats" and (len(value) > 8 or not all(low <= x <= high for x in value)):
            raise fail(key, f"must have at most 8 entries, each between {low:g} and {high:g}")
        elif type_ in ("int", "float") and not low <= value <= high:
            raise fail(key, f"must be between {low:g} and {high:g}, not {shown(value)}")
        if type_ == "tables":
            value = tuple(
                Partial(**_check(t, Partial, path, f"partial {i}, "))
                for i, t in enumerate(value, 1)
            )
        elif type_ == "floats":
            value = tuple(float(x) for x in value)
        elif type_ == "float" and value is not None:
            value = float(value)
        values[key] = value
    return values


def _parse_ambience(table: Mapping[str, Any], name: str, path: Path | None) -> AmbienceRecipe:
    values = _check(table, AmbienceRecipe, path, "")

    def fail(key: str, message: str) -> ScriptError:
        return ScriptError(message, path=path, where=f"key '{key}'")

    if values["noise"] not in NOISE_COLOURS:
        message = (
            f"must be one of {', '.join(map(repr, NOISE_COLOURS))}, not {shown(values['noise'])}"
        )
        raise fail("noise", message)
    if values["highpass_hz"] * 2 > values["lowpass_hz"]:
        raise fail("lowpass_hz", "must be at least an octave above highpass_hz")
    if values["swell_s"] is None:
        for key in ("swell_db", "bright_hz"):
            if key in table:
                raise fail(key, "needs swell_s (the period of the swell)")
    elif values["bright_hz"] is not None and values["bright_hz"] < values["lowpass_hz"]:
        raise fail("bright_hz", "must be at least lowpass_hz (the crest is the brighter)")
    return AmbienceRecipe(name=name, path=path, **values)


def parse_recipe(table: Mapping[str, Any], *, name: str, path: Path | None = None) -> AnyRecipe:
    """Validate a recipe table (as read from TOML) and return the recipe called ``name``.

    Returns
    -------
    Recipe or AmbienceRecipe
        A cue sound (``kind`` bell, tick or tone) or an ambience (``kind = "ambience"``).

    Raises
    ------
    ScriptError
        Naming ``path`` and the offending key: unknown key, wrong type, value out of range,
        missing required key.
    """
    kind = table.get("kind")
    if kind not in _KIND_NAMES:
        message = f"must be one of {', '.join(map(repr, _KIND_NAMES))}, not {shown(kind)}"
        raise ScriptError(message, path=path, where="key 'kind'")
    if kind == "ambience":
        return _parse_ambience({k: v for k, v in table.items() if k != "kind"}, name, path)
    cls = _RECIPE_KINDS[kind]
    values = _check({k: v for k, v in table.items() if k != "kind"}, cls, path, "")
    duration_ms = values["duration_s"] * 1000.0
    if values["attack_ms"] is None:
        values["attack_ms"] = min(_DEFAULT_ATTACK_MS[kind], 0.25 * duration_ms)
    if values["fade_ms"] is None:
        values["fade_ms"] = max(1.0, 0.25 * duration_ms)
    if values["attack_ms"] + values["fade_ms"] > duration_ms:
        message = f"attack_ms + fade_ms exceeds duration_s ({duration_ms:g} ms)"
        raise ScriptError(message, path=path, where="key 'fade_ms'")
    for number, partial in enumerate(values.get("partials", ()), start=1):
        freq_hz = values["fundamental_hz"] * partial.ratio
        low_hz, high_hz = _PARTIAL_HZ_RANGE
        if not low_hz <= freq_hz <= high_hz - partial.detune_hz:
            message = f"puts the partial at {freq_hz:g} Hz, outside {low_hz:g}-{high_hz:g} Hz"
            raise ScriptError(message, path=path, where=f"partial {number}, key 'ratio'")
    return cls(name=name, path=path, **values)


def read_toml(path: Path) -> dict[str, Any]:
    """Read the recipe file ``path`` (TOML, at most `MAX_RECIPE_BYTES`) with the protections
    a script has (`loosen.script.toml_input`: a regular file, a scan before parsing, a depth check).

    Raises
    ------
    ScriptError
        Naming ``path`` (and the place in it) if it cannot be read, is too large, is not UTF-8
        text or is not valid TOML.
    """
    return read_toml_file(path, MAX_RECIPE_BYTES, "a sound recipe")


def load_recipe(path: Path) -> AnyRecipe:
    """Read and validate the recipe file ``path``; the recipe's name is the file's stem."""
    return parse_recipe(read_toml(path), name=path.stem, path=path)
