"""`Speech` speaks each distinct text once, reuses the cache, and works without one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loosen.tts import Speech, SpeechCache, SpeechEngine
from loosen.tts.cache import quantize
from loosen.tts.pyttsx3_engine import Pyttsx3Engine
from tests.fakes import FakeEngine

TEXTS = ["Breathe in.", "Hold.", "Breathe out slowly.", "Hold.", "Breathe in."]


def test_the_fake_engine_follows_the_speech_engine_protocol() -> None:
    engine = FakeEngine()
    assert isinstance(engine, SpeechEngine)
    [(_, short)] = engine.synthesize(["Hi."])
    [(_, long)] = engine.synthesize(["Hello there, how are you?"])
    assert 0 < short.n_frames < long.n_frames
    assert short.sample_rate == 22050


def test_prepare_speaks_each_distinct_text_once_in_first_seen_order(tmp_path: Path) -> None:
    engine = FakeEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    assert speech.prepare(TEXTS) == 3
    assert engine.spoken == ["Breathe in.", "Hold.", "Breathe out slowly."]
    assert speech.synthesized_count == 3


def test_preparing_twice_speaks_nothing_the_second_time(tmp_path: Path) -> None:
    speech = Speech(FakeEngine(), SpeechCache(tmp_path))
    assert speech.prepare(TEXTS) == 3
    assert speech.prepare(TEXTS) == 0
    later = Speech(FakeEngine(), SpeechCache(tmp_path))
    assert later.prepare(TEXTS) == 0
    assert later.synthesized_count == 0


def test_progress_counts_the_texts_to_speak(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    speech = Speech(FakeEngine(), SpeechCache(tmp_path))
    speech.prepare(TEXTS, lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_clip_is_the_same_whether_just_spoken_or_read_back(tmp_path: Path) -> None:
    engine = FakeEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    speech.prepare(TEXTS)
    clip = speech.clip("Hold.")
    [(_, fresh)] = FakeEngine().synthesize(["Hold."])
    assert clip == quantize(fresh)
    assert clip.samples.dtype == np.float32
    np.testing.assert_allclose(clip.samples, fresh.samples, atol=1 / 32768)


def test_a_missing_clip_is_spoken_on_demand(tmp_path: Path) -> None:
    engine = FakeEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    clip = speech.clip("Unprepared text.")
    assert clip.n_frames == round(engine.duration_s("Unprepared text.") * 22050)
    assert speech.synthesized_count == 1
    speech.clip("Unprepared text.")
    assert speech.synthesized_count == 1


def test_without_a_cache_clips_are_kept_in_memory() -> None:
    engine = FakeEngine()
    speech = Speech(engine, None)
    assert speech.prepare(TEXTS) == 3
    assert speech.prepare(TEXTS) == 0
    assert speech.clip("Breathe out slowly.").n_frames > 0
    assert engine.spoken == ["Breathe in.", "Hold.", "Breathe out slowly."]
    assert Speech(FakeEngine(), None).prepare(TEXTS) == 3


def test_without_a_cache_nothing_is_written_to_disk(tmp_path: Path) -> None:
    Speech(FakeEngine(), None).prepare(TEXTS)
    assert SpeechCache().get(Speech(FakeEngine(), None).key("Hold.")) is None


def test_a_damaged_cache_entry_is_spoken_again(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    speech = Speech(FakeEngine(), cache)
    speech.prepare(TEXTS)
    path = cache.path_for(speech.key("Hold."))
    path.write_bytes(path.read_bytes()[:-100])
    assert Speech(FakeEngine(), cache).prepare(TEXTS) == 1


def test_another_voice_or_rate_is_spoken_again_but_pacing_never_matters(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    Speech(FakeEngine(), cache).prepare(TEXTS)
    assert Speech(FakeEngine(rate_wpm=120), cache).prepare(TEXTS) == 3
    assert Speech(FakeEngine(voice="other"), cache).prepare(TEXTS) == 3
    assert Speech(FakeEngine(), cache).prepare(TEXTS) == 0


def test_the_real_engine_is_spoken_once_then_read_from_the_cache(
    tmp_path: Path, real_engine: Pyttsx3Engine
) -> None:
    cache = SpeechCache(tmp_path)
    first = Speech(real_engine, cache)
    assert first.prepare(["Relax your jaw.", "Good."]) == 2
    second = Speech(real_engine, cache)
    assert second.prepare(["Good.", "Relax your jaw."]) == 0
    assert second.clip("Good.") == first.clip("Good.")
    assert second.clip("Relax your jaw.").n_frames > second.clip("Good.").n_frames
