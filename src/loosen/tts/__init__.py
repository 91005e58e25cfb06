"""Text to speech: engines behind one protocol, a content-addressed speech cache, and `Speech`.

Importing this package is cheap: engines import pyttsx3 (in a worker process) only when used.
"""

from __future__ import annotations

from loosen.tts.base import Clip, SpeechEngine, VoiceInfo
from loosen.tts.cache import SpeechCache, cache_key
from loosen.tts.engines import ENGINE_NAMES, open_engine
from loosen.tts.speech import Speech

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
