"""The library's front door (`loosen.pipeline`, re-exported from `loosen`): a Python caller gets
what the commands give, hears the library's work through a `Listener`, and meets errors that
name values, not options."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

import loosen
from loosen.cli import app
from loosen.errors import BadValueError

HERE = Path(__file__).parent
TINY = HERE.parent / "data" / "tiny.toml"


def test_the_front_door_is_public_from_the_package() -> None:
    for name in ("SessionOptions", "ExportOptions", "export_session", "play_session"):
        assert name in loosen.__all__
        assert getattr(loosen, name) is getattr(loosen.pipeline, name)


def test_a_python_export_is_byte_for_byte_the_commands_export(tmp_path: Path) -> None:
    options = loosen.SessionOptions(pace=1.3, mix=loosen.MixOptions(ambience="surf"))
    result = loosen.export_session(TINY, tmp_path / "library.flac", options)
    done = CliRunner().invoke(
        app,
        ["export", str(TINY), "-o", str(tmp_path / "cli.flac"), "--pace", "1.3",
         "--ambience", "surf"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert result.files == (tmp_path / "library.flac",)
    assert (tmp_path / "library.flac").read_bytes() == (tmp_path / "cli.flac").read_bytes()
    assert (result.format_name, result.sample_rate, result.channels) == ("FLAC (16-bit)", 48_000, 2)


def test_a_pace_set_from_python_scales_the_gap_after_speech_too() -> None:
    def gaps_s(options: loosen.SessionOptions) -> list[float]:
        with loosen.open_rendering(TINY, options) as rendering:
            events = rendering.timeline.to_json("Tiny")["events"]
        speech = [e for e in events if e["kind"] == "speech"]
        return [round(b["start_s"] - a["end_s"], 3) for a, b in itertools.pairwise(speech)][:1]

    assert gaps_s(loosen.SessionOptions()) == [0.5]
    assert gaps_s(loosen.SessionOptions(pace=2)) == [1.0]


def test_the_listener_hears_each_stage_and_the_details(tmp_path: Path) -> None:
    stages: set[str] = set()
    details: list[str] = []
    listener = loosen.Listener(
        progress=lambda stage, done, total: stages.add(stage), detail=details.append
    )
    loosen.export_session(TINY, tmp_path / "x.wav", listener=listener)
    assert {"Measuring loudness", "Writing x.wav"} <= stages
    assert any(line.startswith("speech: ") for line in details)
    assert any(line.startswith("loudness: gain ") for line in details)


@pytest.mark.parametrize(
    ("options", "what", "message"),
    [
        (loosen.SessionOptions(pace="9"), "pace", "pace '9': the factor must be from 0.25 to 4"),
        (loosen.SessionOptions(fit="soon"), "fit", "fit 'soon': expected a duration"),
        (loosen.SessionOptions(channels=3), "channels", "channels '3': must be 1 or 2"),
        (loosen.SessionOptions(settings=("dance.hold=3",)), "setting", "no step of that name"),
    ],
)
def test_a_bad_value_is_named_as_a_value_not_as_an_option(
    tmp_path: Path, options: loosen.SessionOptions, what: str, message: str
) -> None:
    with pytest.raises(BadValueError) as raised:
        loosen.export_session(TINY, tmp_path / "x.wav", options)
    assert raised.value.what == what
    assert message in str(raised.value)
    assert "--" not in str(raised.value)
    assert not (tmp_path / "x.wav").exists()


def test_a_start_past_the_end_is_refused_before_anything_plays() -> None:
    with pytest.raises(BadValueError) as raised:
        loosen.play_session(TINY, play=loosen.PlayOptions(start="9:00"))
    assert str(raised.value).startswith("start '9:00': past the end of the session (")
