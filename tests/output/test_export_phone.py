"""The phones' formats (`.m4a`, `.m4b`, `.opus`, through PyAV), read as their players read them:
chapters (ffprobe, and mutagen's Nero chpl or Vorbis comments) at the timeline's starts within
1 ms, tags, gapless audio (decoded, it is the WAV at lag 0, as long within one AAC frame), the
same bytes each time; and one line naming the extra when PyAV is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app
from tests.output.test_export_mp3 import decoded
from tests.tools import require, require_module

require_module("av")
HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
runner = CliRunner()
PHONE = [".m4a", ".m4b", ".opus"]


def export(*args: str | Path) -> None:
    result = runner.invoke(app, ["export", *map(str, args)])
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("phone")
    files = {}
    for extension in [".wav", *PHONE]:
        files[extension] = folder / f"tiny{extension}"
        export(TINY, "-o", files[extension], "--loudness", "off", "--timeline",
               folder / f"tiny{extension}.json")  # fmt: skip
    return files


@pytest.mark.parametrize("extension", PHONE)
def test_players_read_the_chapters_at_the_timelines_starts_and_the_tags(
    made: dict[str, Path], extension: str
) -> None:
    path = made[extension]
    timeline = json.loads(Path(f"{path}.json").read_text())
    starts = [s["start_s"] for s in timeline["steps"] if s["name"]]
    run = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_chapters", "-show_format", "-show_streams",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    probed = json.loads(run.stdout)
    chapters = probed["chapters"]
    assert [c["tags"]["title"] for c in chapters][:2] == ["welcome", "reach (right)"]
    assert len(chapters) == 6
    assert float(chapters[0]["start_time"]) == 0.0
    for chapter in chapters[1:]:
        assert min(abs(float(chapter["start_time"]) - s) for s in starts) < 0.001
    found = [probed["format"], *probed["streams"]]  # Ogg's comments are the stream's
    tags = {k.lower(): v for where in found for k, v in where.get("tags", {}).items()}
    assert tags["title"] == "Tiny"
    audio = mutagen.File(path)
    if extension == ".opus":
        assert audio.tags["CHAPTER002NAME"] == ["reach (right)"]
    else:
        read = [(round(c.start, 3), c.title) for c in audio.chapters]  # Nero's chpl
        assert len(read) == 6 and read[1][1] == "reach (right)"
        assert abs(read[1][0] - float(chapters[1]["start_time"])) < 0.001
        assert (audio.tags.get("stik") == [2]) == (extension == ".m4b")  # the audiobook kind


@pytest.mark.parametrize("extension", PHONE)
def test_decoded_it_is_the_wav_at_lag_zero_and_as_long_within_one_aac_frame(
    made: dict[str, Path], extension: str
) -> None:
    wav = sf.read(made[".wav"], dtype="float32")[0].mean(axis=1)
    audio = decoded(made[extension])
    assert 0 <= audio.size - wav.size < 1024  # Opus exactly; AAC its last frame's padding
    n = min(wav.size, audio.size)
    scores = {}
    for lag in (-2, -1, 0, 1, 2):
        a, b = wav[max(0, lag) : n + min(0, lag)], audio[max(0, -lag) : n - max(0, lag)]
        scores[lag] = float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))
    assert max(scores, key=scores.__getitem__) == 0 and scores[0] > 0.99


def test_an_m4a_notes_its_delay_padding_and_length_for_apple_players(
    made: dict[str, Path],
) -> None:
    note = mutagen.File(made[".m4a"]).tags["----:com.apple.iTunes:iTunSMPB"][0].decode()
    fields = note.split()
    samples = sf.info(made[".wav"]).frames
    assert int(fields[1], 16) == 1024 and int(fields[3], 16) == samples


@pytest.mark.parametrize("extension", PHONE)
def test_the_same_session_gives_the_same_bytes(
    made: dict[str, Path], extension: str, tmp_path: Path
) -> None:
    again = tmp_path / f"again{extension}"
    export(TINY, "-o", again, "--loudness", "off")
    assert again.read_bytes() == made[extension].read_bytes()


def test_an_opus_file_refuses_a_rate_opus_has_not_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(TINY), "-o", str(tmp_path / "t.opus"),
                                 "--sample-rate", "44100"])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: an Opus file cannot have 44100 Hz; use one of 8000, 12000, 16000, 24000, 48000"
    )


@pytest.mark.parametrize("extension", PHONE)
def test_without_pyav_the_format_says_how_to_install_it_in_one_line(
    tmp_path: Path, extension: str
) -> None:
    without_av = "import sys; sys.modules['av'] = None; from loosen.cli import main; main()"
    out = tmp_path / f"t{extension}"
    run = subprocess.run(
        [sys.executable, "-c", without_av, "export", str(TINY), "-o", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "Error: .m4a, .m4b and .opus files need PyAV (FFmpeg): pip install 'loosen[phone]'"
    )
    assert not out.exists()
