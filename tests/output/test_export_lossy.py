"""What a listener's OGG or MP3 export is: mono when both channels would be the same (unless
asked otherwise), stereo with an ambience, and as big as its ``--quality`` says."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mutagen.mp3
import pytest
from typer.testing import CliRunner

from loosen.cli import app
from tests.output.test_export_loudness import ebur128
from tests.tools import require

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
runner = CliRunner()


def export(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *map(str, args)])
    return result.exit_code, result.stderr


def stream_of(path: Path) -> dict:
    run = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_streams", "-show_format", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = json.loads(run.stdout)
    (stream,) = [s for s in found["streams"] if s["codec_type"] == "audio"]  # (MP4: chapters)
    return stream | {"format_bit_rate": int(found["format"]["bit_rate"])}


@pytest.mark.parametrize("extension", [".ogg", ".mp3", ".opus", ".m4a"])
def test_a_lossy_export_of_a_session_without_ambience_is_mono_at_the_mono_target(
    tmp_path: Path, extension: str
) -> None:
    out = tmp_path / f"tiny{extension}"
    code, err = export(TINY, "-o", out)
    assert code == 0, err
    assert "mono: both channels are the same" in err
    assert int(stream_of(out)["channels"]) == 1
    loudness, peak = ebur128(out)
    assert loudness == pytest.approx(-19.0, abs=0.1)  # sounds as loud as -16 in stereo
    assert peak <= -1.0


@pytest.mark.parametrize("extension", [".ogg", ".mp3", ".opus", ".m4a"])
def test_a_lossy_export_is_stereo_when_asked_on_the_command_line_or_in_the_config(
    tmp_path: Path, extension: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / f"asked{extension}"
    code, err = export(TINY, "-o", out, "--channels", "2")
    assert code == 0, err
    assert "2 ch" in err and "mono" not in err
    assert int(stream_of(out)["channels"]) == 2
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text("channels = 2\n", encoding="utf-8")
    monkeypatch.setenv("LOOSEN_CONFIG_DIR", str(config))
    code, err = export(TINY, "-o", out)
    assert code == 0, err
    assert int(stream_of(out)["channels"]) == 2


@pytest.mark.parametrize("extension", [".ogg", ".mp3", ".opus", ".m4a"])
def test_a_lossy_export_with_an_ambience_stays_stereo(tmp_path: Path, extension: str) -> None:
    out = tmp_path / f"ambient{extension}"
    code, err = export(TINY, "-o", out, "--ambience", "brown-noise")
    assert code == 0, err
    assert "2 ch" in err
    assert int(stream_of(out)["channels"]) == 2


@pytest.mark.parametrize("extension", [".wav", ".flac"])
def test_a_lossless_export_stays_stereo_by_default(tmp_path: Path, extension: str) -> None:
    out = tmp_path / f"tiny{extension}"
    code, err = export(TINY, "-o", out)
    assert code == 0, err
    assert int(stream_of(out)["channels"]) == 2


def test_each_quality_of_an_mp3_is_its_vbr_setting_and_a_bigger_file_than_the_one_below(
    tmp_path: Path,
) -> None:
    bitrates = []
    for quality, vbr in (("low", 7), ("standard", 4), ("high", 2)):
        out = tmp_path / f"{quality}.mp3"
        code, err = export(TINY, "-o", out, "--quality", quality)
        assert code == 0, err
        info = mutagen.mp3.MP3(out).info
        assert info.bitrate_mode == mutagen.mp3.BitrateMode.VBR
        assert info.encoder_settings == f"-V {vbr}"  # from the info frame's LAME tag
        bitrates.append(int(stream_of(out)["bit_rate"]))
    assert bitrates == sorted(bitrates) and len(set(bitrates)) == 3
    default = tmp_path / "default.mp3"
    assert export(TINY, "-o", default)[0] == 0
    assert int(stream_of(default)["bit_rate"]) == bitrates[1]  # standard is the default


def test_each_quality_of_an_ogg_gives_a_bigger_file_than_the_one_below(tmp_path: Path) -> None:
    bitrates = []
    for quality in ("low", "standard", "high"):
        out = tmp_path / f"{quality}.ogg"
        code, err = export(TINY, "-o", out, "--quality", quality)
        assert code == 0, err
        bitrates.append(stream_of(out)["format_bit_rate"])
    assert bitrates == sorted(bitrates) and len(set(bitrates)) == 3


@pytest.mark.parametrize("extension", [".ogg", ".mp3", ".opus", ".m4a"])
@pytest.mark.parametrize("quality", ["low", "high"])
def test_every_quality_decodes_to_the_loudness_target(
    tmp_path: Path, extension: str, quality: str
) -> None:
    out = tmp_path / f"tiny{extension}"
    code, err = export(TINY, "-o", out, "--quality", quality)
    assert code == 0, err
    loudness, peak = ebur128(out)
    assert loudness == pytest.approx(-19.0, abs=0.1)
    assert peak <= -1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.wav", "--quality", "high"],
         "--quality high: goes with .ogg, .opus, .mp3, .m4a and .m4b files; WAV is lossless"),
        (["-o", "x.flac", "--quality", "low"],
         "--quality low: goes with .ogg, .opus, .mp3, .m4a and .m4b files; FLAC is lossless"),
        (["--quality", "low"],
         "--quality low: goes with .ogg, .opus, .mp3, .m4a and .m4b files; WAV is lossless"),
        (["-o", "x.mp3", "--quality", "best"], "--quality best: choose low, standard or high"),
        (["-o", "parts", "--split", "--format", "flac", "--quality", "high"],
         "--quality high: goes with .ogg, .opus, .mp3, .m4a and .m4b files; FLAC is lossless"),
    ],
)  # fmt: skip
def test_a_quality_the_format_does_not_take_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = export(TINY, *args)
    assert code == 2
    assert err.strip() == f"Error: {message}"
    assert list(tmp_path.iterdir()) == []
