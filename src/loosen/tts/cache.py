"""Content-addressed store of synthesized speech, safe for concurrent processes.

An entry is named by :func:`cache_key` of what shaped the audio (engine, voice, rate, text),
never by timing, so re-pacing a session re-uses every clip. Entry layout (little-endian)::

    magic b"LSPC" | version u16 | reserved u16 | sample_rate u32 | n_frames u64 | crc32 u32
    payload: n_frames int16 samples (mono)

A missing, truncated or corrupted entry reads as absent (and is deleted), so it is synthesized
again. Writes go to a temporary file in the same directory, then ``os.replace``.

Beside the clips, the cache keeps what is worked out from them and is worth keeping (an "extra":
the loudness profile of a processed line, see `loosen.source_loudness`), named by a key of its
own and a kind, in the same sharded folders::

    magic b"LSPX" | version u16 | reserved u16 | n_bytes u64 | crc32 u32 | payload
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from loosen.pcm import FULL_SCALE, to_pcm16
from loosen.tts.base import Clip

__all__ = ["CACHE_FORMAT_VERSION", "SpeechCache", "cache_key", "quantize"]

CACHE_FORMAT_VERSION = 1
_MAGIC = b"LSPC"
_HEADER = struct.Struct("<4sHHIQI")
_SUFFIX = ".clip"
_EXTRA_MAGIC = b"LSPX"
_EXTRA_HEADER = struct.Struct("<4sHHQI")
_REPLACE_TRIES = 20
STALE_TEMP_S = 600.0


def cache_key(engine: str, voice: str, rate_wpm: int, text: str) -> str:
    """Hex SHA-256 naming the clip of ``text`` spoken by ``engine``/``voice`` at ``rate_wpm``."""
    canonical = json.dumps(
        {
            "format": CACHE_FORMAT_VERSION,
            "engine": engine,
            "voice": voice,
            "rate_wpm": int(rate_wpm),
            "text": text,
        },
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
    base = os.environ.get("LOOSEN_CACHE_DIR")
    if base:
        return Path(base).expanduser() / "speech"
    import platformdirs

    return Path(platformdirs.user_cache_dir("loosen")) / "speech"


class SpeechCache:
    """Clips on disk, one file per key, sharded by the key's first two hex digits.

    Parameters
    ----------
    root
        Directory of the cache; ``None`` for :func:`default_cache_root`. Created on first write.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()

    def path_for(self, key: str) -> Path:
        """File that holds (or would hold) the entry ``key``."""
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def get(self, key: str) -> Clip | None:
        """The clip stored under ``key`` (float32 mono), or ``None`` if absent or damaged."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        clip = _decode(data)
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
        )
        self._write(self.path_for(key), key, header, payload)

    def get_extra(self, key: str, kind: str) -> bytes | None:
        """The payload stored as ``kind`` (letters) under ``key``, or ``None`` if absent or
        damaged."""
        path = self._extra_path(key, kind)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        payload = data[_EXTRA_HEADER.size :]
        if len(data) >= _EXTRA_HEADER.size:
            magic, version, _, size, crc = _EXTRA_HEADER.unpack_from(data)
            expected = (_EXTRA_MAGIC, CACHE_FORMAT_VERSION, len(payload), zlib.crc32(payload))
            if (magic, version, size, crc) == expected:
                return payload
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def put_extra(self, key: str, kind: str, payload: bytes) -> None:
        """Store ``payload`` as ``kind`` under ``key`` atomically."""
        header = _EXTRA_HEADER.pack(
            _EXTRA_MAGIC, CACHE_FORMAT_VERSION, 0, len(payload), zlib.crc32(payload)
        )
        self._write(self._extra_path(key, kind), key, header, payload)

    def _extra_path(self, key: str, kind: str) -> Path:
        if not kind.isalpha() or not kind.isascii():
            raise ValueError(f"not a kind of cache entry: {kind!r}")
        return self.path_for(key).with_suffix(f".{kind}")

    def _write(self, path: Path, key: str, header: bytes, payload: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path.parent)
        fd, temp_name = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(header)
                handle.write(payload)
            _replace(Path(temp_name), path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temp_name).unlink()
            raise


def _remove_stale_temps(folder: Path) -> None:
    """Remove temporary files a writer killed outright (SIGKILL, power cut) left in ``folder``:
    those untouched for `STALE_TEMP_S` (a live writer finishes a clip in well under a second)."""
    cutoff = time.time() - STALE_TEMP_S
    for temp in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()


def _replace(source: Path, target: Path) -> None:
    """Atomically move ``source`` over ``target``: readers see the old entry or the new one."""
    for _ in range(_REPLACE_TRIES - 1):
        try:
            source.replace(target)
        except PermissionError:
            # Windows refuses while another process has the target open; it soon closes it.
            time.sleep(0.01)
        else:
            return
    source.replace(target)


def _decode(data: bytes) -> Clip | None:
    if len(data) < _HEADER.size:
        return None
    magic, version, _, sample_rate, n_frames, crc = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if magic != _MAGIC or version != CACHE_FORMAT_VERSION or sample_rate <= 0:
        return None
    if len(payload) != 2 * n_frames or zlib.crc32(payload) != crc:
        return None
    return _from_pcm16(payload, sample_rate)
