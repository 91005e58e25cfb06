"""A hung, dead or broken pyttsx3 worker is replaced; in the end a SpeechError, never a hang."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from loosen.errors import SpeechError
from loosen.tts import Clip
from loosen.tts._worker import WorkerConfig
from loosen.tts.pyttsx3_engine import TRIES, Pyttsx3Engine, Watchdog
from loosen.tts.worker_handle import WorkerHandle
from tests.tts.faulty_worker import FaultyPyttsx3Engine

TEXT = "Let your arms rest."


def live_workers() -> set[int | None]:
    """Process ids of the worker processes alive now (other tests may hold one)."""
    return {p.pid for p in multiprocessing.active_children() if p.name == "loosen-tts-worker"}


def test_a_hung_worker_is_killed_and_the_text_retried() -> None:
    before = live_workers()
    with FaultyPyttsx3Engine("hang-once") as engine:
        engine.watchdog = Watchdog(text_base_s=1.5, text_per_char_s=0.0)
        started = time.monotonic()
        [(text, clip)] = engine.synthesize([TEXT])
        elapsed_s = time.monotonic() - started
        assert text == TEXT
        assert clip.n_frames > 0.3 * clip.sample_rate
        assert engine.workers_started == 2
        assert len(live_workers() - before) == 1
        assert elapsed_s >= 1.5  # it waited out the watchdog, then replaced the worker
    assert live_workers() == before


def test_a_worker_that_keeps_hanging_ends_in_a_one_line_speech_error() -> None:
    before = live_workers()
    with FaultyPyttsx3Engine("hang") as engine:
        engine.watchdog = Watchdog(text_base_s=0.5, text_per_char_s=0.0)
        with pytest.raises(SpeechError) as raised:
            list(engine.synthesize([TEXT]))
        assert engine.workers_started == TRIES
    message = str(raised.value)
    assert message.startswith(f"pyttsx3 failed to speak {TEXT!r} after {TRIES} tries: ")
    assert "no answer within 0.6 s" in message
    assert "\n" not in message
    assert live_workers() == before


def test_a_worker_that_dies_mid_text_is_replaced() -> None:
    with FaultyPyttsx3Engine("die-once") as engine:
        [(_, clip)] = engine.synthesize([TEXT])
        assert clip.n_frames > 0
        assert engine.workers_started == 2


def test_a_worker_that_dies_every_time_ends_in_a_speech_error() -> None:
    with (
        FaultyPyttsx3Engine("die") as engine,
        pytest.raises(SpeechError, match="exited with code 3"),
    ):
        list(engine.synthesize([TEXT]))


def test_espeak_exiting_at_start_becomes_a_speech_error() -> None:
    # espeak-ng calls exit(1) when it lacks its data: the worker vanishes without a word.
    with (
        FaultyPyttsx3Engine("exit-on-start") as engine,
        pytest.raises(SpeechError, match="exited with code 1 while starting"),
    ):
        list(engine.synthesize([TEXT]))


def test_missing_espeak_data_is_reported_before_espeak_can_exit() -> None:
    with FaultyPyttsx3Engine("missing-data") as engine:
        with pytest.raises(SpeechError, match="espeak-ng data not found at /nonexistent"):
            list(engine.synthesize([TEXT]))
        assert engine.workers_started == 1  # a setup fault is not retried


def test_one_worker_serves_many_texts() -> None:
    with Pyttsx3Engine() as engine:
        clips = [clip for _, clip in engine.synthesize(["One.", "Two.", "Three.", "Four."])]
        assert all(clip.n_frames > 0 for clip in clips)
        assert engine.workers_started == 1


def test_a_text_spoken_at_a_lost_rate_is_never_kept_and_is_spoken_again_at_its_own() -> None:
    with Pyttsx3Engine() as clean:
        [(_, expected)] = clean.synthesize([TEXT])
    with FaultyPyttsx3Engine("drop-rate-once") as engine:
        [(_, clip)] = engine.synthesize([TEXT])
        assert engine.workers_started == 2  # the first worker's clip was refused
    assert clip == expected  # the very clip a clean worker makes


def test_a_rate_that_stays_lost_ends_in_a_one_line_speech_error() -> None:
    with (
        FaultyPyttsx3Engine("drop-rate") as engine,
        pytest.raises(SpeechError, match="tries: espeak-ng's speaking rate was 200 wpm before"),
    ):
        list(engine.synthesize([TEXT]))


def test_a_text_sounds_the_same_whatever_was_spoken_before_it() -> None:
    # espeak-ng carries a little state from text to text; each text starts from the same one
    with Pyttsx3Engine() as alone:
        [(_, first)] = alone.synthesize([TEXT])
    with Pyttsx3Engine() as busy:
        *_, (_, after_others) = busy.synthesize(["Welcome, and settle in.", "Breathe.", TEXT])
    assert after_others == first


class RecordingEngine(Pyttsx3Engine):
    """A `Pyttsx3Engine` that records, per worker it starts, the texts that worker is asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        super().__init__()

    def _launch(self, config: WorkerConfig) -> WorkerHandle:
        handle = super()._launch(config)
        asked: list[str] = []
        self.asked.append(asked)
        synthesize = handle.synthesize

        def recording(seq: int, text: str, timeout_s: float) -> Clip:
            asked.append(text)
            return synthesize(seq, text, timeout_s)

        handle.synthesize = recording  # type: ignore[method-assign]
        return handle


def test_a_replacement_worker_speaks_the_text_in_hand_and_no_history() -> None:
    spoken = ["Welcome.", "Settle in.", "Breathe in.", "Breathe out.", "Once more."]
    with RecordingEngine() as engine:
        list(engine.synthesize(spoken))
        assert engine.worker_pid is not None
        os.kill(engine.worker_pid, signal.SIGKILL)  # as the OOM killer would
        [(_, clip)] = engine.synthesize([TEXT])
        assert engine.workers_started == 2
    assert engine.asked == [[*spoken, TEXT], [TEXT]]
    with Pyttsx3Engine() as clean:
        [(_, expected)] = clean.synthesize([TEXT])
    assert clip == expected  # nothing replayed, and nothing needed to be
