"""The voice layer's cache: speech ready to mix, per rendering, within a memory budget.

`SpeechClips` turns the clips `Speech` hands out into lines at the output rate (through
`loosen.tts.conditioning`: DC removed, trimmed, levelled, resampled, faded), remembers every
line's length and keeps the samples of recent lines within a memory budget; a helper thread (a
`loosen.tts.prefetch.Prefetcher`) can process the coming lines ahead (`SpeechClips.prefetch`)
until `SpeechClips.close`.

An engine that pauses between sentences by our rule (Piper: its ``sentence_pause_s``) speaks a
line sentence by sentence: each sentence is synthesized, cached and processed on its own, and
the line is its sentences joined by that pause. Such an engine's level is a fixed gain
(``level_db``), not each line's peak, so a line's first sentence is final before the others
exist: playback can start on it (`SpeechClips.prefix`).

The conditioning's names (`MixReady`, `prepare_speech`, `db_to_gain`, the levels...) are
importable from here too, as before they had a module of their own.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib
from collections import OrderedDict
from types import TracebackType

import numpy as np

from loosen.tts import Clip, Speech
from loosen.tts.conditioning import (
    HIGHPASS_HZ,
    PROCESSING_VERSION,
    SPEECH_LIMIT_DB,
    SPEECH_LOUDNESS_LUFS,
    SPEECH_PEAK_DBFS,
    Audio,
    MixReady,
    db_to_gain,
    finish_speech,
    line_lufs,
    output_frames,
    prepare_speech,
    speech_frames,
)
from loosen.tts.prefetch import Prefetcher

__all__ = [
    "SPEECH_LIMIT_DB",
    "SPEECH_LOUDNESS_LUFS",
    "SPEECH_PEAK_DBFS",
    "MixReady",
    "SpeechClips",
    "db_to_gain",
    "finish_speech",
    "line_lufs",
    "prepare_speech",
    "speech_frames",
    "split_sentences",
]

# a sentence ends at . ! ? or an ellipsis, perhaps closed by a quote or bracket, before a space
_SENTENCE_END = re.compile(r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+")


def split_sentences(text: str) -> list[str]:
    """``text`` cut into its sentences, each with its closing punctuation, blanks dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def _digest(clip: Clip) -> int:
    return zlib.crc32(np.ascontiguousarray(clip.samples, dtype=np.float32).tobytes())


