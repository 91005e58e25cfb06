"""`Speech`: the renderer's view of text to speech - every text once, from cache when possible."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Protocol

from loosen.tts.base import Clip, SpeechEngine
from loosen.tts.cache import MAX_CLIP_RATE_HZ, SpeechCache, cache_key, quantize
from loosen.tts.speaking_ahead import Progress, SpeakingAhead

__all__ = ["Conditioner", "Speech"]


class Conditioner(Protocol):
    """What is done to each clip once, as it comes from the engine, before it is kept (trimmed,
    levelled: `loosen.tts.clips.MixReady`), so that what is kept is ready to mix. ``name`` is part
    of every cache key: another conditioning never takes a clip conditioned otherwise."""

    @property
    def name(self) -> str: ...

    def __call__(self, clip: Clip) -> Clip: ...


class Speech:
    """Clips for texts, synthesized once per distinct text and engine setting.

    Parameters
    ----------
    engine
        Engine that speaks missing texts.
    cache
        Disk cache, or ``None`` (``--no-cache``) to keep clips in memory for this object only.
    condition
        Done to each clip once, as the engine gives it, before it is kept and handed out (in
        the thread that had it spoken); ``None``: clips as the engine speaks them.

    Attributes
    ----------
    synthesized_count
        Texts this object has had the engine speak so far.

    Clips are the same whether they come from the engine, the disk or memory: float32 mono
    at the engine's sample rate, rounded to 16 bits. The thread of `prepare_ahead` is a
    `loosen.tts.speaking_ahead.SpeakingAhead` of this object's, which `stop` stops and joins.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        cache: SpeechCache | None,
        condition: Conditioner | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.condition = condition
        self.synthesized_count = 0
        self._memory: dict[str, Clip] = {}
        self._engine_lock = threading.Lock()  # engines serve one thread at a time
        self._count_lock = threading.Lock()  # guards `synthesized_count`
        self._ahead = SpeakingAhead(self._synthesize, self._rest)  # `prepare_ahead`'s thread

    def key(self, text: str) -> str:
        """Cache key of ``text`` for this engine's name, voice and rate."""
        conditioning = self.condition.name if self.condition is not None else ""
        return cache_key(
            self.engine.name, self.engine.voice, self.engine.rate_wpm, text, conditioning
        )

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
        with self._engine_lock:
            for text, clip in self.engine.synthesize(missing):
                self._store(text, clip)
                done += 1
                if progress is not None:
                    progress(done, len(missing))
        return done

    def prepare_ahead(self, texts: Iterable[str], progress: Progress | None = None) -> None:
        """Start synthesizing every distinct text not stored yet, in order, in a background
        thread, and return at once: the engine (a worker process) speaks while the caller
        mixes.

        `clip` waits for a text still to come, and raises what stopped a thread, if anything.
        ``progress`` as for `prepare`, called here first, then from that thread. `stop` ends
        it. The engine is told to rest once its texts are spoken.
        """
        # present is enough: reading and checking every cached clip before playback starts
        # would cost a warm start tens of milliseconds (a damaged one is spoken when read)
        missing = [text for text in dict.fromkeys(texts) if not self.has(text)]
        self._ahead.start(missing, progress)

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Stop the background synthesis after the texts it is on, and join its thread (waiting
        at most ``timeout_s``). Whether it has ended: one still on its text (a worker's
        watchdog bounds it) ends after it and is joined by the next `stop`.

        The owner of this object calls it (or uses it as a context manager) before closing the
        engine, then `loosen.tts.clips.SpeechClips.close` if it made any."""
        return self._ahead.stop(timeout_s)

    def __enter__(self) -> Speech:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def clip(self, text: str) -> Clip:
        """The clip of ``text`` (float32 mono); synthesized now if not prepared.

        After a failure ahead, a text that has no clip raises it: the failure of that very text
        if it failed, else the first one."""
        found = self._lookup(text)
        if found is not None:
            return found
        self._ahead.wait_for(text)
        found = self._lookup(text)  # spoken ahead meanwhile: no need to wait for the engine,
        if found is not None:  # which is now busy with the next line
            return found
        return self._synthesize(text)

    def has(self, text: str) -> bool:
        """Whether the clip of ``text`` is ready, without waiting or reading it."""
        if text in self._memory:
            return True
        if self._in_memory_only:
            return False
        assert self.cache is not None
        if self._ahead.pending(text):
            return False
        return self.cache.path_for(self.key(text)).is_file()

    @property
    def _in_memory_only(self) -> bool:
        """Whether clips are kept in this object only: no cache, or one that cannot be written."""
        return self.cache is None or self.cache.unwritable is not None

    def _synthesize(self, text: str) -> Clip:
        """``text`` spoken by the engine, which serves one thread at a time."""
        with self._engine_lock:
            found = self._lookup(text)  # another thread may have spoken it meanwhile
            if found is not None:
                return found
            for _, clip in self.engine.synthesize([text]):
                return self._store(text, clip)
        raise AssertionError("engine yielded no clip")  # pragma: no cover

    def _rest(self) -> None:
        with self._engine_lock:
            self.engine.rest()

    def _lookup(self, text: str) -> Clip | None:
        if text in self._memory or self.cache is None:
            return self._memory.get(text)
        rate_hz = self.engine.clip_rate_hz
        # no voice says a character in half a second: a longer clip is not this text's
        max_frames = math.ceil((10.0 + 0.5 * len(text)) * (rate_hz or MAX_CLIP_RATE_HZ))
        return self.cache.get(self.key(text), sample_rate=rate_hz, max_frames=max_frames)

    def _store(self, text: str, clip: Clip) -> Clip:
        with self._count_lock:
            self.synthesized_count += 1
        if self.condition is not None:
            clip = self.condition(clip)
        stored = quantize(clip)
        if self.cache is not None:
            self.cache.put(self.key(text), stored)
        if self._in_memory_only:  # (the cache may have just found it cannot be written)
            self._memory[text] = stored
        return stored
