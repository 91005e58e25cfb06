"""Loudness measured from the placed sounds agrees with metering the mixed session."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loosen.loudness.meter import LoudnessMeter
from loosen.loudness.normalizer import Normalizer
from loosen.loudness.sources import Placed, _HopPowers, measure_placed
from loosen.loudness.true_peak import TruePeakMeter
from loosen.render.rendering import LIMIT_KNEE_DBFS, Rendering, _limit, render_session
from loosen.script.loading import load_session
from loosen.sound.cues import load_cue_set
from loosen.tts import Speech, SpeechCache
from loosen.tts.clips import SpeechClips, db_to_gain
from tests.fakes import FakeEngine

HERE = Path(__file__).parent.parent
SCRIPTS = sorted((HERE.parent / "scripts").glob("*.toml"))
RATE = 48_000
KNEE = db_to_gain(LIMIT_KNEE_DBFS)
TOLERANCE_LU = 1e-3


def streamed(stereo: np.ndarray) -> LoudnessMeter:
    meter = LoudnessMeter(RATE, stereo.shape[1])
    for i in range(0, len(stereo), 4096):
        meter.add(stereo[i : i + 4096])
    return meter


def burst(seed: int, seconds: float, level: float) -> np.ndarray:
    """Band-limited noise with a raised-cosine envelope, peak ``level``: float32, (n,)."""
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * RATE))
    x = np.convolve(rng.standard_normal(n + 31), np.hanning(32), mode="valid")[:n]
    x *= np.hanning(n + 2)[1:-1]
    peak = np.abs(x).max()
    return (x / peak * level if peak > 0 else x).astype(np.float32)


sounds = st.lists(
    st.tuples(
        st.floats(0.0, 9.5),  # start, s
        st.sampled_from([0, 1, 2, 3]),  # which sound: the same one may ring again
        st.sampled_from([0.5, 1.0, 1.6]),  # gain: the loudest overlaps pass the knee
    ),
    min_size=0,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(placements=sounds, fade_s=st.sampled_from([0.0, 0.5]))
@example(placements=[(1.671875, 2, 0.5)], fade_s=0.0)  # once drawn, and failed: kept
def test_any_placement_puts_the_energy_of_the_mixed_session_in_the_same_gating_blocks(
    placements: list[tuple[float, int, float]], fade_s: float
) -> None:
    total = 11 * RATE
    library = [
        burst(k, s, p) for k, (s, p) in enumerate([(0.3, 0.6), (1.5, 0.7), (0.05, 0.5), (4, 0.4)])
    ]
    placed = sorted(
        (
            Placed(round(start * RATE), library[which], gain, which)
            for start, which, gain in placements
        ),
        key=lambda p: p.start,
    )
    mix = np.zeros(total, np.float32)
    for p in placed:
        part = p.samples[: total - p.start] * np.float32(p.gain)
        mix[p.start : p.start + len(part)] += part
    fade = round(fade_s * RATE)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        mix[:fade] *= ramp
        mix[total - fade :] *= ramp[::-1]
    block = mix[:, None].copy()
    _limit(block)
    mono = block[:, 0]

    measured = measure_placed(
        placed,
        total_frames=lambda: total,
        sample_rate=RATE,
        channels=2,
        linear_span=lambda: (fade, total - fade),
        knee=KNEE,
        render=lambda start, end: mono[start:end],
    )
    meter = streamed(np.repeat(mono[:, None], 2, axis=1))
    placed_blocks = gating_blocks(measured.hop_powers)
    mixed_blocks = gating_blocks(meter.hop_powers)
    assert measured.hop_powers.sum() == pytest.approx(meter.hop_powers.sum(), rel=1e-5)
    # a sound's energy lands in the right 400 ms but for a sliver of 16 frames at either end:
    # at most 32 frames of the mix's loudest K-weighted power (its shelf adds at most 4 dB:
    # x2.5; two channels) moved into or out of a block's 19200 frames. (Relative to the
    # loudest block this is not small for a 50 ms sound that straddles a block's edge.)
    sliver = 32 * 2 * 2.5 * float(np.max(mono**2, initial=0.0)) / (0.4 * RATE)
    assert np.abs(placed_blocks - mixed_blocks).max(initial=0.0) <= sliver + 1e-9
    true_peak = TruePeakMeter(RATE, 1)
    true_peak.add(np.concatenate([mono, np.zeros(64, np.float32)])[:, None])
    assert measured.true_peak_bound >= 10 ** (true_peak.true_peak_dbtp() / 20) - 1e-6


def gating_blocks(hop_powers: np.ndarray) -> np.ndarray:
    """The mean power of every 400 ms gating block (4 hops, one hop apart)."""
    h = hop_powers
    return (h[:-3] + h[1:-2] + h[2:-1] + h[3:]) / 4.0


def rendering_of(
    script: Path, cache: SpeechCache | None = None, **mix_options: object
) -> Rendering:
    session = load_session(script)
    mix = replace(session.mix, **mix_options) if mix_options else None
    return render_session(
        session, speech=Speech(FakeEngine(), cache), cue_set=load_cue_set(session.cues), mix=mix
    )


def blocks_lufs(rendering: Rendering) -> float:
    meter = LoudnessMeter(RATE, rendering.channels)
    for block in rendering.blocks(block_frames=RATE):
        meter.add(block)
    return meter.integrated_lufs()


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_every_bundled_session_measures_as_its_mixed_blocks(script: Path) -> None:
    rendering = rendering_of(script)
    assert rendering.measure_loudness().lufs == pytest.approx(
        blocks_lufs(rendering), abs=TOLERANCE_LU
    )


@pytest.mark.parametrize(
    "options",
    [{"voice_db": 9.0}, {"chime_db": 12.0, "breath_tone": True}],
    ids=["speech past the soft limiter", "loud chimes and breath tones"],
)
def test_a_mix_that_bends_at_the_soft_limiter_still_measures_as_its_blocks(
    options: dict[str, object],
) -> None:
    rendering = rendering_of(HERE.parent / "scripts" / "pmr-4.toml", **options)
    assert rendering.measure_loudness().lufs == pytest.approx(
        blocks_lufs(rendering), abs=TOLERANCE_LU
    )


def test_a_chime_that_rings_many_times_is_k_weighted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rendering = rendering_of(HERE.parent / "scripts" / "back-loosening.toml")
    filtered: list[int] = []
    original = _HopPowers.k_weighted

    def counting(self: _HopPowers, samples: np.ndarray) -> np.ndarray:
        filtered.append(len(samples))
        return original(self, samples)

    monkeypatch.setattr(_HopPowers, "k_weighted", counting)
    rendering.measure_loudness()
    chimes = [e for e in rendering.timeline.events if e.kind == "chime"]
    kinds = {e.cue for e in chimes}
    speech = {e.text for e in rendering.timeline.events if e.kind == "speech"}
    assert len(chimes) > 3 * len(kinds)
    assert len(filtered) <= len(kinds) + len(speech) + 2  # + the fades at either end


def test_the_mono_export_path_gives_the_samples_of_the_stereo_stream_normalised() -> None:
    rendering = rendering_of(HERE.parent / "scripts" / "stretch-quick.toml")
    stereo = Normalizer(lambda: rendering.blocks(block_frames=RATE), sample_rate=RATE, channels=2)
    mono = Normalizer(
        lambda: rendering.blocks(block_frames=RATE, mono=True),
        sample_rate=RATE,
        channels=1,
        target_lufs=-16.0,
    )
    measured = rendering.measure_loudness()
    mono.use_measurement(measured.hop_powers, 20 * np.log10(measured.true_peak_bound))
    assert mono.gain_db == pytest.approx(stereo.gain_db, abs=TOLERANCE_LU)
    a = np.concatenate(list(stereo.blocks()))
    b = np.concatenate(list(mono.blocks()))
    assert a.shape == (len(b), 2) and b.shape[1] == 1
    assert np.abs(a - b).max() < 1e-4  # a gain apart by float rounding at most


def test_an_ambience_has_no_mono_rendering_to_measure() -> None:
    rendering = rendering_of(HERE.parent / "scripts" / "pmr-4.toml", ambience="brown-noise")
    assert not rendering.dual_mono
    with pytest.raises(ValueError, match="ambience"):
        rendering.measure_loudness()
    with pytest.raises(ValueError, match="ambience"):
        next(rendering.blocks(mono=True))


class DictStore:
    """A `ProfileStore` in memory."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], bytes] = {}

    def get_extra(self, key: str, kind: str) -> bytes | None:
        return self.entries.get((key, kind))

    def put_extra(self, key: str, kind: str, payload: bytes) -> None:
        self.entries[(key, kind)] = payload


