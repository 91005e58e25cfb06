"""One loudness truth: a dual-mono session measured from its sounds (`Rendering.measure_loudness`,
the export's fast path) measures as the streaming meter over its rendered blocks, and so gets
the same gain."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from loosen.loudness.meter import LoudnessMeter
from loosen.loudness.normalizer import Normalizer, default_target_lufs
from loosen.render.rendering import Rendering, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech, SpeechCache, open_engine
from loosen.tts.clips import MixReady
from tests.fakes import FakeEngine

DATA = Path(__file__).parent.parent / "data"
TOLERANCE_LU = 0.01  # and as much in dB for the gain

CASES = [
    pytest.param("tiny.toml", {}, 2, False, id="tiny"),
    pytest.param("tiny.toml", {}, 2, True, id="tiny laid out as it is measured"),
    pytest.param("hold.toml", {}, 2, False, id="hold"),
    pytest.param("hold.toml", {}, 1, False, id="hold in mono"),
    pytest.param("tiny.toml", {"voice_db": 9.0}, 2, False, id="speech past the soft limiter"),
    pytest.param(
        "tiny.toml", {"chime_db": 12.0, "breath_tone": True}, 2, False, id="loud chimes and tones"
    ),
]


def fake_rendering(
    script: str, mix_options: dict[str, object], channels: int, progressive: bool
) -> Rendering:
    session = load_session(DATA / script)
    mix = replace(session.mix, **mix_options) if mix_options else None
    return render_session(
        session, speech=Speech(FakeEngine(), None), cue_set=load_cue_set(session.cues),
        channels=channels, mix=mix, progressive=progressive,
    )  # fmt: skip


def streamed_lufs(rendering: Rendering) -> float:
    """The streaming meter over the rendered blocks, every channel."""
    meter = LoudnessMeter(rendering.sample_rate, rendering.channels)
    for block in rendering.blocks(block_frames=rendering.sample_rate):
        meter.add(block)
    return meter.integrated_lufs()


def gains_db(rendering: Rendering) -> tuple[float, float]:
    """The gain to the default target, measured by the streaming meter over the blocks, and
    measured from the sounds as an export of a dual-mono session does (one channel that plays on
    every channel)."""
    target = default_target_lufs(rendering.channels)
    by_blocks = Normalizer(
        lambda: rendering.blocks(block_frames=rendering.sample_rate),
        sample_rate=rendering.sample_rate, channels=rendering.channels, target_lufs=target,
        full_report=False,
    )  # fmt: skip
    by_sounds = Normalizer(
        lambda: rendering.blocks(block_frames=rendering.sample_rate, mono=True),
        sample_rate=rendering.sample_rate, channels=1, target_lufs=target, full_report=False,
    )  # fmt: skip
    measured = rendering.measure_loudness()
    bound = measured.true_peak_bound
    by_sounds.use_measurement(
        measured.hop_powers, 20.0 * math.log10(bound) if bound > 0 else -math.inf
    )
    return by_blocks.gain_db, by_sounds.gain_db


@pytest.mark.parametrize(("script", "mix_options", "channels", "progressive"), CASES)
def test_the_sounds_measure_as_the_streamed_blocks_and_give_the_same_gain(
    script: str, mix_options: dict[str, object], channels: int, progressive: bool
) -> None:
    rendering = fake_rendering(script, mix_options, channels, progressive)
    assert rendering.dual_mono
    streamed = streamed_lufs(rendering)
    assert math.isfinite(streamed)
    assert rendering.measure_loudness().lufs == pytest.approx(streamed, abs=TOLERANCE_LU)
    by_blocks, by_sounds = gains_db(rendering)
    assert by_sounds == pytest.approx(by_blocks, abs=TOLERANCE_LU)


def test_with_the_real_default_engine_too(tmp_path: Path) -> None:
    session = load_session(DATA / "tiny.toml")
    with open_engine() as engine:
        speech = Speech(engine, SpeechCache(tmp_path), condition=MixReady(engine.level_db))
        rendering = render_session(session, speech=speech, cue_set=load_cue_set(session.cues))
        streamed = streamed_lufs(rendering)
        assert rendering.measure_loudness().lufs == pytest.approx(streamed, abs=TOLERANCE_LU)
        by_blocks, by_sounds = gains_db(rendering)
    assert by_sounds == pytest.approx(by_blocks, abs=TOLERANCE_LU)


def test_loud_chimes_get_the_same_gain_after_make_up() -> None:
    rendering = fake_rendering("tiny.toml", {"chime_db": 12.0, "breath_tone": True}, 2, False)
    target = default_target_lufs(rendering.channels)
    by_blocks = Normalizer(
        lambda: rendering.blocks(block_frames=rendering.sample_rate),
        sample_rate=rendering.sample_rate, channels=2, target_lufs=target, full_report=False,
    )  # fmt: skip
    by_blocks.measure()
    by_blocks.make_up()
    by_sounds = Normalizer(
        lambda: rendering.blocks(block_frames=rendering.sample_rate, mono=True),
        sample_rate=rendering.sample_rate, channels=1, target_lufs=target, full_report=False,
    )  # fmt: skip
    measured = rendering.measure_loudness()
    by_sounds.use_measurement(measured.hop_powers, 20.0 * math.log10(measured.true_peak_bound))
    by_sounds.make_up(plays_on=2)
    assert by_sounds.gain_db == pytest.approx(by_blocks.gain_db, abs=TOLERANCE_LU)
