"""What an export measures after decoding, by ffmpeg's ebur128 meter: on the loudness target in
every format, under the true-peak ceiling, and a word when the target is out of reach."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app
from tests.tools import require

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
runner = CliRunner()


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS to 0.001, true peak in dBTP) of ``path`` decoded, as
    ffmpeg's ebur128 filter measures them (the summary rounds to 0.1: the last frame's
    metadata carries the same figures unrounded)."""
    run = subprocess.run(
        [require("ffmpeg"), "-nostats", "-hide_banner", "-i", str(path), "-af",
         "ebur128=peak=true:metadata=1,ametadata=print", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    loudness = re.findall(r"lavfi\.r128\.I=(\S+)", run.stderr)
    peak = re.findall(r"lavfi\.r128\.true_peak=(\S+)", run.stderr)
    assert loudness and peak, run.stderr[-2000:]
    return float(loudness[-1]), 20 * math.log10(float(peak[-1]))


def export(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *map(str, args)])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("extension", [".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a", ".m4b"])
@pytest.mark.parametrize(("channels", "target"), [(2, -16.0), (1, -19.0)])
def test_every_format_decodes_to_the_loudness_target_under_minus_1_dbtp(
    tmp_path: Path, extension: str, channels: int, target: float
) -> None:
    # the tiny session is mostly chimes and silence: its peaks need the export's limiter, and
    # the gain makes up for what the limiter and the encoder take
    out = tmp_path / f"tiny{extension}"
    code, err = export(TINY, "-o", out, "--channels", channels)
    assert code == 0, err
    assert "warning" not in err
    loudness, peak = ebur128(out)
    assert loudness == pytest.approx(target, abs=0.1)
    assert peak <= -1.0


def test_an_unreachable_target_is_written_as_close_as_the_ceiling_allows_and_said_so(
    tmp_path: Path,
) -> None:
    out = tmp_path / "loud.wav"
    code, err = export(TINY, "-o", out, "--loudness", "-5")
    assert code == 0, err
    (warning,) = [line for line in err.splitlines() if line.startswith("warning:")]
    said = re.search(r"loudness -5 LUFS is out of reach: the file will measure about (\S+) LUFS",
                     warning)  # fmt: skip
    assert said, warning
    assert "-1 dBTP" in warning
    loudness, peak = ebur128(out)
    assert loudness == pytest.approx(float(said[1]), abs=0.2)
    assert loudness < -6.0 and peak <= -1.0
