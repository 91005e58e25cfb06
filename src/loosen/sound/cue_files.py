"""A user's sound file as a cue (a script's ``[cues]`` table names it): checked from its
header before anything is decoded, and read in the shape the session needs.

A compressed file can be small and still decode to gigabytes (a 0.3 MB FLAC of 8 channels at
384 kHz lasting 59 s is 725 MB of float32 samples), so its header must promise a sound within
`MAX_SOUND_FILE_CHANNELS`, the sample rates of `SOUND_FILE_RATES_HZ` and `MAX_SOUND_FILE_S`,
and the file is then read block by block: each block mixed down to mono float32 and resampled
(soxr, streaming) to the output rate, so memory holds the mono result and one block, never
the whole multichannel file. Errors name the script, its ``[cues]`` key and the sound file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from loosen.errors import ScriptError
from loosen.files import open_regular
from loosen.script.limits import (
    MAX_SOUND_FILE_BYTES,
    MAX_SOUND_FILE_CHANNELS,
    MAX_SOUND_FILE_S,
    SOUND_FILE_RATES_HZ,
)

__all__ = ["SoundFile", "render_sound_file", "sound_file"]

Audio: TypeAlias = npt.NDArray[np.float32]
"""Mono audio: float32 samples in [-1, 1], shape ``(n,)``."""

_BLOCK_FRAMES = 32_768  # frames decoded at a time: 1 MB at the most channels
_ONSET_FRACTION = 1e-3  # of the peak: quieter leading and trailing samples are trimmed


@dataclass(frozen=True)
class SoundFile:
    """A user's sound file (any format soundfile reads), played at peak level ``gain_db`` dBFS;
    ``script_path`` and ``where`` (``"cues.rep"``) say which script and key named it."""

    path: Path
    gain_db: float
    script_path: Path | None = None
    where: str | None = None

    def fault(self, problem: str) -> ScriptError:
        """The error for ``problem`` with this sound: naming the script, the key and the file."""
        message = f"sound file {str(self.path)!r} {problem}"
        return ScriptError(message, path=self.script_path, where=self.where)


def sound_file(path: Path, gain_db: float, script_path: Path | None, where: str) -> SoundFile:
    """The cue sound file ``path``, once its header promises a sound within the limits.

    Raises
    ------
    ScriptError
        Naming ``script_path``, ``where`` and ``path``: missing, not a regular file, too large,
        unreadable, empty, or decoding to more channels, another rate or a longer sound than a
        cue may have.
    """
    source = SoundFile(path=path, gain_db=gain_db, script_path=script_path, where=where)
    with _opened(source):
        pass
    return SoundFile(path.resolve(), gain_db, script_path, where)


@contextmanager
def _opened(source: SoundFile) -> Iterator[Any]:
    """The open sound of ``source`` (a ``soundfile.SoundFile``), its header checked. The file
    is opened without blocking and checked through its descriptor, so a file swapped since it
    was first checked is checked again."""
    import soundfile  # loads libsndfile: needed only for a user's sound file

    try:
        handle = open_regular(source.path, MAX_SOUND_FILE_BYTES, "a cue sound")
    except ScriptError as error:
        raise source.fault(_problem(source.path, error.message)) from None
    with handle:
        try:
            sound = soundfile.SoundFile(handle)
        except (RuntimeError, OSError) as exc:  # soundfile.LibsndfileError is a RuntimeError
            raise source.fault(f"cannot be read: {exc}") from None
        with sound:
            _check_header(source, sound.channels, sound.samplerate, sound.frames)
            yield sound


def _problem(path: Path, message: str) -> str:
    """A refusal of `loosen.files` in the words of a cue's message."""
    if not path.exists():
        return "does not exist"
    if message.startswith("the file is"):
        return f"is larger than {MAX_SOUND_FILE_BYTES // 2**20} MB"
    return message  # "is a folder, not a regular file", "cannot read: ..."


def _check_header(source: SoundFile, channels: int, rate_hz: int, frames: int) -> None:
    low_hz, high_hz = SOUND_FILE_RATES_HZ
    if frames <= 0:
        raise source.fault("is empty")
    if not 1 <= channels <= MAX_SOUND_FILE_CHANNELS:
        raise source.fault(f"has {channels} channels; a cue has at most {MAX_SOUND_FILE_CHANNELS}")
    if not low_hz <= rate_hz <= high_hz:
        raise source.fault(
            f"is sampled at {rate_hz} Hz; a cue is sampled at {low_hz} to {high_hz} Hz"
        )
    if frames > MAX_SOUND_FILE_S * rate_hz:
        raise source.fault(
            f"lasts {frames / rate_hz:.0f} s; a cue lasts at most {MAX_SOUND_FILE_S:.0f} s"
        )


