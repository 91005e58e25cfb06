"""`loosen sounds --export`: a cue's sound, a recipe or an ambience, written to a file."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app
from loosen.sound.cues import load_cue_set, render_cue

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_a_cue_kinds_sound_is_written_as_a_session_plays_it(tmp_path: Path) -> None:
    out = tmp_path / "end.wav"
    code, _, err = run("sounds", "--export", "hold_end", "-o", out)
    assert code == 0, err
    assert err.strip() == f"Wrote {out}"
    written, rate = sf.read(out, dtype="float32")
    assert (rate, sf.info(out).subtype) == (48_000, "PCM_16")
    expected = render_cue("hold_end", load_cue_set(), 48_000)
    assert np.max(np.abs(written - expected)) < 1 / 2**15


def test_an_ambience_is_written_as_ten_seconds_in_stereo(tmp_path: Path) -> None:
    out = tmp_path / "surf.flac"
    code, _, err = run("sounds", "--export", "surf", "-o", out)
    assert code == 0, err
    info = sf.info(out)
    assert (info.channels, info.duration) == (2, 10.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--export", "gong", "-o", "x.wav"], "no sound named 'gong'; cue kinds: hold_start"),
        (["--export", "bowl-low"], "--export bowl-low: name the file to write with -o FILE.wav"),
        (["--export", "bowl-low", "-o", "x.mp3"], "x.mp3: a sound is written as .wav or .flac"),
        (["--play", "bowl-low", "--export", "bowl-low"], "choose one of --play and --export"),
        (["-o", "x.wav"], "-o goes with --export"),
    ],
)
def test_a_bad_sound_request_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("sounds", *args)
    assert code == 2
    assert err.startswith(f"Error: {message}"), err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
