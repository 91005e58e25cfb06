"""`SpeakingAhead` shares the texts among its engines, waits for them, stops and joins."""

from __future__ import annotations

import threading

import pytest

from loosen.errors import SpeechError
from loosen.tts import Clip, SpeechEngine
from loosen.tts.speaking_ahead import Speaker, SpeakingAhead
from tests.fakes import FakeEngine

TEXTS = [f"Line {n}." for n in range(5)]


class RestingEngine(FakeEngine):
    """A fake engine that can fail on one text, hold one until its gate opens, and that
    records when it is told to rest."""

    def __init__(self, fail_on: str = "", held: str = "") -> None:
        super().__init__()
        self.fail_on, self.held = fail_on, held
        self.gate, self.reached, self.rested = threading.Event(), threading.Event(), False

    def rest(self) -> None:
        self.rested = True


def speak(text: str, engine: SpeechEngine, lock: threading.Lock) -> Clip:
    assert isinstance(engine, RestingEngine)
    with lock:
        if text == engine.held:
            engine.reached.set()
            assert engine.gate.wait(10)
        if text == engine.fail_on:
            raise SpeechError(f"cannot say {text!r}")
        [(_, clip)] = engine.synthesize([text])
        return clip


def speakers(*engines: RestingEngine) -> list[Speaker]:
    return [(engine, threading.Lock()) for engine in engines]


def test_each_engine_speaks_every_nth_text_then_rests_and_progress_counts_them_all() -> None:
    main, spare = RestingEngine(), RestingEngine()
    calls: list[tuple[int, int]] = []
    ahead = SpeakingAhead(speak)
    ahead.start(speakers(main, spare), TEXTS, lambda done, total: calls.append((done, total)))
    for text in TEXTS:
        ahead.wait_for(text)
        assert not ahead.pending(text)
    assert ahead.stop()
    assert main.spoken == TEXTS[0::2] and spare.spoken == TEXTS[1::2]
    assert main.rested and spare.rested
    assert sorted(calls) == [(n, len(TEXTS)) for n in range(len(TEXTS) + 1)]


def test_a_failure_stops_every_engine_and_is_raised_for_the_texts_left_unspoken() -> None:
    main = RestingEngine(fail_on="Line 2.", held="Line 2.")
    spare = RestingEngine(held="Line 1.")
    ahead = SpeakingAhead(speak)
    ahead.start(speakers(main, spare), TEXTS)
    assert main.reached.wait(5) and spare.reached.wait(5)
    main.gate.set()  # main fails while the spare is on its first text
    with pytest.raises(SpeechError, match="Line 2"):
        ahead.wait_for("Line 2.")
    with pytest.raises(SpeechError, match="Line 2"):
        ahead.wait_for("Line 4.")  # given up by the engine that failed
    spare.gate.set()
    assert ahead.stop(timeout_s=5)
    assert main.spoken == ["Line 0."] and spare.spoken == ["Line 1."]  # then it stopped
    assert not main.rested and not spare.rested


def test_stop_reports_a_thread_still_on_its_text_and_joins_it_the_next_time() -> None:
    main = RestingEngine(held="Line 0.")
    ahead = SpeakingAhead(speak)
    ahead.start(speakers(main), TEXTS)
    assert main.reached.wait(5)
    assert ahead.pending("Line 0.")
    assert not ahead.stop(timeout_s=0.05)
    main.gate.set()
    assert ahead.stop(timeout_s=5)
    assert main.spoken == ["Line 0."]  # stopped after the text it was on