class SpeechClips:
    """Processed speech at the output rate: lengths remembered, samples in a bounded cache.

    With an engine that has a ``sentence_pause_s`` (and a ``level_db``), a line is spoken
    sentence by sentence (`units`) and joined by that pause; see the module's docstring.

    Attributes
    ----------
    prefetcher
        The lines `prefetch` has made on its helper thread, waiting beside the cache until
        `samples` takes them; `close` stops and joins that thread.
    """

    def __init__(self, speech: Speech, sample_rate: int, budget_bytes: int = 48 * 2**20):
        self._lock = threading.Lock()  # guards the cache of samples (`Speech` guards the engine)
        self.speech = speech
        self.sample_rate = sample_rate
        self.budget_bytes = budget_bytes
        self._frames: dict[str, int] = {}
        self._cache: OrderedDict[str, Audio] = OrderedDict()
        self._bytes = 0
        pause_s = speech.engine.sentence_pause_s
        self._pause_frames = None if pause_s is None else round(pause_s * sample_rate)
        self._level_db = speech.engine.level_db
        # clips kept ready to mix by `speech` (a warm export does no conditioning), or each
        # conditioned here when it is used
        self._ready = MixReady(self._level_db)
        self._kept_ready = speech.condition == self._ready
        self._sentences: OrderedDict[str, Audio] = OrderedDict()  # for `prefix`: a few
        self._digests: dict[str, int] = {}  # per unit spoken: the CRC-32 of its clip's samples
        self._derived: dict[str, str] = {}  # per line: its `derived_key`
        self.prefetcher = Prefetcher(self._made, self._lock, lambda text: text in self._cache)

    @property
    def held_bytes(self) -> int:
        """Bytes of processed samples the cache holds now (at most about `budget_bytes`)."""
        with self._lock:
            return self._bytes

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the prefetching thread: it ends after the line it is on, if any, and is joined
        (waiting at most ``timeout_s`` for that line). Prefetching is off from now on, but the
        samples are still there: `samples` processes a line itself. Idempotent.

        Call `Speech.stop` first: a line the thread is on may be waiting for the engine."""
        self.prefetcher.close(timeout_s)

    def __enter__(self) -> SpeechClips:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def units(self, text: str) -> list[str]:
        """What the engine is given to speak ``text``: its sentences, or the whole line."""
        if self._pause_frames is None:
            return [text]
        return split_sentences(text) or [text]

    def frames(self, text: str) -> int:
        """Length of ``text`` spoken, in frames at the output rate (measured, not resampled)."""
        if text not in self._frames:
            units = self.units(text)
            if len(units) > 1:
                assert self._pause_frames is not None
                lengths = [self.frames(unit) for unit in units]
                self._frames[text] = sum(lengths) + self._pause_frames * (len(units) - 1)
            else:
                # no lock held while the clip may still be on its way from the engine: the
                # mixer must keep taking the clips it has while the layout waits for the next
                clip = self.speech.clip(units[0])
                self._digests[units[0]] = _digest(clip)
                if self._kept_ready:
                    self._frames[text] = output_frames(
                        clip.n_frames, clip.sample_rate, self.sample_rate
                    )
                else:
                    self._frames[text] = speech_frames(clip, self.sample_rate)
        return self._frames[text]

    def derived_key(self, text: str) -> str | None:
        """A cache key naming ``samples(text)`` by what made them: the clips (their cache keys
        and their samples' CRC-32, as an engine may speak a text differently when it speaks it
        again), the output rate and the processing. ``None`` without a disk cache."""
        if self.speech.cache is None:
            return None
        if text in self._derived:  # a session speaks a line many times: hash it once
            return self._derived[text]
        made_of: list[list[object]] = []
        for unit in self.units(text):
            digest = self._digests.get(unit)
            if digest is None:
                digest = self._digests[unit] = _digest(self.speech.clip(unit))
            made_of.append([self.speech.key(unit), digest])
        key = _derived_key(made_of, self.sample_rate, self._level_db, self._pause_frames)
        self._derived[text] = key
        return key

    def samples(self, text: str) -> Audio:
        """``text`` spoken: float32, shape (n,), mono, at the output rate."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        audio = self.prefetcher.take(text)
        if audio is None:
            audio = self._made(text)
        with self._lock:
            self._frames[text] = audio.size
            if text not in self._cache:
                self._cache[text] = audio
                self._bytes += audio.nbytes
            while self._bytes > self.budget_bytes and len(self._cache) > 1:
                # drop the line used last before this one, not the oldest: a pass over the
                # session is done with a line once the next begins, and the oldest lines are
                # the next pass's first (an export's second pass, a replay from the start)
                newest_first = reversed(self._cache)
                next(newest_first)
                self._bytes -= self._cache.pop(next(newest_first)).nbytes
        return audio

    def prefetch(self, text: str) -> None:
        """Have ``text`` processed on a helper thread, in order with other prefetched texts, so
        that `samples` finds it ready: the mixer goes on meanwhile (soxr and numpy release the
        GIL). What is prefetched waits beside the cache, not in it, until `samples` takes it.
        Nothing is prefetched once `close` is called."""
        self.prefetcher.prefetch(text)

    def _made(self, text: str) -> Audio:
        """``text`` processed (no cache involved)."""
        units = self.units(text)
        if len(units) > 1:
            # the first sentences may already be processed for `prefix` (playback started on them)
            return self._joined([self._sentence(unit) for unit in units], complete=True)
        return self._processed(units[0])  # no lock held, as above

    def ready(self, text: str) -> bool:
        """Whether the engine has spoken all of ``text`` (without waiting or reading it)."""
        return text in self._frames or all(self.speech.has(u) for u in self.units(text))

    def prefix(self, text: str) -> tuple[Audio, bool]:
        """As much of ``samples(text)`` as the engine has spoken, without waiting: its first
        sentences (each followed by the pause, which is known), and whether that is all of it.
        Float32, shape (n,), n possibly 0."""
        units = self.units(text)
        ready: list[Audio] = []
        for unit in units:
            if not self.speech.has(unit):
                break
            ready.append(self._sentence(unit))
        complete = len(ready) == len(units)
        return self._joined(ready, complete), complete

    def next_unit(self, text: str) -> None:
        """Wait until the engine has spoken one more sentence of ``text`` (if any is left)."""
        for unit in self.units(text):
            if not self.speech.has(unit):
                self.frames(unit)
                return

    def _processed(self, unit: str) -> Audio:
        clip = self.speech.clip(unit)
        ready = clip if self._kept_ready else self._ready(clip)
        return finish_speech(ready, self.sample_rate, self._level_db)

    def _sentence(self, unit: str) -> Audio:
        """``_processed(unit)``, remembered for the few calls of `prefix` on one line."""
        with self._lock:
            found = self._sentences.get(unit)
        if found is None:
            found = self._processed(unit)
            with self._lock:
                self._sentences[unit] = found
                while len(self._sentences) > 8:
                    self._sentences.popitem(last=False)
        return found

    def _joined(self, parts: list[Audio], complete: bool) -> Audio:
        """``parts`` joined by the sentence pause, with one after the last unless ``complete``."""
        return _joined(parts, self._pause_frames or 0, complete)


def _joined(parts: list[Audio], pause_frames: int, complete: bool) -> Audio:
    """``parts`` joined by ``pause_frames`` of silence, with one after the last unless
    ``complete``. Float32, shape (n,)."""
    if not parts:
        return np.zeros(0, np.float32)
    pause = np.zeros(pause_frames, np.float32)
    pieces: list[Audio] = []
    for i, part in enumerate(parts):
        pieces.append(part)
        if i < len(parts) - 1 or not complete:
            pieces.append(pause)
    return np.concatenate(pieces)


def _derived_key(
    made_of: list[list[object]], sample_rate: int, level_db: float | None, pause_frames: int | None
) -> str:
    """The hex SHA-256 naming a line made of ``made_of`` (its units' cache keys and CRC-32s) at
    ``sample_rate`` Hz by this processing (see `SpeechClips.derived_key`)."""
    canonical = json.dumps(
        {
            "processing": PROCESSING_VERSION,
            "levels": [SPEECH_LOUDNESS_LUFS, SPEECH_PEAK_DBFS, SPEECH_LIMIT_DB, HIGHPASS_HZ],
            "sample_rate": sample_rate,
            "level_db": level_db,
            "pause_frames": pause_frames,
            "clips": made_of,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
