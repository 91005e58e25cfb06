"""Find libespeak-ng and its data, and read its voice list without loading the library.

On Linux pyttsx3 drives espeak-ng through ctypes. With no system espeak-ng, the ``espeakng-loader``
wheel supplies the library and its data; this module decides which one a worker loads
(:func:`plan_espeak`) and loads it (:func:`load_espeak`). Nothing here loads a library at import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from loosen.errors import SpeechError
from loosen.tts.base import VoiceInfo

__all__ = [
    "EspeakPlan",
    "list_espeak_variants",
    "list_espeak_voices",
    "load_espeak",
    "plan_espeak",
]

SYSTEM = "system"
BUNDLED = "espeakng-loader"


@dataclass(frozen=True)
class EspeakPlan:
    """Which libespeak-ng to use.

    Parameters
    ----------
    source
        ``"system"`` (the dynamic loader finds ``libespeak-ng.so.1``) or ``"espeakng-loader"``.
    library
        Path or soname of the library.
    data_path
        The ``espeak-ng-data`` directory, or ``None`` for the library's built-in default.
    version
        ``"1.52.0"`` when known without loading the library, else ``None``.
    """

    source: str
    library: str
    data_path: str | None
    version: str | None

    def describe(self) -> str:
        """``"espeak-ng 1.52 from espeakng-loader"`` or ``"espeak-ng from system"``."""
        version = ""
        if self.version:
            version = " " + ".".join(self.version.split(".")[:2])
        return f"espeak-ng{version} from {self.source}"


@functools.cache
def plan_espeak() -> EspeakPlan | None:
    """Choose the espeak-ng library for pyttsx3 on Linux; ``None`` elsewhere or when none exists.

    The one shipped by ``espeakng-loader`` wins: every machine then speaks with the same
    espeak-ng (1.52, its voice variants, its data), whatever the distribution packages, so a
    cache and an export mean the same everywhere. A system ``libespeak-ng.so.1`` (which pyttsx3
    finds by itself) is the fallback where that wheel is missing.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import espeakng_loader
    except ImportError:
        if ctypes.util.find_library("espeak-ng"):
            return EspeakPlan(SYSTEM, "libespeak-ng.so.1", None, None)
        return None
    library = Path(espeakng_loader.get_library_path()).with_name("libespeak-ng.so.1")
    data_path = Path(espeakng_loader.__file__).parent / "espeak-ng-data"
    version = None
    for candidate in sorted(library.parent.glob("libespeak-ng.so.*.*.*")):
        version = candidate.name.removeprefix("libespeak-ng.so.")
    return EspeakPlan(BUNDLED, str(library), str(data_path), version)


def load_espeak(plan: EspeakPlan) -> None:
    """Make ``plan``'s library the one pyttsx3 will find; call before importing pyttsx3.

    espeak-ng calls ``exit(1)`` when it cannot find its data, killing the process without an
    exception, so the data directory is checked here first.

    Raises
    ------
    SpeechError
        The data directory or the library is missing or unloadable.
    """
    if plan.source != BUNDLED:
        return
    data_path = plan.data_path
    if data_path is None or not (Path(data_path) / "phontab").is_file():
        raise SpeechError(f"espeak-ng data not found at {data_path} (reinstall espeakng-loader)")
    try:
        ctypes.CDLL(plan.library, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise SpeechError(f"cannot load {plan.library}: {exc}") from exc
    os.environ["ESPEAK_DATA_PATH"] = data_path


def friendly_voice_id(identifier: str) -> str:
    """``"gmw/en-US"`` -> ``"en-us"``: espeak's SetVoiceByName accepts both."""
    return identifier.replace("\\", "/").rsplit("/", 1)[-1].lower()


_PLAIN_VARIANT = re.compile(r"[fm]\d")
_LINE = re.compile(r"^\s*(name|language|gender)\s+(\S.*?)\s*$")


def _read_voice_file(path: Path) -> VoiceInfo | None:
    name = None
    languages: list[str] = []
    gender = "male"  # what espeak-ng reports for a voice file that does not say
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LINE.match(line.split("//", 1)[0])
        if match is None:
            continue
        key, value = match.groups()
        if key == "name" and name is None:
            name = value
        elif key == "language":
            languages.append(value.split()[0])
        elif key == "gender":
            gender = value.split()[0].lower()
    if name is None or not languages:
        return None
    return VoiceInfo(friendly_voice_id(path.name), name, tuple(languages), gender)


@functools.cache
def list_espeak_voices(data_path: str) -> tuple[VoiceInfo, ...]:
    """Voices in an ``espeak-ng-data`` directory, as espeak-ng would list them, sorted by id."""
    lang_dir = Path(data_path) / "lang"
    voices = [_read_voice_file(p) for p in lang_dir.rglob("*") if p.is_file()]
    return tuple(sorted((v for v in voices if v is not None), key=lambda v: v.id))


@functools.cache
def list_espeak_variants(data_path: str) -> tuple[str, ...]:
    """Voice variant names (``"f3"``, ``"m3"``, ``"klatt"``...) allowed after ``"+"`` in an id."""
    variant_dir = Path(data_path) / "voices" / "!v"
    if not variant_dir.is_dir():
        return ()
    names = [p.name for p in variant_dir.iterdir() if p.is_file()]
    # The plain female/male variants first: they are the ones worth suggesting.
    return tuple(sorted(names, key=lambda n: (_PLAIN_VARIANT.fullmatch(n) is None, n.lower())))
