"""Content-addressed store of synthesized speech, safe for concurrent processes.

An entry is named by :func:`cache_key` of what shaped the audio (engine, voice, rate, text),
never by timing, so re-pacing a session re-uses every clip. Entry layout (little-endian)::

    magic b"LSPC" | version u16 | reserved u16 | sample_rate u32 | n_frames u64 | crc32 u32
    | key: the 32 bytes of the entry's own key
    payload: n_frames int16 samples (mono)

An entry proves it is the clip for its key: the key is stored inside and compared on reading,
so two entries swapped (or copied under another name) read as absent. The header is checked
before anything is allocated: a rate no engine speaks at, a length past what the reader allows,
or a size that disagrees with the file's reads as absent too. A missing, truncated, corrupted or
wrong entry is deleted and synthesized again. Writes go to a temporary file in the same
directory, then ``os.replace`` (`loosen.atomic`). Engines speak a text the same way every time
(espeak-ng from one state, `loosen.tts._worker`), so processes that write one entry at once
write the same bytes.

Beside the clips, the cache keeps what is worked out from them and is worth keeping (an "extra":
the loudness profile of a processed line, see `loosen.loudness.sources`), named by a key of its
own and a kind, in the same sharded folders::

    magic b"LSPX" | version u16 | reserved u16 | n_bytes u64 | crc32 u32 | key (32 bytes)
    | payload
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np

from loosen.atomic import atomic_file
from loosen.dsp import FULL_SCALE, to_pcm16
from loosen.tts.base import Clip

__all__ = ["CACHE_FORMAT_VERSION", "SpeechCache", "cache_key", "quantize"]

CACHE_FORMAT_VERSION = 2  # 2: espeak-ng speaks every text from one state; the key inside
_MAGIC = b"LSPC"
_HEADER = struct.Struct("<4sHHIQI32s")
_SUFFIX = ".clip"
_EXTRA_MAGIC = b"LSPX"
_EXTRA_HEADER = struct.Struct("<4sHHQI32s")
#: the rates (Hz) a stored clip may have: what speech engines speak at
MIN_CLIP_RATE_HZ, MAX_CLIP_RATE_HZ = 8_000, 96_000
STALE_TEMP_S = 600.0


def cache_key(engine: str, voice: str, rate_wpm: int, text: str, conditioning: str = "") -> str:
    """Hex SHA-256 naming the clip of ``text`` spoken by ``engine``/``voice`` at ``rate_wpm``,
    as ``conditioning`` (a `loosen.tts.speech.Conditioner`'s name) made it ready to mix."""
    settings: dict[str, object] = {
        "format": CACHE_FORMAT_VERSION,
        "engine": engine,
        "voice": voice,
        "rate_wpm": int(rate_wpm),
        "text": text,
    }
    if conditioning:
        settings["conditioning"] = conditioning
    canonical = json.dumps(
        settings,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _to_pcm16(clip: Clip) -> bytes:
    return to_pcm16(clip.samples).astype("<i2").tobytes()


def _from_pcm16(payload: bytes, sample_rate: int) -> Clip:
    pcm = np.frombuffer(payload, dtype="<i2")
    return Clip((pcm.astype(np.float32) / np.float32(FULL_SCALE)), sample_rate)


def quantize(clip: Clip) -> Clip:
    """``clip`` as the cache returns it: samples rounded to 16 bits (float32, same shape)."""
    return _from_pcm16(_to_pcm16(clip), clip.sample_rate)


def default_cache_root() -> Path:
    """``$LOOSEN_CACHE_DIR/speech`` if set, else the user cache directory's ``loosen/speech``."""
    from loosen.cache_dirs import cache_dir

    return cache_dir("speech")


class SpeechCache:
    """Clips on disk, one file per key, sharded by the key's first two hex digits.

    Parameters
    ----------
    root
        Directory of the cache; ``None`` for :func:`default_cache_root`. Created on first write.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()
        #: why entries are no longer written (the first write that failed), or None
        self.unwritable: str | None = None

    def path_for(self, key: str) -> Path:
        """File that holds (or would hold) the entry ``key``."""
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def get(
        self, key: str, *, sample_rate: int | None = None, max_frames: int | None = None
    ) -> Clip | None:
        """The clip stored under ``key`` (float32 mono), or ``None`` if absent, damaged or not
        the clip for ``key``. ``sample_rate``: the rate (Hz) the clip must have, if known;
        ``max_frames``: the most frames it may hold (checked before it is read)."""
        path = self.path_for(key)
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                header = handle.read(_HEADER.size)
                fields = _header_fields(header, key, size, sample_rate, max_frames)
                payload = handle.read() if fields is not None else b""
        except FileNotFoundError:
            return None
        except OSError:  # a folder, or unreadable: not an entry to trust, nor to delete
            return None
        clip = _decode(fields, payload)
        if clip is None:
            with contextlib.suppress(OSError):
                path.unlink()
        return clip

    def put(self, key: str, clip: Clip) -> None:
        """Store ``clip`` under ``key`` atomically; its samples are kept as 16-bit PCM."""
        payload = _to_pcm16(clip)
        header = _HEADER.pack(
            _MAGIC,
            CACHE_FORMAT_VERSION,
            0,
            clip.sample_rate,
            len(payload) // 2,
            zlib.crc32(payload),
            _key_id(key),
        )
        self._write(self.path_for(key), key, header, payload)

    def get_extra(self, key: str, kind: str) -> bytes | None:
        """The payload stored as ``kind`` (letters) under ``key``, or ``None`` if absent or
        damaged."""
        path = self._extra_path(key, kind)
        try:
            with path.open("rb") as handle:
                file_size = os.fstat(handle.fileno()).st_size
                crc = _extra_crc(handle.read(_EXTRA_HEADER.size), key, file_size)
                payload = handle.read() if crc is not None else b""
        except OSError:  # missing; or a folder, or unreadable: not an entry to trust
            return None
        if crc is not None and zlib.crc32(payload) == crc:
            return payload
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def put_extra(self, key: str, kind: str, payload: bytes) -> None:
        """Store ``payload`` as ``kind`` under ``key`` atomically."""
        header = _EXTRA_HEADER.pack(
            _EXTRA_MAGIC,
            CACHE_FORMAT_VERSION,
            0,
            len(payload),
            zlib.crc32(payload),
            _key_id(key),
        )
        self._write(self._extra_path(key, kind), key, header, payload)

    def _extra_path(self, key: str, kind: str) -> Path:
        if not kind.isalpha() or not kind.isascii():
            raise ValueError(f"not a kind of cache entry: {kind!r}")
        return self.path_for(key).with_suffix(f".{kind}")

    def _write(self, path: Path, key: str, header: bytes, payload: bytes) -> None:
        """Write an entry; a cache that cannot be written (read-only, a file, /dev/null, a full
        disk) is said once (`loosen.notices`) and no longer written: the session goes on."""
        if self.unwritable is not None:
            return
        try:
            self._write_entry(path, key, header, payload)
        except OSError as error:
            self.unwritable = error.strerror or str(error)
            from loosen.notices import notice

            notice(
                f"the speech cache at {self.root} cannot be written ({self.unwritable}); "
                "going on without keeping speech ($LOOSEN_CACHE_DIR names another folder)"
            )

    def _write_entry(self, path: Path, key: str, header: bytes, payload: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path.parent)
        # private, and not flushed to the disk: an entry checks itself when it is read
        with atomic_file(
            path, "wb", private=True, durable=False, prefix=f".{key[:16]}-", suffix=".tmp"
        ) as handle:
            handle.write(header)
            handle.write(payload)


def _remove_stale_temps(folder: Path) -> None:
    """Remove temporary files a writer killed outright (SIGKILL, power cut) left in ``folder``:
    those untouched for `STALE_TEMP_S` (a live writer finishes a clip in well under a second)."""
    cutoff = time.time() - STALE_TEMP_S
    for temp in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()


_Fields = tuple[int, int, int]  # sample rate, frames, crc32


def _key_id(key: str) -> bytes:
    """What an entry stores to prove it is the entry for ``key``: 32 bytes."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def _header_fields(
    header: bytes, key: str, size: int, sample_rate: int | None, max_frames: int | None
) -> _Fields | None:
    """The rate, length and checksum an entry's header gives, if it is a sane header of the
    entry for ``key`` in a file of ``size`` bytes; else None."""
    if len(header) < _HEADER.size:
        return None
    magic, version, _, rate, n_frames, crc, owner = _HEADER.unpack(header)
    if magic != _MAGIC or version != CACHE_FORMAT_VERSION or owner != _key_id(key):
        return None
    if not MIN_CLIP_RATE_HZ <= rate <= MAX_CLIP_RATE_HZ:
        return None
    if sample_rate is not None and rate != sample_rate:
        return None
    if max_frames is not None and n_frames > max_frames:
        return None
    if size != _HEADER.size + 2 * n_frames:
        return None
    return rate, n_frames, crc


def _extra_crc(header: bytes, key: str, file_size: int) -> int | None:
    """The checksum of an extra's payload, if ``header`` is a sane one of ``key``'s extra in
    a file of ``file_size`` bytes; else None."""
    if len(header) != _EXTRA_HEADER.size:
        return None
    magic, version, _, size, crc, owner = _EXTRA_HEADER.unpack(header)
    if (magic, version, owner) != (_EXTRA_MAGIC, CACHE_FORMAT_VERSION, _key_id(key)):
        return None
    return int(crc) if file_size == _EXTRA_HEADER.size + size else None


def _decode(fields: _Fields | None, payload: bytes) -> Clip | None:
    if fields is None:
        return None
    rate, n_frames, crc = fields
    if len(payload) != 2 * n_frames or zlib.crc32(payload) != crc:
        return None
    return _from_pcm16(payload, rate)
