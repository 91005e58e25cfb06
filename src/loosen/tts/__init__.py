"""Text to speech: engines behind one protocol, a content-addressed speech cache, and `Speech`.

Importing this package is cheap: engines import pyttsx3 (in a worker process) only when used,
and the names below load on first use, so a worker process that imports `loosen.tts._worker`
does not load numpy for the package's sake.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ENGINE_NAMES": "loosen.tts.engines",
    "Clip": "loosen.tts.base",
    "Speech": "loosen.tts.speech",
    "SpeechCache": "loosen.tts.cache",
    "SpeechEngine": "loosen.tts.base",
    "VoiceInfo": "loosen.tts.base",
    "cache_key": "loosen.tts.cache",
    "open_engine": "loosen.tts.engines",
}

if TYPE_CHECKING:
    from loosen.tts.base import Clip, SpeechEngine, VoiceInfo
    from loosen.tts.cache import SpeechCache, cache_key
    from loosen.tts.engines import ENGINE_NAMES, open_engine
    from loosen.tts.speech import Speech


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value


__all__ = [
    "ENGINE_NAMES",
    "Clip",
    "Speech",
    "SpeechCache",
    "SpeechEngine",
    "VoiceInfo",
    "cache_key",
    "open_engine",
]
