"""An MP3 export as players read it: its info frame (Xing and LAME tags) gives the exact
length and the encoder's delay, so it decodes to the WAV's samples, in place and no longer."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app
from loosen.output.lame_tag import FrameHeader, StreamLog, crc16
from tests.tools import require

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000
DECODER_DELAY = 529  # what every MP3 decoder adds to the encoder's delay
runner = CliRunner()


def export(*args: str | Path) -> str:
    result = runner.invoke(app, ["export", *map(str, args)])
    assert result.exit_code == 0, result.stderr
    return result.stderr


def decoded(path: Path) -> np.ndarray:
    """``path`` decoded by ffmpeg: float32, mono, shape (frames,)."""
    run = subprocess.run(
        [require("ffmpeg"), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(run.stdout, np.float32)


def probe(path: Path, *options: str) -> dict:
    run = subprocess.run(
        [require("ffprobe"), "-v", "error", *options, "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """The tiny session as WAV and MP3 (both mono, so both have the same loudness target),
    and its timeline."""
    folder = tmp_path_factory.mktemp("mp3")
    wav, mp3, timeline = folder / "tiny.wav", folder / "tiny.mp3", folder / "tiny.json"
    export(TINY, "-o", wav, "--channels", "1", "--timeline", timeline)
    export(TINY, "-o", mp3, "--channels", "1")
    return wav, mp3, json.loads(timeline.read_text())


def test_an_mp3_export_decodes_to_the_wavs_length_with_each_chime_in_place(
    exported: tuple[Path, Path, dict],
) -> None:
    wav, mp3, timeline = exported
    original, _ = sf.read(wav, dtype="float32")
    heard = decoded(mp3)
    assert abs(len(heard) - len(original)) < 1152  # within one frame: here exactly
    assert len(heard) == len(original)
    chimes = [e["start_s"] for e in timeline["events"] if e["kind"] == "chime"]
    for start_s in chimes[:3]:
        start = round(start_s * RATE)
        stretch = original[start - RATE // 20 : start + RATE // 2]
        search = RATE // 50  # 20 ms either way: a missing encoder delay would be 23 ms
        around = heard[start - RATE // 20 - search : start + RATE // 2 + search]
        fit = np.correlate(around, stretch, "valid")
        lag = int(np.argmax(fit)) - search
        assert abs(lag) <= RATE // 1000, f"the chime at {start_s} s is {lag} samples off"


def test_ffprobe_and_mutagen_read_its_length_and_encoder_delay_from_the_info_frame(
    exported: tuple[Path, Path, dict],
) -> None:
    wav, mp3, _ = exported
    frames = sf.info(wav).frames
    info = mutagen.mp3.MP3(mp3).info
    assert info.length == pytest.approx(frames / RATE, abs=1e-9)  # delay and padding taken off
    assert info.bitrate_mode == mutagen.mp3.BitrateMode.VBR
    assert info.encoder_info == "LAME 3.100.0+"
    # the audio: the cover is a stream too
    (stream,) = probe(mp3, "-count_packets", "-show_streams", "-select_streams", "a")["streams"]
    assert stream["tags"]["encoder"] == "LAME3.100"  # ffmpeg names it only if its CRC holds
    # ffmpeg skips the delay when it decodes (its start time) and counts whole frames in its
    # duration: so it read the frame count, not a guess from the first frame's bitrate
    assert float(stream["start_time"]) == pytest.approx((576 + DECODER_DELAY) / RATE, abs=1e-6)
    audio_frames = int(stream["nb_read_packets"])
    assert float(stream["duration"]) == pytest.approx(audio_frames * 1152 / RATE, abs=1e-6)
    assert 0 <= float(stream["duration"]) - frames / RATE < 2 * 1152 / RATE


def test_its_chapters_come_in_order_at_the_steps_starts(exported: tuple[Path, Path, dict]) -> None:
    wav, mp3, _ = exported
    in_wav, in_mp3 = (probe(path, "-show_chapters")["chapters"] for path in (wav, mp3))
    titles = [chapter["tags"]["title"] for chapter in in_mp3]
    assert titles == [chapter["tags"]["title"] for chapter in in_wav]
    assert titles[:3] == ["welcome", "reach (right)", "reach (left)"]
    starts = [float(chapter["start_time"]) for chapter in in_mp3]
    assert starts == sorted(starts)
    for ours, theirs in zip(in_mp3, in_wav, strict=True):
        assert float(ours["start_time"]) == pytest.approx(float(theirs["start_time"]), abs=1e-3)


def _slow_crc16(data: bytes) -> int:
    """CRC-16/ARC bit by bit, as its definition says."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_the_info_frame_counts_every_frame_and_byte_and_its_checksums_hold(
    exported: tuple[Path, Path, dict],
) -> None:
    _, mp3, _ = exported
    data = mp3.read_bytes()
    assert data[:3] == b"ID3"  # the tags and chapters come first
    tag_bytes = 0
    for byte in data[6:10]:  # a syncsafe size: seven bits a byte
        tag_bytes = tag_bytes << 7 | byte
    stream = data[10 + tag_bytes :]
    first = FrameHeader.parse(int.from_bytes(stream[:4], "big"))
    xing = 4 + first.side_info_bytes
    assert stream[xing : xing + 4] == b"Xing"
    frames, total = (int.from_bytes(stream[xing + at : xing + at + 4], "big") for at in (8, 12))
    toc = list(stream[xing + 16 : xing + 116])
    lame = xing + 120
    assert stream[lame : lame + 9] == b"LAME3.100"
    audio = stream[first.frame_bytes :]
    (packets,) = probe(mp3, "-count_packets", "-show_streams", "-select_streams", "a")["streams"]
    assert frames == int(packets["nb_read_packets"])
    assert total == len(stream) == int.from_bytes(stream[lame + 28 : lame + 32], "big")
    assert toc[0] == 0 and toc == sorted(toc) and toc[-1] > 240
    delay_padding = int.from_bytes(stream[lame + 21 : lame + 24], "big")
    assert delay_padding >> 12 == 576
    assert int.from_bytes(stream[lame + 32 : lame + 34], "big") == _slow_crc16(audio)
    assert int.from_bytes(stream[lame + 34 : lame + 36], "big") == _slow_crc16(stream[: lame + 34])


