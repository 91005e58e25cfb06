"""The user's config file: defaults that commands use, that options beat, shown by `loosen
config`, and refused in one line when they are bad."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app

HERE = Path(__file__).parent
TINY = HERE / "data" / "tiny.toml"  # rate_wpm = 170

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file (not written yet), in a folder of this test's own."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("LOOSEN_CONFIG_DIR", str(folder))
    return folder / "config.toml"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_the_tests_keep_the_users_own_config_out() -> None:
    assert os.environ["LOOSEN_CONFIG_DIR"]  # set for the whole run by conftest.py


def test_config_shows_where_the_file_is_and_that_every_value_is_a_default(config: Path) -> None:
    code, out, _ = run("config")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"# config file: {config} (none yet: create it to set defaults)"
    values = {line.split()[0]: line for line in lines[1:] if not line.startswith("#")}
    assert list(values) == [
        "engine", "voice", "rate_wpm", "pace", "ambience", "loudness", "sample_rate", "channels",
    ]  # fmt: skip
    assert all("default" in line for line in values.values())


def test_config_shows_the_values_the_file_sets_and_where_each_comes_from(config: Path) -> None:
    config.write_text('voice = "en-gb"\nrate_wpm = 130\npace = "gentle"\nloudness = "off"\n')
    code, out, _ = run("config")
    assert code == 0
    assert out.splitlines()[0] == f"# config file: {config}"
    values = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines()[1:-1]}
    assert values["voice"] == ["en-gb", "config file"]
    assert values["rate_wpm"] == ["130", "config file"]
    assert values["pace"] == ["gentle", "config file"]
    assert values["loudness"] == ["off", "config file"]
    assert values["engine"] == ["pyttsx3", "default"]


def test_the_config_beats_the_script_and_the_command_line_beats_the_config(
    config: Path, tmp_path: Path
) -> None:
    config.write_text(
        'voice = "en-gb"\nrate_wpm = 130\nsample_rate = 44100\nchannels = 1\nloudness = "off"\n'
    )
    code, _, err = run("export", TINY, "-o", tmp_path / "a.wav", "-v")
    assert code == 0, err
    assert "voice en, 130 wpm" in err  # not the script's 170 wpm
    assert "44100 Hz, 1 ch" in err
    assert "loudness: gain" not in err  # "off": the renderer's own levels
    code, _, err = run(
        "export", TINY, "-o", tmp_path / "b.wav", "-v", "--voice", "en-us", "--rate", "150",
        "--sample-rate", "48000", "--channels", "2", "--loudness", "-16",
    )  # fmt: skip
    assert code == 0, err
    assert "voice en-us, 150 wpm" in err
    assert "48000 Hz, 2 ch" in err
    assert "loudness: gain" in err


def test_the_configs_voice_does_not_speak_a_script_in_another_language(
    config: Path, tmp_path: Path
) -> None:
    config.write_text('voice = "en-gb"\n')
    script = tmp_path / "de.toml"
    script.write_text('title = "T"\nlanguage = "de"\n[[steps]]\nkind = "say"\ntext = "Atme ein."\n')
    code, _, err = run("export", script, "-o", tmp_path / "de.wav", "-v")
    assert code == 0, err
    assert "voice de," in err


def test_a_pace_from_the_config_lengthens_the_session_unless_an_option_says_otherwise(
    config: Path,
) -> None:
    def title(*args: str) -> str:
        code, out, err = run("show", TINY, *args)
        assert code == 0, err
        return out.splitlines()[0]

    plain = title()
    config.write_text("pace = 1.5\n")
    assert title() != plain
    assert title("--pace", "1") == plain


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("rate_wpm = 500\n", "key 'rate_wpm': 500 is out of range; use 80 to 450"),
        ("colour = 1\n", "key 'colour': unknown key; keys: engine, voice, rate_wpm"),
        ('engine = "nope"\n', "key 'engine': unknown speech engine 'nope'"),
        ('loudness = "loud"\n', "key 'loudness': expected LUFS such as -16"),
        ("channels = 3\n", "key 'channels': expected 1 (mono) or 2 (stereo), got 3"),
        ('pace = "zippy"\n', "key 'pace': 'zippy' is not a pace"),
        ('ambience = "rain"\n', "key 'ambience': unknown ambience 'rain'"),
        ('voice = "klingon"\n', "key 'voice': unknown voice 'klingon' for engine pyttsx3"),
        ("voice = \n", "line 1, column 9: TOML syntax: Invalid value"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_file_and_the_key_with_exit_2(
    config: Path, tmp_path: Path, text: str, where: str
) -> None:
    config.write_text(text)
    out = tmp_path / "out.wav"
    code, stdout, err = run("export", TINY, "-o", out)
    assert code == 2
    assert err.startswith(f"Error: {config}: {where}"), err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in stdout + err
    assert not out.exists()
