"""A bundled session rendered with the real speech engine and checked by measuring the file."""

import json
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from loosen.cli import app
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set, render_cue

RATE = 48_000
CEILING = 10 ** (-1 / 20)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("export")
    out, timeline = folder / "stretch-quick.wav", folder / "stretch-quick.json"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "stretch-quick",
            "-o",
            str(out),
            "--timeline",
            str(timeline),
            "--loudness",
            "off",
        ],
    )
    assert result.exit_code == 0, result.stderr
    audio, rate = sf.read(out, dtype="float32")
    assert rate == RATE
    return audio[:, 0], json.loads(timeline.read_text())


def frame(seconds: float) -> int:
    return round(seconds * RATE)


def test_the_file_is_exactly_as_long_as_the_timeline(
    exported: tuple[np.ndarray, dict[str, Any]],
) -> None:
    audio, document = exported
    assert len(audio) == frame(document["duration_s"])
    assert 4 * 60 <= document["duration_s"] <= 6.5 * 60  # a five-minute routine


def test_the_peak_stays_at_or_below_minus_one_dbfs(
    exported: tuple[np.ndarray, dict[str, Any]],
) -> None:
    audio, _ = exported
    assert np.max(np.abs(audio)) <= CEILING + 1 / 32768


def test_every_chime_sounds_within_5_ms_of_its_scheduled_onset(
    exported: tuple[np.ndarray, dict[str, Any]],
) -> None:
    audio, document = exported
    cue_set = load_cue_set(load_session("stretch-quick").cues)
    window = frame(0.05)
    chimes = [e for e in document["events"] if e["kind"] == "chime"]
    assert len(chimes) >= 10
    for event in chimes:
        cue = render_cue(event["cue"], cue_set, RATE)[: frame(0.1)]
        onset = frame(event["start_s"])
        lo = max(0, onset - window)
        segment = audio[lo : onset + window + cue.size]
        if segment.size < cue.size:
            continue
        scores = np.correlate(segment, cue, mode="valid")
        found = lo + int(np.argmax(scores))
        assert abs(found - onset) <= frame(0.005), (event, (found - onset) / RATE)


def test_holds_hold_nothing_but_their_chimes(exported: tuple[np.ndarray, dict[str, Any]]) -> None:
    audio, document = exported
    cue_set = load_cue_set(load_session("stretch-quick").cues)
    events = document["events"]
    holds = [e for e in events if e["kind"] == "hold"]
    assert holds
    for hold in holds:
        start, end = frame(hold["start_s"]), frame(hold["end_s"])
        assert not any(
            e["kind"] == "speech" and e["start_s"] < hold["end_s"] and e["end_s"] > hold["start_s"]
            for e in events
        )
        expected = np.zeros(end - start, np.float32)
        for chime in (e for e in events if e["kind"] == "chime"):
            sound = render_cue(chime["cue"], cue_set, RATE)
            c0 = frame(chime["start_s"])
            s0, s1 = max(start, c0), min(end, c0 + sound.size)
            if s1 > s0:
                expected[s0 - start : s1 - start] += sound[s0 - c0 : s1 - c0]
        residual = np.abs(audio[start:end] - expected)
        assert residual.max() < 2e-3, hold  # only 16-bit rounding is left


def test_speech_sounds_where_the_timeline_puts_it(
    exported: tuple[np.ndarray, dict[str, Any]],
) -> None:
    audio, document = exported
    for event in (e for e in document["events"] if e["kind"] == "speech"):
        start, end = frame(event["start_s"]), frame(event["end_s"])
        rms = float(np.sqrt(np.mean(audio[start:end] ** 2)))
        assert rms > 10 ** (-40 / 20), event
