"""The renderer with a fake speech engine: blocks, seeking, levels and the speech cache."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loosen.loudness.true_peak import TruePeakMeter
from loosen.render.rendering import (
    LIMIT_KNEE_DBFS,
    PEAK_CEILING_DBFS,
    SPEECH_PEAK_DBFS,
    Rendering,
    SpeechClips,
    prepare_speech,
    render_session,
)
from loosen.script.loading import Mix, load_session
from loosen.sound.cues import BREATH_TONE_PEAK_DBFS, load_cue_set
from loosen.tts import Clip, Speech, SpeechCache
from loosen.tts.clips import SPEECH_LIMIT_DB, SPEECH_LOUDNESS_LUFS, line_lufs, speech_frames
from tests.fakes import FakeEngine, RecordingSpeech

HERE = Path(__file__).parent.parent
TINY = HERE / "data" / "tiny.toml"
RATE = 48_000


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def render(engine: FakeEngine, cache: SpeechCache | None = None, **options: object):  # type: ignore[no-untyped-def]
    session = load_session(TINY)
    return render_session(
        session, speech=Speech(engine, cache), cue_set=load_cue_set(session.cues), **options
    )


def test_the_blocks_add_up_to_the_timeline_exactly(engine: FakeEngine) -> None:
    rendering = render(engine)
    blocks = list(rendering.blocks(block_frames=1000))
    assert all(b.dtype == np.float32 and b.shape[1] == 2 and len(b) <= 1000 for b in blocks)
    assert sum(len(b) for b in blocks) == rendering.timeline.total_frames


def test_block_size_does_not_change_a_single_sample(engine: FakeEngine) -> None:
    rendering = render(engine)
    small = np.concatenate(list(rendering.blocks(block_frames=777)))
    large = np.concatenate(list(rendering.blocks(block_frames=48_000)))
    assert np.array_equal(small, large)


def test_starting_midway_gives_the_same_samples_as_the_whole(engine: FakeEngine) -> None:
    rendering = render(engine)
    whole = np.concatenate(list(rendering.blocks()))
    hold = next(e for e in rendering.timeline.events if e.kind == "hold")
    start = hold.start + 1234  # inside a sounding chime
    tail = np.concatenate(list(rendering.blocks(start_frame=start)))
    assert np.array_equal(tail, whole[start:])


def test_the_peak_never_passes_the_ceiling_and_the_session_fades(engine: FakeEngine) -> None:
    mono = np.concatenate(list(render(engine, channels=1).blocks()))[:, 0]
    assert np.max(np.abs(mono)) <= 10 ** (PEAK_CEILING_DBFS / 20) + 1e-6
    assert mono[0] == 0.0
    assert abs(mono[-1]) < 1e-4


def true_peak_dbtp(x: np.ndarray, rate: int = RATE) -> float:
    meter = TruePeakMeter(rate, 1)
    meter.add(x[:, None])
    return meter.true_peak_dbtp()


def test_speech_sounds_in_its_events_at_its_loudness(engine: FakeEngine) -> None:
    rendering = render(engine, channels=1)
    mono = np.concatenate(list(rendering.blocks()))[:, 0]
    for event in (e for e in rendering.timeline.events if e.kind == "speech"):
        line = mono[event.start : event.end]
        assert line_lufs(line, RATE) == pytest.approx(SPEECH_LOUDNESS_LUFS, abs=0.3), event
        assert true_peak_dbtp(line) <= SPEECH_PEAK_DBFS


def test_a_pacing_change_needs_no_new_synthesis(engine: FakeEngine, tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    first = render(engine, cache)
    spoken = len(engine.spoken)
    slower = replace(first.session.pacing, gap_s=2.0, release_s=9.0)
    second = render(engine, cache, pacing=slower)
    assert len(engine.spoken) == spoken
    assert second.timeline.total_frames > first.timeline.total_frames


def test_a_different_rate_is_a_different_recording(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    render(FakeEngine(rate_wpm=150), cache)
    slow = FakeEngine(rate_wpm=100)
    render(slow, cache)
    assert slow.spoken  # a rate change is not served from the 150 wpm cache


def test_prepared_speech_is_trimmed_resampled_faded_and_levelled() -> None:
    rate = 22_050
    tone = np.sin(2 * np.pi * 300 * np.arange(rate) / rate).astype(np.float32) * 0.3
    padded = np.concatenate([np.zeros(rate // 2, np.float32), tone, np.zeros(rate, np.float32)])
    out = prepare_speech(Clip(padded, rate), RATE)
    assert out.dtype == np.float32
    assert out.size == pytest.approx(RATE * (1.0 + 2 * 0.015), rel=0.01)
    assert line_lufs(out, RATE) == pytest.approx(SPEECH_LOUDNESS_LUFS, abs=0.1)
    assert abs(out[0]) < 1e-3 and abs(out[-1]) < 1e-3


def clicks_on_a_tone(click: float) -> Clip:
    """Two seconds of a quiet 300 Hz tone with a click of ``click`` every 100 ms, at 22050 Hz."""
    rate = 22_050
    x = 0.05 * np.sin(2 * np.pi * 300 * np.arange(2 * rate) / rate)
    x[rate // 20 :: rate // 10] += click
    return Clip(x.astype(np.float32), rate)


def test_a_peaky_line_is_levelled_by_loudness_with_its_true_peaks_held_under_the_ceiling() -> None:
    # clicks 12 dB over the tone: at the common loudness they need the line's limiter
    out = prepare_speech(clicks_on_a_tone(0.2), RATE)
    assert true_peak_dbtp(out) <= SPEECH_PEAK_DBFS
    assert line_lufs(out, RATE) == pytest.approx(SPEECH_LOUDNESS_LUFS, abs=0.5)


def test_a_line_too_peaky_for_the_limiter_stays_quieter_rather_than_limited_more() -> None:
    # clicks 21 dB over the tone would need more than SPEECH_LIMIT_DB off every click
    clip = clicks_on_a_tone(0.6)
    out = prepare_speech(clip, RATE)
    assert true_peak_dbtp(out) <= SPEECH_PEAK_DBFS
    raw = np.asarray(clip.samples)
    peak_over_loudness = true_peak_dbtp(raw, clip.sample_rate) - line_lufs(raw, clip.sample_rate)
    # the loudness the peaks allow with at most SPEECH_LIMIT_DB off them (the limiter's release
    # takes a little more between the clicks)
    allowed = SPEECH_PEAK_DBFS + SPEECH_LIMIT_DB - peak_over_loudness
    assert allowed < SPEECH_LOUDNESS_LUFS - 1
    assert allowed - SPEECH_LIMIT_DB <= line_lufs(out, RATE) <= allowed + 0.1


def test_silent_speech_still_has_a_length() -> None:
    out = prepare_speech(Clip(np.zeros(100, np.float32), 22_050), RATE)
    assert out.size >= 1 and not np.any(out)


def test_processed_speech_stays_within_its_memory_budget(engine: FakeEngine) -> None:
    clips = SpeechClips(Speech(engine, None), RATE, budget_bytes=200_000)
    lengths = [clips.frames(f"line number {n} " * 4) for n in range(40)]
    assert all(n > 0 for n in lengths)
    assert clips.held_bytes <= 200_000 + max(lengths) * 4


def test_a_second_pass_over_more_speech_than_fits_finds_its_first_lines_kept(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    speech = RecordingSpeech(engine, None)
    clips = SpeechClips(speech, RATE, budget_bytes=2_000_000)  # 8 lines of 40
    texts = [f"line number {n} " * 4 for n in range(40)]
    first_pass = [clips.samples(text) for text in texts]
    speech.asked.clear()
    second_pass = [clips.samples(text) for text in texts]
    processed = [text for text, _ in speech.asked]
    assert all(np.array_equal(a, b) for a, b in zip(first_pass, second_pass, strict=True))
    assert processed and texts[0] not in processed and len(processed) < len(texts) - 2
    assert clips.held_bytes <= 2_000_000 + max(a.nbytes for a in first_pass)


def test_progressive_layout_plays_the_same_samples_and_synthesizes_only_what_it_needs() -> None:
    full = np.concatenate(list(render(FakeEngine()).blocks()))
    engine = FakeEngine()
    progressive = render(engine, progressive=True)
    first = next(progressive.blocks(block_frames=RATE))
    assert engine.spoken == ["Welcome."]  # all that the first second needs
    assert not progressive.cue_set.rendered_cues()  # nor is a chime rendered before it is due
    assert not progressive.finished
    rest = list(progressive.blocks(start_frame=RATE))
    assert progressive.finished
    assert np.array_equal(np.concatenate([first, *rest]), full)


def mono_samples(engine: FakeEngine, **options: object) -> tuple[Rendering, np.ndarray]:
    rendering = render(engine, channels=1, **options)
    return rendering, np.concatenate(list(rendering.blocks()))[:, 0].astype(np.float64)


def test_voice_db_and_chime_db_move_speech_and_chimes_by_exactly_that_many_db(
    engine: FakeEngine,
) -> None:
    rendering, loud = mono_samples(engine)
    _, quiet = mono_samples(engine, mix=Mix(voice_db=-6.0, chime_db=-12.0))
    events = rendering.timeline.events
    for kind, gain_db in (("speech", -6.0), ("chime", -12.0)):
        spans = [e for e in events if e.kind == kind]
        assert spans
        for e in spans:
            expected = loud[e.start : e.end] * 10 ** (gain_db / 20)
            assert np.allclose(quiet[e.start : e.end], expected, rtol=1e-5, atol=1e-7), e


def test_a_zero_db_mix_changes_nothing(engine: FakeEngine) -> None:
    _, plain = mono_samples(engine)
    _, zero = mono_samples(engine, mix=Mix(voice_db=0.0, chime_db=0.0, ambience_db=0.0))
    assert np.array_equal(plain, zero)


def zero_crossings_hz(x: np.ndarray) -> float:
    crossings = np.count_nonzero(np.signbit(x[1:]) != np.signbit(x[:-1]))
    return crossings / 2 / (len(x) / RATE)


def test_the_breath_tone_rises_through_the_inhale_and_falls_through_the_exhale(
    engine: FakeEngine,
) -> None:
    rendering, plain = mono_samples(engine)
    _, guided = mono_samples(engine, mix=Mix(breath_tone=True))
    tone = guided - plain
    breaths = [e for e in rendering.timeline.events if e.kind == "breath"]
    assert {e.phase for e in breaths} == {"inhale", "exhale"}
    for e in breaths:
        part = tone[e.start : e.end]
        third = len(part) // 3
        first_hz, last_hz = zero_crossings_hz(part[:third]), zero_crossings_hz(part[-third:])
        if e.phase == "inhale":
            assert last_hz > 1.2 * first_hz, e
        else:
            assert first_hz > 1.2 * last_hz, e
        peak_db = 20 * np.log10(np.max(np.abs(part)))
        assert peak_db == pytest.approx(BREATH_TONE_PEAK_DBFS, abs=0.5)
        assert np.max(np.abs(part[:100])) < 0.01 * np.max(np.abs(part))  # a slow attack
    outside = np.ones(len(tone), bool)
    for e in breaths:
        outside[e.start : e.end] = False
    assert not np.any(tone[outside])


def test_loud_levels_bend_under_the_ceiling_and_quiet_ones_pass_untouched(
    engine: FakeEngine,
) -> None:
    rendering, plain = mono_samples(engine)
    _, loud = mono_samples(engine, mix=Mix(voice_db=15.0))
    ceiling, knee = 10 ** (PEAK_CEILING_DBFS / 20), 10 ** (LIMIT_KNEE_DBFS / 20)
    assert np.max(np.abs(loud)) <= ceiling + 1e-6
    assert np.max(np.abs(loud)) > knee
    speech = [e for e in rendering.timeline.events if e.kind == "speech"]
    quiet = np.abs(plain) * 10 ** (15 / 20) < knee
    for e in speech:
        span = slice(e.start, e.end)
        expected = plain[span][quiet[span]] * 10 ** (15 / 20)
        assert np.allclose(loud[span][quiet[span]], expected, rtol=1e-5, atol=1e-7)


@given(
    frames=st.integers(min_value=0, max_value=30_000),
    engine_rate=st.sampled_from([16_000, 22_050, 24_000, 44_100, 48_000]),
    output_rate=st.sampled_from([22_050, 44_100, 48_000, 96_000]),
)
@settings(max_examples=60, deadline=None)
def test_speech_is_measured_without_resampling_to_the_length_it_will_have(
    frames: int, engine_rate: int, output_rate: int
) -> None:
    samples = np.zeros(frames, np.float32)
    samples[frames // 3 : frames // 2] = np.sin(np.arange(frames // 2 - frames // 3) / 5)
    clip = Clip(samples, engine_rate)
    assert speech_frames(clip, output_rate) == prepare_speech(clip, output_rate).size


def test_speech_synthesized_ahead_gives_the_same_samples_as_speech_prepared_first() -> None:
    first = np.concatenate(list(render(FakeEngine()).blocks()))
    engine = FakeEngine()
    ahead = render(engine, progressive=True, synthesize_ahead=True)
    assert np.array_equal(np.concatenate(list(ahead.blocks())), first)
    ahead.clips.speech.stop()
    assert len(engine.spoken) == len(set(engine.spoken))  # each line once


@pytest.mark.parametrize("script", [TINY, HERE.parent / "scripts" / "stretch-quick.toml"])
def test_the_length_known_before_speech_is_never_short_of_the_real_one(script: Path) -> None:
    session = load_session(script)
    engine = FakeEngine(rate_wpm=80)  # the slowest speech
    rendering = render_session(
        session, speech=Speech(engine, None), cue_set=load_cue_set(session.cues), progressive=True
    )
    bound = rendering.frames_at_most()
    assert engine.spoken == []  # known before anything is said
    assert rendering.timeline.total_frames <= bound < 3 * rendering.timeline.total_frames


def test_a_rendering_closes_as_a_context_manager_and_twice_is_fine(engine: FakeEngine) -> None:
    with render(engine, progressive=True) as rendering:
        first = next(rendering.blocks())
        assert first.shape[1] == 2
    rendering.close()  # again: nothing left to stop


def test_the_rendering_is_its_layout_and_its_mixer(engine: FakeEngine) -> None:
    rendering = render(engine, progressive=True)
    direct = np.concatenate(list(rendering.mixer.blocks(0, RATE, block_frames=1000)))
    assert rendering.layout.finished is rendering.finished is False
    assert np.array_equal(direct, np.concatenate(list(rendering.blocks(0, RATE))))
    assert rendering.timeline is rendering.layout.timeline
    assert rendering.ambience is rendering.mixer.ambience
