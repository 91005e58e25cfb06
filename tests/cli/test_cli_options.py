"""Option values as users write them: voices as `loosen voices` lists them, lengths as every
command shows them, and no value silently ignored."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loosen.cli import app

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
TINY_LINES = 8  # distinct lines tiny speaks

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_a_language_that_voices_lists_is_a_voice_too(tmp_path: Path) -> None:
    code, out, _ = run("voices", "--language", "en-gb")
    assert code == 0 and "en-gb" in out
    code, _, err = run("export", TINY, "-o", tmp_path / "gb.wav", "-v", "--voice", "en-gb")
    assert code == 0, err
    assert "voice en, 170 wpm" in err  # espeak-ng's British English voice is called "en"


def test_verbose_export_says_at_the_end_how_many_lines_were_synthesized(tmp_path: Path) -> None:
    code, _, err = run("export", TINY, "-o", tmp_path / "x.wav", "-v", "--no-cache")
    assert code == 0, err
    assert err.strip().splitlines()[-1] == f"speech: {TINY_LINES} lines synthesized"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("english", "key 'language': 'english' is not a language tag; write one such as 'en'"),
        ("xx", "key 'language': no voice of engine pyttsx3 speaks 'xx'"),
    ],
)
def test_a_language_that_is_no_tag_or_has_no_voice_is_refused_naming_the_key(
    tmp_path: Path, language: str, message: str
) -> None:
    script = tmp_path / "lang.toml"
    script.write_text(
        f'title = "T"\nlanguage = "{language}"\n[[steps]]\nkind = "say"\ntext = "Hi."\n'
    )
    code, _, err = run("export", script, "-o", tmp_path / "out.wav")
    assert code == 2
    assert err.startswith(f"Error: {script}: {message}")
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lang.toml"]


def test_a_british_script_gets_the_british_voice(tmp_path: Path) -> None:
    script = tmp_path / "gb.toml"
    script.write_text('title = "T"\nlanguage = "en-gb"\n[[steps]]\nkind = "say"\ntext = "Hi."\n')
    code, _, err = run("export", script, "-o", tmp_path / "gb.wav", "-v")
    assert code == 0, err
    assert "voice en, 150 wpm" in err


@pytest.mark.parametrize("rate", ["0", "79", "451"])
def test_a_rate_out_of_range_is_refused_zero_included(rate: str) -> None:
    code, _, err = run("show", TINY, "--rate", rate)
    assert code == 2
    assert err.strip() == (
        f"Error: --rate {rate}: the speaking rate must be from 80 to 450 words per minute"
    )


@pytest.mark.parametrize("length", ["1:00", "0:01:00", "1m", "60"])
def test_fit_takes_a_length_as_every_command_shows_it(length: str) -> None:
    code, out, err = run("show", TINY, "--fit", length)
    assert code == 0, err
    assert out.splitlines()[0] == "Tiny: 1:00 total"
