"""The user's defaults: a small TOML file in the user config folder (`loosen config` shows it).

    engine = "pyttsx3"     # pyttsx3, espeak or piper
    voice = "en-gb"        # a voice id, as `loosen voices` lists them
    rate_wpm = 140         # words per minute, 80 to 450
    pace = "gentle"        # a factor such as 1.2, or a preset: gentle, standard, brisk
    ambience = "surf"      # brown-noise, pink-noise, surf, or "none"
    loudness = -16         # LUFS, or "off"
    sample_rate = 44100    # Hz, 8000 to 192000
    channels = 1           # 1 or 2

Every key is optional. Command-line options beat the file, and the file beats a script (see
the README for voice and rate). A bad file is a `ScriptError` naming it and the key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import ScriptError, shown, type_name

__all__ = ["CONFIG_DIR_ENV", "CONFIG_FILE_NAME", "Defaults", "config_path", "load_defaults"]

CONFIG_DIR_ENV = "LOOSEN_CONFIG_DIR"
CONFIG_FILE_NAME = "config.toml"
_MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True)
class Defaults:
    """The values the user's config file sets (None: not set), checked; and the file."""

    path: Path
    engine: str | None = None
    voice: str | None = None
    rate_wpm: int | None = None
    pace: str | None = None
    ambience: str | None = None  # "none" turns a script's ambience off
    loudness: str | None = None  # as --loudness takes it: "-16" or "off"
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def exists(self) -> bool:
        return self.path.is_file()


def config_path() -> Path:
    """The config file: ``config.toml`` in ``$LOOSEN_CONFIG_DIR``, else the user config folder."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser() / CONFIG_FILE_NAME
    import platformdirs

    return Path(platformdirs.user_config_dir("loosen")) / CONFIG_FILE_NAME


def load_defaults(path: Path | None = None) -> Defaults:
    """The user's defaults from ``path`` (default `config_path`); none if there is no file.

    Raises
    ------
    ScriptError
        Naming the file (and the key) when it cannot be read, is not TOML, has an unknown key
        or a bad value.
    """
    path = path or config_path()
    if not path.is_file():
        if path.exists():
            raise ScriptError("is not a regular file", path=path)
        return Defaults(path)
    from loosen.script.toml_input import (
        read_toml_file,  # a script's protections (size, scan, depth)
    )

    table = read_toml_file(path, _MAX_CONFIG_BYTES, "a config file")
    values: dict[str, object] = {}
    for key, value in table.items():
        check = _CHECKS.get(key)
        if check is None:
            known = ", ".join(_CHECKS)
            raise ScriptError(f"unknown key; keys: {known}", path=path, where=f"key {shown(key)}")
        try:
            values[key] = check(value)
        except ValueError as error:
            raise ScriptError(str(error), path=path, where=f"key {key!r}") from None
    return Defaults(path, **values)  # type: ignore[arg-type]


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected text, got {shown(value) if value == '' else type_name(value)}")
    if not value.isprintable() or len(value) > 200:
        raise ValueError(f"{shown(value)} is not a usable value")
    return value.strip()


def _whole(low: int, high: int, what: str) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number of {what}, got {type_name(value)}")
        if not low <= value <= high:
            raise ValueError(f"{shown(value)} is out of range; use {low} to {high} {what}")
        return value

    return check


def _engine(value: object) -> str:
    from loosen.tts.engines import ENGINE_NAMES

    name = _text(value).lower()
    if name not in ENGINE_NAMES:
        raise ValueError(
            f"unknown speech engine {shown(value)}; engines: {', '.join(ENGINE_NAMES)}"
        )
    return name


def _pace(value: object) -> str:
    from loosen.errors import BadInputError
    from loosen.plan.pace import load_presets, resolve_pace

    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a factor or a preset's name, got {type_name(value)}")
    written = str(value).strip()
    try:
        resolve_pace(written)
    except BadInputError:
        names = ", ".join(load_presets())
        raise ValueError(
            f"{shown(value)} is not a pace; give a factor from 0.25 to 4, or a preset: {names}"
        ) from None
    return written


def _ambience(value: object) -> str:
    name = _text(value)
    if name.lower() == "none":
        return "none"
    from loosen.sound.ambience import list_ambiences

    ambiences = list_ambiences()
    if name not in ambiences:
        raise ValueError(f"unknown ambience {shown(value)}; ambiences: {', '.join(ambiences)}")
    return name


def _loudness(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() == "off":
        return "off"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f'expected LUFS such as -16, or "off", got {shown(value)}')
    if not math.isfinite(value) or not -60.0 <= value <= -5.0:
        raise ValueError(f'{shown(value)} is out of range; use -60 to -5 LUFS, or "off"')
    return f"{value:g}"


def _channels(value: object) -> int:
    if isinstance(value, bool) or value not in (1, 2):
        raise ValueError(f"expected 1 (mono) or 2 (stereo), got {shown(value)}")
    return int(value)


_CHECKS: Mapping[str, Callable[[object], object]] = {
    "engine": _engine,
    "voice": _text,
    "rate_wpm": _whole(80, 450, "words per minute"),
    "pace": _pace,
    "ambience": _ambience,
    "loudness": _loudness,
    "sample_rate": _whole(8_000, 192_000, "Hz"),
    "channels": _channels,
}