def test_a_stored_profile_meters_a_sound_without_its_samples_and_measures_the_same() -> None:
    total = 6 * RATE
    sounds = [burst(k, 0.8, 0.5) for k in range(3)]
    store = DictStore()

    def measure(placed: list[Placed]) -> tuple[float, float]:
        found = measure_placed(
            placed, total_frames=lambda: total, sample_rate=RATE, channels=2,
            linear_span=lambda: (0, total), knee=KNEE, render=lambda s, e: np.zeros(e - s),
            store=store,
        )  # fmt: skip
        return found.lufs, found.true_peak_bound

    def refuse() -> np.ndarray:
        raise AssertionError("the samples were asked for")

    first = measure(
        [Placed(k * RATE * 2, s, 0.7, k, stored=f"{k:x}") for k, s in enumerate(sounds)]
    )
    assert len(store.entries) == 3
    again = measure(
        [
            Placed(k * RATE * 2, None, 0.7, k, frames=len(s), load=refuse, stored=f"{k:x}")
            for k, s in enumerate(sounds)
        ]
    )
    assert again == first


def test_a_warm_cache_meters_the_speech_without_processing_it_and_measures_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = HERE.parent / "scripts" / "stretch-quick.toml"
    cold = rendering_of(script, SpeechCache(tmp_path)).measure_loudness()
    assert list(tmp_path.glob("*/*.kprofile"))

    def refuse(*_: object) -> np.ndarray:
        raise AssertionError("speech was processed")

    monkeypatch.setattr(SpeechClips, "_processed", refuse)
    warm = rendering_of(script, SpeechCache(tmp_path)).measure_loudness()
    assert (warm.lufs, warm.true_peak_bound) == (cold.lufs, cold.true_peak_bound)
