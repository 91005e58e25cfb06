"""`Speech` speaks each distinct text once, reuses the cache, and works without one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from loosen.errors import SpeechError
from loosen.tts import Clip, Speech, SpeechCache, SpeechEngine
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


def test_a_damaged_entry_left_to_speaking_ahead_is_spoken_when_it_is_read(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    Speech(FakeEngine(), cache).prepare(TEXTS)
    path = cache.path_for(Speech(FakeEngine(), cache).key("Hold."))
    path.write_bytes(path.read_bytes()[:-100])
    engine = FakeEngine()
    speech = Speech(engine, cache)
    speech.prepare_ahead(TEXTS)  # sees the file there: nothing to speak ahead
    assert speech.clip("Hold.").n_frames == engine._tone("Hold.").n_frames
    assert engine.spoken == ["Hold."]
    speech.stop()


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


class SlowEngine(FakeEngine):
    """A fake engine that takes ``delay_s`` per text and can fail on one."""

    def __init__(self, delay_s: float = 0.02, fail_on: str | None = None) -> None:
        super().__init__()
        self.delay_s, self.fail_on = delay_s, fail_on

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        for text in texts:
            time.sleep(self.delay_s)
            if text == self.fail_on:
                raise SpeechError(f"cannot say {text!r}")
            yield from super().synthesize([text])


def test_speech_prepared_ahead_is_waited_for_and_spoken_once_in_order(tmp_path: Path) -> None:
    engine = SlowEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    texts = [f"Line {n}." for n in range(8)]
    speech.prepare_ahead(texts)
    assert speech.clip(texts[-1]) == quantize(FakeEngine()._tone(texts[-1]))  # waits for it
    assert [speech.clip(t) for t in texts] == [quantize(FakeEngine()._tone(t)) for t in texts]
    speech.stop()
    assert engine.spoken == texts


def test_a_line_outside_what_is_prepared_ahead_is_spoken_on_demand_meanwhile(
    tmp_path: Path,
) -> None:
    engine = SlowEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    speech.prepare_ahead([f"Line {n}." for n in range(5)])
    assert speech.clip("Something else.").n_frames > 0
    assert speech.clip("Line 4.").n_frames > 0
    speech.stop()
    assert sorted(engine.spoken) == sorted([*(f"Line {n}." for n in range(5)), "Something else."])


def test_a_failure_ahead_is_raised_where_the_clip_is_wanted(tmp_path: Path) -> None:
    speech = Speech(SlowEngine(fail_on="Line 2."), SpeechCache(tmp_path))
    speech.prepare_ahead([f"Line {n}." for n in range(5)])
    assert speech.clip("Line 1.").n_frames > 0
    with pytest.raises(SpeechError, match="Line 2"):
        speech.clip("Line 3.")
    speech.stop()


def test_stopping_ends_the_synthesis_ahead_after_the_current_line(tmp_path: Path) -> None:
    engine = SlowEngine(delay_s=0.05)
    speech = Speech(engine, SpeechCache(tmp_path))
    speech.prepare_ahead([f"Line {n}." for n in range(100)])
    time.sleep(0.12)
    speech.stop()
    assert 1 <= len(engine.spoken) < 10


def speech_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loosen-speech"]


def test_stopping_joins_every_thread_ahead_within_its_timeout(tmp_path: Path) -> None:
    before = speech_threads()
    engine = GatedEngine("Line 2.")
    with Speech(engine, SpeechCache(tmp_path)) as speech:
        speech.prepare_ahead([f"Line {n}." for n in range(6)])
        assert engine.reached.wait(5)
        assert not speech.stop(timeout_s=0.1)  # the gated engine is still on its line
        engine.gate.set()
    # leaving the block stopped it again: that thread ended after its line and was joined
    assert speech_threads() == before
    assert speech.stop()


class GatedEngine(FakeEngine):
    """A fake engine that holds one text until its gate opens."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held, self.gate = held, threading.Event()
        self.reached = threading.Event()  # set once the held text is being spoken

    def synthesize(self, texts: Sequence[str]) -> Iterator[tuple[str, Clip]]:
        for text in texts:
            if text == self.held:
                self.reached.set()
                assert self.gate.wait(10)
            yield from super().synthesize([text])


def test_a_line_spoken_ahead_is_handed_over_while_the_engine_speaks_the_next(
    tmp_path: Path,
) -> None:
    engine = GatedEngine(held="Second.")
    speech = Speech(engine, SpeechCache(tmp_path))
    speech.prepare_ahead(["First.", "Second."])
    got: list[Clip] = []
    waiter = threading.Thread(target=lambda: got.append(speech.clip("First.")))
    waiter.start()
    waiter.join(5)
    handed_over = bool(got)  # while "Second." is still held in the engine
    engine.gate.set()
    speech.stop()
    assert handed_over


def test_a_line_left_unspoken_by_a_stop_is_spoken_when_it_is_wanted(tmp_path: Path) -> None:
    engine = SlowEngine(delay_s=0.05)
    speech = Speech(engine, SpeechCache(tmp_path))
    speech.prepare_ahead([f"Line {n}." for n in range(50)])
    speech.stop()
    assert speech.clip("Line 49.").n_frames > 0


class RestingEngine(SlowEngine):
    """A fake engine that counts the times it is told to rest (stop its worker for now)."""

    def __init__(self) -> None:
        super().__init__()
        self.rests: list[int] = []

    def rest(self) -> None:
        self.rests.append(len(self.spoken))


def test_an_engine_rests_once_it_has_spoken_its_lines_ahead(tmp_path: Path) -> None:
    engine = RestingEngine()
    speech = Speech(engine, SpeechCache(tmp_path))
    texts = [f"Line {n}." for n in range(6)]
    speech.prepare_ahead(texts)
    assert [speech.clip(t).n_frames > 0 for t in texts] == [True] * 6
    speech.stop()
    assert engine.rests == [6]  # after its last line