def test_the_crc_is_crc16_arc_however_long_the_data_and_wherever_it_continues() -> None:
    assert crc16(b"123456789") == 0xBB3D  # the catalogue's check value
    generator = random.Random(7)
    for length in (0, 1, 4095, 4096, 4097, 50_000):
        data = generator.randbytes(length)
        assert crc16(data) == _slow_crc16(data)
        cut = length // 3
        assert crc16(data[cut:], crc16(data[:cut])) == _slow_crc16(data)


def _frame(kbps_index: int, padding: int) -> bytes:
    """A silent MPEG-1 Layer III frame at 48 kHz, mono: header, then zeros."""
    raw = 0xFFFB0000 | kbps_index << 12 | 1 << 10 | padding << 9 | 3 << 6
    return raw.to_bytes(4, "big") + bytes(FrameHeader.parse(raw).frame_bytes - 4)


def test_a_long_stream_is_read_in_pieces_of_any_size_in_bounded_memory() -> None:
    generator = random.Random(3)
    frames = [_frame(generator.randint(1, 14), generator.randint(0, 1)) for _ in range(20_000)]
    stream = b"".join(frames)
    log = StreamLog()
    at = 0
    while at < len(stream):  # pieces that cut headers apart too
        size = generator.choice([1, 2, 3, 5, 700, 4000])
        log.feed(stream[at : at + size])
        at += size
    log.finish()
    assert (log.frames, log.bytes, log.crc) == (20_000, len(stream), crc16(stream))
    assert len(log.seek_points) <= 512
    offsets = np.cumsum([0] + [len(frame) for frame in frames])
    for percent, entry in enumerate(log.table_of_contents()):
        exact = 256 * offsets[percent * 20_000 // 100] / len(stream)
        assert exact - 2 <= entry <= exact  # a 256th, and its rounding down


def test_a_sample_rate_an_mp3_cannot_have_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "session.mp3"
    out.write_bytes(b"previous")
    result = runner.invoke(app, ["export", str(TINY), "-o", str(out), "--sample-rate", "96000"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: an MP3 cannot have 96000 Hz; "
        "use one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000"
    )
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["session.mp3"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own (tmpfs; needs root), unmounted afterwards."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mount.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_ends_an_mp3_export_in_one_line_and_leaves_the_previous_file(
    small_disk: Path, tmp_path: Path
) -> None:
    out = small_disk / "session.mp3"
    out.write_bytes(b"the previous export")
    ballast = small_disk / "ballast"
    ballast.write_bytes(bytes(1024 * 1024 - 64 * 1024))  # leaves less than the MP3 takes
    export = subprocess.run(
        [sys.executable, "-m", "loosen", "export", str(TINY), "-o", str(out)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LOOSEN_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert export.returncode == 1
    assert export.stderr.strip() == (
        f"Error: {out}: could not write the file: No space left on device"
    )
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast", "session.mp3"]
