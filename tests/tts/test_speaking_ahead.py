"""`SpeakingAhead` speaks the texts in order in its thread, waits for them, stops and joins."""

from __future__ import annotations

import threading

import pytest

from loosen.errors import SpeechError
from loosen.tts import Clip
from loosen.tts.speaking_ahead import SpeakingAhead
from tests.fakes import FakeEngine

TEXTS = [f"Line {n}." for n in range(5)]


class RestingEngine(FakeEngine):
    """A fake engine that can fail on one text, hold one until its gate opens, and that
    records when it is told to rest."""

    def __init__(self, fail_on: str = "", held: str = "") -> None:
        super().__init__()
        self.fail_on, self.held = fail_on, held
        self.gate, self.reached, self.rested = threading.Event(), threading.Event(), False
        self.threads: set[str] = set()

    def rest(self) -> None:
        self.rested = True

    def speak(self, text: str) -> Clip:
        self.threads.add(threading.current_thread().name)
        if text == self.held:
            self.reached.set()
            assert self.gate.wait(10)
        if text == self.fail_on:
            raise SpeechError(f"cannot say {text!r}")
        [(_, clip)] = self.synthesize([text])
        return clip


def test_the_texts_are_spoken_in_order_in_one_thread_then_the_engine_rests() -> None:
    engine = RestingEngine()
    calls: list[tuple[int, int]] = []
    ahead = SpeakingAhead(engine.speak, engine.rest)
    ahead.start(TEXTS, lambda done, total: calls.append((done, total)))
    for text in TEXTS:
        ahead.wait_for(text)
        assert not ahead.pending(text)
    assert ahead.stop()
    assert engine.spoken == TEXTS and engine.threads == {"loosen-speech"}
    assert engine.rested
    assert calls == [(n, len(TEXTS)) for n in range(len(TEXTS) + 1)]


def test_a_failure_gives_up_the_texts_left_and_is_raised_for_each_of_them() -> None:
    engine = RestingEngine(fail_on="Line 2.")
    ahead = SpeakingAhead(engine.speak, engine.rest)
    ahead.start(TEXTS)
    with pytest.raises(SpeechError, match="Line 2"):
        ahead.wait_for("Line 2.")
    with pytest.raises(SpeechError, match="Line 2"):
        ahead.wait_for("Line 4.")  # given up after the failure
    assert ahead.stop(timeout_s=5)
    assert engine.spoken == ["Line 0.", "Line 1."]  # then it stopped
    assert not engine.rested


def test_stop_reports_a_thread_still_on_its_text_and_joins_it_the_next_time() -> None:
    engine = RestingEngine(held="Line 0.")
    ahead = SpeakingAhead(engine.speak, engine.rest)
    ahead.start(TEXTS)
    assert engine.reached.wait(5)
    assert ahead.pending("Line 0.")
    assert not ahead.stop(timeout_s=0.05)
    engine.gate.set()
    assert ahead.stop(timeout_s=5)
    assert engine.spoken == ["Line 0."]  # stopped after the text it was on
    assert not engine.rested
