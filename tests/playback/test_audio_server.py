"""Self-test of the real-audio-server harness (tests/audio_server.py).

Plays known bursts with sounddevice to the default device and records the null sink's monitor:
this proves PortAudio -> ALSA default -> PulseAudio null sink -> monitor -> parecord works, and
that the helpers find what was played. Positions are compared inside the recording only: the
null sink is not a wall clock.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from tests.audio_server import (
    Audio,
    Recorder,
    align,
    find_in,
    mono,
    onsets,
    require_audio_server,
)

RATE = 48_000
TOLERANCE = round(0.020 * RATE)  # 20 ms, the precision asked of chime onsets
BURST_STARTS = [round(s * RATE) for s in (0.3, 0.75, 1.45)]  # uneven, so no gap aliases another
LEFT, RIGHT = 0.5, 0.25  # different levels per channel reveal a swap or a downmix


def burst(seconds: float = 0.1, hz: float = 1000.0) -> Audio:
    """A 1 kHz tone burst with 2 ms ramps, mono."""
    t = np.arange(round(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * hz * t)
    ramp = round(0.002 * RATE)
    envelope = np.ones_like(t)
    envelope[:ramp] = envelope[-ramp:][::-1] = np.linspace(0, 1, ramp)
    return (tone * envelope).astype(np.float32)


def bursts_signal() -> Audio:
    """0.3 s of silence, then three bursts at BURST_STARTS; 2 s in all, stereo."""
    signal = np.zeros((2 * RATE, 2), dtype=np.float32)
    one = burst()
    for start in BURST_STARTS:
        signal[start : start + len(one), 0] = LEFT * one
        signal[start : start + len(one), 1] = RIGHT * one
    return signal


@dataclass(frozen=True)
class Played:
    signal: Audio
    recorded: Audio


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    sink = require_audio_server()
    import sounddevice as sd  # loads PortAudio: only once the server is known to be there

    signal = bursts_signal()
    path = tmp_path_factory.mktemp("audio-server") / "recording.wav"
    with Recorder(sink, path, rate=RATE, channels=2) as recorder:
        sd.play(signal, RATE, blocking=True)
    return Played(signal, recorder.read())


def test_the_recording_contains_what_sounddevice_played(played: Played) -> None:
    offset, score = align(played.recorded, played.signal)
    assert score > 0.9
    assert offset >= 0  # the recorder was listening before the first frame


def test_each_burst_is_found_where_it_was_played_relative_to_the_others(played: Played) -> None:
    offset, _ = align(played.recorded, played.signal)
    recorded = mono(played.recorded)
    template = mono(played.signal[BURST_STARTS[0] : BURST_STARTS[0] + len(burst())])
    found = [find_in(recorded, template, offset + start, RATE // 10) for start in BURST_STARTS]
    for start, position in zip(BURST_STARTS, found, strict=True):
        assert abs((position - found[0]) - (start - BURST_STARTS[0])) <= TOLERANCE


def test_burst_onsets_are_detected_at_the_played_spacing(played: Played) -> None:
    times = onsets(mono(played.recorded), RATE)
    assert len(times) == len(BURST_STARTS)
    for time_s, start in zip(times, BURST_STARTS, strict=True):
        assert abs((time_s - times[0]) * RATE - (start - BURST_STARTS[0])) <= TOLERANCE


def test_the_recording_keeps_the_level_and_the_channel_order(played: Played) -> None:
    offset, _ = align(played.recorded, played.signal)
    first = offset + BURST_STARTS[0]
    recorded = played.recorded[first : first + len(burst())]
    played_rms = np.sqrt(np.mean(played.signal[BURST_STARTS[0] :][: len(burst())] ** 2, axis=0))
    recorded_rms = np.sqrt(np.mean(recorded**2, axis=0))
    gain_db = 20 * np.log10(recorded_rms / played_rms)
    assert np.all(np.abs(gain_db) < 0.5), f"gain per channel: {gain_db} dB"


# The helpers themselves, on synthetic signals: no audio server needed.


def noise(frames: int, seed: int = 1) -> Audio:
    return np.random.default_rng(seed).standard_normal(frames).astype(np.float32)


def test_align_finds_a_delay_in_frames_with_a_perfect_score() -> None:
    reference = noise(4000)
    recorded = np.concatenate([np.zeros(1234, np.float32), reference, np.zeros(500, np.float32)])
    offset, score = align(recorded, reference)
    assert offset == 1234
    assert score == pytest.approx(1.0)


def test_align_reports_a_missing_head_as_a_negative_offset() -> None:
    reference = noise(4000)
    offset, score = align(reference[300:], reference)
    assert offset == -300
    assert score == pytest.approx(1.0)


def test_align_scores_unrelated_audio_low() -> None:
    _, score = align(noise(8000, seed=2), noise(4000, seed=3))
    assert score < 0.2


def test_align_compares_stereo_recordings_as_mono() -> None:
    reference = np.stack([noise(3000), noise(3000, seed=4)], axis=1)
    recorded = np.concatenate([np.zeros((77, 2), np.float32), reference])
    assert align(recorded, reference)[0] == 77


def test_find_in_locates_a_template_near_where_it_is_expected() -> None:
    template = burst()
    recorded = np.zeros(RATE, np.float32)
    recorded[10_000 : 10_000 + len(template)] += template
    recorded[30_000 : 30_000 + len(template)] += template  # another one, outside the window
    assert find_in(recorded, template, expected_frame=10_500, search_frames=2_000) == 10_000


def test_find_in_rejects_a_window_with_no_room_for_the_template() -> None:
    with pytest.raises(ValueError, match="no room"):
        find_in(np.zeros(100, np.float32), burst(), expected_frame=50, search_frames=10)


def test_onsets_are_the_rises_above_the_threshold() -> None:
    signal = bursts_signal()
    times = onsets(mono(signal), RATE)
    assert times == pytest.approx([start / RATE for start in BURST_STARTS], abs=0.002)


def test_onsets_ignore_a_rise_too_soon_after_the_last() -> None:
    signal = np.zeros(RATE, np.float32)
    signal[4800:9600] = signal[14400:19200] = 0.5  # 0.1 s apart, less than min_gap_s
    assert onsets(signal, RATE, min_gap_s=0.3) == pytest.approx([0.1])


def test_without_a_server_it_skips_or_fails_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent")
    monkeypatch.delenv("LOOSEN_REQUIRE_AUDIO", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PulseAudio server with a null sink"):
        require_audio_server()
    monkeypatch.setenv("LOOSEN_REQUIRE_AUDIO", "1")
    with pytest.raises(pytest.fail.Exception, match="LOOSEN_REQUIRE_AUDIO is set"):
        require_audio_server()
