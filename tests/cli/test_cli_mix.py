"""The mix through the command line: a script's ambience is heard, a bad one (the script's or
an option's) is refused naming where it was written, and OGG exports repeat byte for byte."""

from pathlib import Path

import numpy as np
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
runner = CliRunner()

SAY = '[[steps]]\nkind = "say"\ntext = "Hello."\n'


def test_a_scripts_own_ambience_is_in_the_export(tmp_path: Path) -> None:
    script = tmp_path / "bed.toml"
    script.write_text(f'title = "Bed"\n[mix]\nambience = "surf"\n{SAY}')
    out = tmp_path / "bed.wav"
    result = runner.invoke(app, ["export", str(script), "-o", str(out), "--loudness", "off"])
    assert result.exit_code == 0, result.stderr
    audio, _ = sf.read(out)
    assert not np.array_equal(audio[:, 0], audio[:, 1])  # the bed differs between channels
    plain = runner.invoke(
        app, ["export", str(script), "-o", str(tmp_path / "p.wav"), "--ambience", "none"]
    )
    assert plain.exit_code == 0
    audio, _ = sf.read(tmp_path / "p.wav")
    assert np.array_equal(audio[:, 0], audio[:, 1])


def test_an_unknown_ambience_in_a_script_names_the_script_and_its_key(tmp_path: Path) -> None:
    script = tmp_path / "rain.toml"
    script.write_text(f'title = "Rain"\n[mix]\nambience = "rain"\n{SAY}')
    result = runner.invoke(app, ["export", str(script), "-o", str(tmp_path / "r.wav")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {script}: mix.ambience: unknown ambience 'rain'")
    assert not (tmp_path / "r.wav").exists()


def test_an_unknown_ambience_option_is_blamed_on_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(TINY), "-o", str(tmp_path / "t.wav"),
                                 "--ambience", "rain"])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --ambience rain: unknown ambience 'rain'")
    assert str(TINY) not in result.stderr


def test_an_ogg_export_is_the_same_file_every_time(tmp_path: Path) -> None:
    for name in ("a.ogg", "b.ogg"):
        result = runner.invoke(app, ["export", str(TINY), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.ogg").read_bytes() == (tmp_path / "b.ogg").read_bytes()
