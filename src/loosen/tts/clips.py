"""The voice layer: engine clips turned into speech ready to mix, and a bounded cache of them.

Speech is freed of DC (espeak-ng's lines carry an offset of up to -46 dBFS), trimmed of the
engine's own silence, levelled (by its loudness, to `SPEECH_LOUDNESS_LUFS`, its true peaks held
under `SPEECH_PEAK_DBFS`), resampled to the output rate with soxr and faded at the edges;
`SpeechClips` remembers every line's length and keeps the samples of recent lines within a
memory budget.

An engine that pauses between sentences by our rule (Piper: its ``sentence_pause_s``) speaks a
line sentence by sentence: each sentence is synthesized, cached and processed on its own, and
the line is its sentences joined by that pause. Such an engine's level is a fixed gain
(``level_db``), not each line's peak, so a line's first sentence is final before the others
exist: playback can start on it (`SpeechClips.prefix`).
"""

from __future__ import annotations

import hashlib
import json
import math
import queue
import re
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loosen.tts import Clip, Speech

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

Audio = npt.NDArray[np.float32]

SPEECH_PEAK_DBFS = -3.0  # no line's true peak passes it (the renderer's soft limiter starts here)
SPEECH_LOUDNESS_LUFS = -18.5  # every line's loudness (on one channel), but Piper's
SPEECH_LIMIT_DB = 3.0  # the most the line's limiter takes off its peaks
# names what `prepare_speech` makes of a clip: change it whenever that changes, so what is kept
# of processed speech in the cache (`SpeechClips.derived_key`) is not taken for the new
PROCESSING_VERSION = 3  # 2: DC removed; 3: levelled by loudness, true peaks limited
SILENCE_DBFS = -50.0  # below this, the engine's leading and trailing samples count as silence
HIGHPASS_HZ = 20.0  # what drifts below this within a line (under any voice's pitch) is removed
EDGE_PAD_S = 0.015
EDGE_FADE_S = 0.008
_AHEAD_KEPT = 2  # prefetched lines waiting to be taken


def db_to_gain(db: float) -> float:
    """Turn a level in dB into a linear gain."""
    return float(10.0 ** (db / 20.0))


