"""`Speech`: the renderer's view of text to speech - every text once, from cache when possible."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loosen.tts.base import Clip, SpeechEngine
from loosen.tts.cache import SpeechCache, cache_key, quantize

__all__ = ["Speech"]

Progress = Callable[[int, int], None]


class Speech:
    """Clips for texts, synthesized once per distinct text and engine setting.

    Parameters
    ----------
    engine
        Engine that speaks missing texts.
    cache
        Disk cache, or ``None`` (``--no-cache``) to keep clips in memory for this object only.

    Attributes
    ----------
    synthesized_count
        Texts this object has had the engine speak so far.

    Clips are the same whether they come from the engine, the disk or memory: float32 mono
    at the engine's sample rate, rounded to 16 bits.
    """

    def __init__(self, engine: SpeechEngine, cache: SpeechCache | None) -> None:
        self.engine = engine
        self.cache = cache
        self.synthesized_count = 0
        self._memory: dict[str, Clip] = {}

    def key(self, text: str) -> str:
        """Cache key of ``text`` for this engine's name, voice and rate."""
        return cache_key(self.engine.name, self.engine.voice, self.engine.rate_wpm, text)

    def prepare(self, texts: Iterable[str], progress: Progress | None = None) -> int:
        """Synthesize every distinct text not stored yet, in first-seen order.

        Parameters
        ----------
        texts
            Texts the session will speak; repeats are spoken once.
        progress
            Called as ``progress(done, total)`` with ``done = 0`` before the first text and
            after each text, ``total`` being the number of texts to synthesize.

        Returns
        -------
        int
            How many texts were synthesized.
        """
        missing = [text for text in dict.fromkeys(texts) if self._lookup(text) is None]
        if progress is not None:
            progress(0, len(missing))
        done = 0
        for text, clip in self.engine.synthesize(missing):
            self._store(text, clip)
            done += 1
            if progress is not None:
                progress(done, len(missing))
        return done

    def clip(self, text: str) -> Clip:
        """The clip of ``text`` (float32 mono); synthesized now if not prepared."""
        found = self._lookup(text)
        if found is not None:
            return found
        for _, clip in self.engine.synthesize([text]):
            return self._store(text, clip)
        raise AssertionError("engine yielded no clip")  # pragma: no cover

    def _lookup(self, text: str) -> Clip | None:
        if self.cache is None:
            return self._memory.get(text)
        return self.cache.get(self.key(text))

    def _store(self, text: str, clip: Clip) -> Clip:
        self.synthesized_count += 1
        stored = quantize(clip)
        if self.cache is None:
            self._memory[text] = stored
        else:
            self.cache.put(self.key(text), stored)
        return stored
