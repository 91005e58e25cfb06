"""Loudness: the BS.1770 meters on known signals and against ffmpeg, and two-pass normalisation."""

from __future__ import annotations

import math
import re
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loosen.errors import BadInputError
from loosen.loudness.meter import LoudnessMeter, gain_to_reach_db, gated_lufs, k_weighting
from loosen.loudness.normalizer import LoudnessReport, Normalizer, normalize
from loosen.loudness.true_peak import TruePeakMeter
from loosen.output.export import export_blocks
from tests.tools import require

RATE = 48_000
Audio = np.ndarray


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) as ffmpeg's ebur128 filter measures."""
    run = subprocess.run(
        [require("ffmpeg"), "-nostats", "-hide_banner", "-i", str(path),
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = run.stderr[run.stderr.rindex("Summary:") :]
    loudness = re.search(r"I:\s+(\S+) LUFS", summary)
    peak = re.search(r"Peak:\s+(\S+) dBFS", summary)
    assert loudness and peak, summary
    return float(loudness[1]), float(peak[1])


def sine(dbfs: float, seconds: float, *, hz: float = 1000.0, rate: int = RATE) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def stereo(mono: Audio) -> Audio:
    return np.repeat(mono[:, None], 2, axis=1)


def cut(audio: Audio, sizes: list[int]) -> Iterator[Audio]:
    """``audio`` in blocks of the given sizes, cycling through them."""
    start, i = 0, 0
    while start < len(audio):
        yield audio[start : start + sizes[i % len(sizes)]]
        start += sizes[i % len(sizes)]
        i += 1


def speech_like(seconds: float, *, channels: int = 2, seed: int = 1) -> Audio:
    """Noise with a falling spectrum in syllable-long bursts and pauses, plus hard-gated tones
    (sharp transients): loudness near -19 LUFS, peaks near -3 dBFS, like a rendered session."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)))
    spectrum /= np.maximum(np.fft.rfftfreq(n, 1 / RATE), 100.0) ** 0.7
    noise = np.fft.irfft(spectrum, n).T
    envelope = np.zeros(n)
    at = 0
    while at < n:
        length = min(int(rng.integers(RATE // 8, RATE // 2)), n - at)
        envelope[at : at + length] = np.sin(np.linspace(0, np.pi, length)) ** 0.5
        at += length + int(rng.integers(RATE // 20, RATE * 3 // 4))
    tones = np.zeros(n)
    for start in range(RATE // 3, n - RATE, 2 * RATE):
        t = np.arange(RATE // 5) / RATE
        tones[start : start + t.size] = np.sin(2 * np.pi * 1500 * t) + np.sin(2 * np.pi * 330 * t)
    signal = noise * envelope[:, None] / np.abs(noise).max() + 0.6 * tones[:, None]
    return (signal * 10 ** (-3 / 20) / np.abs(signal).max()).astype(np.float32)


def measure(audio: Audio, block: int = 4096) -> tuple[float, float]:
    loudness = LoudnessMeter(RATE, audio.shape[1])
    peak = TruePeakMeter(RATE, audio.shape[1])
    for part in cut(audio, [block]):
        loudness.add(part)
        peak.add(part)
    return loudness.integrated_lufs(), peak.true_peak_dbtp()


def normalised(audio: Audio, sizes: list[int] | None = None, **options: float) -> Audio:
    blocks = normalize(lambda: cut(audio, sizes or [4096]), sample_rate=RATE,
                       channels=audio.shape[1], **options)  # fmt: skip
    return np.concatenate(list(blocks))


# --- the loudness meter --------------------------------------------------------------------------


def test_k_weighting_at_48_khz_is_the_standards_filter() -> None:
    (shelf_b, shelf_a), (high_b, high_a) = k_weighting(48_000)
    np.testing.assert_allclose(shelf_b, [1.53512485958697, -2.69169618940638, 1.19839281085285])
    np.testing.assert_allclose(shelf_a, [1.0, -1.69065929318241, 0.73248077421585])
    np.testing.assert_allclose(high_b, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(high_a, [1.0, -1.99004745483398, 0.99007225036621])


def direct_form(x: Audio, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A biquad sample by sample: the reference for the matrix-product filter."""
    y, z1, z2 = np.zeros(len(x)), 0.0, 0.0
    for i, v in enumerate(x.astype(float).tolist()):
        y[i] = out = b[0] * v + z1
        z1, z2 = b[1] * v - a[1] * out + z2, b[2] * v - a[2] * out
    return y


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_the_k_weighted_power_equals_a_sample_by_sample_filter(rate: int) -> None:
    x = np.random.default_rng(3).uniform(-0.5, 0.5, (rate // 2, 2)).astype(np.float32)
    meter = LoudnessMeter(rate, 2)
    for part in cut(x, [1000, 37, 5000]):
        meter.add(part)
    (b1, a1), (b2, a2) = k_weighting(rate)
    y = np.stack([direct_form(direct_form(x[:, c], b1, a1), b2, a2) for c in (0, 1)], axis=1)
    hop = meter.hop
    expected = (y[: 5 * hop] ** 2).reshape(5, hop, 2).mean(axis=1).sum(axis=1)
    np.testing.assert_allclose(meter.hop_powers, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("levels_dbfs", "seconds", "expected_lufs"),
    [
        ([-23.0], [20.0], -23.0),
        ([-33.0], [20.0], -33.0),
        ([-36.0, -23.0, -36.0], [10.0, 60.0, 10.0], -23.0),
        ([-72.0, -36.0, -23.0, -36.0, -72.0], [10.0, 10.0, 60.0, 10.0, 10.0], -23.0),
        ([-26.0, -20.0, -26.0], [20.0, 20.1, 20.0], -23.0),
    ],
)
def test_the_ebu_tech_3341_stereo_sine_cases_measure_within_a_tenth_of_a_lu(
    levels_dbfs: list[float], seconds: list[float], expected_lufs: float
) -> None:
    tone = np.concatenate([sine(db, s) for db, s in zip(levels_dbfs, seconds, strict=True)])
    assert measure(stereo(tone))[0] == pytest.approx(expected_lufs, abs=0.1)


@pytest.mark.parametrize("rate", [44_100, 48_000, 96_000])
def test_a_full_scale_997_hz_sine_in_one_channel_measures_minus_3_01_lkfs(rate: int) -> None:
    meter = LoudnessMeter(rate, 1)
    meter.add(sine(0.0, 10.0, hz=997.0, rate=rate)[:, None])
    assert meter.integrated_lufs() == pytest.approx(-3.01, abs=0.05)


def test_silence_and_anything_under_400_ms_measure_minus_infinity() -> None:
    assert measure(np.zeros((RATE * 3, 2), np.float32)) == (-math.inf, -math.inf)
    assert measure(stereo(sine(-20.0, 0.35)))[0] == -math.inf


def test_the_meter_keeps_one_float_per_100_ms_whatever_the_block_size() -> None:
    tone = stereo(sine(-20.0, 60.0))
    results = set()
    for sizes in ([RATE * 60], [4096], [1, 441, 9999]):
        meter = LoudnessMeter(RATE, 2)
        for part in cut(tone, sizes):
            meter.add(part)
        assert len(meter.hop_powers) == 600
        results.add(meter.integrated_lufs())
    assert len(results) == 1  # bit for bit the same


def test_the_gain_reaches_the_target_when_it_moves_blocks_across_the_absolute_gate() -> None:
    # ten seconds at -62 LUFS and a tail at -69 that the gates let in; the cut to -68 shuts
    # the tail out (under -70), and what is left measures 4 LU over ``target - measured``
    hops = np.concatenate([np.full(100, 10.0 ** ((-62.0 + 0.691) / 10.0)),
                           np.full(400, 10.0 ** ((-69.0 + 0.691) / 10.0))])  # fmt: skip
    target = -68.0
    naive_db = target - gated_lufs(hops)
    assert gated_lufs(hops * 10.0 ** (naive_db / 10.0)) == pytest.approx(-63.6, abs=0.1)
    gain_db = gain_to_reach_db(hops, target)
    assert gated_lufs(hops * 10.0 ** (gain_db / 10.0)) == pytest.approx(target, abs=1e-6)


@given(
    levels_lufs=st.lists(st.floats(-95.0, -5.0), min_size=4, max_size=60),
    target_lufs=st.floats(-60.0, -5.0),
)
def test_the_gain_always_reaches_the_target(levels_lufs: list[float], target_lufs: float) -> None:
    hops = 10.0 ** ((np.array(levels_lufs) + 0.691) / 10.0)
    gain_db = gain_to_reach_db(hops, target_lufs)
    reached = gated_lufs(hops * 10.0 ** (gain_db / 10.0))
    if gated_lufs(hops) == -math.inf:
        assert gain_db == 0.0
    elif math.isfinite(reached):
        assert reached == pytest.approx(target_lufs, abs=1e-6)


def test_true_peak_finds_a_peak_between_samples() -> None:
    # a quarter of the sample rate, 45 degrees off: every sample is at 0.707 of the peak
    t = np.arange(RATE * 2)
    tone = (0.5 * np.sin(np.pi / 2 * t + np.pi / 4)).astype(np.float32)
    meter = TruePeakMeter(RATE, 1)
    meter.add(tone[:, None])
    assert 20 * np.log10(np.abs(tone).max()) == pytest.approx(-9.03, abs=0.01)
    assert meter.true_peak_dbtp() == pytest.approx(-6.02, abs=0.3)


@given(
    seed=st.integers(0, 2**16),
    floor_db=st.floats(-40.0, 6.0),
    pieces=st.integers(1, 3),
)
def test_a_true_peak_over_the_floor_is_exact_and_one_under_it_stays_under(
    seed: int, floor_db: float, pieces: int
) -> None:
    # speech-like: bursts of band-limited noise at different levels, some between samples
    rng = np.random.default_rng(seed)
    bursts = [rng.standard_normal(4000) * rng.uniform(0.01, 0.9) for _ in range(6)]
    x = np.convolve(np.concatenate(bursts), np.hanning(5) / 2.5)[:, None].astype(np.float32)
    exact = TruePeakMeter(RATE, 1)
    exact.add(x)
    floor = 10.0 ** (floor_db / 20.0)
    pruned = TruePeakMeter(RATE, 1, floor=floor)
    for piece in np.array_split(x, pieces):
        pruned.add(piece)
    sample_peak_db = 20 * math.log10(float(np.abs(x).max()))
    if exact.true_peak_dbtp() > floor_db:
        assert pruned.true_peak_dbtp() == exact.true_peak_dbtp()
    else:
        assert sample_peak_db <= pruned.true_peak_dbtp() <= floor_db


def test_the_meters_agree_with_ffmpeg_ebur128(tmp_path: Path) -> None:
    import soundfile as sf

    audio = speech_like(30.0)
    audio[:, 1] *= 0.5  # channels that differ
    path = tmp_path / "speech.wav"
    sf.write(path, audio, RATE, subtype="FLOAT")
    loudness, peak = measure(audio)
    ffmpeg_loudness, ffmpeg_peak = ffmpeg_ebur128(path)
    assert loudness == pytest.approx(ffmpeg_loudness, abs=0.1)
    assert peak == pytest.approx(ffmpeg_peak, abs=0.15)


# --- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("channels", "target"), [(2, -16.0), (1, -19.0)])
def test_an_export_measures_the_target_and_stays_under_minus_1_dbtp_in_ffmpeg(
    tmp_path: Path, channels: int, target: float
) -> None:
    audio = speech_like(40.0, channels=channels)
    reports: list[LoudnessReport] = []
    out = tmp_path / "session.wav"
    blocks = normalize(lambda: cut(audio, [4096]), sample_rate=RATE, channels=channels,
                       on_report=reports.append)  # fmt: skip
    export_blocks(blocks, out, sample_rate=RATE, channels=channels)
    loudness, peak = ffmpeg_ebur128(out)
    assert loudness == pytest.approx(target, abs=0.5)
    assert peak <= -1.0
    (report,) = reports
    assert report.target_lufs == target
    assert report.gain_db == pytest.approx(target - report.measured_lufs)
    assert report.output_lufs == pytest.approx(loudness, abs=0.1)
    assert report.output_true_peak_dbtp <= -1.0


def test_broadband_noise_limited_hard_stays_under_minus_1_dbtp_in_ffmpeg(tmp_path: Path) -> None:
    # energy up to 24 kHz: an interpolator less exact than ffmpeg's would let peaks through
    rng = np.random.default_rng(5)
    gate = np.sin(np.arange(RATE * 10) / RATE * 2 * np.pi * 1.3)[:, None] > 0.3
    noise = (rng.standard_normal((RATE * 10, 2)) * 0.1 * gate).astype(np.float32)
    out = tmp_path / "noise.wav"
    blocks = normalize(lambda: cut(noise, [4096]), sample_rate=RATE, channels=2, target_lufs=-10)
    export_blocks(blocks, out, sample_rate=RATE, channels=2)
    assert ffmpeg_ebur128(out)[1] <= -1.0


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_every_true_peak_stays_under_the_ceiling_at_any_rate_and_on_every_frame(rate: int) -> None:
    # the limiter works out its gain on cells of a few frames (15 or 16, as the rate divides)
    # and interpolates between them: clicks on any frame of a cell are all held down
    rng = np.random.default_rng(rate)
    noise = (rng.standard_normal((rate * 6, 1)) * 0.05).astype(np.float32)
    for k in range(40):
        noise[rate // 2 + k * (rate // 8) + k % 17] = 0.9 * (-1) ** k
    out = np.concatenate(
        list(normalize(lambda: cut(noise, [1000]), sample_rate=rate, channels=1, target_lufs=-9))
    )
    meter = TruePeakMeter(rate, 1)
    meter.add(out)
    assert meter.true_peak_dbtp() <= -1.0


def test_normalising_keeps_every_block_shape_and_sample_position() -> None:
    audio = np.zeros((RATE * 5, 2), np.float32)
    audio[RATE : RATE * 3] = stereo(sine(-30.0, 2.0, hz=440.0))
    audio[RATE * 4 + 1234] = 0.9  # a lone click, far over the ceiling once amplified
    sizes = [4096, 7, 1, 30_000, 333]
    blocks = list(normalize(lambda: cut(audio, sizes), sample_rate=RATE, channels=2))
    assert [b.shape for b in blocks] == [b.shape for b in cut(audio, sizes)]
    assert all(b.dtype == np.float32 for b in blocks)
    out = np.concatenate(blocks)
    assert int(np.argmax(np.abs(out[RATE * 3 :, 0]))) + RATE * 3 == RATE * 4 + 1234
    steady = slice(RATE + RATE // 2, RATE * 2)  # the tone, far from any limiting
    np.testing.assert_allclose(out[steady], audio[steady] * out[steady].max() / audio[steady].max(),
                               rtol=1e-5, atol=1e-7)  # fmt: skip


def test_a_mono_stream_may_come_as_one_dimensional_blocks() -> None:
    audio = speech_like(5.0, channels=1)[:, 0]
    blocks = list(normalize(lambda: cut(audio, [4096]), sample_rate=RATE, channels=1))
    assert [b.shape for b in blocks] == [b.shape for b in cut(audio, [4096])]


def test_normalising_twice_or_in_other_blocks_gives_the_same_samples() -> None:
    audio = speech_like(12.0)
    first = normalised(audio)
    assert np.array_equal(first, normalised(audio))
    assert np.array_equal(first, normalised(audio, [1000, 333, 12_345]))
    assert np.array_equal(first, normalised(audio, [len(audio)]))


def test_a_lean_report_gives_the_same_samples_without_the_peak_and_output_figures() -> None:
    audio = speech_like(6.0)
    full = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2)
    lean = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2, full_report=False)
    assert np.array_equal(np.concatenate(list(full.blocks())), np.concatenate(list(lean.blocks())))
    assert full.report and lean.report
    assert lean.report.measured_lufs == full.report.measured_lufs
    assert lean.report.max_reduction_db == full.report.max_reduction_db
    assert math.isnan(lean.report.output_lufs) and math.isnan(lean.report.measured_true_peak_dbtp)


def test_long_silences_between_sounds_measure_as_a_sample_by_sample_filter_would() -> None:
    # the meter skips silence once the filter has rung out: that must not change the figure
    burst = speech_like(1.0)
    gap = np.zeros((RATE * 3 // 2 + 123, 2), np.float32)
    audio = np.concatenate([burst, gap, burst[::-1], gap, burst])
    measured, _ = measure(audio)
    (b1, a1), (b2, a2) = k_weighting(RATE)
    power = 0
    for channel in (0, 1):
        weighted = direct_form(direct_form(audio[:, channel], b1, a1), b2, a2)
        power += (weighted[: len(weighted) // 4800 * 4800].reshape(-1, 4800) ** 2).mean(axis=1)
    blocks = (power[:-3] + power[1:-2] + power[2:-1] + power[3:]) / 4
    blocks = blocks[blocks > 10 ** ((-70 + 0.691) / 10)]
    blocks = blocks[blocks > blocks.mean() / 10]
    assert measured == pytest.approx(-0.691 + 10 * math.log10(blocks.mean()), abs=1e-6)


def test_silence_stays_silence_with_no_gain() -> None:
    silence = np.zeros((RATE * 2, 2), np.float32)
    normalizer = Normalizer(lambda: cut(silence, [4096]), sample_rate=RATE, channels=2)
    assert not np.concatenate(list(normalizer.blocks())).any()
    assert normalizer.report is not None
    assert (normalizer.report.measured_lufs, normalizer.report.gain_db) == (-math.inf, 0.0)


def test_a_target_beyond_what_the_peaks_allow_is_limited_to_the_ceiling_and_falls_short() -> None:
    audio = speech_like(20.0)
    normalizer = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2,
                            target_lufs=-10.0)  # fmt: skip
    out = np.concatenate(list(normalizer.blocks()))
    loudness, peak = measure(out)
    report = normalizer.report
    assert report is not None
    assert peak <= -1.0
    assert report.max_reduction_db > 5.0
    assert loudness == pytest.approx(report.output_lufs)
    assert -10.0 - 3.0 < loudness < -10.0 - 0.5  # short of the target: the limiter took the peaks


def test_the_make_up_gain_brings_a_gently_limited_stream_to_the_target() -> None:
    audio = speech_like(20.0)
    plain = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2,
                       target_lufs=-13.5)  # fmt: skip
    short = measure(np.concatenate(list(plain.blocks())))[0]
    normalizer = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2,
                            target_lufs=-13.5)  # fmt: skip
    forecast = normalizer.make_up()
    loudness, peak = measure(np.concatenate(list(normalizer.blocks())))
    assert short < -13.55  # the limiter alone takes some loudness off
    assert 0.0 < forecast.max_reduction_db <= 3.0 and forecast.make_up_db > 0.0
    assert loudness == pytest.approx(-13.5, abs=0.03)
    assert forecast.lufs == pytest.approx(loudness, abs=1e-6)
    assert peak <= -1.0


def test_no_make_up_is_tried_past_what_the_limiter_may_take() -> None:
    audio = speech_like(20.0)
    normalizer = Normalizer(lambda: cut(audio, [4096]), sample_rate=RATE, channels=2,
                            target_lufs=-10.0)  # fmt: skip
    forecast = normalizer.make_up()
    assert forecast.make_up_db == 0.0 and forecast.max_reduction_db > 3.0
    assert forecast.lufs == pytest.approx(measure(np.concatenate(list(normalizer.blocks())))[0])


def test_the_limiter_ramps_the_gain_over_milliseconds_without_jumps() -> None:
    quiet, loud = sine(-20.0, 4.0, hz=100.0), sine(-2.0, 0.5, hz=100.0)
    audio = stereo(np.concatenate([quiet, loud, quiet]))
    out = normalised(audio, target_lufs=-8.0)
    live = np.flatnonzero(np.abs(audio[:, 0]) > 0.05)
    gain_db = 20 * np.log10(out[live, 0] / audio[live, 0])
    slope = np.abs(np.diff(gain_db)) / np.diff(live)  # dB per frame
    assert gain_db.max() - gain_db.min() > 3.0  # the loud half second is pulled down
    assert slope.max() < 0.05  # yet the gain never steps: a 5 ms ramp, then a slow release


def test_memory_does_not_grow_with_the_length_of_the_stream() -> None:
    source = stereo(sine(-20.0, 10.0))  # made before tracing starts
    source[:: RATE // 2] = 0.5  # clicks, for the limiter to work on
    peaks = []
    for repeats in (3, 12):  # 30 s, then 2 minutes

        def blocks(repeats: int = repeats) -> Iterator[Audio]:
            for _ in range(repeats):
                yield from cut(source, [4096])

        tracemalloc.start()
        normalizer = Normalizer(blocks, sample_rate=RATE, channels=2, target_lufs=-10.0)
        for _ in normalizer.blocks():
            pass
        assert normalizer.report and normalizer.report.max_reduction_db > 3.0
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # all that should grow: a float per 100 ms per meter, 8 bytes x 900 x 2 meters = 14 kB
    assert peaks[1] - peaks[0] < 64_000
    assert peaks[1] < 8 * 2**20


@pytest.mark.parametrize("target", [-70.0, -4.0, math.nan])
def test_a_target_out_of_range_is_refused(target: float) -> None:
    with pytest.raises(BadInputError, match="LUFS"):
        Normalizer(lambda: iter(()), sample_rate=RATE, channels=2, target_lufs=target)


def test_measuring_reports_progress_and_runs_once() -> None:
    audio = stereo(sine(-20.0, 2.0))
    calls: list[int] = []

    def make() -> Iterator[Audio]:
        calls.append(0)
        return cut(audio, [4096])

    progress: list[int] = []
    normalizer = Normalizer(make, sample_rate=RATE, channels=2)
    assert normalizer.measure(progress.append) == pytest.approx(-20.0, abs=0.05)
    assert normalizer.gain_db == pytest.approx(4.0, abs=0.05)
    assert sum(progress) == len(audio) and len(calls) == 1
    list(normalizer.blocks())
    assert len(calls) == 2


@given(
    rate=st.sampled_from([11025, 16000, 22050, 24000, 44100, 48000]),
    seed=st.integers(0, 2**16),
    seconds=st.floats(0.05, 2.5),
)
def test_a_sounds_limiter_gives_the_samples_a_tenth_of_a_second_at_a_time_would(
    rate: int, seed: int, seconds: float
) -> None:
    from loosen.loudness.limiter import PEAK_MARGIN_DB, Limiter, limit_true_peak

    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(round(rate * seconds)) * rng.uniform(0.2, 0.9)).astype(np.float32)
    limited, _ = limit_true_peak(x, rate, -3.0)
    # the reference: the same limiter fed tenths of a second
    tenth = round(rate / 10)
    limiter = Limiter(rate, 1, -3.0 - PEAK_MARGIN_DB, tenth)
    count = -(-(x.size + limiter.delay) // tenth)
    padded = np.zeros((count * tenth, 1), np.float32)
    padded[: x.size, 0] = x
    out = np.concatenate(
        [limiter.process(padded[i : i + tenth]) for i in range(0, padded.size, tenth)]
    )
    np.testing.assert_array_equal(limited, out[limiter.delay : limiter.delay + x.size, 0])


def test_a_stream_whose_true_peak_stays_under_the_ceiling_takes_two_passes_not_three() -> None:
    # a steady tone with a short louder burst every second: after the gain its true peak is
    # some dB under the ceiling, while a bound from the sample peak (7.6 dB over it) would have
    # asked for the limiter
    from loosen.loudness.true_peak import true_peak_bound_dbtp

    t = np.arange(RATE * 12) / RATE
    burst = np.where(
        (t % 1.0) < 0.005, np.hanning(240)[np.minimum((t % 1.0 * RATE).astype(int), 239)], 0
    )
    tone = ((0.05 + 0.1 * burst) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    audio = np.stack([tone, tone], axis=1)
    passes = []

    def blocks() -> Iterator[np.ndarray]:
        passes.append(1)
        return cut(audio, [4096])

    normalizer = Normalizer(blocks, sample_rate=RATE, channels=2, full_report=False)
    normalizer.measure()  # as an export runs them: pass 1, the make-up, pass 2
    normalizer.make_up()
    peak_dbtp = 20 * math.log10(float(np.abs(tone).max())) + normalizer.gain_db
    assert peak_dbtp < normalizer.true_peak_dbtp - 1.0  # the limiter has nothing to do
    bound_dbtp = true_peak_bound_dbtp(float(np.abs(tone).max())) + normalizer.gain_db
    assert bound_dbtp > normalizer.true_peak_dbtp  # ... which the bound could not tell
    out = np.concatenate(list(normalizer.blocks()))
    assert len(passes) == 2  # pass 1 and pass 2: no make-up pass
    np.testing.assert_array_equal(out, audio * np.float32(10 ** (normalizer.gain_db / 20)))
