"""The noise under an ambience: colour, level, stereo, swell, seeking, memory and speed."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from loosen.sound.ambience import load_ambience
from loosen.sound.noise import HOP_FRAMES, NoiseBed

RATE = 48_000
BUNDLED = ("brown-noise", "pink-noise", "surf")


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2)))


def slope_db_per_octave(x: np.ndarray, low_hz: float = 100.0, high_hz: float = 2000.0) -> float:
    """Slope of the power spectrum (Welch, Hann windows) between the two frequencies."""
    segment = 8192
    count = len(x) // segment
    frames = x[: count * segment].reshape(count, segment) * np.hanning(segment)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    f_hz = np.fft.rfftfreq(segment, 1 / RATE)
    band = (f_hz >= low_hz) & (f_hz <= high_hz)
    return float(np.polyfit(np.log2(f_hz[band]), 10 * np.log10(power[band]), 1)[0])


def bed_samples(name: str, seconds: float, channels: int = 2) -> np.ndarray:
    bed = NoiseBed(load_ambience(name), RATE, channels)
    return bed.render(0, round(seconds * RATE)).astype(np.float64)


@pytest.mark.parametrize(("name", "slope_db"), [("brown-noise", -6.02), ("pink-noise", -3.01)])
def test_brown_noise_falls_6_db_and_pink_noise_3_db_per_octave(name: str, slope_db: float) -> None:
    noise = bed_samples(name, 20.0)
    for channel in range(2):
        assert slope_db_per_octave(noise[:, channel]) == pytest.approx(slope_db, abs=1.5)


@pytest.mark.parametrize("name", ["brown-noise", "pink-noise"])
def test_a_steady_bed_plays_at_its_recipe_level(name: str) -> None:
    noise = bed_samples(name, 20.0)
    for channel in range(2):
        assert rms_db(noise[:, channel]) == pytest.approx(load_ambience(name).gain_db, abs=0.5)


@pytest.mark.parametrize("name", BUNDLED)
def test_the_channels_of_every_bed_are_decorrelated(name: str) -> None:
    noise = bed_samples(name, 20.0)
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 0.3


def test_surf_swells_and_brightens_slowly_but_never_exceeds_its_crest_level() -> None:
    recipe = load_ambience("surf")
    assert recipe.swell_s is not None
    noise = bed_samples("surf", 60.0)[:, 0]
    window = RATE // 2
    halves = noise[: len(noise) // window * window].reshape(-1, window)
    levels_db = 10 * np.log10(np.mean(halves**2, axis=1))
    assert levels_db.max() - levels_db.min() >= 0.5 * recipe.swell_db  # waves, not a steady hiss
    assert levels_db.max() <= recipe.gain_db + 1.0
    spectra = np.abs(np.fft.rfft(halves * np.hanning(window), axis=1)) ** 2
    f_hz = np.fft.rfftfreq(window, 1 / RATE)
    centroids_hz = (spectra @ f_hz) / spectra.sum(axis=1)
    loud, quiet = levels_db > np.percentile(levels_db, 80), levels_db < np.percentile(levels_db, 20)
    assert centroids_hz[loud].mean() > 1.5 * centroids_hz[quiet].mean()  # brighter at the crests
    steps_db = np.abs(np.diff(levels_db))
    assert np.median(steps_db) < 1.5  # it glides: half a second changes little


@pytest.mark.parametrize("name", BUNDLED)
def test_the_bed_is_the_same_whatever_the_start_and_block_size(name: str) -> None:
    whole = NoiseBed(load_ambience(name), RATE).render(0, 5 * RATE)
    bed = NoiseBed(load_ambience(name), RATE)
    starts = range(123_457, 5 * RATE, 7_777)
    pieces = np.concatenate([bed.render(s, min(7_777, 5 * RATE - s)) for s in starts])
    assert np.array_equal(pieces, whole[123_457:])
    assert np.array_equal(bed.render(200_000, 1), whole[200_000:200_001])


def test_the_beds_memory_does_not_grow_with_the_length_rendered() -> None:
    bed = NoiseBed(load_ambience("surf"), RATE)
    chunk_bytes = 2 * HOP_FRAMES * bed.channels * 4  # float32
    tracemalloc.start()
    try:
        for start in range(0, 10 * RATE, 4096):
            bed.render(start, 4096)
        after_10_s, _ = tracemalloc.get_traced_memory()
        for start in range(10 * RATE, 120 * RATE, 4096):
            bed.render(start, 4096)
        after_120_s, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_10_s < 6 * chunk_bytes  # a few chunks kept
    assert after_120_s - after_10_s < chunk_bytes  # and no more as it goes on
