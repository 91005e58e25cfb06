import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from loosen.errors import BadInputError, ExportError
from loosen.export import FORMATS, check_output_path, export_blocks

RATE = 48_000


def tone_blocks(seconds: float = 2.0, block: int = 4096) -> Iterator[np.ndarray]:
    t = np.arange(round(seconds * RATE)) / RATE
    mono = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.repeat(mono[:, None], 2, axis=1)
    for start in range(0, len(stereo), block):
        yield stereo[start : start + block]


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("LOOSEN_REQUIRE_TOOLS"):
            pytest.fail(f"{tool} is required here (LOOSEN_REQUIRE_TOOLS is set)")
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_every_format_is_written_and_decodes_to_the_same_length(
    tmp_path: Path, extension: str
) -> None:
    out = tmp_path / f"session{extension}"
    export_blocks(tone_blocks(), out, sample_rate=RATE, channels=2)
    ffprobe = require("ffprobe")
    probe = subprocess.run(
        [ffprobe, "-v", "error", "-show_streams", "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (stream,) = json.loads(probe.stdout)["streams"]
    assert int(stream["sample_rate"]) == RATE
    assert int(stream["channels"]) == 2
    assert float(stream.get("duration", 2.0)) == pytest.approx(2.0, abs=0.1)
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_a_wav_export_keeps_every_frame(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    export_blocks(tone_blocks(1.5), out, sample_rate=RATE, channels=2)
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels, info.subtype) == (
        72_000,
        RATE,
        2,
        "PCM_16",
    )


def test_a_failure_midway_leaves_the_previous_file_intact_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    out.write_bytes(b"previous complete file")

    def failing() -> Iterator[np.ndarray]:
        yield from tone_blocks(0.5)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_blocks(failing(), out, sample_rate=RATE, channels=2)
    assert out.read_bytes() == b"previous complete file"
    assert list(tmp_path.iterdir()) == [out]


def test_a_write_error_becomes_an_export_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "session.wav"

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        export_blocks(tone_blocks(0.2), out, sample_rate=RATE, channels=2)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_exported_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    export_blocks(tone_blocks(0.1), out, sample_rate=RATE, channels=2)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("name", "message"),
    [("session.aiff", "cannot export to .aiff"), ("session", "no extension"),
     ("missing/session.wav", "does not exist")],
)  # fmt: skip
def test_bad_output_paths_are_refused_before_any_work(
    tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(BadInputError, match=message):
        check_output_path(tmp_path / name)


def test_a_folder_as_output_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out.wav"
    folder.mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        check_output_path(folder)
