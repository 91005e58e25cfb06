"""The speech cache returns exactly what was stored, or nothing: never a damaged clip."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loosen.tts import Clip, SpeechCache, cache_key
from loosen.tts.cache import STALE_TEMP_S, default_cache_root, quantize

KEY = cache_key("pyttsx3", "en-us", 150, "Breathe in.")


def tone(n_frames: int = 2205, sample_rate: int = 22050, amplitude: float = 0.5) -> Clip:
    t_s = np.arange(n_frames) / sample_rate
    return Clip((amplitude * np.sin(2 * np.pi * 440 * t_s)).astype(np.float32), sample_rate)


def test_the_cache_key_format_is_stable_so_existing_caches_stay_valid() -> None:
    # format 2: every text spoken from one state, so the clips of format 1 are not reused
    assert KEY == "ad356b6f9d477dc3ece4b9a5a215a6a32b7fc7c0166f7fbcef40877292388097"


def test_the_cache_key_is_a_sha256_of_every_setting() -> None:
    assert len(KEY) == 64
    assert int(KEY, 16) >= 0
    assert cache_key("pyttsx3", "en-us", 150, "Breathe in.") == KEY
    others = {
        cache_key("espeak", "en-us", 150, "Breathe in."),
        cache_key("pyttsx3", "en-us+f3", 150, "Breathe in."),
        cache_key("pyttsx3", "en-us", 151, "Breathe in."),
        cache_key("pyttsx3", "en-us", 150, "Breathe in"),
    }
    assert KEY not in others
    assert len(others) == 4


def test_a_clip_round_trips_through_the_cache(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    clip = tone()
    cache.put(KEY, clip)
    stored = cache.get(KEY)
    assert stored is not None
    assert stored == quantize(clip)
    assert stored.samples.dtype == np.float32
    np.testing.assert_allclose(stored.samples, clip.samples, atol=1 / 32768)


@settings(max_examples=40, deadline=None)
@given(
    samples=hnp.arrays(
        np.float32,
        st.integers(0, 3000),
        elements=st.floats(-1.0, 1.0, width=32, allow_nan=False),
    ),
    sample_rate=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
)
def test_any_clip_comes_back_within_16_bit_precision(
    tmp_path_factory: pytest.TempPathFactory, samples: np.ndarray, sample_rate: int
) -> None:
    cache = SpeechCache(tmp_path_factory.mktemp("cache"))
    cache.put(KEY, Clip(samples, sample_rate))
    stored = cache.get(KEY)
    assert stored is not None
    assert stored.sample_rate == sample_rate
    assert stored.n_frames == samples.shape[0]
    np.testing.assert_allclose(stored.samples, samples, atol=1 / 32768)
    assert quantize(stored) == stored


def test_a_missing_entry_reads_as_none(tmp_path: Path) -> None:
    assert SpeechCache(tmp_path).get(KEY) is None


def test_entries_are_sharded_by_the_first_two_hex_digits(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, tone())
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()] == [
        Path(KEY[:2]) / f"{KEY}.clip"
    ]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:-1], id="truncated payload"),
        pytest.param(lambda data: data[:10], id="truncated header"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:-2] + bytes([data[-2] ^ 0x40]) + data[-1:], id="bit flip"),
        pytest.param(lambda data: b"XXXX" + data[4:], id="bad magic"),
        pytest.param(lambda data: data[:4] + b"\x09\x00" + data[6:], id="future version"),
        pytest.param(lambda data: data + b"\x00\x00", id="trailing bytes"),
    ],
)
def test_a_damaged_entry_reads_as_none_and_is_deleted(tmp_path: Path, damage: object) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, tone())
    path = cache.path_for(KEY)
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get(KEY) is None
    assert not path.exists()
    cache.put(KEY, tone())
    assert cache.get(KEY) == quantize(tone())


def test_an_extra_is_kept_beside_its_clip_and_comes_back_byte_for_byte(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    payload = bytes(range(256)) * 3
    assert cache.get_extra(KEY, "kprofile") is None
    cache.put_extra(KEY, "kprofile", payload)
    assert cache.get_extra(KEY, "kprofile") == payload
    assert cache.get(KEY) is None  # an extra is not a clip
    assert cache.path_for(KEY).with_suffix(".kprofile").is_file()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:10], id="truncated header"),
        pytest.param(lambda data: data[:-1], id="truncated payload"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 0x01]), id="bit flip"),
        pytest.param(lambda data: b"LSPC" + data[4:], id="a clip's magic"),
    ],
)
def test_a_damaged_extra_reads_as_none_and_is_deleted(tmp_path: Path, damage: object) -> None:
    cache = SpeechCache(tmp_path)
    cache.put_extra(KEY, "kprofile", b"profile bytes")
    path = cache.path_for(KEY).with_suffix(".kprofile")
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get_extra(KEY, "kprofile") is None
    assert not path.exists()


def test_an_extra_kind_is_letters_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        SpeechCache(tmp_path).put_extra(KEY, "../clip", b"")


def test_concurrent_writers_in_threads_never_expose_a_partial_entry(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    clips = [tone(n_frames=20000 + 1000 * i, amplitude=0.1 * (i + 1)) for i in range(4)]
    expected = [quantize(clip) for clip in clips]
    stop = threading.Event()
    seen: list[Clip | None] = []

    def write(clip: Clip) -> None:
        for _ in range(40):
            cache.put(KEY, clip)

    def read() -> None:
        while not stop.is_set():
            seen.append(cache.get(KEY))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(clip,)) for clip in clips]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stop.set()
    reader.join()
    assert any(clip is not None for clip in seen)
    assert all(clip is None or clip in expected for clip in seen)
    assert cache.get(KEY) in expected
    assert [p.name for p in cache.path_for(KEY).parent.iterdir()] == [f"{KEY}.clip"]


def write_entries(root: str, amplitude: float, count: int) -> None:
    cache = SpeechCache(Path(root))
    for _ in range(count):
        cache.put(KEY, tone(n_frames=40000, amplitude=amplitude))


def test_two_processes_writing_the_same_entry_leave_one_whole_entry(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=write_entries, args=(str(tmp_path), amplitude, 60))
        for amplitude in (0.25, 0.75)
    ]
    for writer in writers:
        writer.start()
    cache = SpeechCache(tmp_path)
    valid = {quantize(tone(n_frames=40000, amplitude=a)).samples.tobytes() for a in (0.25, 0.75)}
    while any(writer.is_alive() for writer in writers):
        stored = cache.get(KEY)
        assert stored is None or stored.samples.tobytes() in valid
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    final = cache.get(KEY)
    assert final is not None
    assert final.samples.tobytes() in valid


def test_the_default_root_follows_loosen_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOSEN_CACHE_DIR", str(tmp_path))
    assert SpeechCache().root == tmp_path / "speech"
    monkeypatch.delenv("LOOSEN_CACHE_DIR")
    assert default_cache_root().parts[-2:] == ("loosen", "speech")


def test_a_key_that_is_not_hex_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a cache key"):
        SpeechCache(tmp_path).get("../../etc/passwd")


def test_temporary_files_left_by_a_killed_writer_are_removed_later(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    key = cache_key("fake", "v", 150, "Hello.")
    folder = cache.path_for(key).parent
    folder.mkdir(parents=True)
    stale, fresh = folder / ".0123456789abcdef-old.tmp", folder / ".0123456789abcdef-new.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    long_ago = time.time() - 2 * STALE_TEMP_S
    os.utime(stale, (long_ago, long_ago))
    cache.put(key, Clip(np.zeros(10, np.float32), 22050))
    assert not stale.exists()
    assert fresh.exists()  # perhaps another process's, still at work


OTHER = cache_key("pyttsx3", "en-us", 150, "Breathe out.")


def test_two_entries_swapped_are_not_taken_for_each_other(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, tone(2205))
    cache.put(OTHER, tone(4410))
    first, second = cache.path_for(KEY), cache.path_for(OTHER)
    first_bytes, second_bytes = first.read_bytes(), second.read_bytes()
    first.write_bytes(second_bytes)
    second.write_bytes(first_bytes)
    assert cache.get(KEY) is None and cache.get(OTHER) is None  # each proves whose it is


def forged(cache: SpeechCache, key: str, *, rate_hz: int, n_frames: int, payload: bytes) -> None:
    """An entry whose header says what it likes, with the right key and checksum."""
    import struct
    import zlib

    from loosen.tts.cache import CACHE_FORMAT_VERSION, _key_id

    header = struct.pack(
        "<4sHHIQI32s", b"LSPC", CACHE_FORMAT_VERSION, 0, rate_hz, n_frames, zlib.crc32(payload),
        _key_id(key),
    )  # fmt: skip
    path = cache.path_for(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + payload)


@pytest.mark.parametrize("rate_hz", [1, 4000, 1_000_000])
def test_an_entry_at_a_rate_no_voice_speaks_is_refused_before_it_is_read(
    tmp_path: Path, rate_hz: int
) -> None:
    cache = SpeechCache(tmp_path)
    forged(cache, KEY, rate_hz=rate_hz, n_frames=100, payload=bytes(200))
    assert cache.get(KEY) is None
    assert not cache.path_for(KEY).exists()


def test_an_entry_at_another_rate_than_the_engines_is_refused(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    forged(cache, KEY, rate_hz=8000, n_frames=100, payload=bytes(200))
    assert cache.get(KEY, sample_rate=22050) is None


def test_an_entry_that_claims_more_frames_than_allowed_is_refused_unread(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, tone(22050))
    assert cache.get(KEY, max_frames=22049) is None
    # a header that lies about the length: refused from the file's size, nothing allocated
    forged(cache, KEY, rate_hz=22050, n_frames=2**40, payload=bytes(200))
    assert cache.get(KEY) is None


def test_a_folder_or_an_unreadable_file_in_place_of_an_entry_reads_as_absent(
    tmp_path: Path,
) -> None:
    cache = SpeechCache(tmp_path)
    cache.path_for(KEY).mkdir(parents=True)
    assert cache.get(KEY) is None
    assert cache.get_extra(KEY, "loud") is None