def render_sound_file(source: SoundFile, sample_rate: int) -> Audio:
    """The cue sound of ``source`` at ``sample_rate`` Hz: mono float32, shape ``(n,)``, its
    leading and trailing silence trimmed (the onset is the cue's start), edges faded, peaking at
    ``source.gain_db`` dBFS, last sample exactly 0.

    Raises
    ------
    ScriptError
        Naming the script, its key and the file: it cannot be read (any more), breaks a limit,
        or is silent, not finite, or shorter than 10 ms once trimmed.
    """
    with _opened(source) as sound:
        mono = _mono_at(sound, sample_rate, source)
    peak = float(np.max(np.abs(mono), initial=0.0))
    if not math.isfinite(peak) or peak == 0.0:
        raise source.fault("is silent or not finite")
    loud = np.flatnonzero(np.abs(mono) >= _ONSET_FRACTION * peak)
    # a view of the samples read, changed in place from here: nothing more is allocated
    audio = mono[loud[0] : loud[-1] + 1]
    if len(audio) < sample_rate // 100:
        raise source.fault("is shorter than 10 ms")
    _fade_edges(audio, sample_rate // 1000, min(round(0.05 * sample_rate), len(audio) // 4))
    audio *= np.float32(10.0 ** (source.gain_db / 20.0) / float(np.max(np.abs(audio))))
    audio[-1] = 0.0  # the fade ends on 0; this also turns -0.0 into 0.0
    return audio


def _mono_at(sound: Any, sample_rate: int, source: SoundFile) -> Audio:
    """All of ``sound`` as mono float32 at ``sample_rate``, decoded block by block."""
    import soxr

    file_rate = int(sound.samplerate)
    expected = math.ceil(sound.frames * sample_rate / file_rate) + 64
    mono = np.empty(expected, np.float32)
    filled = 0
    stream = None if file_rate == sample_rate else soxr.ResampleStream(
        file_rate, sample_rate, 1, dtype="float32"
    )  # fmt: skip
    for block, last in _mono_blocks(sound, source):
        out = block if stream is None else stream.resample_chunk(block, last=last)
        if filled + len(out) > len(mono):  # soxr's output length is not exactly the ratio
            mono = np.concatenate([mono[:filled], np.empty(len(out) + 64, np.float32)])
        mono[filled : filled + len(out)] = out
        filled += len(out)
    return mono[:filled]


def _mono_blocks(sound: Any, source: SoundFile) -> Iterator[tuple[Audio, bool]]:
    """``sound``'s frames as mono float32 blocks (the mean of its channels), each with whether it
    is the last. A file that fails to decode, or ends before its header says, is damaged: a
    `ScriptError`, never a cue cut short."""
    buffer = np.empty((_BLOCK_FRAMES, sound.channels), np.float32)
    left = sound.frames
    while left > 0:
        try:
            read = sound.read(min(_BLOCK_FRAMES, left), dtype="float32", out=buffer)
        except (RuntimeError, OSError) as exc:
            raise source.fault(f"cannot be read: {exc}") from None
        if len(read) == 0:
            rate = sound.samplerate
            raise source.fault(
                f"cannot be read: it ends after {(sound.frames - left) / rate:.3g} s of the "
                f"{sound.frames / rate:.3g} s its header gives"
            )
        left -= len(read)
        yield read.mean(axis=1, dtype=np.float32), left <= 0


def _fade_edges(audio: Audio, attack_n: int, fade_n: int) -> None:
    """Fade ``audio`` in place: a quarter-sine attack from 0 over ``attack_n`` frames, a
    raised-cosine fade to exactly 0 over the last ``fade_n`` (the middle is left alone)."""
    n = len(audio)
    attack_n = max(1, min(attack_n, n // 2))
    audio[:attack_n] *= np.sin(0.5 * np.pi * np.arange(attack_n) / attack_n).astype(np.float32)
    fade_n = max(2, min(fade_n, n))
    fade = 0.5 * (1.0 + np.cos(np.pi * np.arange(fade_n) / (fade_n - 1)))
    audio[n - fade_n :] *= fade.astype(np.float32)
    audio[-1] = 0.0