# a sentence ends at . ! ? or an ellipsis, perhaps closed by a quote or bracket, before a space
_SENTENCE_END = re.compile(r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+")


def split_sentences(text: str) -> list[str]:
    """``text`` cut into its sentences, each with its closing punctuation, blanks dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def prepare_speech(clip: Clip, sample_rate: int, level_db: float | None = None) -> Audio:
    """Turn an engine clip into speech ready to mix: `MixReady`, then `finish_speech`.

    Returns float32 of shape (n,), mono, at ``sample_rate``; at least one frame.
    """
    return finish_speech(MixReady(level_db)(clip), sample_rate, level_db)


@dataclass(frozen=True)
class MixReady:
    """What is done once to a clip as the engine gives it (`loosen.tts.speech.Conditioner`):
    its DC removed (its mean, then what drifts under `HIGHPASS_HZ`), the engine's own leading
    and trailing silence trimmed (timing is the timeline's job) and, unless the engine has a
    fixed level (``level_db``, Piper), levelled: its loudness `SPEECH_LOUDNESS_LUFS` with its
    true peaks limited under `SPEECH_PEAK_DBFS` (see `_levelled`). At the engine's rate.

    It is the costly part of a line's processing (the limiter looks at 4x the samples), so the
    speech cache keeps clips as it leaves them and a warm export does none of it.
    """

    level_db: float | None = None

    @property
    def name(self) -> str:
        """Names the conditioning in cache keys: change `PROCESSING_VERSION` with it."""
        levels = f"{SPEECH_LOUDNESS_LUFS:g},{SPEECH_PEAK_DBFS:g},{SPEECH_LIMIT_DB:g}"
        level = "fixed" if self.level_db is not None else f"levelled:{levels}"
        return f"mix-ready {PROCESSING_VERSION}, high-pass {HIGHPASS_HZ:g} Hz, {level}"

    def __call__(self, clip: Clip) -> Clip:
        x = _high_passed(_trimmed(clip), clip.sample_rate)
        if self.level_db is None:
            x = _levelled(x, clip.sample_rate)
        return Clip(x.astype(np.float32, copy=False), clip.sample_rate)


def finish_speech(ready: Clip, sample_rate: int, level_db: float | None = None) -> Audio:
    """A clip `MixReady` made: resampled to ``sample_rate`` with soxr, its edges faded over a
    few milliseconds so nothing clicks, and scaled by ``level_db`` dB if given (an engine of a
    fixed level). Float32, shape (n,), mono; at least one frame."""
    import soxr  # imported here: only rendering needs it, `loosen --help` should not pay for it

    x = np.asarray(ready.samples, np.float32)
    frames = _output_frames(x.size, ready.sample_rate, sample_rate)
    if ready.sample_rate != sample_rate and x.size > 1:
        x = np.asarray(soxr.resample(x, ready.sample_rate, sample_rate, quality="HQ"), np.float32)
        # soxr gives round(n * ratio) frames; pin it, since the timeline was laid out with it
        if x.size != frames:
            x = np.pad(x, (0, max(0, frames - x.size)))[:frames]
    else:
        x = x.copy()
    if x.size == 0:
        x = np.zeros(1, np.float32)
    fade = min(round(EDGE_FADE_S * sample_rate), x.size // 2)
    if fade:
        ramp = np.sin(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    if level_db is not None:
        x *= db_to_gain(level_db)
    return x.astype(np.float32, copy=False)


def speech_frames(clip: Clip, sample_rate: int) -> int:
    """The length in frames of ``prepare_speech(clip, sample_rate)``, without resampling."""
    return _output_frames(_trimmed(clip).size, clip.sample_rate, sample_rate)


def _trimmed(clip: Clip) -> Audio:
    """``clip`` less its mean, without the engine's leading and trailing silence (a short pad
    kept). The mean goes first: an offset over the threshold would pass for sound."""
    x = np.asarray(clip.samples, dtype=np.float32)
    if x.size:
        x = (x - np.float32(x.mean(dtype=np.float64))).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > db_to_gain(SILENCE_DBFS))
    if loud.size:
        pad = round(EDGE_PAD_S * clip.sample_rate)
        return x[max(0, loud[0] - pad) : loud[-1] + pad + 1]
    return x[:1] * 0


def _high_passed(x: Audio, rate: int) -> Audio:
    """``x`` (float32, (n,), at ``rate`` Hz) through a zero-phase high-pass at `HIGHPASS_HZ`:
    the magnitude of a second-order Butterworth filter, applied in the frequency domain. Its DC
    is 0 and what drifts within the line (espeak-ng's offset changes from sound to sound) goes;
    speech is untouched (-0.03 dB at 70 Hz, under the lowest voice's pitch). No phase shift, so
    the peaks stay where they were. Float32, (n,)."""
    if x.size < 2:
        return x
    pad = round(0.25 * rate)  # the filter rings out within it (to 1e-9), past the kept frames
    size = 1 << (x.size + pad - 1).bit_length()
    spectrum = np.fft.rfft(x.astype(np.float64), size)
    ratio4 = (np.fft.rfftfreq(size, 1.0 / rate) / HIGHPASS_HZ) ** 4
    spectrum *= np.sqrt(ratio4 / (1.0 + ratio4))
    return np.fft.irfft(spectrum, size)[: x.size].astype(np.float32)


def line_lufs(x: Audio, rate: int) -> float:
    """The loudness in LUFS of a line ``x`` (float32, (n,), at ``rate`` Hz) on one channel:
    BS.1770's gating (so pauses inside it do not count), or, for a line under 400 ms, the mean
    power of its K-weighted frames. ``-inf`` for silence."""
    from loosen.loudness.meter import LoudnessMeter, gated_lufs

    meter = LoudnessMeter(rate, 1)
    hops = max(1, -(-x.size // meter.hop))
    padded = np.zeros((hops * meter.hop, 1), np.float32)
    padded[: x.size, 0] = x
    meter.add(padded)
    powers = meter.hop_powers
    if powers.size >= 4:
        return gated_lufs(powers)
    power = float(powers.sum()) * meter.hop / max(1, x.size)
    return -0.691 + 10.0 * math.log10(power) if power > 0 else -math.inf


def _levelled(x: Audio, rate: int) -> Audio:
    """``x`` (float32, (n,), at the engine's ``rate``) scaled to `SPEECH_LOUDNESS_LUFS`, its
    true peaks over `SPEECH_PEAK_DBFS` held under it by the look-ahead limiter. A line's
    peak-to-loudness ratio is then at most their difference: at the export's target the
    session's peaks stay under the lossy formats' ceiling, and the export's limiter (which
    would trim every line alike) rarely acts. Worked out at the engine's rate: oversampled 4x,
    its true peaks are those the resampled line has, for half the work."""
    from loosen.loudness.meter import TruePeakMeter, limit_true_peak

    lufs = line_lufs(x, rate)
    if not math.isfinite(lufs):
        return x
    meter = TruePeakMeter(rate, 1)
    meter.add(x[:, None])
    # a line so peaky that it would need more than `SPEECH_LIMIT_DB` stays that much quieter
    gain_db = min(
        SPEECH_LOUDNESS_LUFS - lufs, SPEECH_PEAK_DBFS + SPEECH_LIMIT_DB - meter.true_peak_dbtp()
    )
    x = x * np.float32(db_to_gain(gain_db))
    return limit_true_peak(x, rate, SPEECH_PEAK_DBFS)[0]


def _digest(clip: Clip) -> int:
    return zlib.crc32(np.ascontiguousarray(clip.samples, dtype=np.float32).tobytes())


def _output_frames(n: int, rate: int, sample_rate: int) -> int:
    if rate == sample_rate or n <= 1:
        return max(1, n)
    return max(1, (2 * n * sample_rate + rate) // (2 * rate))  # round half up, in integers


class SpeechClips:
    """Processed speech at the output rate: lengths remembered, samples in a bounded cache.

    With an engine that has a ``sentence_pause_s`` (and a ``level_db``), a line is spoken
    sentence by sentence (`units`) and joined by that pause; see the module's docstring.
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
        self._ahead: dict[str, Audio] = {}  # prefetched, not yet taken (see `prefetch`)
        self._fetching: set[str] = set()
        self._to_fetch: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._fetcher: threading.Thread | None = None

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
                    self._frames[text] = _output_frames(
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
        made_of = []
        for unit in self.units(text):
            digest = self._digests.get(unit)
            if digest is None:
                digest = self._digests[unit] = _digest(self.speech.clip(unit))
            made_of.append([self.speech.key(unit), digest])
        canonical = json.dumps(
            {
                "processing": PROCESSING_VERSION,
                "levels": [SPEECH_LOUDNESS_LUFS, SPEECH_PEAK_DBFS, SPEECH_LIMIT_DB, HIGHPASS_HZ],
                "sample_rate": self.sample_rate,
                "level_db": self._level_db,
                "pause_frames": self._pause_frames,
                "clips": made_of,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        key = self._derived[text] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return key

    def samples(self, text: str) -> Audio:
        """``text`` spoken: float32, shape (n,), mono, at the output rate."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
            audio = self._ahead.pop(text, None)
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
        GIL). What is prefetched waits beside the cache, not in it, until `samples` takes it."""
        with self._lock:
            if text in self._cache or text in self._ahead or text in self._fetching:
                return
            self._fetching.add(text)
            if self._fetcher is None:
                self._fetcher = threading.Thread(
                    target=self._fetch, name="loosen-prefetch", daemon=True
                )
                self._fetcher.start()
        self._to_fetch.put(text)

    def _fetch(self) -> None:
        while True:
            text = self._to_fetch.get()
            try:
                audio = self._made(text)
            except Exception:  # `samples` meets it again, in the mixer's thread
                audio = None
            with self._lock:
                self._fetching.discard(text)
                if audio is not None and text not in self._cache:
                    self._ahead[text] = audio
                    while len(self._ahead) > _AHEAD_KEPT:
                        self._ahead.pop(next(iter(self._ahead)))

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
        if not parts:
            return np.zeros(0, np.float32)
        pause = np.zeros(self._pause_frames or 0, np.float32)
        pieces: list[Audio] = []
        for i, part in enumerate(parts):
            pieces.append(part)
            if i < len(parts) - 1 or not complete:
                pieces.append(pause)
        return np.concatenate(pieces)
